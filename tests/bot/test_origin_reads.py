"""How the origin finder reads the services around the alerting one: the few whose logs it reads
are read at once (each is hours of lines from a remote API, and one slow answer should not wait
for another), and what could not be read is said in ranking order whichever answered first."""

from __future__ import annotations

import threading

import numpy as np

from bot import messages
from bot.config import InvestigationSettings
from bot.diagnosis.budget import Budget
from bot.diagnosis.origins import OriginFinder
from bot.diagnosis.window import Window
from detectors import InMemoryMetricSource, Series
from knowledge import LogLine, LogSourceError, TemplateMiner
from knowledge.logs import TimeLeft

NOW = 1_800_000_000.0
WINDOW = Window(NOW - 7200.0, NOW - 1800.0, NOW)
AROUND = ["api", "billing", "cart"]  # the services around "front", in ranking order (a tie)


class Namespace:
    def workloads(self, namespace: str, limit: int) -> list[str]:
        return ["front", *AROUND][:limit]


def steady(namespace: str, service: str, start: float, end: float) -> list[Series]:
    ts = np.arange(start, end, 60.0)
    return [Series.of("cpu_utilization_pct", ts, np.full(len(ts), 30.0))]


class MeetingLogs:
    """Answers only once every candidate's read has begun: reads made one after another never
    meet, and the first one fails (after a generous timeout, so a failure is not a hang)."""

    def __init__(self, parties: int, failing: dict[str, threading.Event]) -> None:
        self.meeting = threading.Barrier(parties, timeout=20)
        self.failing = failing

    def fetch(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> list[LogLine]:
        self.meeting.wait()
        if service == "billing":  # fails last: after cart's failure was seen
            self.failing["cart"].wait(timeout=20)
        if service in self.failing:
            self.failing[service].set()
            raise LogSourceError(f"{service} pods are gone")
        return [LogLine(NOW - 60.0, "INFO served", "INFO")]


def test_the_top_candidates_logs_are_read_at_once_and_noted_in_ranking_order() -> None:
    logs = MeetingLogs(len(AROUND), {"billing": threading.Event(), "cart": threading.Event()})
    finder = OriginFinder(
        metrics=InMemoryMetricSource(steady),
        logs=logs,
        directories=[Namespace()],
        graphs=[],
        settings=InvestigationSettings(log_candidates=len(AROUND)),
    )
    notes: list[str] = []
    origins = finder.find("shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), notes)
    assert origins.with_logs == {"front", *AROUND}
    assert notes == [
        messages.CANDIDATE_LOGS_UNAVAILABLE.format(service=s, why=f"{s} pods are gone")
        for s in ("billing", "cart")
    ]
