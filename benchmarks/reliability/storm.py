"""The storm part of ``bench_reliability.py``: ``--storm-alerts`` alerts in ``--storm-seconds``
over ``--storm-groups`` groups, as Alertmanager v4 notifications (firing, growing, partly and
wholly resolved, refiring, repeated; every one sent twice, as an HA pair does) to
``--storm-replicas`` real `medic serve --cluster sim` processes on one PostgreSQL and one Chroma
server, with the fake Slack of the tests (tests/reliability/storm.py).

Printed: notifications and alerts accepted, 4xx/5xx, webhook latency p50/p99, each replica's RSS
(idle and warm baselines of the same run, peak, at the last notification, at the end),
investigations done and waiting at the last notification, time to drain, and what was lost,
duplicated or left undone. Target: nothing lost, no 5xx (nor unanswered request), drained within
``--storm-drain-timeout``, every replica's peak RSS (bot and front process together) <=
``--storm-rss-target`` MiB.
"""

from __future__ import annotations

import argparse
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.reliability.storm import StormConfig, StormReport, StormRun
from tests.services.chroma import chroma_server
from tests.services.postgres import running_postgres


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--storm-alerts", type=int, default=10_000)
    group.add_argument("--storm-groups", type=int, default=1_000)
    group.add_argument("--storm-seconds", type=float, default=600.0, help="sending lasts this")
    group.add_argument("--storm-replicas", type=int, default=2)
    group.add_argument("--storm-seed", type=int, default=11)
    group.add_argument(
        "--storm-drain-timeout", type=float, default=900.0, help="seconds after the last send"
    )
    group.add_argument("--storm-rss-target", type=float, default=1024.0, help="MiB per replica")
    group.add_argument("--storm-keep", help="keep the replicas' logs in this directory")


def show(report: StormReport) -> None:
    r = report.as_dict()
    print(f"  sent {r['deliveries']} deliveries in {r['send_seconds']} s: accepted "
          f"{r['accepted_notifications']} notifications ({r['accepted_alert_entries']} alert "
          f"entries, {r['accepted_alerts']} distinct alerts, {r['accepted_groups']} groups); "
          f"statuses {r['status_counts']}", flush=True)  # fmt: skip
    latency = r["webhook_latency_ms"]
    print(f"  webhook latency p50 {latency['p50']} ms, p99 {latency['p99']} ms, "
          f"max {latency['max']} ms")  # fmt: skip
    print(f"  at the last send: {r['at_last_send']}; drained "
          f"{r['drain_seconds']} s after it")  # fmt: skip
    for name, rss in r["rss_mib"].items():
        print(f"  {name} RSS MiB: idle {rss['idle']}, warm {rss['warm']}, peak {rss['peak']} "
              f"(bot process {rss['peak_bot_process']}), at the last send "
              f"{rss['at_last_send']}, end {rss['end']}")  # fmt: skip
    for what in ("lost", "late", "duplicates", "undone", "counts", "log_errors"):
        print(f"  {what}: {r[what]}")
    for problem in r["problems"][:10]:
        print(f"    {problem}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    config = StormConfig(
        alerts=args.storm_alerts,
        groups=args.storm_groups,
        seconds=args.storm_seconds,
        replicas=args.storm_replicas,
        seed=args.storm_seed,
        drain_timeout=args.storm_drain_timeout,
    )
    with ExitStack() as stack:
        tmp = Path(args.storm_keep or stack.enter_context(
            tempfile.TemporaryDirectory(prefix="medic-storm-")
        ))  # fmt: skip
        tmp.mkdir(parents=True, exist_ok=True)
        database = stack.enter_context(running_postgres()).database()
        chroma = stack.enter_context(chroma_server(tmp / "chroma"))
        report = StormRun(tmp / "run", database, chroma, config).run()
    show(report)
    met = (
        report.lost_total == 0
        and report.server_errors == 0
        and report.drain_seconds is not None
        and report.peak_rss_mib() <= args.storm_rss_target
    )
    return {**report.as_dict(), "target_met": met}
