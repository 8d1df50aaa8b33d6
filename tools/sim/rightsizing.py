"""A shop with nothing wrong but too many replicas: checkout runs six for a load that two carry
(about 11% CPU each, all day). The watch's right-sizing check finds it over-provisioned and
proposes a scale-in; `medic watch --once --cluster sim --scenario over-provisioned` shows it and
`medic approve` carries it out. No alert fires: it is not part of the incident suite."""

from __future__ import annotations

from dataclasses import replace

from tools.sim.scenarios import Scenario
from tools.sim.suite import CHECKOUT_FULL, FRONTEND_FULL, RECOMMENDER_FULL

OVER_PROVISIONED = Scenario(
    name="over-provisioned",
    description="checkout runs six replicas for a load that two carry; nothing is wrong.",
    namespace="shop",
    region="eu-west-1",
    services=(
        RECOMMENDER_FULL,
        replace(CHECKOUT_FULL, replicas=6, request_rate=30.0),
        FRONTEND_FULL,
    ),
    surges=(),
    alert_labels={"alertname": "None", "service": "checkout", "namespace": "shop"},
    alert_annotations={},
    alert_offset=0.0,
)
