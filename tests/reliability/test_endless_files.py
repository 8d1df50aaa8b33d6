"""A configuration, policy or runbook path that names something with no end - ``/dev/zero``, a
pipe from a command that never stops, a multi-gigabyte file named by mistake - is refused in one
line naming it after the size bound, never read into memory whole.

The endless input here is a named pipe fed zeros until its reader goes (at most 160 MiB, so
that the code before the fix, which read to the end, finished - over the memory bound)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from bot.planners.runbooks import load_runbooks
from tests.reliability.hostile_input import PEAK_BYTES, measured
from tools.errors import PolicyError
from tools.policy import load_policy

FED_AT_MOST = 160 * 2**20


@pytest.fixture
def endless(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """Make a named pipe at a path that a thread feeds with zeros while anyone reads it."""
    feeders: list[threading.Thread] = []

    def make(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)

        def feed() -> None:
            chunk = b"0" * 2**20
            with path.open("wb") as pipe:  # waits for the reader
                try:
                    for _ in range(FED_AT_MOST // len(chunk)):
                        pipe.write(chunk)
                except BrokenPipeError:  # the reader stopped reading: what it should do
                    pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        feeders.append(feeder)
        return path

    yield make
    for feeder in feeders:
        feeder.join(timeout=30)


def refused_in_bounds(call: Callable[[], Any], refused: type[Exception]) -> str:
    def outcome() -> Exception:
        with pytest.raises(refused) as info:
            call()
        return info.value

    error, cost = measured(outcome)
    assert cost.peak_bytes < PEAK_BYTES, f"{cost.peak_bytes / 2**20:.0f} MiB read into memory"
    message = str(error)
    assert "\n" not in message
    return message


def test_a_config_file_with_no_end_is_refused_naming_it(
    endless: Callable[[Path], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = endless(tmp_path / "medic.yaml")
    monkeypatch.setenv("MEDIC_CONFIG", str(path))
    message = refused_in_bounds(load_settings, ConfigError)
    assert message == (
        f"MEDIC_CONFIG file {path} is longer than 1,048,576 bytes; at most 1,048,576 are read"
    )


def test_a_policy_with_no_end_is_refused_naming_it(
    endless: Callable[[Path], Path], tmp_path: Path
) -> None:
    path = endless(tmp_path / "policy.yaml")
    message = refused_in_bounds(lambda: load_policy(path), PolicyError)
    assert message.startswith(f"policy {path} is longer than 1,048,576 bytes"), message


def test_a_runbook_with_no_end_is_refused_naming_it(
    endless: Callable[[Path], Path], tmp_path: Path
) -> None:
    path = endless(tmp_path / "runbooks" / "team.yaml")
    message = refused_in_bounds(lambda: load_runbooks(path.parent), ConfigError)
    assert message.startswith(f"runbook file {path} is longer than 1,048,576 bytes"), message
