"""A directory in NAB's layout: ``data/<category>/<file>.csv`` (columns ``timestamp,value``),
``labels/combined_windows.json`` (anomaly windows per file) and optionally
``config/profiles.json``. Loading validates everything and names the offending file."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from detectors.errors import NabCorpusError
from detectors.evaluation.profiles import DEFAULT_PROFILES, Profile, load_profiles
from detectors.series import FloatArray

PROBATIONARY_FRACTION = 0.15
PROBATIONARY_CAP = PROBATIONARY_FRACTION * 5000  # NAB caps the period at 750 rows
LABELS = Path("labels") / "combined_windows.json"
PROFILES = Path("config") / "profiles.json"


@dataclass(frozen=True)
class NabFile:
    """One series; ``windows`` are inclusive row-index ranges of the labelled anomalies."""

    name: str  # "<category>/<file>.csv", the key used by the labels file
    stamps: tuple[str, ...]  # timestamps exactly as written in the data file
    epoch: FloatArray  # the same timestamps in Unix seconds (UTC)
    values: FloatArray
    windows: tuple[tuple[int, int], ...]

    def __len__(self) -> int:
        return int(self.values.size)

    @property
    def probation(self) -> int:
        """Rows at the start that a detector may learn from and that are never scored."""
        return int(min(math.floor(PROBATIONARY_FRACTION * len(self)), PROBATIONARY_CAP))

    @property
    def category(self) -> str:
        return self.name.split("/", 1)[0]

    def labels(self) -> np.ndarray:
        """1 for rows inside a labelled window, else 0."""
        label = np.zeros(len(self), dtype=np.int8)
        for left, right in self.windows:
            label[left : right + 1] = 1
        return label


@dataclass(frozen=True)
class NabCorpus:
    root: Path
    files: tuple[NabFile, ...]
    profiles: tuple[Profile, ...]
    window_count: int  # all windows listed in the labels file, as NAB counts them

    def __len__(self) -> int:
        return len(self.files)

    @property
    def rows(self) -> int:
        return sum(len(f) for f in self.files)

    def profile(self, name: str) -> Profile:
        for profile in self.profiles:
            if profile.name == name:
                return profile
        known = ", ".join(p.name for p in self.profiles)
        raise NabCorpusError(f"unknown profile {name!r} (known: {known})")


def load_corpus(root: Path) -> NabCorpus:
    """Read and validate a corpus; every problem raises NabCorpusError naming the file."""
    data_dir = root / "data"
    if not data_dir.is_dir():
        raise NabCorpusError(f"{data_dir} is not a directory: give the root of a NAB-style corpus")
    paths = sorted(data_dir.glob("*/*.csv"))
    if not paths:
        raise NabCorpusError(f"no data files in {data_dir} (expected data/<category>/<file>.csv)")
    windows = _read_windows(root / LABELS)
    names = [p.relative_to(data_dir).as_posix() for p in paths]
    missing = sorted(set(windows) - set(names))
    if missing:
        raise NabCorpusError(f"{root / LABELS} lists {missing[0]}, which is not in {data_dir}")
    files = []
    for path, name in zip(paths, names, strict=True):
        if name not in windows:
            raise NabCorpusError(f"{path}: no entry {name!r} in {root / LABELS}")
        files.append(_read_file(path, name, windows[name]))
    profiles_path = root / PROFILES
    profiles = load_profiles(profiles_path) if profiles_path.exists() else DEFAULT_PROFILES
    return NabCorpus(root, tuple(files), profiles, sum(len(w) for w in windows.values()))


def _read_windows(path: Path) -> dict[str, list[tuple[datetime, datetime]]]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise NabCorpusError(f"cannot read labels file {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise NabCorpusError(f"labels file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise NabCorpusError(f"labels file {path} must map '<category>/<file>.csv' to windows")
    windows: dict[str, list[tuple[datetime, datetime]]] = {}
    for name, entries in data.items():
        try:
            pairs = [(_parse_time(start), _parse_time(end)) for start, end in entries]
        except (TypeError, ValueError) as exc:
            raise NabCorpusError(
                f"labels file {path}: windows of {name} must be [start, end] timestamp pairs "
                f"({exc})"
            ) from exc
        windows[name] = sorted(pairs)
    return windows


def _parse_time(text: str) -> datetime:
    if not isinstance(text, str):
        raise TypeError(f"timestamp {text!r} is not a string")
    return datetime.fromisoformat(text)


def _read_file(path: Path, name: str, windows: list[tuple[datetime, datetime]]) -> NabFile:
    try:
        with path.open(newline="") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            if header[:2] != ["timestamp", "value"]:
                raise NabCorpusError(f"{path}: the header must be 'timestamp,value', got {header}")
            rows = list(reader)
    except OSError as exc:
        raise NabCorpusError(f"cannot read {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise NabCorpusError(f"{path} is not a CSV text file: {exc}") from exc
    if not rows:
        raise NabCorpusError(f"{path} has a header but no rows")
    stamps: list[str] = []
    times: list[datetime] = []
    values = np.empty(len(rows))
    for line, row in enumerate(rows, start=2):
        try:
            stamp, value = row[0], row[1]
            times.append(datetime.fromisoformat(stamp))
            values[line - 2] = float(value)
        except (IndexError, ValueError) as exc:
            raise NabCorpusError(
                f"{path}, line {line}: expected 'timestamp,value' ({exc})"
            ) from exc
        stamps.append(stamp)
    epoch = np.array([t.replace(tzinfo=UTC).timestamp() for t in times])
    index = {t: i for i, t in reversed(list(enumerate(times)))}  # first row of each time
    spans = []
    for start, end in windows:
        if start not in index or end not in index:
            missing = start if start not in index else end
            raise NabCorpusError(
                f"{path}: window boundary {missing} is not a timestamp of the file"
            )
        spans.append((index[start], index[end]))
    return NabFile(name, tuple(stamps), epoch, values, tuple(spans))
