"""Wiring of the Slack bot: from settings and an incident flow to a running service (HTTP server,
outbox delivery, background jobs, Socket Mode when an app token is set). The only place that knows
which concrete piece sits behind each part of the bot."""

from __future__ import annotations

import logging
import re
import signal
import sys
import threading
import time
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from bot.alerts import parse_alerts
from bot.config import Settings
from bot.database import prepare_data_dir, sqlite_engine, state_engine
from bot.errors import ConfigError
from bot.flow import IncidentFlow
from bot.planners.llm import load_model
from bot.runtime import vector_store
from bot.slack.app import build_app
from bot.slack.commands import CommandAnswers
from bot.slack.decisions import Decisions
from bot.slack.delivery import SlackDelivery
from bot.slack.inbox import AlertInbox, AlertIntake
from bot.slack.jobs import Jobs
from bot.slack.mentions import Mentions
from bot.slack.metrics import BotMetrics
from bot.slack.outbox import Outbox
from bot.slack.search import KnowledgeSearch, Searcher
from bot.slack.server import MedicServer
from bot.slack.thread_store import ThreadStore
from bot.slack.threads import IncidentThreads
from bot.slack.usergroups import UserGroups, names_groups
from bot.slack.watched import ServiceResolver
from bot.slack.webhook import AlertmanagerWebhook
from knowledge.embeddings import MiniLMEmbedding
from tools.errors import ToolError

log = logging.getLogger(__name__)

SLACK_API_URL = "https://slack.com/api/"
SWITCH_INTERVAL = 0.001
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
MAX_CANDIDATES = 20  # words of an alert message tried as deployment names


def check_settings(settings: Settings) -> None:
    """What `medic serve` needs before it starts, each missing piece named."""
    if settings.slack_bot_token is None:
        raise ConfigError("set SLACK_BOT_TOKEN (the app's Bot User OAuth Token, xoxb-...)")
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        raise ConfigError(
            "set SLACK_SIGNING_SECRET (Basic Information > Signing Secret), or SLACK_APP_TOKEN "
            "for Socket Mode"
        )
    if not settings.alert_channel:
        raise ConfigError("set MEDIC_ALERT_CHANNEL (or alert_channel) to the channel id for alerts")


def web_client(settings: Settings) -> WebClient:
    base_url = (settings.slack_api_url or SLACK_API_URL).rstrip("/") + "/"
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(token=token, base_url=base_url, timeout=10, retry_handlers=[])


def service_resolver(flow: IncidentFlow) -> ServiceResolver:
    """(namespace, service) for the first word of an alert that names a deployment Medic knows:
    namespaces from the policy (a word naming one is tried first), deployments looked up by name
    (a GET per candidate word, so the bot needs no permission to list deployments)."""

    def resolve(words: list[str]) -> tuple[str, str] | None:
        policy = flow.workflow.guard.policy
        namespaces = list(dict.fromkeys([flow.default_namespace, *policy.namespaces]))
        preferred = [w for w in words if w in namespaces]
        candidates = [w for w in dict.fromkeys(words) if DNS_LABEL.fullmatch(w)][:MAX_CANDIDATES]
        for namespace in preferred + [n for n in namespaces if n not in preferred]:
            for word in candidates:
                try:
                    flow.backends.cluster.get_deployment(namespace, word)
                except ToolError:
                    continue
                return namespace, word
        return None

    return resolve


