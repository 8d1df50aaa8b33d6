"""The Slack bot as one service: from the adapters of :class:`bot.wiring.Wiring` and an incident
flow to a running service (HTTP server with the webhook in a front process, outbox delivery,
background jobs, Socket Mode when an app token is set). It puts the bot's own parts together;
which concrete adapter sits behind each interface is decided in :mod:`bot.wiring`."""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from functools import cached_property
from pathlib import Path
from typing import Any

import uvicorn
from prometheus_client import CollectorRegistry
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from bot.alerts import parse_alerts, trusted_source
from bot.config import Settings
from bot.config.front import revealed
from bot.database import StateHealth
from bot.errors import ConfigError, InputError
from bot.flow import IncidentFlow
from bot.llm.model import bounded
from bot.slack.app import build_app
from bot.slack.commands import CommandAnswers
from bot.slack.deliveries import SharedDeliveries
from bot.slack.delivery import SlackDelivery
from bot.slack.front import FrontProcess
from bot.slack.headsups import SlackHeadsUps, headsup_thread
from bot.slack.inbox import AlertInbox, AlertIntake
from bot.slack.jobs import Jobs, Periodic
from bot.slack.mentions import Mentions
from bot.slack.metrics import BotMetrics, WebhookMetrics
from bot.slack.outbox import Outbox
from bot.slack.receivers import ReceiverWebhooks
from bot.slack.search import KnowledgeSearch, Searcher
from bot.slack.server import MedicServer
from bot.slack.thread_store import ThreadStore
from bot.slack.threads import IncidentThreads
from bot.slack.usergroups import UserGroups, names_groups
from bot.slack.watch_commands import WatchCommands, approver_anywhere_in
from bot.slack.webhook import AlertmanagerWebhook
from bot.slack.workspace import Workspace
from bot.slack.writeback import WriteBack
from bot.watch.store import WatchStore
from bot.wiring import Wiring
from bot.wiring.receivers import note_targets
from bot.wiring.watch import watch_loop
from knowledge.postmortems import PostmortemLibrary
from tools.proposals import ProposalStatus

log = logging.getLogger(__name__)

SWITCH_INTERVAL = 0.001
STOP_GRACE_SECONDS = 10.0  # running jobs' time to finish once `medic serve` is asked to stop


def pending_previews(flow: IncidentFlow, ids: list[str]) -> list[str]:
    """What the proposals ``ids`` that still wait for a decision would do, in words."""
    found = (flow.proposal(i) for i in ids)
    return [p.preview for p in found if p is not None and p.status is ProposalStatus.PROPOSED]


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


