"""Onset order on the live path (issue 13, fifth pass): of two services whose latency is up, the
one whose change began first - minutes before the alert's window, when nobody was paged - is
named the origin, not the service that paged when its callers' slowness reached it; and the
namespace's history keeps the lead, so the next investigation judges it against its past."""

from __future__ import annotations

import numpy as np

from bot.config import InvestigationSettings
from bot.diagnosis.budget import Budget
from bot.diagnosis.origin_history import MemoryHistory
from bot.diagnosis.origins import OriginFinder, Origins
from bot.diagnosis.window import Window
from detectors import InMemoryMetricSource, Series
from knowledge import InMemoryLogSource, TemplateMiner

SPLIT = 1_765_000_000.0  # the alert's window starts here
END = SPLIT + 15 * 60
WINDOW = Window(baseline_start=SPLIT - 3600, split=SPLIT, end=END)
EARLIER = 8 * 60.0  # seconds before the window that payments' latency began to rise


class Namespace:
    def workloads(self, namespace: str, limit: int) -> list[str]:
        return ["frontend", "payments"][:limit]


def latency(seed: int, usual: float, rise: float, since: float) -> list[Series]:
    """A p95 latency in ms: ``usual`` with a little noise for hours, ``rise`` more from
    ``since`` on (a pod's own latency, so a callee's includes nothing of its callers')."""
    rng = np.random.default_rng(seed)
    times = np.arange(END - 7 * 3600, END, 15.0)
    values = usual + rng.normal(0, 4, len(times)) + np.where(times >= since, rise, 0.0)
    return [Series.of("latency_p95_ms", times, values)]


def metrics(namespace: str, service: str, start: float, end: float) -> list[Series]:
    if service == "frontend":  # pages when the slowness reaches it, with the alert
        return latency(5, 120.0, 400.0, SPLIT)
    return latency(7, 80.0, 300.0, SPLIT - EARLIER)  # payments: slow since 8 minutes before


def investigate(history: MemoryHistory) -> Origins:
    finder = OriginFinder(
        metrics=InMemoryMetricSource(metrics),
        logs=InMemoryLogSource(lambda ns, svc, start, end: []),
        directories=[Namespace()],
        graphs=[],
        settings=InvestigationSettings(),
        history=history,
    )
    return finder.find("shop", "frontend", WINDOW, [], TemplateMiner(), Budget(60), [])


def test_the_service_whose_latency_rose_first_leads_over_the_one_that_paged() -> None:
    origins = investigate(MemoryHistory(InvestigationSettings().origin_history))
    assert [o.service for o in origins.ranked] == ["payments", "frontend"]
    first = origins.ranked[0].cause.channels
    assert first["onset"] > 1.0  # log1p of an 8-minute lead over frontend's change
    assert "onset" not in origins.ranked[1].cause.channels  # frontend changed later


def test_the_history_keeps_each_services_onset_lead() -> None:
    history = MemoryHistory(InvestigationSettings().origin_history)
    investigate(history)
    [kept] = history.recall("shop").windows
    assert kept["payments"].channels["onset"] == EARLIER / 60.0
    assert kept["frontend"].channels["onset"] == 0.0
