"""The Slack bot's targets, on loopback against the fake Slack Web API
(tests/bot/slack/fake_slack.py), with embedded defaults (simulated cluster, SQLite, embedded Chroma,
warm model); the fake Slack and the Slack client share the bot's process, so the numbers are
pessimistic:

1. ack: signed Slack requests (slash commands, button clicks, events) answered - p95 <= 300 ms;
2. alert -> diagnosis: Alertmanager webhook post to the diagnosis arriving at Slack, one alert at a
   time (warm) - p95 <= 1.5 s;
3. burst: 1,000 alerts in one minute (100 groups x 10 cumulative notifications, as Alertmanager
   sends them, from another process), with Slack down for a while in the middle - every group one
   thread, no alert lost, webhook intake p95 <= 50 ms.

Each run measures both HTTP layouts, in alternating order: ``fronted`` (as `medic serve` runs: the
webhook in a front process, the rest behind it) and ``single`` (everything in the bot's process, as
before the front process). Prints the numbers of each run, the median over runs, and one JSON line.
Usage:
  python benchmarks/bench_slack.py [--runs N] [--layouts fronted,single] [--acks N] [--alerts N]
                                   [--burst N] [--seconds S] [--outage S]
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_settings
from bot.slack.service import MedicService
from bot.wiring import Wiring
from knowledge.embeddings import MiniLMEmbedding
from tests.bot.slack.fake_slack import FakeSlack
from tests.bot.slack.harness import (
    ALERTS,
    SECRET,
    WATCHED,
    Medic,
    serve_fronted,
    serve_in_thread,
    write_config,
)
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster

SERVICES = ("recommender", "checkout", "frontend")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def start(tmp: Path, fake: FakeSlack, embedder: MiniLMEmbedding, layout: str) -> tuple[Medic, Any]:
    os.environ.update(
        {
            "MEDIC_CONFIG": str(write_config(tmp / "medic.yaml")),
            "MEDIC_DATA_DIR": str(tmp / "data"),
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "MEDIC_SLACK_API_URL": fake.api_url,
        }
    )
    wiring = Wiring(load_settings(), embedder=embedder)
    clock = VirtualClock(time.time())
    sim = SimulatedCluster(SCENARIOS["input-size-surge"], clock)
    service = MedicService(wiring, wiring.sim_flow(sim, clock))
    service.start()
    if layout == "fronted":
        fronted, _thread, url = serve_fronted(service)
        stop = fronted.stop
    else:
        server, _thread, url = serve_in_thread(service.asgi)
        stop = lambda: setattr(server, "should_exit", True)  # noqa: E731
    http = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=16))
    return Medic(service, url, fake, sim, http), stop


def timed(fn: Any, *args: Any) -> float:
    t0 = time.perf_counter()
    response = fn(*args)
    elapsed = time.perf_counter() - t0
    assert response.status_code == 200, response.text
    return elapsed


def bench_acks(medic: Medic, n: int) -> dict[str, list[float]]:
    """Each kind of Slack request, answered before its work is done."""
    medic.alert(medic.demo_alert())
    medic.settle()
    diagnosis = medic.diagnosis(medic.root())
    stale = diagnosis.button("medic_reject", "scale shop/recommender")
    kinds: dict[str, list[float]] = {"help": [], "status": [], "click": [], "event": []}
    for i in range(n):
        kinds["help"].append(timed(medic.slash, "help"))
        kinds["status"].append(timed(medic.slash, "status"))
        kinds["click"].append(timed(medic.click, diagnosis, stale, "U0SOMEONE"))
        event = {"type": "message", "channel": WATCHED, "user": "U1", "ts": f"{i}.1", "text": "hi"}
        kinds["event"].append(timed(medic.event, event, f"EvAck{i}"))
    medic.settle()
    return kinds


def alert(group: str, service: str, instance: str, anchor: float, offset: float) -> dict[str, Any]:
    from datetime import UTC, datetime

    starts = datetime.fromtimestamp(anchor + offset, UTC).isoformat()
    return {
        "status": "firing",
        "labels": {
            "alertname": f"Bench{group}",
            "service": service,
            "namespace": "shop",
            "instance": instance,
        },
        "annotations": {"summary": f"{service} p95 latency high"},
        "startsAt": starts,
    }


def notification(group: str, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="Bench{group}"}}',
        "status": "firing",
        "receiver": "medic",
        "groupLabels": {"alertname": f"Bench{group}"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": copy.deepcopy(alerts),
    }


def diagnoses(fake: FakeSlack) -> list[float]:
    return [
        c.at
        for c in fake.calls_to("chat.postMessage")
        if c.args.get("thread_ts") and str(c.args.get("text", "")).startswith("Medic investigated")
    ]


def bench_alert_to_diagnosis(medic: Medic, n: int) -> list[float]:
    """One alert at a time: webhook post until its diagnosis reaches Slack."""
    anchor, offset = medic.sim.anchor, medic.sim.scenario.alert_offset
    latencies = []
    for i in range(n):
        before = len(diagnoses(medic.slack))
        body = notification(f"Warm{i}", [alert(f"Warm{i}", "recommender", f"w{i}", anchor, offset)])
        t0 = time.monotonic()
        assert medic.alert(body).status_code == 200
        deadline = t0 + 60
        while len(diagnoses(medic.slack)) == before:
            assert time.monotonic() < deadline, "no diagnosis within 60 s"
            time.sleep(0.005)
        latencies.append(diagnoses(medic.slack)[-1] - t0)
        medic.settle()
    return latencies


def send_paced(url: str, bodies: list[dict[str, Any]], interval: float) -> list[float]:
    """POST ``bodies`` to ``url`` at a steady pace from 8 threads; the latency of each."""
    latencies: list[float] = []
    lock = threading.Lock()
    started = time.monotonic()
    with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=16)) as http:

        def send(i: int) -> None:
            time.sleep(max(0.0, started + i * interval - time.monotonic()))
            t0 = time.perf_counter()
            response = http.post(url, json=bodies[i])
            elapsed = time.perf_counter() - t0
            assert response.status_code == 200, response.text
            with lock:
                latencies.append(elapsed)

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(send, range(len(bodies))))
    return latencies


def bench_burst(medic: Medic, total: int, seconds: float, outage: float) -> dict[str, Any]:
    """``total`` alerts in ``seconds``: groups of 10, each notification carrying all its alerts so
    far; Slack down for ``outage`` seconds from a third of the way in."""
    anchor, offset = medic.sim.anchor, medic.sim.scenario.alert_offset
    per_group = 10
    groups = total // per_group
    sends = []
    for k in range(per_group):
        for g in range(groups):
            service = SERVICES[g % len(SERVICES)]
            alerts = [alert(f"G{g}", service, f"g{g}-{j}", anchor, offset) for j in range(k + 1)]
            sends.append(notification(f"G{g}", alerts))
    interval = seconds / len(sends)
    roots_before = len(medic.slack.roots(ALERTS))
    calls_before = len(medic.slack.calls)

    def outage_window() -> None:
        time.sleep(seconds / 3)
        medic.slack.is_down = True
        time.sleep(outage)
        medic.slack.is_down = False

    # Alertmanager is another process: the senders must not compete with the bot for its GIL.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as sender:
        sender.submit(time.sleep, 0).result()  # the sender process is up before the clock starts
        started = time.monotonic()
        threading.Thread(target=outage_window, daemon=True).start()
        latencies = sender.submit(send_paced, f"{medic.url}/alertmanager", sends, interval).result()
    sent_in = time.monotonic() - started
    medic.settle(timeout=900)
    drained = time.monotonic() - started

    roots = [r for r in medic.slack.roots(ALERTS)][roots_before:]
    complete = [r for r in roots if f"[FIRING:{per_group}]" in r.text]
    store = medic.service.threads.store
    linked = sum(len(store.links(f'{{}}:{{alertname="BenchG{g}"}}')) for g in range(groups))
    return {
        "notifications": len(sends),
        "alerts": groups * per_group,
        "sent_in_s": round(sent_in, 1),
        "drained_in_s": round(drained, 1),
        "intake_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "intake_p95_ms": round(p95(latencies) * 1000, 1),
        "threads": len(roots),
        "threads_expected": groups,
        "roots_showing_all_alerts": len(complete),
        "incidents_linked": linked,
        "dead_deliveries": medic.service.outbox.counts().get("dead", 0),
        "slack_calls": len(medic.slack.calls) - calls_before,
        "outage_s": outage,
    }


def bench_layout(
    args: argparse.Namespace, embedder: MiniLMEmbedding, layout: str
) -> dict[str, Any]:
    fake = FakeSlack()
    with tempfile.TemporaryDirectory() as tmp:
        medic, stop = start(Path(tmp), fake, embedder, layout)
        try:
            acks = bench_acks(medic, args.acks)
            warm = bench_alert_to_diagnosis(medic, args.alerts)
            burst = bench_burst(medic, args.burst, args.seconds, args.outage)
        finally:
            stop()
            medic.service.stop()
            fake.close()
    all_acks = [v for values in acks.values() for v in values]
    return {
        "ack_p95_ms": round(p95(all_acks) * 1000, 1),
        "ack_p95_ms_by_kind": {k: round(p95(v) * 1000, 1) for k, v in acks.items()},
        "alert_to_diagnosis_median_s": round(statistics.median(warm), 3),
        "alert_to_diagnosis_p95_s": round(p95(warm), 3),
        "burst": burst,
    }


SUMMARY = (
    ("ack_p95_ms", lambda r: r["ack_p95_ms"]),
    ("alert_to_diagnosis_p95_s", lambda r: r["alert_to_diagnosis_p95_s"]),
    ("intake_p50_ms", lambda r: r["burst"]["intake_p50_ms"]),
    ("intake_p95_ms", lambda r: r["burst"]["intake_p95_ms"]),
    ("drained_in_s", lambda r: r["burst"]["drained_in_s"]),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1, help="runs of every layout")
    parser.add_argument("--layouts", default="fronted,single", help="fronted, single or both")
    parser.add_argument("--acks", type=int, default=50, help="rounds of 4 Slack requests")
    parser.add_argument("--alerts", type=int, default=20, help="alerts for alert -> diagnosis")
    parser.add_argument("--burst", type=int, default=1000, help="alerts in the burst")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the burst")
    parser.add_argument("--outage", type=float, default=10.0, help="Slack down during the burst")
    args = parser.parse_args()
    layouts = [name.strip() for name in args.layouts.split(",")]

    embedder = MiniLMEmbedding()
    embedder.warm_up()
    results: dict[str, list[dict[str, Any]]] = {layout: [] for layout in layouts}
    print(f"cpus: {os.cpu_count()}  (loopback, fake Slack, embedded defaults; shared machine)")
    for run in range(args.runs):
        for layout in layouts if run % 2 == 0 else layouts[::-1]:
            result = bench_layout(args, embedder, layout)
            results[layout].append(result)
            burst = result["burst"]
            print(
                f"run {run + 1} {layout:8s} ack p95 {result['ack_p95_ms']:6.1f} ms  "
                f"alert -> diagnosis median {result['alert_to_diagnosis_median_s']:.3f} s "
                f"p95 {result['alert_to_diagnosis_p95_s']:.3f} s  intake p50 "
                f"{burst['intake_p50_ms']:.1f} ms p95 {burst['intake_p95_ms']:.1f} ms  threads "
                f"{burst['threads']}/{burst['threads_expected']}, complete "
                f"{burst['roots_showing_all_alerts']}, linked {burst['incidents_linked']}/"
                f"{burst['alerts']}, dead {burst['dead_deliveries']}, drained in "
                f"{burst['drained_in_s']} s",
                flush=True,
            )
    summary = {
        layout: {name: statistics.median(get(r) for r in runs) for name, get in SUMMARY}
        for layout, runs in results.items()
    }
    for layout, numbers in summary.items():
        print(f"median of {args.runs} run(s), {layout}: {json.dumps(numbers)}")
    print("targets: ack p95 <= 300 ms, alert -> diagnosis p95 <= 1.5 s, intake p95 <= 50 ms")
    print(json.dumps({"runs": args.runs, "median": summary, "each": results}))


if __name__ == "__main__":
    main()