class MedicService:
    def __init__(
        self,
        wiring: Wiring,
        flow: IncidentFlow,
        *,
        client: WebClient | None = None,
        searcher: Searcher | None = None,
        charts: bool = True,
        registry: CollectorRegistry | None = None,
        chat_model: Any | None = None,
    ) -> None:
        """The adapters come from ``wiring`` (the flow's, so one Chroma client serves both);
        ``client`` and ``searcher`` replace its Slack client and search.
        ``chat_model`` (a LangChain chat model) answers `@medic` questions; by default the one
        configured in ``llm.model`` (``flow.chat``), if any."""
        self.wiring = wiring
        settings = self.settings = wiring.settings
        self.data_dir = wiring.data_dir
        engine = wiring.slack_engine
        self.metrics = BotMetrics(registry)
        self.client = client or wiring.slack_client
        self.jobs = Jobs()
        self.state = StateHealth(engine)
        self.outbox = Outbox(engine)
        self.watch_store = WatchStore(engine, 3600 * settings.watch.open_hours)
        self.threads = IncidentThreads(
            flow=flow,
            store=ThreadStore(engine),
            outbox=self.outbox,
            jobs=self.jobs,
            metrics=self.metrics,
            alert_channel=settings.alert_channel,
            wake_delivery=self._wake_delivery,
            charts=charts,
            lease_seconds=settings.investigation.lease_seconds,
            max_attempts=settings.investigation.max_attempts,
            headsup=headsup_thread(self.watch_store),
        )
        targets = note_targets(settings.receivers)
        if targets:
            self.threads.writeback = WriteBack(
                targets=targets,
                store=self.threads.store,
                outbox=self.outbox,
                poster=self.threads.poster,
                pool=self.jobs.writebacks,
                registry=self.metrics.registry,
                slack_url=settings.receivers.slack_url,
                pending=lambda ids: pending_previews(flow, ids),
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
                searcher or KnowledgeSearch(wiring.vector_store, wiring.embedder),
                WatchCommands(
                    store=self.watch_store,
                    settings=settings.watch,
                    default_namespace=flow.default_namespace,
                    may_change=approver_anywhere_in(flow.policy),
                    now=flow.clock.now,
                ),
                library=lambda: PostmortemLibrary(wiring.vector_store, wiring.embedder),
            ),
            groups=UserGroups(self.client, enabled=names_groups(flow.policy.approvers)),
            watched_channels=settings.watched_channels,
            alert_pattern=settings.slack.alert_pattern,
            resolve_service=flow.find_service,
            listener_executor=self.jobs.listeners,
            mentions=Mentions(
                self.threads,
                flow.chat if chat_model is None else bounded(chat_model, settings.llm),
            ),
            workspace=Workspace(settings.slack.team_id, settings.slack.enterprise_id),
        )
        self.reconciler = Periodic(
            settings.reconcile.interval_seconds, self._settle_interrupted, "reconcile"
        )
        # Investigations a stop left, or a dead replica's once their lease ran out.
        self.resumer = Periodic(
            settings.investigation.lease_seconds / 2, self._resume_investigations, "resume"
        )
        # The watch: heads-ups before alerts fire, one replica per pass (watch.enabled).
        headsups = SlackHeadsUps(
            store=self.threads.store,
            outbox=self.outbox,
            poster=self.threads.poster,
            wall_clock=time.time,
        )
        self.watch = watch_loop(
            settings.clusters[settings.default_cluster].applied_to(settings)
            if settings.clusters and settings.default_cluster
            else settings,  # several clusters: the watch looks at the default one
            flow,
            self.watch_store,
            headsups,
            owner=f"{socket.gethostname()}:{id(self):x}",
            offer=headsups.offer,
        )
        # A file of its own: the webhook's insert never waits behind the threads' writes.
        inbox = wiring.inbox_engine
        self.inbox = AlertInbox(inbox)
        self._engines = (engine, inbox)  # their pooled connections are closed at stop
        self.intake = AlertIntake(self.inbox, self._receive, self._cannot_handle)
        app_token = settings.slack_app_token
        self.socket_mode = (
            SocketModeHandler(self.bolt, app_token.get_secret_value()) if app_token else None
        )
        self.app = self._server(webhook=None)

    def _server(
        self, webhook: AlertmanagerWebhook | None, receivers: ReceiverWebhooks | None = None
    ) -> MedicServer:
        return MedicServer(
            bolt=None if self.socket_mode else self.bolt,
            webhook=webhook,
            metrics=self.metrics,
            health=self.health,
            receivers=receivers,
        )

    @property
    def webhook_token(self) -> str | None:
        token = self.settings.webhook.token
        return token.get_secret_value() if token else None

    @cached_property
    def asgi(self) -> MedicServer:
        """The whole HTTP side in this one process, webhook included (tests, embedding).
        `medic serve` runs :attr:`app` behind a front process that answers the webhook."""
        metrics = WebhookMetrics(self.metrics.registry)
        max_body = self.settings.webhook.max_body_bytes
        webhook = AlertmanagerWebhook(
            self.inbox, metrics, token=self.webhook_token, max_body_bytes=max_body
        )
        webhook.on_queued = self.intake.wake
        receivers = ReceiverWebhooks(
            self.inbox,
            metrics,
            self.settings.receivers,
            max_body_bytes=max_body,
            deliveries=SharedDeliveries(self.wiring.slack_engine),
        )
        receivers.on_queued = self.intake.wake
        return self._server(webhook, receivers)

    def _settle_interrupted(self) -> None:
        settled = self.threads.settle_interrupted(self.settings.reconcile.after_seconds)
        if settled:
            log.info("settled %d interrupted action(s); see their threads", settled)
        expired = self.threads.expire_due()
        if expired:
            log.info("%d proposal(s) expired undecided; their buttons are gone", expired)

    def _resume_investigations(self) -> None:
        resumed = self.threads.resume()
        if resumed:
            log.info("resumed %d interrupted investigation(s)", resumed)

    def _wake_delivery(self) -> None:
        self.delivery.wake()

    def _receive(self, body: str, source: str, received_at: float) -> None:
        group = trusted_source(parse_alerts(body), source)
        self.threads.receive(group, source=source, received_at=received_at)

    def _cannot_handle(self, body: str, problem: str) -> None:
        """Say why a notification was not handled: in its alert group's thread when it parses."""
        try:
            group = parse_alerts(body)
        except InputError:
            group = None
        self.threads.notice(problem, group)

    def settle(self, timeout: float) -> bool:
        """Wait until everything received has been handled and delivered (tests, benchmarks).
        The last look at the delivery comes after the last look at the jobs: a job that the
        delivery itself started (a write-back once its diagnosis was posted) may end after the
        delivery was found idle, with a message of its own still to send."""
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
                and self.delivery.wait_idle(0)
            ):
                return True
        return False

    def health(self) -> dict[str, Any]:
        """What `/healthz` answers: ``status`` is ok only while the state database takes a write
        and a read (a click could not be recorded otherwise; answered 503)."""
        problem = self.state.problem(time.time())
        health: dict[str, Any] = {
            "status": "ok" if problem is None else "unhealthy",
            "state": {"ok": problem is None, **({"error": problem} if problem else {})},
            "slack": "socket_mode" if self.socket_mode else "http",
            "inbox": {"pending": self.intake.pending()},
        }
        if problem is None:
            counts = self.outbox.counts()
            health["outbox"] = {"pending": counts.get("pending", 0), "dead": counts.get("dead", 0)}
        return health

    def start(self) -> None:
        # Slack's answers wait for the GIL behind CPU-bound investigations; a 1 ms switch
        # interval (Python's default is 5 ms) keeps their p95 low (docs/benchmarks.md).
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.delivery.start()
        self.intake.start()
        self.resumer.start()  # interrupted investigations: now, then every half lease
        self.reconciler.start()  # interrupted actions: now, then every reconcile.interval
        if self.watch is not None:
            self.watch.start()  # a pass now if no replica ran this slot, then every interval
        if self.socket_mode is not None:
            self.socket_mode.connect()  # type: ignore[no-untyped-call]

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop taking work, end the running investigation at its next stage and give the other
        running jobs (an approved action executing) ``grace`` seconds. What did not finish is in
        the database: an investigation resumes at the next start."""
        self.threads.stop_investigations()
        if self.watch is not None:
            self.watch.stop()  # ends the wait at once, a running pass before its next service
        if self.socket_mode is not None:
            self.socket_mode.close()  # type: ignore[no-untyped-call]
        self.reconciler.stop()
        self.resumer.stop()
        self.intake.stop()
        self.jobs.shutdown()
        if not self.jobs.wait_idle(grace):
            log.warning("background jobs still running after %g s; stopping without them", grace)
            released = self.threads.release_leases()
            if released:
                log.info("%d investigation(s) left unfinished, for the next start", released)
        self.delivery.stop()
        self.state.close()
        for engine in self._engines:
            engine.dispose()
        self.wiring.close()
        self.app.close()
        if "asgi" in self.__dict__:
            self.asgi.close()

    def serve(self, host: str, port: int) -> None:
        """Run until interrupted (Ctrl-C, SIGTERM), then stop the workers and return."""
        server = FrontedServer(self, listen(host, port))
        if threading.current_thread() is threading.main_thread():
            # uvicorn handles the signals while it runs and re-raises the one it stopped on;
            # before and after, a signal asks it to stop (a no-op by then).
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: server.stop())
        try:
            self.start()
            log.info("Medic listening on %s:%d (the webhook in a front process)", host, port)
            server.run()
        finally:
            self.stop()


def listen(host: str, port: int) -> socket.socket:
    """The socket `medic serve` listens on (bound here, so a port in use is one clear error)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --host or "
            "--port"
        ) from exc


