"""What the thread shows: the root message, proposals with their confirm dialogs, decisions, and
the chart of an abnormal metric."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.image import imread
from rich.console import Console

from bot import messages
from bot.alerts import parse_alerts
from bot.cli.render import ThreadPrinter
from bot.diagnosis.hypotheses import Evidence, Hypothesis
from bot.diagnosis.investigation import Investigation, Window
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from bot.planners.combine import Plan
from bot.slack.blocks import (
    decision_line,
    diagnosis_head,
    proposal_blocks,
    root_message,
    root_view,
)
from bot.slack.charts import metric_chart
from bot.slack.limits import violations
from detectors import Direction, Finding, Series
from tests.bot.slack.fake_slack import Message, decode
from tools.actions import Action
from tools.proposals import Proposal, ProposalStatus

T0 = 1_800_000_000.0


def proposal(status: ProposalStatus, **changes: object) -> Proposal:
    fields: dict[str, object] = {
        "id": "p1",
        "incident_id": "INC-0001",
        "action": Action("scale", "shop", "recommender", {"replicas": 6}),
        "digest": "d" * 64,
        "status": status,
        "source": "runbook:scale-out",
        "rationale": "saturated replicas",
        "preview": "scale deployment shop/recommender: 3 -> 6 replicas",
        "recipe": {},
        "created_at": T0,
        "expires_at": T0 + 900,
        "decided_by": "U0APPROVER",
        "decided_at": T0 + 120,
        "requested_by": "medic:planner",
        "cluster": "sim",
        "started_at": T0 + 120,
        "finished_at": T0 + 121,
        "outcome": "scaled recommender 3 -> 6",
    }
    fields.update(changes)
    return Proposal(**fields)  # type: ignore[arg-type]


def alert(status: str, name: str, summary: str = "latency high") -> dict[str, object]:
    return {
        "status": status,
        "labels": {"alertname": "LatencyHigh", "service": "recommender", "pod": name},
        "annotations": {"summary": summary},
        "startsAt": "2027-01-15T08:00:00Z",
    }


def test_root_message_counts_the_group_and_escapes_alert_text() -> None:
    group = parse_alerts(
        {"alerts": [alert("firing", "a", "<!channel> latency high"), alert("resolved", "b")]}
    )
    message = root_message(root_view(group, ["INC-0001"], "shop"))
    assert message.blocks[0]["text"]["text"].endswith("[FIRING:1] LatencyHigh")
    text = str(message.blocks)
    assert (
        "1 firing, 1 resolved" in text and "&lt;!channel&gt;" in text and "<!channel>" not in text
    )
    resolved = parse_alerts({"status": "resolved", "alerts": [alert("resolved", "a")]})
    assert "[RESOLVED] LatencyHigh" in root_message(root_view(resolved, [], "shop")).text


def test_a_pending_proposal_has_buttons_whose_dialogs_state_the_exact_change() -> None:
    section, actions = proposal_blocks(proposal(ProposalStatus.PROPOSED))
    approve, reject = actions["elements"]
    assert approve["value"] == "p1:" + "d" * 64 and reject["value"] == "p1"
    dialog = decode(approve["confirm"]["text"]["text"])  # as the reader sees it
    assert "scale shop/recommender replicas=6" in dialog
    assert "Dry run: scale deployment shop/recommender: 3 -> 6 replicas" in dialog
    assert violations([section, actions]) == []


def test_decisions_read_as_what_happened() -> None:
    done = decision_line(proposal(ProposalStatus.SUCCEEDED), "p95 latency back to 180 ms")
    assert done.startswith(":white_check_mark: Approved by <@U0APPROVER> at <!date^1800000120^")
    assert done.endswith("- scaled recommender 3 -&gt; 6 - p95 latency back to 180 ms")
    rejected = decision_line(proposal(ProposalStatus.REJECTED))
    assert "Rejected by <@U0APPROVER>: scale deployment" in rejected
    withdrawn = decision_line(proposal(ProposalStatus.WITHDRAWN, decided_by="medic"))
    assert "Withdrawn: the alert resolved before anyone decided" in withdrawn
    failed = decision_line(proposal(ProposalStatus.FAILED, outcome="scale failed: 403"))
    assert ":x: Approved by" in failed and "failed: scale failed: 403" in failed
    refused = decision_line(proposal(ProposalStatus.REFUSED, outcome="replicas.max: 60 > 10"))
    assert "refused by policy: replicas.max" in refused
    unreachable = proposal(
        ProposalStatus.REFUSED, outcome="unreachable: cannot connect to the Kubernetes API at x"
    )
    assert decision_line(unreachable).endswith(
        "~ not done: cannot connect to the Kubernetes API at x"
    )
    assert len(proposal_blocks(proposal(ProposalStatus.SUCCEEDED))) == 1  # no buttons any more


def test_chart_shades_the_anomaly_window() -> None:
    ts = T0 + 15.0 * np.arange(300)
    values = np.where(ts >= T0 + 3000, 540.0, 170.0)
    finding = Finding(
        metric="latency_p95_ms",
        labels={},
        start=T0 + 3000,
        end=ts[-1],
        direction=Direction.UP,
        baseline=170.0,
        observed=540.0,
        magnitude=3.2,
        confidence=0.9,
        detector="robust",
    )
    png = metric_chart(Series.of("latency_p95_ms", ts, values), finding, Glossary(), "rec")
    image = imread(io.BytesIO(png), format="png")
    assert image.shape[:2] == (300, 800)
    shaded = (np.abs(image[..., 0] - 0.98) < 0.03) & (np.abs(image[..., 1] - 0.87) < 0.04)
    left, right = shaded[:, :300].sum(), shaded[:, 400:].sum()
    assert right > 10 * max(left, 1)  # the shading sits where the anomaly is (the right part)


def test_the_diagnosis_shows_the_plan_as_the_terminal_does() -> None:
    incident = Incident(
        "INC-0007", "fp", "g", "CheckoutErrorRateHigh", "checkout", "shop", "open", T0, T0, None,
        {}, {},
    )  # fmt: skip
    weak = Hypothesis(
        "traffic-surge", "Traffic surge", score=0.21,
        evidence=[Evidence("memory", "PAST-003 (0.42 similar): campaign traffic", 0.21)],
    )  # fmt: skip
    inv = Investigation(
        incident_id=incident.id, window=Window(0.0, 1.0, 2.0), series=[], findings=[],
        templates=None, similar=[], hypotheses=[weak], symptoms=[],
        notes=["dropped: llm: scale on kube-system/coredns dropped"],
    )  # fmt: skip
    plan = Plan(
        checked=["pod restarts of shop/checkout: 4, last Error (exit 2) (runbook:bad-rollout)"],
        advice=["check the pool size and long-running queries (runbook pool-exhausted)"],
        planners=["runbooks", "memory", "what-changed", "llm (off: no model configured)"],
    )
    console = Console(record=True, width=300)
    ThreadPrinter(console, Glossary()).investigation(inv, [], plan)
    terminal = console.export_text()
    text, blocks = diagnosis_head(incident, inv, Glossary(), plan)
    slack = Message("C1", "1.1", text, blocks, "1.0").all_text()
    assert "most likely no clear cause" in text
    for shown in (
        messages.NO_CLEAR_CAUSE,
        "Traffic surge",
        "dropped: llm: scale on kube-system/coredns dropped",
        plan.checked[0],
        plan.advice[0],
        "planned by runbooks, memory, what-changed, llm (off: no model configured)",
    ):
        assert shown in terminal and shown in slack, shown


def test_a_resolved_copy_from_a_sender_whose_clock_runs_ahead_still_resolves_the_root() -> None:
    from datetime import UTC, datetime, timedelta

    from bot.slack.blocks import root_view

    now = datetime.now(UTC)
    ahead = (now + timedelta(minutes=10)).isoformat()  # accepted: a clock that runs ahead

    def group(status: str, ends: str) -> dict[str, object]:
        alert = {"status": status, "labels": {"alertname": "A", "service": "checkout"},
                 "startsAt": ahead, "endsAt": ends, "fingerprint": "f1"}  # fmt: skip
        return {"groupKey": "g", "status": status, "alerts": [alert]}

    firing = root_view(parse_alerts(group("firing", "0001-01-01T00:00:00Z")), [], "shop")
    resolved = root_view(parse_alerts(group("resolved", now.isoformat())), [], "shop")
    assert firing.outdated_by(resolved)  # before: the resolved copy looked older, and was dropped
