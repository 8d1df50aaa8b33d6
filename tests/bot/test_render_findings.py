"""What the thread says about findings: attribution, forecasts and drift, as a user reads them."""

from __future__ import annotations

from rich.console import Console

from bot.cli.render import ThreadPrinter
from bot.diagnosis.investigation import Investigation, Window
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from bot.slack.blocks import diagnosis_head
from detectors import Contribution, Direction, Finding, FindingKind, Forecast


def finding(metric: str, **extra: object) -> Finding:
    base = {
        "metric": metric,
        "labels": {"region": "eu-west-1"},
        "start": 1_800_000_000.0,
        "end": 1_800_000_600.0,
        "direction": Direction.UP,
        "baseline": 2150.0,
        "observed": 6400.0,
        "magnitude": 3.0,
        "confidence": 0.97,
        "detector": "rarity",
    }
    return Finding(**(base | extra))  # type: ignore[arg-type]


def render(inv: Investigation) -> str:
    console = Console(record=True, width=160)
    ThreadPrinter(console, Glossary()).investigation(inv, [])
    return console.export_text()


def investigation() -> Investigation:
    payload = finding(
        "request_payload_bytes",
        attribution=(
            Contribution({"pod": "rec-b"}, 0.92, 2100.0, 19000.0),
            Contribution({"pod": "rec-a"}, 0.08, 2100.0, 3500.0),
        ),
    )
    cache = finding(
        "cache_memory_bytes",
        kind=FindingKind.FORECAST,
        baseline=3.0 * 2**30,
        observed=4.0 * 2**30,
        forecast=Forecast(4.0 * 2**30, eta=1500.0, earliest=1200.0, latest=float("inf"), slope=1e5),
    )
    drift = finding(
        "request_payload_bytes", kind=FindingKind.DRIFT, details={"psi": 1.77, "ks": 0.65}
    )
    return Investigation(
        incident_id="INC-1",
        window=Window(0.0, 1.0, 2.0),
        series=[],
        findings=[payload],
        templates=None,
        similar=[],
        hypotheses=[],
        symptoms=[],
        forecasts=[cache],
        drift=[drift],
    )


EXPLAINED = "explained by pod=rec-b 92%, pod=rec-a 8%"
COMING = "cache memory reaches its limit 4.0 GiB in ~25 min (between 20 min and never)"
DRIFTED = "request payload size drifted: PSI 1.77, KS 0.65, median 3.0x the reference"


def test_terminal_thread_says_which_pods_explain_what_is_coming_and_what_drifted() -> None:
    text = render(investigation())
    assert f"request payload size: {EXPLAINED}" in text
    assert COMING in text and DRIFTED in text


def test_slack_diagnosis_says_the_same() -> None:
    incident = Incident(
        "INC-1", "fp", "g", "RecommenderLatencyHigh", "recommender", "shop", "open",
        1_800_000_000.0, 1_800_000_000.0, None, {}, {},
    )  # fmt: skip
    _, blocks = diagnosis_head(incident, investigation(), Glossary())
    texts = [b["text"]["text"] for b in blocks if b.get("type") == "section"]
    abnormal = next(t for t in texts if t.startswith("*What is abnormal*"))
    assert EXPLAINED in abnormal
    outlook = next(t for t in texts if t.startswith("*What is coming, what drifted*"))
    assert COMING in outlook and DRIFTED in outlook
