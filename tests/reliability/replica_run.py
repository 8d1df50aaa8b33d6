"""The replica suite's harness with real processes, shared by ``tests/reliability/
test_replicas_soak.py`` and ``benchmarks/reliability/duplicates.py``: two (or three) `medic serve
--cluster sim` on one PostgreSQL and one Chroma server, posting to a recording fake Slack. Every
notification is posted to every replica at the same instant, as an Alertmanager HA pair does;
groups go through rounds (firing, firing again, resolved, firing again ...); optionally one replica
is killed with SIGKILL mid-investigation and started again. At the end the state database and the
fake Slack are compared with what the notifications asked for:

- a duplicate incident: more incidents for a group than it had firing episodes;
- a duplicate thread: more than one root message for a group;
- a thread without a diagnosis: a group with a firing episode (its first firing, or firing again
  after it resolved) whose incident has no diagnosis (nor a failure note) in its thread;
- a duplicate diagnosis: an incident diagnosed twice.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, inspect, text

from tests.bot.slack.fake_slack import FakeSlack
from tests.services.binaries import free_port

MEDIC = str(Path(sys.executable).with_name("medic"))
CHANNEL = "C0ALERTS"
READY_TIMEOUT = 120.0
ROUNDS = ("firing", "firing", "resolved", "firing")  # a repeat, then resolved and firing again
# A diagnosis, or the failure said in its place (a thread that has either has its answer).
DIAGNOSED = re.compile(r"Medic investigated (INC-\d+)|The investigation of (INC-\d+) failed")


@dataclass
class ReplicaReport:
    replicas: int
    groups: int
    deliveries: int = 0  # notifications, each posted to every replica
    episodes: int = 0  # firing episodes asked for (each should be one incident, investigated)
    incidents: int = 0
    duplicate_incidents: int = 0
    threads: int = 0
    duplicate_threads: int = 0
    threads_without_diagnosis: int = 0  # a group with a firing episode never diagnosed
    episodes_without_diagnosis: int = 0
    duplicate_diagnoses: int = 0
    refused_deliveries: int = 0  # answers other than 200 from a live replica
    investigations_started: int = 0
    kills: int = 0
    dead_lettered: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def target_met(self) -> bool:
        return (
            self.duplicate_incidents == 0
            and self.threads_without_diagnosis == 0
            and self.episodes_without_diagnosis == 0
            and self.duplicate_threads == 0
            and self.duplicate_diagnoses == 0
            and self.refused_deliveries == 0
            and self.threads == self.groups
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.__dict__.items() if k != "problems"},
            "problems": self.problems[:20],
            "target_met": self.target_met,
        }


class Replica:
    """One `medic serve` process: started, killed, started again on the same data directory."""

    def __init__(self, name: str, root: Path, env: dict[str, str], medic: str = MEDIC) -> None:
        self.name = name
        self._medic = medic
        self.data = root / name
        self.log = root / f"{name}.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {**env, "MEDIC_DATA_DIR": str(self.data)}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [self._medic, "serve", "--port", str(self.port)],
                env=self._env,
                stdout=out,
                stderr=out,
            )

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None and self.process.poll() is None, self.tail()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{self.name} not ready: {self.tail()}"
            time.sleep(0.2)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> list[int]:
        """The bot's process and its children (the front process), as they are now."""
        assert self.process is not None
        found = [self.process.pid]
        for task in Path(f"/proc/{self.process.pid}/task").glob("*"):
            try:
                found += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
        return found

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/healthz", timeout=10).json())

    def inbox_pending(self) -> int:
        try:
            health = httpx.get(f"{self.url}/healthz", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return 1
        return int(health.get("inbox", {}).get("pending", 1))

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def investigations_started(self) -> int:
        """Investigations this replica started, by its log's "investigating INC-..." lines
        (whichever module logs them: counting only ``bot.slack.threads``' found none once they
        moved to ``bot.slack.investigations``, and the kill -9 then came 30 s in, not
        mid-investigation)."""
        text = self.log.read_text(errors="replace")
        return len(re.findall(r"INFO bot\.slack\.\w+: investigating INC-", text))


def _has_dead_letters(engine: Engine) -> bool:
    return "dead" in {c["name"] for c in inspect(engine).get_columns("slack_thread_incidents")}


def notification(group: int, status: str, started: datetime) -> dict[str, Any]:
    """Alertmanager's v4 notification for group ``group`` (one alert of the demo's service)."""
    labels = {"alertname": "RecommenderLatencyHigh", "service": "recommender",
              "namespace": "shop", "shard": str(group)}  # fmt: skip
    ends = "0001-01-01T00:00:00Z" if status == "firing" else datetime.now(UTC).isoformat()
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="RecommenderLatencyHigh", shard="{group}"}}',
        "status": status,
        "receiver": "medic",
        "groupLabels": {"alertname": "RecommenderLatencyHigh", "shard": str(group)},
        "commonLabels": labels,
        "commonAnnotations": {"summary": "recommender p95 latency above 500 ms"},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": {"summary": "recommender p95 latency above 500 ms"},
                "startsAt": started.isoformat(),
                "endsAt": ends,
                "fingerprint": f"replica{group:09d}",
            }
        ],
    }


