"""The storm suite's harness, shared by ``tests/reliability/test_storm.py`` and
``benchmarks/reliability/storm.py``: a :mod:`storm plan <tests.reliability.storm_plan>` sent to
several real `medic serve --cluster sim` processes on one PostgreSQL and one Chroma server, with
the recording fake Slack of the tests, from a process of its own (an Alertmanager HA pair is
another machine: the senders must not share a GIL with what measures).

Measured: notifications and alerts accepted (200), 4xx/5xx and errors, webhook latency p50/p99 as
the sender sees it, each replica's resident memory (the bot's process and its front process,
sampled from /proc) idle, warm, at its peak and at the end, investigations done and queued when
the last notification has left, and the time from then until everything is taken in, investigated
and posted. Then what Medic holds is judged against what was accepted
(:mod:`tests.reliability.storm_check`): lost, duplicated, left undone.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from tests.bot.slack.fake_slack import FakeSlack
from tests.reliability.replica_run import Replica
from tests.reliability.storm_check import Verdict, judge, read_state, roots_in_slack
from tests.reliability.storm_plan import (
    NAMESPACE,
    StormPlan,
    plan_storm,
)
from tests.services.binaries import wait_until

CHANNEL = "C0STORM"
READY_TIMEOUT = 240.0  # a replica's start on a busy machine: imports, model, schema, seeding
MIB = 1024 * 1024


# --- the replicas --------------------------------------------------------------------------------
def start_replica(
    index: int, root: Path, *, database_url: str, chroma_url: str, slack: FakeSlack
) -> Replica:
    """`medic serve --cluster sim` named ``replica-INDEX``, with a data directory (its inbox) of
    its own."""
    env = {
        **os.environ,
        "MEDIC_CLUSTER": "sim",
        "MEDIC_DATABASE_URL": database_url,
        "MEDIC_CHROMA_URL": chroma_url,
        "MEDIC_ALERT_CHANNEL": CHANNEL,
        "MEDIC_SLACK_API_URL": slack.api_url,
        "SLACK_BOT_TOKEN": "xoxb-storm",
        "SLACK_SIGNING_SECRET": "storm-secret",
        "ANONYMIZED_TELEMETRY": "False",
    }
    replica = Replica(f"replica-{index}", root, env)
    replica.start()
    replica.wait_ready(READY_TIMEOUT)
    return replica


# --- memory --------------------------------------------------------------------------------------
def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class MemoryTrace:
    """Each replica's RSS (bot and front process summed, and the bot alone) over time."""

    samples: dict[str, list[tuple[float, int, int]]] = field(default_factory=dict)

    def add(self, replica: str, at: float, total: int, bot: int) -> None:
        self.samples.setdefault(replica, []).append((at, total, bot))

    def peak(self, replica: str, bot_only: bool = False) -> int:
        samples = self.samples.get(replica, [])
        return max((bot if bot_only else total for _at, total, bot in samples), default=0)

    def at(self, replica: str, moment: float) -> int:
        """The total RSS sampled last at or before ``moment``."""
        before = [s[1] for s in self.samples.get(replica, []) if s[0] <= moment]
        return before[-1] if before else 0


class MemorySampler:
    """Samples every replica's RSS every ``interval`` seconds on a thread of its own."""

    def __init__(self, replicas: list[Replica], interval: float) -> None:
        self.trace = MemoryTrace()
        self._replicas = replicas
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def sample(self) -> None:
        now = time.monotonic()
        for replica in self._replicas:
            sizes = [rss_bytes(pid) for pid in replica.pids()]
            self.trace.add(replica.name, now, sum(sizes), sizes[0])

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.sample()


# --- sending (in a process of its own) -----------------------------------------------------------
Sent = tuple[int, int, float, str]  # delivery index, HTTP status (0: no answer), seconds, error


