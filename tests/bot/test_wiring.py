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


def test_medic_search_loads_chroma_but_not_the_incident_flow() -> None:
    result = run_medic("search", "latency")
    loaded = result["loaded"]
    assert result["code"] == 0 and isinstance(loaded, list)
    assert "chromadb" in loaded and "bot.flow" not in loaded
