"""Drain3 state persisted in the data directory: round trip, and a clear error when corrupted."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.errors import KnowledgeError
from knowledge.logs import LogLine
from knowledge.template_state import load_miner, save_miner

LINES = [LogLine(0, f"user u-{i} logged in from 10.0.0.{i}", "INFO") for i in range(20)]
LINES += [LogLine(0, f"payment {i} failed: card declined", "ERROR") for i in range(5)]


def test_templates_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.bin"
    first = load_miner(path)  # nothing saved yet: a fresh miner
    before = first.templates(LINES)
    save_miner(first, path)
    second = load_miner(path)
    assert second.cluster_count == first.cluster_count == 2
    assert second.templates(LINES) == before
    assert second.cluster_count == 2  # known lines made no new cluster


def test_corrupted_state_names_the_file_and_the_recovery_command(tmp_path: Path) -> None:
    path = tmp_path / "state.bin"
    path.write_bytes(b"\x00garbage, not drain3 state")
    with pytest.raises(KnowledgeError, match=r"state\.bin is corrupted.*medic knowledge repair"):
        load_miner(path)
