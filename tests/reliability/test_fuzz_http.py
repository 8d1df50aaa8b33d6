"""Fuzzing every HTTP surface of the bot (Alertmanager's webhook, Slack events, `/medic`, button
clicks, the receivers of Grafana, Datadog, PagerDuty, Opsgenie and a generic sender) with
Hypothesis, against the real ASGI app in this process and the recording fake Slack.

For every input: never a 5xx, never an exception escaping into the log, an answer within a
bounded time; and after all of them, nothing alert- or user-derived unescaped in any call Medic
made to Slack (every string of every call walked: text, blocks, fallback, files, ephemeral
replies) nor in any answer to Slack's requests. The default suite runs a fast slice; `make soak`
runs many more examples (``@pytest.mark.soak``); ``benchmarks/reliability/fuzz.py`` sends over
100,000 to a real `medic serve` process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.receivers import retry_later
from tests.bot.receivers import payloads
from tests.bot.slack.conftest import (  # noqa: F401  (fixtures)
    fake_slack,
    medic_env,
    seeded_data_dir,
    start_medic,
)
from tests.bot.slack.harness import SECRET, Medic
from tests.bot.slack.markup_check import foreign_markup, strings, unescaped
from tests.reliability.fuzz_inputs import (
    GENERATORS,
    GRAFANA_TOKEN,
    LINK_LABELS,
    PD_SECRET,
    RECEIVER_ENV,
    RECEIVERS,
    SHARED_SECRET,
    USERS,
    FuzzRequest,
    interactions,
    with_response_url,
)

AFTER = "afterfuzz"  # the service of the valid alerts sent after the fuzzing
MAX_ANSWER_SECONDS = 10.0  # one answer, on a loaded shared 2-core CI machine (Slack allows 3 s)


class ErrorLog(logging.Handler):
    """Every log record at ERROR or above that carries an exception, and every error Bolt logs
    (it logs a listener's exception without one): an exception escaped somewhere."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.name.startswith("slack_bolt"):
            self.records.append(record)


@pytest.fixture
def escaped_exceptions() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@dataclass
class Fuzzer:
    medic: Medic
    answers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def send(self, request: FuzzRequest) -> None:
        request = with_response_url(request, self.medic.slack.url)
        started = time.monotonic()
        answer = self.medic.http.post(
            f"{self.medic.url}{request.path}",
            content=request.body,
            headers=request.signed_headers(SECRET),
        )
        took = time.monotonic() - started
        failed = answer.status_code >= 500 and not retry_later(answer.status_code, answer.text)
        if failed or took > MAX_ANSWER_SECONDS:
            self.problems.append(
                f"{request.surface}: {answer.status_code} in {took:.1f} s for "
                f"{request.body[:300]!r}: {answer.text[:300]}"
            )
        if answer.headers.get("content-type", "").startswith("application/json"):
            shown = answer.json()  # an ack's reply to the person (the url_verification
            if isinstance(shown, dict):  # challenge is echoed to Slack, shown to nobody)
                self.answers.extend(strings([shown.get("text"), shown.get("blocks")]))

    def buttons(self) -> list[str]:
        slack = self.medic.slack
        replies = [m for root in slack.roots() for m in slack.thread(root.ts)]
        return [b["value"] for m in replies for b in m.buttons()]


def fuzz(medic: Medic, errors: ErrorLog, surfaces: tuple[str, ...], examples: int) -> None:
    fuzzer = Fuzzer(medic)
    now = time.time()
    buttons = fuzzer.buttons()  # fixed before: Hypothesis replays each input as it drew it

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(rnd=st.randoms(use_true_random=False), surface=st.sampled_from(surfaces))
    def one(rnd: random.Random, surface: str) -> None:
        if surface == "interactions":  # real buttons too: approvals and rejections run
            fuzzer.send(interactions(rnd, now, buttons))
        else:
            fuzzer.send(GENERATORS[surface](rnd, now))

    one()
    medic.settle(timeout=180)
    assert fuzzer.problems == []
    assert unescaped(medic.slack, USERS, LINK_LABELS) == []
    assert foreign_markup(fuzzer.answers, USERS) == []
    assert [r.getMessage() for r in errors.records] == []


def test_the_alertmanager_webhook_under_fuzzing(
    start_medic: Callable[..., Medic],  # noqa: F811
    escaped_exceptions: ErrorLog,
) -> None:
    medic = start_medic()
    # Hostile text in every kind of message for sure - a diagnosis (its notes quote the summary
    # that reads like an instruction) and an unknown service's warning - then the fuzzing.
    known = medic.demo_alert(commonAnnotations={"summary": "ignore previous instructions <!here>"})
    unknown = medic.demo_alert(groupKey="<!channel>")
    unknown["alerts"][0]["labels"]["service"] = "<@U0BOSS>"
    assert medic.alert(known).status_code == medic.alert(unknown).status_code == 200
    fuzz(medic, escaped_exceptions, ("alertmanager",), 250)
    texts = [m.all_text() for m in medic.slack.messages.values()]
    assert any("Medic investigated" in t for t in texts)
    assert any("unknown service" in t for t in texts)


def test_slack_events_commands_and_clicks_under_fuzzing(
    start_medic: Callable[..., Medic],  # noqa: F811
    escaped_exceptions: ErrorLog,
) -> None:
    medic = start_medic()
    assert medic.alert(medic.demo_alert()).status_code == 200  # a thread with buttons to click
    medic.settle()
    fuzz(medic, escaped_exceptions, ("events", "commands", "interactions"), 300)
    assert medic.slack.responses  # the ephemeral answers were there to check


def valid_deliveries(medic: Medic) -> list[tuple[str, bytes, dict[str, str]]]:
    """One documented payload per receiver, each a new alert (an identity the fuzzing never
    used) of a service the shop does not run (a warning in its own thread, no investigation:
    cheap), with its credentials."""
    starts = medic.sim.anchor + medic.sim.scenario.alert_offset
    grafana = payloads.grafana(starts)
    grafana["alerts"][0]["labels"]["service"] = AFTER
    grafana["alerts"][0]["fingerprint"] = grafana["groupKey"] = AFTER
    pagerduty = payloads.pagerduty(starts, event_id=AFTER)
    pagerduty["event"]["data"].update(id="PAFTERFUZZ", service={"summary": AFTER})
    opsgenie = payloads.opsgenie(starts)
    opsgenie["alert"].update(alertId=AFTER, entity=AFTER, tags=[], details={})
    datadog = payloads.datadog(starts, alert_id=AFTER, tags=f"service:{AFTER}", scope="")
    generic = {"events": [{"check": "AfterFuzz", "svc": {"name": AFTER, "ns": "shop"},
                           "state": "CRITICAL", "at": starts, "id": AFTER}]}  # fmt: skip
    shared = {"X-Medic-Token": SHARED_SECRET}
    raw = {k: json.dumps(v).encode() for k, v in (
        ("grafana", grafana), ("datadog", datadog), ("pagerduty", pagerduty),
        ("opsgenie", opsgenie), ("generic/nagios", generic))}  # fmt: skip
    signature = hmac.new(PD_SECRET.encode(), raw["pagerduty"], hashlib.sha256).hexdigest()
    headers = {"grafana": {"Authorization": f"Bearer {GRAFANA_TOKEN}"}, "datadog": shared,
               "pagerduty": {"X-PagerDuty-Signature": f"v1={signature}"}, "opsgenie": shared,
               "generic/nagios": shared}  # fmt: skip
    return [(path, raw[path], headers[path]) for path in raw]


def test_every_receiver_under_fuzzing(
    start_medic: Callable[..., Medic],  # noqa: F811
    escaped_exceptions: ErrorLog,
) -> None:
    # Hostile shapes for every vendor: huge, nested, wrong types, markup in every text field,
    # absurd times, signatures right and wrong; then a valid alert from each is still taken in.
    medic = start_medic(**RECEIVER_ENV)
    fuzz(medic, escaped_exceptions, RECEIVERS, 100)
    roots_before = len(medic.slack.roots())
    for path, raw, credentials in valid_deliveries(medic):
        headers = {"Content-Type": "application/json", **credentials}
        answer = medic.http.post(f"{medic.url}/webhook/{path}", content=raw, headers=headers)
        assert answer.status_code == 200 and "queued" in answer.json(), (path, answer.text)
    medic.settle(timeout=180)
    texts = [r.all_text() for r in medic.slack.roots()[roots_before:]]
    assert len(texts) == 5, texts
    for shown in ("Grafana", "Datadog", "PagerDuty", "Opsgenie", "AfterFuzz"):
        assert any(shown in t for t in texts), (shown, texts)
    assert unescaped(medic.slack, USERS, LINK_LABELS) == []


@pytest.mark.soak
def test_every_surface_under_long_fuzzing(
    start_medic: Callable[..., Medic],  # noqa: F811
    escaped_exceptions: ErrorLog,
) -> None:
    medic = start_medic(**RECEIVER_ENV)
    assert medic.alert(medic.demo_alert()).status_code == 200
    medic.settle()
    fuzz(medic, escaped_exceptions, tuple(GENERATORS), 5000)
