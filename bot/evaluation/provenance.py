"""What an evaluation's numbers depend on, so that two runs' results can be told apart by their
inputs: the code version, a digest of the evaluation data, and a digest of the configuration that
was in force. Plain values, no MLflow: :mod:`bot.evaluation.tracking` records them.

The data digest is over file contents in a stable order (sorted relative paths), so the same
corpus gives the same digest on any machine and any checkout. It is bounded by bytes and files,
not by time: a time budget would make the digest depend on the machine's speed, and two runs on
the same data could then disagree.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

MAX_DATA_BYTES = 2 * 1024**3  # hashed in full up to here (~4 s at sha256's speed); then sizes
MAX_DATA_FILES = 200_000  # files named in the digest; past them the digest says it is partial
GIT_TIMEOUT_SECONDS = 5.0
_CHUNK = 1024 * 1024
_ROOT = Path(__file__).resolve().parents[2]  # the checkout (or site-packages) holding bot/


@dataclass(frozen=True)
class CodeVersion:
    """The code that produced a result: a git commit in a checkout, else the package version."""

    version: str  # the commit, or "medic <package version>"
    commit: str | None
    dirty: bool | None  # uncommitted changes to tracked files; None outside a checkout


@dataclass(frozen=True)
class DataDigest:
    """sha256 over the evaluation's files. ``partial``: past a bound, later files entered by
    path and size only (or not at all past the file bound), so equal digests mean equal data
    only when neither is partial."""

    sha256: str
    files: int
    bytes: int
    partial: bool


def code_version(root: Path = _ROOT) -> CodeVersion:
    """The git commit of ``root`` when it is the top of a checkout (an installed medic inside
    someone else's repository does not take that repository's commit), else the package's
    version."""
    commit = _git(root, "rev-parse", "HEAD")
    top = _git(root, "rev-parse", "--show-toplevel")
    if commit and top and Path(top).resolve() == root.resolve():
        status = _git(root, "status", "--porcelain", "--untracked-files=no")
        return CodeVersion(commit, commit, None if status is None else status != "")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return CodeVersion(f"medic {version('medic')}", None, None)
    except PackageNotFoundError:
        return CodeVersion("medic unknown", None, None)


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def data_digest(
    paths: Sequence[Path], max_bytes: int = MAX_DATA_BYTES, max_files: int = MAX_DATA_FILES
) -> DataDigest:
    """The digest of ``paths`` (files, or directories walked recursively; symlinks are not
    followed out of a tree). Each file enters as its path relative to the given root, its size
    and, within ``max_bytes`` in all, its content."""
    digest = hashlib.sha256()
    files = hashed = 0
    partial = False
    for label, file in _files(paths, max_files + 1):
        if files >= max_files:
            partial = True
            break
        files += 1
        size = file.stat().st_size
        digest.update(f"{label}\0{size}\0".encode("utf-8", "surrogateescape"))
        if hashed + size > max_bytes:
            partial = True
            continue
        with file.open("rb") as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
        hashed += size
    return DataDigest(digest.hexdigest(), files, hashed, partial)


def _files(paths: Sequence[Path], limit: int) -> Iterator[tuple[str, Path]]:
    """(label, file) in a stable order: each root in the order given, its files by sorted path."""
    for n, root in enumerate(paths):
        if root.is_file():
            yield f"{n}:{root.name}", root
            continue
        # the listing is bounded too: a tree past max_files is partial whatever is listed
        listed = islice((p for p in root.rglob("*") if _is_data(p, root)), limit)
        found = list(listed)
        for file in sorted(found, key=lambda p: p.relative_to(root).as_posix()):
            yield f"{n}:{file.relative_to(root).as_posix()}", file


def _is_data(path: Path, root: Path) -> bool:
    """A regular file that is not bytecode or version control: compiled ``.pyc`` files differ
    between Python versions and runs, and would change the digest of unchanged data."""
    skipped = {"__pycache__", ".git"}
    parts = path.relative_to(root).parts
    return path.is_file() and not path.is_symlink() and not skipped.intersection(parts)


def config_digest(configuration: Mapping[str, Any]) -> str:
    """sha256 of the configuration as canonical JSON: the same settings, the same digest."""
    text = json.dumps(configuration, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