def send_storm(
    urls: list[str], schedule: list[tuple[float, int, bytes]], start: float, timeout: float
) -> list[Sent]:
    """POST each (at, replica, body) of ``schedule`` to ``urls[replica]/alertmanager`` at
    ``start + at`` (time.monotonic, shared by the processes of one machine), open-loop: a slow
    answer delays nothing else."""

    async def run() -> list[Sent]:
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:

            async def one(index: int, at: float, replica: int, body: bytes) -> Sent:
                await asyncio.sleep(max(0.0, start + at - time.monotonic()))
                began = time.perf_counter()
                try:
                    answer = await http.post(
                        f"{urls[replica]}/alertmanager",
                        content=body,
                        headers={"Content-Type": "application/json"},
                    )
                except httpx.HTTPError as exc:
                    return index, 0, time.perf_counter() - began, repr(exc)[:200]
                error = "" if answer.status_code == 200 else answer.text[:200]
                return index, answer.status_code, time.perf_counter() - began, error

            tasks = [one(i, at, r, body) for i, (at, r, body) in enumerate(schedule)]
            return list(await asyncio.gather(*tasks))

    return asyncio.run(run())


# --- the run -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StormConfig:
    alerts: int = 10_000
    groups: int = 1_000
    seconds: float = 600.0
    replicas: int = 2
    seed: int = 11
    drain_timeout: float = 900.0
    sample_interval: float = 0.5
    request_timeout: float = 30.0
    quiet: float = 75.0  # seconds without progress that end the drain (timeout_seconds is 60)


