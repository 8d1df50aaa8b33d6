"""A replayed PagerDuty delivery - PagerDuty retrying one it thinks was lost, or someone resending
a captured signed request - reaching another replica, or the same one after a restart: taken
once, because the replicas remember deliveries in the state database they share, not each in its
own memory."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.bot.receivers import payloads
from tests.bot.receivers.payloads import pd_signature
from tests.bot.slack.conftest import (  # noqa: F401  (fixtures)
    fake_slack,
    medic_env,
    seeded_data_dir,
    start_medic,
)
from tests.bot.slack.fake_slack import FakeSlack
from tests.bot.slack.harness import ALERTS, Medic
from tests.reliability.replicas import second_data_dir
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)

PD_SECRET = "pd-signing-secret"
PAGERDUTY = {
    "MEDIC_RECEIVERS__PAGERDUTY__ENABLED": "true",
    "MEDIC_RECEIVERS__PAGERDUTY__SECRETS": json.dumps([PD_SECRET]),
    "MEDIC_RECEIVERS__PAGERDUTY__SERVICES": json.dumps({"Recommender API": "shop/recommender"}),
}


def deliver(medic: Medic, payload: dict[str, Any]) -> httpx.Response:
    """POST exactly these bytes, signed as PagerDuty signs them."""
    raw = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-PagerDuty-Signature": pd_signature(raw, PD_SECRET),
    }
    return medic.http.post(f"{medic.url}/webhook/pagerduty", content=raw, headers=headers)


def test_a_delivery_replayed_to_the_other_replica_after_it_resolved_is_not_taken_again(
    postgres_url: str,  # noqa: F811  (first: the database outlives the replicas)
    start_medic: Callable[..., Medic],  # noqa: F811
    fake_slack: FakeSlack,  # noqa: F811
) -> None:
    second = second_data_dir(Path(os.environ["MEDIC_DATA_DIR"]))
    a = start_medic(MEDIC_DATABASE_URL=postgres_url, **PAGERDUTY)
    b = start_medic(MEDIC_DATA_DIR=str(second))
    starts = a.sim.anchor + a.sim.scenario.alert_offset
    triggered = payloads.pagerduty(starts)
    assert deliver(a, triggered).json()["alerts"] == 1
    a.settle()
    resolved = payloads.pagerduty(starts, "incident.resolved", event_id="resolved-1")
    assert deliver(a, resolved).status_code == 200
    a.settle()

    replayed = deliver(b, triggered)  # the same signed bytes, to the replica that never saw them
    assert replayed.status_code == 200
    assert replayed.json() == {"ignored": "event delivered before"}
    b.settle()
    a.settle()

    (root,) = fake_slack.roots(ALERTS)
    texts = [root.all_text()] + [m.all_text() for m in fake_slack.thread(root.ts)]
    assert "RESOLVED" in root.all_text()
    assert not any("INC-0002" in t for t in texts), texts  # no incident opened again
    assert sum("Medic investigated" in t for t in texts) == 1
