"""A heads-up rendered from what Prometheus labels and the registry name: a workload, a
persistent volume claim or a limit's origin carrying Slack markup stays text, and a shared quota
of ten thousand pods reads as a count, not in scientific notation."""

from __future__ import annotations

import json

from bot.watch.checks import consumers
from bot.watch.findings import Concern, Limit, Target, WatchFinding
from bot.watch.limits import CONSUMERS_SUFFIX
from bot.watch.render import finding_line, headsup_message
from detectors.series import Series

PING = "<!channel>"
LINK = "<https://evil.example|reset your password>"


def test_a_quota_taken_by_ten_thousand_hostile_workloads() -> None:
    taken = [
        Series.of("quota_pods" + CONSUMERS_SUFFIX, [0.0], [1.0 + i % 7], {"workload": f"{PING}{i}"})
        for i in range(10_000)
    ]
    finding = WatchFinding(
        target=Target("shop", "checkout"),
        concern=Concern.LIMIT,
        subject="quota_pods",
        level=9_412.0,
        limit=Limit(10_000.0, f"the namespace's quota {LINK}"),
        eta_seconds=3600.0,
        consumers=consumers(taken, "quota_pods"),
        details={"where": f"persistentvolumeclaim={LINK}"},
    )
    message = headsup_message(finding)
    shown = json.dumps(message.blocks) + message.text
    assert PING not in shown and "<https://" not in shown and "&lt;!channel&gt;" in shown
    assert message.text.count("&lt;!channel&gt;") == 3  # the three biggest, not ten thousand
    line = finding_line(finding)
    assert "9,412 now, 10,000 (the namespace's quota" in line and "e+0" not in line