class MedicService:
    def __init__(
        self,
        settings: Settings,
        flow: IncidentFlow,
        *,
        client: WebClient | None = None,
        searcher: Searcher | None = None,
        charts: bool = True,
        registry: CollectorRegistry | None = None,
        chat_model: Any | None = None,
    ) -> None:
        """``chat_model`` answers `@medic` questions; by default the one configured in
        ``llm.model``, if any."""
        data_dir = prepare_data_dir(settings.data_dir)
        engine = state_engine(data_dir, settings.database_url)
        self.settings = settings
        self.metrics = BotMetrics(registry)
        self.client = client or web_client(settings)
        self.jobs = Jobs()
        self.outbox = Outbox(engine)
        self.threads = IncidentThreads(
            flow=flow,
            decisions=Decisions(flow),
            store=ThreadStore(engine),
            outbox=self.outbox,
            jobs=self.jobs,
            metrics=self.metrics,
            alert_channel=settings.alert_channel,
            wake_delivery=self._wake_delivery,
            charts=charts,
        )
        self.delivery = SlackDelivery(
            self.outbox, self.client, self.metrics, on_posted=self.threads.on_posted
        )
        secret = settings.slack_signing_secret
        self.bolt = build_app(
            client=self.client,
            signing_secret=secret.get_secret_value() if secret else None,
            threads=self.threads,
            answers=CommandAnswers(
                self.threads,
                searcher or KnowledgeSearch(vector_store(settings, data_dir), MiniLMEmbedding()),
            ),
            groups=UserGroups(
                self.client, enabled=names_groups(flow.workflow.guard.policy.approvers)
            ),
            watched_channels=settings.watched_channels,
            alert_pattern=settings.slack.alert_pattern,
            resolve_service=service_resolver(flow),
            listener_executor=self.jobs.listeners,
            mentions=Mentions(
                self.threads,
                chat_model if chat_model is not None else load_model(settings.llm)[0],
                settings.llm.timeout_seconds,
            ),
        )
        # A file of its own: the webhook's insert never waits behind the threads' writes.
        inbox = AlertInbox(sqlite_engine(data_dir, "inbox.db"))
        self.intake = AlertIntake(inbox, self._receive, self.threads.notice)
        token = settings.webhook.token
        self.webhook = AlertmanagerWebhook(
            inbox,
            self.metrics,
            token=token.get_secret_value() if token else None,
            max_body_bytes=settings.webhook.max_body_bytes,
        )
        self.webhook.on_queued = self.intake.wake
        app_token = settings.slack_app_token
        self.socket_mode = (
            SocketModeHandler(self.bolt, app_token.get_secret_value()) if app_token else None
        )
        self.asgi = MedicServer(
            bolt=None if self.socket_mode else self.bolt,
            webhook=self.webhook,
            metrics=self.metrics,
            health=self.health,
        )

    def _wake_delivery(self) -> None:
        self.delivery.wake()

    def _receive(self, body: str, source: str, received_at: float) -> None:
        self.threads.receive(parse_alerts(body), source=source, received_at=received_at)

    def settle(self, timeout: float) -> bool:
        """Wait until everything received has been handled and delivered (tests, benchmarks)."""
        deadline = time.monotonic() + timeout

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        while left() > 0:
            if (
                self.intake.wait_idle(left())
                and self.jobs.wait_idle(left())
                and self.delivery.wait_idle(left())
                and self.intake.wait_idle(0)
                and self.jobs.wait_idle(0)
            ):
                return True
        return False

    def health(self) -> dict[str, Any]:
        counts = self.outbox.counts()
        return {
            "status": "ok",
            "slack": "socket_mode" if self.socket_mode else "http",
            "inbox": {"pending": self.intake.pending()},
            "outbox": {"pending": counts.get("pending", 0), "dead": counts.get("dead", 0)},
        }

    def start(self) -> None:
        # Webhook and Slack answers wait for the GIL behind CPU-bound investigations; a 1 ms
        # switch interval (Python's default is 5 ms) keeps their p95 low (docs/benchmarks.md).
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.delivery.start()
        self.intake.start()
        resumed = self.threads.resume()
        if resumed:
            log.info("resumed %d interrupted investigation(s)", resumed)
        if self.socket_mode is not None:
            self.socket_mode.connect()  # type: ignore[no-untyped-call]

    def stop(self) -> None:
        if self.socket_mode is not None:
            self.socket_mode.close()  # type: ignore[no-untyped-call]
        self.intake.stop()
        self.delivery.stop()
        self.jobs.shutdown()
        self.asgi.close()

    def serve(self, host: str, port: int) -> None:
        """Run until interrupted (Ctrl-C, SIGTERM), then stop the workers and return."""
        if threading.current_thread() is threading.main_thread():
            # uvicorn re-raises the signal it shut down on; a quiet handler lets us stop cleanly.
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: None)
        self.start()
        try:
            uvicorn.Server(
                uvicorn.Config(self.asgi, host=host, port=port, log_level="info", lifespan="on")
            ).run()
        finally:
            self.stop()
