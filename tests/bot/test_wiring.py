"""The wiring: one object per process builds the adapters, each on first use, so a command pays
only for what it touches (start-up time: `medic audit` is quick, `medic search` does not import
the whole incident flow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LOADED = """
import json, sys
from bot.cli.app import app
sys.argv = ["medic", *sys.argv[1:]]
try:
    app()
except SystemExit as exc:
    code = exc.code
heavy = ["chromadb", "sentence_transformers", "torch", "bot.flow", "langchain_core"]
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def run_medic(*args: str) -> dict[str, object]:
    """`medic ARGS` in a fresh interpreter; its exit code and which heavy modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).parents[2])},
        check=False,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_medic_audit_opens_the_state_database_without_loading_chroma_or_the_models() -> None:
    assert run_medic("audit", "verify") == {"code": 0, "loaded": []}


def test_medic_search_reads_its_saved_indexes_without_chroma_or_the_models() -> None:
    result = run_medic("search", "latency")
    loaded = result["loaded"]
    assert result["code"] == 0 and isinstance(loaded, list)
    assert "chromadb" in loaded and "bot.flow" not in loaded  # the indexes are built once
    # the store is unchanged since: a search at a terminal neither opens it nor loads torch
    assert run_medic("search", "latency") == {"code": 0, "loaded": []}


def open_files_under(path: Path) -> list[str]:
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:  # closed meanwhile
            continue
        if target.startswith(str(path)):
            found.append(target)
    return found


def test_closing_the_wiring_releases_the_database_and_the_embedded_chroma(tmp_path: Path) -> None:
    from sqlalchemy import text

    from bot.config import load_settings
    from bot.wiring import Wiring

    wiring = Wiring(load_settings(data_dir=str(tmp_path)))
    with wiring.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    wiring.vector_store.heartbeat()
    opened = open_files_under(tmp_path)
    assert any(f.endswith("medic.db") for f in opened) and len(opened) >= 4

    wiring.close()  # a process (a test) that builds many would run out of descriptors

    left = open_files_under(tmp_path)  # chromadb keeps a handle of its own SQLite open at most
    assert all(f.endswith("chroma.sqlite3") for f in left) and len(left) <= 2, left
