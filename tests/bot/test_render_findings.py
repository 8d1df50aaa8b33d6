"""What the thread says about findings: attribution, forecasts and drift, as a user reads them."""

from __future__ import annotations

from rich.console import Console

from bot.investigation import Investigation, Window
from bot.render import ThreadPrinter
from bot.signals import SignalCatalog
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
    ThreadPrinter(console, SignalCatalog()).investigation(inv, [])
    return console.export_text()


def test_thread_says_which_pods_explain_what_is_coming_and_what_drifted() -> None:
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
    inv = Investigation(
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
    text = render(inv)
    assert "request payload size: explained by pod=rec-b 92%, pod=rec-a 8%" in text
    assert "cache memory reaches its limit 4.0 GiB in ~25 min (between 20 min and never)" in text
    assert "request payload size drifted: PSI 1.77, KS 0.65, median 3.0x the reference" in text
