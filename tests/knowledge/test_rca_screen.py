"""`medic eval rca`'s screened localization reads logs as the live fan-out does: every service on
its metrics alone, the logs (templates and the traces among them) only of the few the metrics put
highest. Small synthetic incidents written here, not benchmark data."""

from __future__ import annotations

from pathlib import Path

from knowledge.evaluation.fault_data import NezhaIncident, ServiceLogs
from knowledge.evaluation.rca import (
    MinedIncident,
    evidence,
    mine_incident,
    screened_evidence,
    within_budget,
)
from knowledge.logs import LogLine
from knowledge.origins import rank_origins
from knowledge.templates import TemplateMiner

INJECT = 1_900_000_000.0
SERVICES = ("ts-a-service", "ts-b-service", "ts-c-service")


def _logs(start: float, failing: str | None) -> ServiceLogs:
    """A minute of every service's lines; ``failing`` throws on every third request."""
    logs = ServiceLogs()
    for i in range(60):
        for service in SERVICES:
            line = LogLine(start + i, f"[get][ok id={i}]", "INFO", service)
            if service == failing and i % 3 == 0:
                line = LogLine(start + i, f"[get][failed: NPE at {i}]", "ERROR", service)
            logs.lines[service].append(line)
            logs.traces[service].append(f"{i:032x}")
    return logs


def _cpu(busy: str) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """Every service's CPU each minute for 90 minutes; ``busy`` is saturated in the window."""
    minutes = [(k, INJECT - 80 * 60 + 60 * k) for k in range(90)]
    return {
        service: {
            "CpuUsageRate(%)": [
                (t, 95.0 if service == busy and t >= INJECT else 20.0 + k % 3) for k, t in minutes
            ]
        }
        for service in SERVICES
    }


def mined() -> MinedIncident:
    """ts-a throws (its logs say so, its metrics do not); ts-b's CPU is saturated."""
    incident = NezhaIncident(
        "syn", INJECT, "ts-a-service", "exception", [Path("f")], [Path("b")], Path("m")
    )
    return mine_incident(
        incident,
        _logs(INJECT - 600, None),
        _logs(INJECT, "ts-a-service"),
        _cpu("ts-b-service"),
        TemplateMiner(),
    )


def test_only_the_services_the_metrics_put_highest_have_their_logs_read() -> None:
    incident = mined()
    full = evidence(incident)
    screened = screened_evidence(incident, keep=1)
    # every service's logs read: ts-a's error surge and the traces through it are seen
    assert full["ts-a-service"].channels["errors"] > 0
    assert "flow" in full["ts-a-service"].channels
    # the screen reads ts-b's logs only (its CPU is what the metrics show): ts-a's are unread
    assert "errors" not in screened["ts-a-service"].channels  # unread: unknown, not 0
    assert "flow" not in screened["ts-a-service"].channels
    assert not screened["ts-a-service"].abnormal_templates
    assert screened["ts-b-service"].channels["saturation"] > 1
    # so the throwing service, found with every log read, is missed by the screen at 1
    assert rank_origins(full)[0].service == "ts-a-service"
    assert rank_origins(screened)[0].service == "ts-b-service"


def test_reading_every_service_is_the_full_view() -> None:
    incident = mined()
    assert screened_evidence(incident, keep=len(SERVICES)) == evidence(incident)


def test_the_line_budget_thins_the_loudest_service_as_the_live_path_does() -> None:
    """With room for 60 lines each (180 in all), every service's 120 lines are cut to every
    second one - baseline and window alike, the failing service's errors among them."""
    incident = mined()
    thinned = within_budget(incident, SERVICES, 180)
    for service in SERVICES:
        kept = thinned.base.lines[service] + thinned.cur.lines[service]
        assert len(kept) == 60
        assert len(thinned.base.lines[service]) == 30
    assert any(line.level == "ERROR" for line in thinned.cur.lines["ts-a-service"])
    assert within_budget(incident, SERVICES, 50_000) is incident  # under budget: as read
