"""The storm suite, reduced: a thousand alerts over a hundred groups in a minute, every
notification sent twice (an Alertmanager HA pair) to two real `medic serve --cluster sim` on one
PostgreSQL and one Chroma server. Nothing accepted is lost (each group has its thread, posted in
Slack, each alert its incident in that thread), no request fails, everything is investigated and
posted within the drain time, and neither replica's memory leaves its bound. The full storm
(10,000 alerts in 10 minutes over 1,000 groups) is ``benchmarks/reliability/storm.py``.

In the default suite, what the storm showed: taking in a resolved alert read every open incident,
so intake slowed down as a storm went on and the inboxes fell minutes behind; and with two
replicas delivering one outbox, an update of a root message (the group's new state) was given up
for good when it came up while the other replica was still posting that root."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import event

from bot.alerts import parse_alerts
from bot.database import sqlite_engine
from bot.incidents import _IncidentRow
from bot.slack.delivery import SlackDelivery
from bot.slack.metrics import BotMetrics
from bot.slack.outbox import ROOT, Outbox
from tests.bot.slack.conftest import (  # noqa: F401  (fixtures)
    fake_slack,
    medic_env,
    seeded_data_dir,
    start_medic,
)
from tests.bot.slack.fake_slack import FakeSlack
from tests.bot.slack.harness import Medic
from tests.bot.slack.test_delivery import Clock, text
from tests.bot.slack.test_webhook import resolved
from tests.reliability.storm import StormConfig, StormRun
from tests.services.chroma import chroma_server
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)

RSS_BOUND_MIB = 1024.0
OTHERS_OPEN = 300
OTHERS_SINCE = "2026-12-01T00:00:00Z"


def test_a_resolved_alert_is_taken_in_without_reading_every_other_open_incident(
    start_medic: Callable[..., Medic],  # noqa: F811
) -> None:
    medic = start_medic()
    incidents = medic.service.threads.flow.incidents
    for i in range(OTHERS_OPEN):  # a storm's worth of alerts firing in other groups
        labels = {"alertname": "Other", "service": "checkout", "pod": f"checkout-{i}"}
        other = parse_alerts({"status": "firing", "labels": labels, "startsAt": OTHERS_SINCE})
        incidents.open_or_attach(
            other.alerts[0], service="checkout", namespace="shop", group_key=f"g{i}", now=0.0
        )
    payload = medic.demo_alert()
    medic.alert(payload)
    medic.settle()

    read: list[Any] = []

    def count(row: Any, _context: Any) -> None:
        read.append(row)

    event.listen(_IncidentRow, "load", count)
    try:
        assert medic.alert(resolved(payload)).status_code == 200
        medic.settle()
    finally:
        event.remove(_IncidentRow, "load", count)
    assert "[RESOLVED]" in medic.root().all_text()
    assert len(incidents.open_incidents()) == OTHERS_OPEN  # the others are still open
    # Its own incident, looked up a few times; not the 300 others (read in full before).
    assert len(read) < 20, f"{len(read)} incident rows read to resolve one alert"


def test_a_root_update_waits_for_the_root_another_replica_is_still_posting(
    tmp_path: Path,
    fake_slack: FakeSlack,  # noqa: F811
) -> None:
    engine = sqlite_engine(tmp_path)  # one state database, two replicas' outboxes
    outboxes = [Outbox(engine), Outbox(engine)]
    clock = Clock()
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url, timeout=10,
                       retry_handlers=[])  # fmt: skip
    replicas = [SlackDelivery(o, client, BotMetrics(), clock=clock) for o in outboxes]
    outboxes[0].post("g1", "C1", text("[FIRING:1]"), now=clock.now, ref=ROOT, in_thread=False)
    # Slack takes replica 0's post of the root but answers only after the client gave up.
    fake_slack.fail("chat.postMessage", "timeout", retry_after=2)
    posting = threading.Thread(target=replicas[0].deliver_due)
    posting.start()
    while not fake_slack.calls_to("chat.postMessage"):
        time.sleep(0.01)

    # Meanwhile the group's next notification updates the root, through replica 1.
    outboxes[1].update("g1", ROOT, "C1", text("[FIRING:2]"), now=clock.now)
    replicas[1].deliver_due()
    posting.join()
    for _ in range(5):
        clock.now += 600
        for replica in replicas:
            replica.deliver_due()

    assert outboxes[0].counts() == {"sent": 2}  # nothing given up
    (root,) = fake_slack.roots()
    assert root.text == "[FIRING:2]"  # Slack shows the group as it is now


@pytest.mark.soak
def test_a_reduced_storm_on_two_replicas_loses_nothing_and_stays_bounded(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    config = StormConfig(alerts=1_000, groups=100, seconds=60.0, replicas=2, drain_timeout=300.0)
    with chroma_server(tmp_path / "chroma") as chroma:
        report = StormRun(tmp_path / "storm", postgres_url, chroma, config).run()
    summary = report.as_dict()
    assert set(report.status_counts) == {200}, summary  # every delivery answered 200
    assert report.lost_total == 0, summary
    assert report.server_errors == 0, summary
    assert report.drain_seconds is not None, summary
    assert report.peak_rss_mib() <= RSS_BOUND_MIB, summary
    # Memory does not grow with the alerts taken in: at the end each replica is within 200 MiB
    # of where it was after its first investigation.
    for name, rss in summary["rss_mib"].items():
        assert rss["end"] <= rss["warm"] + 200, (name, rss)
