"""Tiny corpora in NAB's layout, written to a temporary directory."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

START = datetime(2024, 1, 1, tzinfo=UTC)
WINDOW_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
DATA_FORMAT = "%Y-%m-%d %H:%M:%S"


def stamp(i: int, fmt: str = DATA_FORMAT) -> str:
    return (START + timedelta(minutes=5 * i)).strftime(fmt)


def write_file(root: Path, name: str, values: np.ndarray) -> None:
    path = root / "data" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"{stamp(i)},{v!r}" for i, v in enumerate(values.tolist())]
    path.write_text("timestamp,value\n" + "\n".join(rows) + "\n")


def write_corpus(root: Path, files: dict[str, tuple[np.ndarray, list[tuple[int, int]]]]) -> Path:
    """files: name -> (values, windows as inclusive row ranges)."""
    windows = {}
    for name, (values, spans) in files.items():
        write_file(root, name, values)
        windows[name] = [[stamp(a, WINDOW_FORMAT), stamp(b, WINDOW_FORMAT)] for a, b in spans]
    (root / "labels").mkdir(parents=True, exist_ok=True)
    (root / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    return root


def spiky_corpus(root: Path, seed: int = 0) -> Path:
    """Two categories, obvious spikes inside their windows, and one file without anomalies."""
    rng = np.random.default_rng(seed)
    files = {}
    for k, name in enumerate(["catA/one.csv", "catA/two.csv", "catB/three.csv"]):
        values = 50 + rng.normal(0, 1, 1200)
        spans = []
        if k < 2:
            at = 700 + 150 * k
            values[at] = 200.0
            spans = [(at - 40, at + 40)]
        files[name] = (values, spans)
    files["catB/quiet.csv"] = (50 + rng.normal(0, 1, 800), [])
    return write_corpus(root, files)