@dataclass
class StormReport:
    config: StormConfig
    sent: list[Sent] = field(default_factory=list)
    accepted_notifications: int = 0
    accepted_alert_entries: int = 0
    accepted_alerts: int = 0  # distinct fingerprints in accepted notifications
    accepted_groups: int = 0
    status_counts: Counter[int] = field(default_factory=Counter)
    latency_ms: dict[str, float] = field(default_factory=dict)
    send_seconds: float = 0.0
    drain_seconds: float | None = None
    at_last_send: dict[str, int] = field(default_factory=dict)
    rss_mib: dict[str, dict[str, float]] = field(default_factory=dict)
    verdict: Verdict = field(default_factory=Verdict)
    log_errors: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def lost_total(self) -> int:
        return sum(self.verdict.lost.values())

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.status_counts.items() if code >= 500 or code == 0)

    def peak_rss_mib(self) -> float:
        return max((r["peak"] for r in self.rss_mib.values()), default=0.0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "alerts": self.config.alerts,
            "groups": self.config.groups,
            "seconds": self.config.seconds,
            "replicas": self.config.replicas,
            "deliveries": len(self.sent),
            "accepted_notifications": self.accepted_notifications,
            "accepted_alert_entries": self.accepted_alert_entries,
            "accepted_alerts": self.accepted_alerts,
            "accepted_groups": self.accepted_groups,
            "status_counts": {str(k): v for k, v in sorted(self.status_counts.items())},
            "webhook_latency_ms": self.latency_ms,
            "send_seconds": round(self.send_seconds, 1),
            "at_last_send": self.at_last_send,
            "drain_seconds": None if self.drain_seconds is None else round(self.drain_seconds, 1),
            "rss_mib": self.rss_mib,
            "lost": self.verdict.lost,
            "late": self.verdict.late,
            "duplicates": self.verdict.duplicates,
            "undone": self.verdict.undone,
            "counts": self.verdict.counts,
            "log_errors": self.log_errors,
            "problems": self.problems[:20],
        }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class StormRun:
    """One storm against running services (a PostgreSQL database URL and a Chroma server)."""

    def __init__(self, root: Path, database_url: str, chroma_url: str, config: StormConfig):
        self.root = root
        self.database_url = database_url
        self.chroma_url = chroma_url
        self.config = config
        self.report = StormReport(config)

    def run(self) -> StormReport:
        self.root.mkdir(parents=True, exist_ok=True)
        slack = FakeSlack()
        replicas: list[Replica] = []
        try:
            # One at a time: two first starts on one empty database would race to create it.
            for i in range(self.config.replicas):
                replicas.append(start_replica(
                    i, self.root, database_url=self.database_url, chroma_url=self.chroma_url,
                    slack=slack,
                ))  # fmt: skip
            sampler = MemorySampler(replicas, self.config.sample_interval)
            sampler.start()
            try:
                self._storm(replicas, sampler, slack)
            finally:
                sampler.stop()
            self._memory(sampler.trace)
            self.report.log_errors = {r.name: _log_errors(r.log) for r in replicas}
        finally:
            for replica in replicas:
                replica.stop()
            slack.close()
        return self.report

    def _storm(self, replicas: list[Replica], sampler: MemorySampler, slack: FakeSlack) -> None:
        time.sleep(max(2.0, 4 * self.config.sample_interval))  # the idle baseline's samples
        self._idle = time.monotonic()
        self._warm_up(replicas)
        self._warm = time.monotonic()
        time.sleep(max(2.0, 4 * self.config.sample_interval))
        plan = plan_storm(
            alerts=self.config.alerts,
            groups=self.config.groups,
            duration=self.config.seconds,
            replicas=len(replicas),
            start=time.time() + 5.0,
            seed=self.config.seed,
        )
        schedule = [(d.at, d.replica, plan.notifications[d.notification].body)
                    for d in plan.deliveries]  # fmt: skip
        spawn = multiprocessing.get_context("spawn")
        with spawn.Pool(1) as sender:
            sender.apply(time.sleep, (0,))  # the sender is up before the clock starts
            self._start = time.monotonic() + 5.0
            sent = sender.apply(
                send_storm,
                ([r.url for r in replicas], schedule, self._start, self.config.request_timeout),
            )
        self._last_sent = time.monotonic()
        self.report.send_seconds = self._last_sent - self._start
        self.report.sent = sent
        self.report.at_last_send = self._progress(replicas)
        self._drain(replicas)
        self._end = time.monotonic()
        self._count_sends(plan)
        self._check(plan, slack)

    def _warm_up(self, replicas: list[Replica]) -> None:
        """One alert per replica, outside the plan's groups: the model loaded, a first
        investigation done (the warm baseline)."""
        now = time.time()
        for replica in replicas:
            body = {
                "version": "4",
                "groupKey": f"storm-warm-up-{replica.name}",
                "status": "firing",
                "alerts": [{
                    "status": "firing",
                    "labels": {"alertname": "WarmUp", "namespace": NAMESPACE,
                               "service": "recommender", "replica": replica.name},
                    "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 120)),
                }],
            }  # fmt: skip
            answer = httpx.post(f"{replica.url}/alertmanager", json=body, timeout=30)
            answer.raise_for_status()
        engine = create_engine(self.database_url)
        try:

            def warm() -> bool:
                with engine.connect() as conn:
                    done = conn.execute(text(
                        "SELECT count(*) FROM slack_messages WHERE thread_key LIKE "
                        "'storm-warm-up-%' AND ref LIKE 'diagnosis:%'"
                    )).scalar_one()  # fmt: skip
                return int(done) >= len(replicas)

            wait_until(warm, "the warm-up diagnoses", None, READY_TIMEOUT)
        finally:
            engine.dispose()

    def _progress(self, replicas: list[Replica]) -> dict[str, int]:
        """Investigations done and waiting, notifications waiting in the inboxes, Slack posts
        waiting in the outbox, now."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT investigated, count(*) FROM slack_thread_incidents WHERE lead "
                    "AND thread_key NOT LIKE 'storm-warm-up-%' GROUP BY investigated"
                )).all()  # fmt: skip
        finally:
            engine.dispose()
        done = {bool(investigated): int(n) for investigated, n in rows}
        health = [r.health() for r in replicas]
        return {
            "investigated": done.get(True, 0),
            "investigations_waiting": done.get(False, 0),
            "inbox_pending": sum(int(h.get("inbox", {}).get("pending", 0)) for h in health),
            "outbox_pending": max(int(h.get("outbox", {}).get("pending", 0)) for h in health),
        }

    def _drain(self, replicas: list[Replica]) -> None:
        """Wait until the inboxes and the outbox are empty and no investigation is waiting; or,
        when some lead is never investigated (nothing queued it), until nothing has moved for
        ``quiet`` seconds (longer than one investigation may take). The drain time is when the
        last of it was done."""
        deadline = self._last_sent + self.config.drain_timeout
        last: dict[str, int] = {}
        moved = self._last_sent
        while time.monotonic() < deadline:
            try:
                now = self._progress(replicas)
            except httpx.HTTPError as exc:
                self.report.problems.append(f"while draining: {exc!r}")
                time.sleep(1.0)
                continue
            if now != last:
                last, moved = now, time.monotonic()
            idle = not (now["inbox_pending"] or now["outbox_pending"])
            if idle and (not now["investigations_waiting"]
                         or time.monotonic() - moved >= self.config.quiet):  # fmt: skip
                self.report.drain_seconds = moved - self._last_sent
                return
            time.sleep(1.0)
        self.report.problems.append(f"not drained {self.config.drain_timeout:.0f} s after the "
                                    f"last notification: {self._progress(replicas)}")  # fmt: skip

    def _count_sends(self, plan: StormPlan) -> None:
        report = self.report
        latencies = [seconds for _i, _status, seconds, _e in report.sent]
        report.status_counts = Counter(status for _i, status, _s, _e in report.sent)
        report.latency_ms = {
            "p50": round(statistics.median(latencies) * 1000, 1) if latencies else 0.0,
            "p99": round(percentile(latencies, 0.99) * 1000, 1),
            "max": round(max(latencies, default=0.0) * 1000, 1),
        }
        for _index, status, _seconds, error in report.sent:
            if status != 200:
                report.problems.append(f"webhook {status}: {error}")

    def accepted(self, plan: StormPlan) -> set[int]:
        """Indices of the notifications at least one replica answered 200."""
        return {plan.deliveries[i].notification for i, status, _s, _e in self.report.sent
                if status == 200}  # fmt: skip

    def _check(self, plan: StormPlan, slack: FakeSlack) -> None:
        report = self.report
        accepted = [plan.notifications[i] for i in sorted(self.accepted(plan))]
        report.accepted_notifications = len(accepted)
        report.accepted_alert_entries = sum(len(n.firing) + len(n.resolved) for n in accepted)
        report.accepted_alerts = len({f for n in accepted for f in n.firing + n.resolved})
        report.accepted_groups = len({n.group for n in accepted})
        held = read_state(self.database_url)
        held.read_inboxes(sorted(self.root.glob("replica-*/inbox.db")))
        report.verdict = judge(
            plan, accepted, held, roots_in_slack(slack, CHANNEL, held.root_items)
        )
        report.verdict.counts["slack_calls"] = len(slack.calls)
        report.problems += report.verdict.problems

    def _memory(self, trace: MemoryTrace) -> None:
        for replica, _samples in sorted(trace.samples.items()):
            self.report.rss_mib[replica] = {
                "idle": round(trace.at(replica, self._idle) / MIB, 1),
                "warm": round(trace.at(replica, self._start) / MIB, 1),
                "peak": round(trace.peak(replica) / MIB, 1),
                "peak_bot_process": round(trace.peak(replica, bot_only=True) / MIB, 1),
                "at_last_send": round(trace.at(replica, self._last_sent) / MIB, 1),
                "end": round(trace.at(replica, self._end) / MIB, 1),
            }


def _log_errors(log: Path) -> int:
    return sum(1 for line in log.read_text(errors="replace").splitlines() if " ERROR " in line)
