"""The scheduled watch stops with `medic serve`: a stop during a pass ends it before the next
service, and no heads-up is posted from a pass cut short."""

from __future__ import annotations

import threading
from pathlib import Path

from bot.database import state_engine
from bot.slack.blocks import Message
from bot.watch.checks import ForecastCheck
from bot.watch.findings import Target
from bot.watch.loop import WatchLoop
from bot.watch.publish import HeadsUps
from bot.watch.runner import Watch
from bot.watch.store import WatchStore
from detectors import Series, TimeLeft

NOW = 1_800_000_000.0


class HeldSource:
    """Metrics that are read only once ``release`` is set, recording who was read."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.reading = threading.Event()
        self.read: list[str] = []

    def fetch(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> list[Series]:
        self.read.append(service)
        self.reading.set()
        self.release.wait(timeout=30)
        return []


def test_a_stop_during_a_pass_ends_it_before_the_next_service(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    store = WatchStore(state_engine(tmp_path / "data"), open_seconds=3600)
    source = HeldSource()
    posted: list[tuple[str, str, Message, bool]] = []
    loop = WatchLoop(
        watch=Watch(metrics=source, checks=[ForecastCheck(3600, (1200.0,))], lookback=3600),
        targets=lambda: [Target("shop", "checkout"), Target("shop", "frontend")],
        headsups=HeadsUps(
            store=store,
            deliver=lambda *p: posted.append(p),
            channel="C0WATCH",
            max_per_hour=6,
            quiet=None,
        ),
        store=store,
        interval=300,
        owner="replica-a",
        now=lambda: NOW,
    )
    loop.start()
    assert source.reading.wait(timeout=30)  # the pass is reading checkout
    stopper = threading.Thread(target=loop.stop)
    stopper.start()
    assert loop.stopping.wait(timeout=30)  # SIGTERM reached the loop while checkout is read
    source.release.set()
    stopper.join(timeout=30)
    assert not stopper.is_alive()
    assert source.read == ["checkout"] and posted == []
