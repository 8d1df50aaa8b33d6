"""The bot's Prometheus metrics, on a registry of its own (served at ``GET /metrics``). The
webhook's are apart: they live where the webhook runs (under `medic serve`, the front process,
whose ``GET /metrics`` adds them to the bot's)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0)


class BotMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.alerts_received = Counter(
            "medic_alerts_received", "Alerts received, by source.", ["source"], registry=r
        )
        self.investigations = Counter(
            "medic_investigations", "Investigations run, by result.", ["result"], registry=r
        )
        self.investigation_seconds = Histogram(
            "medic_investigation_seconds",
            "Time to investigate and propose.",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.alert_to_diagnosis_seconds = Histogram(
            "medic_alert_to_diagnosis_seconds",
            "From receiving an alert to its diagnosis posted in Slack.",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.slack_ack_seconds = Histogram(
            "medic_slack_ack_seconds",
            "Time to answer a Slack request.",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.proposals = Counter(
            "medic_proposals", "Proposals by the status they reached.", ["status"], registry=r
        )
        self.slack_calls = Counter(
            "medic_slack_calls",
            "Slack Web API deliveries, by operation and result.",
            ["op", "result"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "medic_slack_outbox_pending",
            "Slack deliveries waiting (Slack down or slow).",
            registry=r,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class WebhookMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.rejected = Counter(
            "medic_webhook_rejected",
            "Webhook requests refused, by reason.",
            ["reason"],
            registry=registry,
        )
        self.receiver_requests = Counter(
            "medic_receiver_requests",
            "Requests to the receivers of other tools' alerts, by source and result.",
            ["source", "result"],
            registry=registry,
        )
        self.intake_seconds = Histogram(
            "medic_intake_seconds",
            "Time to accept an alert notification.",
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )
