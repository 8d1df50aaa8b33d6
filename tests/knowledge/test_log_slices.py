"""A Loki or Elasticsearch read is its window's slices requested at once - as many as the source
keeps in flight (``concurrent_reads``, eight), never more - not one slice after another: a store
a network away answers the eight in about the time of one. The lines still come in time order."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from bot.config import load_settings
from bot.wiring.sources import log_source
from knowledge.logs import REMOTE_READS, InMemoryLogSource
from tests.services.log_stores import FakeElasticsearch, FakeLoki, LokiEntry, serving

NS = 1_000_000_000
T0 = 1_800_000_000
SLICES = 16
BARRIER_SECONDS = 20.0  # only a store read one slice at a time waits this out, and then fails


class Gate:
    """Holds each request until ``REMOTE_READS`` are in flight together (a store read one slice
    at a time never gets there: its request is refused), and counts the most ever in flight."""

    def __init__(self) -> None:
        self._barrier = threading.Barrier(REMOTE_READS, timeout=BARRIER_SECONDS)
        self._lock = threading.Lock()
        self._in_flight = 0
        self.most = 0

    def around(self, answer: Any) -> Any:
        def gated(handler: BaseHTTPRequestHandler) -> tuple[int, str, bytes]:
            with self._lock:
                self._in_flight += 1
                self.most = max(self.most, self._in_flight)
            try:
                self._barrier.wait()
            except threading.BrokenBarrierError:
                return 503, "text/plain", b"asked one slice at a time\n"
            finally:
                with self._lock:
                    self._in_flight -= 1
            status, kind, body = answer(handler)
            return status, kind, body

        return gated


def lines_per_minute() -> list[float]:
    return [T0 + minute * 60 + 1 for minute in range(SLICES)]


def loki_store() -> FakeLoki:
    return FakeLoki(
        entries=[
            LokiEntry(int(at * NS), {"namespace": "shop", "app": "checkout"}, f"INFO at {at}")
            for at in lines_per_minute()
        ]
    )


def elastic_store() -> FakeElasticsearch:
    return FakeElasticsearch(
        docs=[
            {
                "@timestamp": datetime.fromtimestamp(at, UTC).isoformat(),
                "message": f"at {at}",
                "log.level": "info",
                "kubernetes": {"namespace": "shop", "labels": {"app": "checkout"}},
            }
            for at in lines_per_minute()
        ]
    )


@pytest.mark.parametrize("kind", ["loki", "elasticsearch"])
def test_a_windows_slices_are_read_at_once_within_the_sources_bound(kind: str) -> None:
    store = loki_store() if kind == "loki" else elastic_store()
    gate = Gate()
    store.answer = gate.around(store.answer)  # type: ignore[method-assign]
    with serving(store) as url:
        settings = load_settings(logs={"source": kind, "url": url, "slices": SLICES})
        source = log_source(settings.logs, 50_000, InMemoryLogSource(lambda *_: []))
        lines = source.fetch("shop", "checkout", T0, T0 + SLICES * 60)
    assert [line.timestamp for line in lines] == lines_per_minute()  # every slice, in order
    assert gate.most == REMOTE_READS  # eight at once, never more
