"""`POST /webhook/<source>` as each vendor calls it (the documented payloads in payloads.py):
authenticated or 401, malformed or 400/422, too big 413, and what is queued is the alert group
Alertmanager's webhook would give - with the vendor's own ids and links as its source."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from bot.alerts import parse_alerts, trusted_source
from bot.config import ReceiverSettings
from bot.slack.inbox import AlertInbox, inbox_engine
from bot.slack.metrics import WebhookMetrics
from bot.slack.receivers import ReceiverWebhooks
from bot.slack.webhook import AlertmanagerWebhook, WebhookResponse
from tests.bot.receivers import payloads
from tests.bot.receivers.payloads import body, pd_signature

NOW = 1_800_000_000.0
STARTS = NOW - 900
TOKEN = "grafana-token-1"
SECRET = "shared-secret-1"
PD_SECRET = "pd-signing-secret"
PD_OLD = "pd-old-secret-00"
SETTINGS = {
    "grafana": {"enabled": True, "token": TOKEN},
    "datadog": {"enabled": True, "secret": SECRET},
    "opsgenie": {"enabled": True, "secret": SECRET},
    "pagerduty": {"enabled": True, "secrets": [PD_SECRET],
                  "services": {"Recommender API": "shop/recommender"}},
    "generic": {"nagios": {"secret": SECRET, "alerts": "/events", "alertname": "/check",
                           "service": "svc.name", "namespace": "svc.ns", "status": "/state",
                           "starts_at": "/at", "fingerprint": "/id", "summary": "/text",
                           "link": "/url"}},
}  # fmt: skip


class Receivers:
    def __init__(self, tmp_path: Path, settings: dict[str, Any] | None = None) -> None:
        self.inbox = AlertInbox(inbox_engine(tmp_path))
        self.registry = CollectorRegistry()
        self.webhooks = ReceiverWebhooks(
            self.inbox,
            WebhookMetrics(self.registry),
            ReceiverSettings.model_validate(SETTINGS if settings is None else settings),
            max_body_bytes=100_000,
            clock=lambda: NOW,
        )

    def post(self, source: str, raw: bytes, **headers: str) -> WebhookResponse:
        return self.webhooks.handle(source, {k.lower(): v for k, v in headers.items()}, raw)

    def queued(self) -> list[tuple[str, Any]]:
        items = []
        while (item := self.inbox.oldest_pending()) is not None:
            items.append((item.source, trusted_source(parse_alerts(item.body), item.source)))
            self.inbox.finish(item.id, "done")
        return items


@pytest.fixture
def receivers(tmp_path: Path) -> Receivers:
    return Receivers(tmp_path)


def grafana_auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def shared() -> dict[str, str]:
    return {"X-Medic-Token": SECRET}


def test_grafana_notification_becomes_the_alert_group_with_grafanas_links(
    receivers: Receivers,
) -> None:
    answer = receivers.post("grafana", body(payloads.grafana(STARTS)), **grafana_auth())
    assert answer.status == 200 and answer.body == {"queued": 1, "alerts": 1}
    ((source, group),) = receivers.queued()
    assert source == "grafana" and group.version == "4"
    (alert,) = group.alerts
    assert alert.service == "recommender" and alert.ends_at is None
    assert alert.identity == "c6eadffa33fcdf37"
    assert group.source.kind == "grafana"
    assert [link.label for link in group.source.links] == [
        "Grafana rule", "dashboard", "panel", "silence", "Grafana"]  # fmt: skip
    assert group.group_key.startswith("grafana:")


def test_grafana_basic_authentication(tmp_path: Path) -> None:
    settings = {"grafana": {"enabled": True, "username": "grafana", "password": "pass-word-1"}}
    receivers = Receivers(tmp_path, settings)
    raw = body(payloads.grafana(STARTS))
    good = base64.b64encode(b"grafana:pass-word-1").decode()
    bad = base64.b64encode(b"grafana:wrong-pass").decode()
    assert receivers.post("grafana", raw, Authorization=f"Basic {good}").status == 200
    assert receivers.post("grafana", raw, Authorization=f"Basic {bad}").status == 401
    assert receivers.post("grafana", raw, Authorization="Basic %%%").status == 401


def test_datadog_transition_and_tags_make_the_alert(receivers: Receivers) -> None:
    answer = receivers.post("datadog", body(payloads.datadog(STARTS)), **shared())
    assert answer.status == 200
    ((_, group),) = receivers.queued()
    (alert,) = group.alerts
    assert alert.status == "firing" and alert.name == "Recommender latency high"
    assert alert.labels["namespace"] == "shop" and alert.labels["severity"] == "P1"
    assert alert.starts_at.timestamp() == STARTS  # $DATE is in milliseconds
    assert group.source.ids == {"monitor": "12345678", "event": "7286921938456293485",
                                "cycle": "8364573451123"}  # fmt: skip
    receivers.post("datadog", body(payloads.datadog(STARTS + 600, "Recovered")), **shared())
    ((_, recovered),) = receivers.queued()
    assert recovered.alerts[0].status == "resolved"
    assert recovered.alerts[0].identity == alert.identity  # it ends the same incident


def test_pagerduty_signature_is_checked_over_the_raw_body(receivers: Receivers) -> None:
    raw = body(payloads.pagerduty(STARTS))
    for header in (None, "", "v1=00", pd_signature(raw, "someone-else"),
                   pd_signature(raw + b" ", PD_SECRET), "sha256=" + "0" * 64):  # fmt: skip
        headers = {} if header is None else {"X-PagerDuty-Signature": header}
        assert receivers.post("pagerduty", raw, **headers).status == 401
    # Several signatures while a secret rotates: any one valid is enough.
    rotating = pd_signature(raw, PD_OLD, PD_SECRET)
    assert receivers.post("pagerduty", raw, **{"X-PagerDuty-Signature": rotating}).status == 200
    ((_, group),) = receivers.queued()
    (alert,) = group.alerts
    assert (alert.service, alert.labels["namespace"]) == ("recommender", "shop")  # mapped
    assert group.source.ids == {"incident": "PGR0VU2", "number": "2"}
    assert group.source.links[0].url == "https://acme.pagerduty.com/incidents/PGR0VU2"


def test_pagerduty_replay_and_non_alert_events(receivers: Receivers) -> None:
    raw = body(payloads.pagerduty(STARTS))
    signed = {"X-PagerDuty-Signature": pd_signature(raw, PD_SECRET)}
    assert receivers.post("pagerduty", raw, **signed).status == 200
    replay = receivers.post("pagerduty", raw, **signed)  # PagerDuty retries a delivery
    assert replay.status == 200 and replay.body == {"ignored": "event delivered before"}
    ack = body(payloads.pagerduty(STARTS, "incident.acknowledged", event_id="other"))
    answer = receivers.post("pagerduty", ack, **{"X-PagerDuty-Signature": pd_signature(
        ack, PD_SECRET)})  # fmt: skip
    assert answer.status == 200 and "ignored" in answer.body
    assert len(receivers.queued()) == 1


def test_opsgenie_create_and_close(receivers: Receivers) -> None:
    assert receivers.post("opsgenie", body(payloads.opsgenie(STARTS)), **shared()).status == 200
    closed = payloads.opsgenie(STARTS, "Close")
    assert receivers.post("opsgenie", body(closed), **shared()).status == 200
    note = payloads.opsgenie(STARTS, "AddNote")
    assert receivers.post("opsgenie", body(note), **shared()).body == {
        "ignored": "not an alert event"}  # fmt: skip
    (_, fired), (_, resolved) = receivers.queued()
    assert fired.alerts[0].service == "recommender"  # the entity
    assert fired.alerts[0].labels["namespace"] == "shop"  # the namespace detail
    assert fired.source.ids == {"alert": "052652ac-5d1c-464a-812a-7dd18bbfba8c", "tiny": "23"}
    assert resolved.alerts[0].status == "resolved"
    assert resolved.alerts[0].ends_at.timestamp() == STARTS + 600  # updatedAt in nanoseconds


def test_generic_mapping(receivers: Receivers) -> None:
    document = {"events": [
        {"check": "HTTP", "svc": {"name": "recommender", "ns": "shop"}, "state": "CRITICAL",
         "at": STARTS, "id": "n-1", "text": "HTTP 500", "url": "https://nagios.example/n-1"},
        {"check": "HTTP", "svc": {"name": "checkout"}, "state": "OK", "at": STARTS, "id": "n-2"},
    ]}  # fmt: skip
    assert receivers.post("generic/nagios", body(document), **shared()).status == 200
    ((source, group),) = receivers.queued()
    first, second = group.alerts
    assert source == "generic" and group.source.ids == {"sender": "nagios"}
    assert (first.status, first.service, first.labels["namespace"]) == (
        "firing", "recommender", "shop")  # fmt: skip
    assert second.status == "resolved"  # "OK" is among resolved_values
    assert first.annotations["summary"] == "HTTP 500"
    missing = {"events": [{"check": "HTTP", "state": "CRITICAL"}]}
    answer = receivers.post("generic/nagios", body(missing), **shared())
    assert answer.status == 422 and "no service at svc.name" in answer.body["error"]


@pytest.mark.parametrize("source", ["grafana", "datadog", "pagerduty", "opsgenie",
                                    "generic/nagios"])  # fmt: skip
def test_unauthenticated_is_401_and_nothing_is_queued(receivers: Receivers, source: str) -> None:
    raw = body({"anything": 1})
    for headers in ({}, {"X-Medic-Token": "wrong-secret"}, {"Authorization": "Bearer nope"}):
        answer = receivers.post(source, raw, **headers)
        assert answer.status == 401 and "credentials" in answer.body["error"]
    assert receivers.queued() == []


def test_a_source_not_enabled_is_404(tmp_path: Path) -> None:
    receivers = Receivers(tmp_path, {})
    for source in ("grafana", "datadog", "pagerduty", "opsgenie", "generic/x", "nothing", "a/b"):
        assert receivers.post(source, b"{}", **shared()).status == 404


def test_an_enabled_receiver_needs_its_secret() -> None:
    with pytest.raises(ValueError, match="needs its secret"):
        ReceiverSettings.model_validate({"datadog": {"enabled": True}})
    with pytest.raises(ValueError, match="signing secret"):
        ReceiverSettings.model_validate({"pagerduty": {"enabled": True}})


@pytest.mark.parametrize(
    ("raw", "status", "says"),
    [
        (b"not json", 400, "not JSON"),
        (b"\xff\xfe", 400, "not JSON"),
        (b"[" * 5000 + b"]" * 5000, 400, "nested more than"),
        (b'"a string"', 422, "must be a JSON object"),
        (json.dumps({"version": "4", "alerts": []}).encode(), 422, "version '4'"),
    ],
)
def test_malformed_grafana_bodies(receivers: Receivers, raw: bytes, status: int, says: str) -> None:
    answer = receivers.post("grafana", raw, **grafana_auth())
    assert answer.status == status and says in answer.body["error"]
    assert "\n" not in answer.body["error"]


@pytest.mark.parametrize(
    ("date", "says"),
    [
        ("0", "before 2000"),  # an unset variable read as 1970
        (str(int(NOW * 1000) + 10 * 365 * 86400 * 1000), "ahead"),  # ten years ahead
        ("1e400", "not a time"),
        ("nonsense", "not a time"),
    ],
)
def test_absurd_times_are_refused_naming_the_field(
    receivers: Receivers, date: str, says: str
) -> None:
    answer = receivers.post("datadog", body(payloads.datadog(STARTS, date=date)), **shared())
    assert answer.status == 422, answer.body
    assert "date" in answer.body["error"] or "startsAt" in answer.body["error"]


def test_markup_in_every_field_stays_text(receivers: Receivers) -> None:
    hostile = "<!channel> <https://evil.example|click> *bold*"
    payload = payloads.datadog(STARTS, title=hostile, status=hostile, priority=hostile,
                               link="javascript:alert(1)", id=hostile)  # fmt: skip
    assert receivers.post("datadog", body(payload), **shared()).status == 200
    ((_, group),) = receivers.queued()
    assert group.source.links == []  # not http(s): no link at all
    assert group.alerts[0].annotations["summary"] == hostile  # kept as text, escaped when shown


def test_too_many_alerts_and_long_texts_are_bounded(receivers: Receivers) -> None:
    big = payloads.grafana(STARTS)
    big["alerts"] = big["alerts"] * 501
    assert receivers.post("grafana", body(big), **grafana_auth()).status == 413
    many = payloads.grafana(STARTS)
    small = {"status": "firing", "labels": {"alertname": "a"}, "startsAt": payloads.iso(STARTS)}
    many["alerts"] = [small] * 501
    answer = receivers.post("grafana", body(many), **grafana_auth())
    assert answer.status == 422 and "more than 500 alerts" in answer.body["error"]
    long = payloads.datadog(STARTS, title="x" * 50_000)
    assert receivers.post("datadog", body(long), **shared()).status == 200
    ((_, group),) = receivers.queued()
    assert len(group.alerts[0].labels["alertname"]) <= 200


def test_alertmanager_payload_cannot_pose_as_a_source(receivers: Receivers) -> None:
    alert = {"status": "firing", "labels": {"alertname": "A", "service": "s"},
             "startsAt": payloads.iso(STARTS)}  # fmt: skip
    posing = {"kind": "pagerduty", "ids": {"incident": "P1"}}
    group = parse_alerts({"alerts": [alert], "medicSource": posing})
    assert trusted_source(group, "alertmanager").source is None
    assert trusted_source(group, "pagerduty").source is not None
    webhook = AlertmanagerWebhook(receivers.inbox, WebhookMetrics(CollectorRegistry()),
                                  token=None, max_body_bytes=100_000)  # fmt: skip
    answer = webhook.handle(None, body({"alerts": [alert], "medicSource": posing}))
    assert answer.status == 400 and "medicSource" in answer.body["error"]
    assert receivers.queued() == []


def test_rejections_are_counted_by_source(receivers: Receivers) -> None:
    receivers.post("datadog", b"{}", **{"X-Medic-Token": "wrong-secret"})
    receivers.post("datadog", body(payloads.datadog(STARTS)), **shared())
    value = receivers.registry.get_sample_value
    labels = {"source": "datadog", "result": "unauthorized"}
    assert value("medic_receiver_requests_total", labels) == 1
    assert value("medic_receiver_requests_total", {**labels, "result": "queued"}) == 1
