"""The receivers' own cost beside Alertmanager's, in the same run: how long the webhook takes to
authenticate, translate, check and store one notification (the work between the request's body
and the 200; no HTTP, no bot), for each source with its documented payload.

Prints ms p50/p95 and notifications per second per source, and one JSON line.
Usage: python benchmarks/bench_receivers.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from bot.config import ReceiverSettings
from bot.slack.inbox import AlertInbox, inbox_engine
from bot.slack.metrics import WebhookMetrics
from bot.slack.receivers import ReceiverWebhooks
from bot.slack.webhook import AlertmanagerWebhook, WebhookResponse
from tests.bot.receivers import payloads
from tests.bot.receivers.payloads import body, pd_signature

SECRET = "bench-secret-1"
STARTS = time.time() - 900


def alertmanager(i: int) -> dict[str, Any]:
    return {"version": "4", "groupKey": f"g{i}", "status": "firing", "alerts": [{
        "status": "firing", "labels": {"alertname": "A", "service": "recommender", "n": str(i)},
        "startsAt": payloads.iso(STARTS), "fingerprint": f"f{i}"}]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        inbox = AlertInbox(inbox_engine(Path(tmp)))
        metrics = WebhookMetrics(CollectorRegistry())
        settings = ReceiverSettings.model_validate({
            "grafana": {"enabled": True, "token": SECRET},
            "datadog": {"enabled": True, "secret": SECRET},
            "opsgenie": {"enabled": True, "secret": SECRET},
            "pagerduty": {"enabled": True, "secrets": [SECRET],
                          "services": {"Recommender API": "shop/recommender"}},
        })  # fmt: skip
        receivers = ReceiverWebhooks(inbox, metrics, settings, max_body_bytes=1_048_576)
        am = AlertmanagerWebhook(inbox, metrics, token=SECRET, max_body_bytes=1_048_576)
        bearer = {"authorization": f"Bearer {SECRET}"}
        shared = {"x-medic-token": SECRET}

        def pagerduty(i: int) -> WebhookResponse:
            raw = body(payloads.pagerduty(STARTS, event_id=f"e{i}"))
            return receivers.handle("pagerduty", {"x-pagerduty-signature": pd_signature(
                raw, SECRET)}, raw)  # fmt: skip

        cases: dict[str, Callable[[int], WebhookResponse]] = {
            "alertmanager": lambda i: am.handle(f"Bearer {SECRET}", body(alertmanager(i))),
            "grafana": lambda i: receivers.handle(
                "grafana", bearer, body(payloads.grafana(STARTS))
            ),
            "datadog": lambda i: receivers.handle(
                "datadog", shared, body(payloads.datadog(STARTS, alert_id=str(i)))
            ),
            "pagerduty": pagerduty,
            "opsgenie": lambda i: receivers.handle(
                "opsgenie", shared, body(payloads.opsgenie(STARTS))
            ),
        }
        result: dict[str, dict[str, float]] = {}
        for name, case in cases.items():
            assert case(-1).status == 200, name
            times = []
            for i in range(runs):
                started = time.perf_counter()
                answer = case(i)
                times.append(time.perf_counter() - started)
                assert answer.status == 200, (name, answer.body)
            times.sort()
            p50 = statistics.median(times) * 1000
            p95 = times[int(len(times) * 0.95)] * 1000
            rate = len(times) / sum(times)
            result[name] = {"p50_ms": round(p50, 3), "p95_ms": round(p95, 3),
                            "per_second": round(rate)}  # fmt: skip
            print(f"{name:13} p50 {p50:6.3f} ms  p95 {p95:6.3f} ms  {rate:7.0f}/s")
        print(json.dumps({"runs": runs, "sources": result}))


if __name__ == "__main__":
    main()
