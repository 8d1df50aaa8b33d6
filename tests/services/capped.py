"""Running a command with its address space capped, so that a runaway allocation fails in the
command instead of taking the shared machine down (tests and benchmarks of bounded memory)."""

from __future__ import annotations

import sys

_EXEC_CAPPED = (
    "import os, resource, sys; "
    "cap = int(sys.argv[1]); resource.setrlimit(resource.RLIMIT_AS, (cap, cap)); "
    "os.execv(sys.argv[2], sys.argv[2:])"
)


def capped(argv: list[str], address_space: int) -> list[str]:
    """``argv`` run by a small Python that caps its address space first, then becomes it (same
    pid, so ``os.wait4`` reports the command's own peak RSS)."""
    return [sys.executable, "-c", _EXEC_CAPPED, str(address_space), *argv]
