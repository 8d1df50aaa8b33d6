"""A cold command that only reads the configuration (a `medic search` at a terminal,
mid-incident) must not pay for the statistics stack: scipy.stats alone costs ~0.7 s to import
on two cores, a fifth of the 3 s a cold search may take (issue 17)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_reading_the_configuration_does_not_import_scipy_stats() -> None:
    probe = (
        "import sys, bot.config; "
        "print(sorted(m for m in sys.modules if m.startswith(('scipy.stats', 'sklearn'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "[]"