class FrontedServer:
    """The HTTP side of `medic serve`: the front process on ``listener`` (the webhook answered
    there, see :mod:`bot.slack.front`), and this process's own server behind it on a unix socket
    in a private temporary directory. It keeps ``listener`` open (a front process started again
    finds the same port, with the connections that waited) and closes it when done."""

    def __init__(
        self, service: MedicService, listener: socket.socket, log_level: str = "info"
    ) -> None:
        self._listener = listener
        self._dir = Path(tempfile.mkdtemp(prefix="medic-"))
        path = str(self._dir / "bot.sock")
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket.bind(path)
        self._socket.listen(512)
        self.front = FrontProcess(
            listen_fd=listener.fileno(),
            bot_socket=path,
            data_dir=service.data_dir,
            token=service.webhook_token,
            max_body_bytes=service.settings.webhook.max_body_bytes,
            on_queued=service.intake.wake,
            receivers=revealed(service.settings.receivers),
            database_url=service.settings.database_url,
            log_level=log_level,
        )
        self.server = uvicorn.Server(
            uvicorn.Config(service.app, log_level=log_level, access_log=False, lifespan="on")
        )

    def run(self) -> None:
        """Serve until :meth:`stop` (or a signal, in the main thread)."""
        self.front.start()
        try:
            self.server.run(sockets=[self._socket])
        finally:
            self.front.stop()
            self._socket.close()
            self._listener.close()
            shutil.rmtree(self._dir, ignore_errors=True)

    def stop(self) -> None:
        self.server.should_exit = True
