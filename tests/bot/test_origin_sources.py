"""Where the live ranking's candidates and traces come from (issue 14). Trace ids in the logs:
the lines of the services read are joined into request traces, so a callee that got slow to
answer leads, even when it exports no latency metric and its caller's latency is what paged.
Directories: one that refuses (a cluster without the RBAC to list workloads) costs only its
names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.config import InvestigationSettings
from bot.diagnosis.budget import Budget
from bot.diagnosis.origins import Directory, OriginFinder, Origins
from bot.diagnosis.window import Window
from detectors import InMemoryMetricSource, Series
from knowledge import InMemoryLogSource, LogLine, TemplateMiner
from tools import PermissionDeniedError

SPLIT = 1_765_000_000.0  # the suspect window starts here
END = SPLIT + 15 * 60
WINDOW = Window(baseline_start=SPLIT - 3600, split=SPLIT, end=END)
EVERY = 10.0  # seconds between two requests
SLOWER = 0.4  # seconds payments takes longer to answer in the suspect window


class Namespace:
    def workloads(self, namespace: str, limit: int) -> list[str]:
        return ["frontend", "payments"][:limit]


def shop_logs(traced: bool) -> dict[str, list[LogLine]]:
    """frontend takes a request, payments charges the card and answers, frontend serves it;
    in the suspect window payments answers ``SLOWER`` later. frontend sends a W3C traceparent,
    payments logs JSON with an upper-case traceId: the same traces, written two ways."""
    rng = np.random.default_rng(3)
    logs: dict[str, list[LogLine]] = {"frontend": [], "payments": []}
    for i, at in enumerate(np.arange(WINDOW.baseline_start, END, EVERY)):
        trace = f"{i + 1:032x}"
        span = f"{i + 7:016x}"
        front = f" traceparent=00-{trace}-{span}-01" if traced else ""
        pay = f', "traceId": "{trace.upper()}"' if traced else ""
        charged = at + 0.004 + rng.normal(0, 0.0005)
        answered = charged + 0.006 + rng.normal(0, 0.0005) + (SLOWER if at >= SPLIT else 0.0)
        logs["frontend"].append(LogLine(at, f"INFO cart checkout received{front}", "INFO"))
        logs["payments"].append(LogLine(charged, f'{{"msg": "charge card"{pay}}}', "INFO"))
        logs["frontend"].append(LogLine(answered, f"INFO cart checkout served{front}", "INFO"))
    return logs


def frontend_latency() -> list[Series]:
    """frontend's p95 latency, the symptom that paged: 120 ms for hours, 520 ms since SPLIT."""
    rng = np.random.default_rng(5)
    times = np.arange(END - 7 * 3600, END, 15.0)
    values = 120 + rng.normal(0, 4, len(times)) + np.where(times >= SPLIT, 400.0, 0.0)
    return [Series.of("latency_p95_ms", times, values)]


class Forbidden:
    def workloads(self, namespace: str, limit: int) -> list[str]:
        raise PermissionDeniedError(
            f"list deployments in {namespace}: Kubernetes answered 403 Forbidden; Medic's "
            "service account lacks this permission (see docker/rbac.yaml)"
        )


def origins_of(
    logs: dict[str, list[LogLine]], directories: Sequence[Directory] = (Namespace(),)
) -> tuple[Origins, list[str]]:
    metrics = InMemoryMetricSource(
        lambda ns, svc, start, end: frontend_latency() if svc == "frontend" else []
    )
    finder = OriginFinder(
        metrics=metrics,
        logs=InMemoryLogSource(lambda ns, svc, start, end: logs.get(svc, [])),
        directories=directories,
        graphs=[],
        settings=InvestigationSettings(),
    )
    notes: list[str] = []
    own = logs["frontend"]
    found = finder.find("shop", "frontend", WINDOW, own, TemplateMiner(), Budget(60), notes)
    return found, notes


def test_a_callee_slow_to_answer_leads_when_the_logs_carry_trace_ids() -> None:
    origins, notes = origins_of(shop_logs(traced=True))
    assert notes == []
    assert [o.service for o in origins.ranked] == ["payments", "frontend"]
    [slower] = [e for e in origins.ranked[0].cause.evidence if "slower than usual" in e]
    assert slower.startswith("hands requests on 4")  # ~400 ms
    assert origins.ranked[0].cause.channels["delay"] > 0


def test_without_trace_ids_the_paging_service_leads_on_its_latency() -> None:
    """The same incident with logs that carry no trace id: nothing links payments to the
    slowness, and frontend's own latency is the strongest evidence."""
    origins, _ = origins_of(shop_logs(traced=False))
    assert origins.ranked[0].service == "frontend"
    assert "delay" not in origins.ranked[0].cause.channels


def test_a_directory_that_refuses_costs_its_names_not_the_ranking() -> None:
    """A cluster without the `list` verbs of docker/rbac.yaml: one note naming the permission,
    and the services another directory (Prometheus's label values) names are still ranked."""
    origins, notes = origins_of(shop_logs(traced=True), directories=[Forbidden(), Namespace()])
    assert notes == [
        "could not list the services around this one, ranking without them: list deployments "
        "in shop: Kubernetes answered 403 Forbidden; Medic's service account lacks this "
        "permission (see docker/rbac.yaml)"
    ]
    assert [o.service for o in origins.ranked] == ["payments", "frontend"]