class ReplicaRun:
    def __init__(
        self,
        root: Path,
        database_url: str,
        chroma_url: str,
        *,
        replicas: int = 2,
        lease_seconds: float | None = 10.0,
        medic: str = MEDIC,
    ) -> None:
        """``lease_seconds``: investigation.lease_seconds (None: the bot's default); ``medic``:
        the executable to run (another checkout's, to measure a baseline)."""
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.database_url = database_url
        self.slack = FakeSlack()
        env = {
            **os.environ,
            "MEDIC_CLUSTER": "sim",
            "MEDIC_DATABASE_URL": database_url,
            "MEDIC_CHROMA_URL": chroma_url,
            "SLACK_BOT_TOKEN": "xoxb-replicas",
            "SLACK_SIGNING_SECRET": "secret",
            "MEDIC_ALERT_CHANNEL": CHANNEL,
            "MEDIC_SLACK_API_URL": self.slack.api_url,
        }
        if lease_seconds is not None:
            env["MEDIC_INVESTIGATION__LEASE_SECONDS"] = str(lease_seconds)
        self.replicas = [Replica(f"replica-{i}", root, env, medic) for i in range(replicas)]

    def run(self, groups: int, deliveries: int, kill: bool = False) -> ReplicaReport:
        """Post ``deliveries`` notifications (>= one per group) over ``groups`` groups, each to
        every replica at once; with ``kill``, the first replica is killed (-9) once it is
        investigating and started again."""
        report = ReplicaReport(len(self.replicas), groups)
        started = time.perf_counter()
        try:
            for replica in self.replicas:
                replica.start()
            for replica in self.replicas:
                replica.wait_ready()
            self._deliver_all(groups, deliveries, kill, report)
            self._settle(report)
            self._count(groups, deliveries, report)
        finally:
            for replica in self.replicas:
                report.investigations_started += (
                    replica.investigations_started() if replica.log.exists() else 0
                )
                replica.stop()
            self.slack.close()
        report.seconds = time.perf_counter() - started
        return report

    # --- driving ---------------------------------------------------------------------------------
    def _deliver_all(self, groups: int, deliveries: int, kill: bool, report: ReplicaReport) -> None:
        since = datetime.now(UTC) - timedelta(minutes=5)
        rounds = -(-deliveries // groups)
        sent = 0
        with ThreadPoolExecutor(8) as pool:
            for r in range(rounds):
                batch = [g for g in range(groups) if sent + g < deliveries]
                status = ROUNDS[r % len(ROUNDS)]
                payloads = [notification(g, status, since) for g in batch]
                list(pool.map(self._deliver, payloads, [report] * len(payloads)))
                sent += len(batch)
                report.deliveries += len(batch)
                if kill and r == 0:
                    self._kill_mid_investigation(report)
                self._wait_taken_in()

    def _deliver(self, payload: dict[str, Any], report: ReplicaReport) -> None:
        """One notification to every replica at the same instant; a replica that is down (being
        restarted) is retried, as Alertmanager retries."""
        barrier = threading.Barrier(len(self.replicas))

        def post(replica: Replica) -> None:
            barrier.wait(timeout=30)
            deadline = time.monotonic() + 120
            while True:
                try:
                    answer = httpx.post(f"{replica.url}/alertmanager", json=payload, timeout=30)
                except httpx.TransportError:
                    answer = None
                if answer is not None and answer.status_code == 200:
                    return
                if answer is not None and replica.alive():
                    report.refused_deliveries += 1
                    report.problems.append(f"{replica.name}: {answer.status_code} {answer.text}")
                    return
                if time.monotonic() > deadline:
                    report.problems.append(f"{replica.name}: no answer for 120 s")
                    return
                time.sleep(0.5)

        posts = [threading.Thread(target=post, args=(r,)) for r in self.replicas]
        for p in posts:
            p.start()
        for p in posts:
            p.join()

    def _kill_mid_investigation(self, report: ReplicaReport) -> None:
        victim = self.replicas[0]
        # Once it logs an investigation; code that does not log them (a baseline) after 30 s.
        deadline = time.monotonic() + 30
        while victim.investigations_started() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        victim.kill()
        report.kills += 1
        victim.start()
        victim.wait_ready()

    def _wait_taken_in(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while any(r.inbox_pending() for r in self.replicas):
            assert time.monotonic() < deadline, "notifications not taken in"
            time.sleep(0.2)

    def _settle(self, report: ReplicaReport, timeout: float = 900) -> None:
        """Until every leading incident is investigated (or dead-lettered) and Slack has it all."""
        engine = create_engine(self.database_url)
        dead = " AND NOT dead" if _has_dead_letters(engine) else ""  # a baseline without them
        waiting = text(
            f"SELECT count(*) FROM slack_thread_incidents WHERE lead AND NOT investigated{dead}"
        )
        pending = text("SELECT count(*) FROM slack_outbox WHERE status IN ('pending', 'sending')")
        deadline = time.monotonic() + timeout
        try:
            while True:
                with engine.connect() as conn:
                    left = conn.scalar(waiting), conn.scalar(pending)
                if left == (0, 0):
                    return
                if time.monotonic() > deadline:
                    report.problems.append(f"not settled after {timeout:.0f} s: {left}")
                    return
                time.sleep(0.5)
        finally:
            engine.dispose()

    # --- counting --------------------------------------------------------------------------------
    def _count(self, groups: int, deliveries: int, report: ReplicaReport) -> None:
        rounds = [ROUNDS[(i // groups) % len(ROUNDS)] for i in range(deliveries)]
        episodes = Counter[int]()
        previous: dict[int, str] = {}
        for i, status in enumerate(rounds):
            g = i % groups
            if status == "firing" and previous.get(g) != "firing":
                episodes[g] += 1
            previous[g] = status
        report.episodes = sum(episodes.values())

        engine = create_engine(self.database_url)
        with engine.connect() as conn:
            incidents = conn.execute(text("SELECT seq, fingerprint FROM incidents")).all()
            if _has_dead_letters(engine):
                report.dead_lettered = int(
                    conn.scalar(text("SELECT count(*) FROM slack_thread_incidents WHERE dead")) or 0
                )
            thread_keys = int(conn.scalar(text("SELECT count(*) FROM slack_threads")) or 0)
            roots_of = conn.execute(
                text("SELECT thread_key, ts FROM slack_messages WHERE ref = 'root'")
            ).all()
        engine.dispose()
        per_group = Counter(int(fp.removeprefix("replica")) for _seq, fp in incidents)
        report.incidents = len(incidents)
        for g in range(groups):
            extra = per_group[g] - episodes[g]
            if extra > 0:
                report.duplicate_incidents += extra
                report.problems.append(f"group {g}: {per_group[g]} incidents, {episodes[g]} asked")

        roots = self.slack.roots(CHANNEL)
        report.threads = thread_keys
        report.duplicate_threads = max(0, len(roots) - thread_keys)
        diagnosed: Counter[str] = Counter()
        episodes_diagnosed: Counter[int] = Counter()
        group_of = {ts: _group(key) for key, ts in roots_of}
        for root in roots:
            for message in self.slack.thread(root.ts):
                for found in DIAGNOSED.finditer(message.text):
                    incident = next(x for x in found.groups() if x)
                    diagnosed[incident] += 1
                    if diagnosed[incident] == 1 and root.ts in group_of:
                        episodes_diagnosed[group_of[root.ts]] += 1
        report.duplicate_diagnoses = sum(1 for n in diagnosed.values() if n > 1)
        report.episodes_without_diagnosis = sum(
            max(0, episodes[g] - episodes_diagnosed[g]) for g in range(groups)
        )
        for g in range(groups):
            if episodes_diagnosed[g] < episodes[g]:
                report.threads_without_diagnosis += 1
                report.problems.append(
                    f"group {g}: {episodes[g]} firing episodes, {episodes_diagnosed[g]} diagnosed"
                )


def _group(thread_key: str) -> int:
    found = re.search(r'shard="(\d+)"', thread_key)
    return int(found.group(1)) if found else -1
