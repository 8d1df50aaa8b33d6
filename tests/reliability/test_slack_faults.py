"""Slack misbehaving - rate limits (429 with Retry-After), server errors, calls that time out after
Slack did them - while an alert becomes a thread and an approver acts on it: every message
arrives, once, in order (a chart too), and the decision shows in place; nothing is left waiting
or dead."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from tests.bot.slack.conftest import (  # noqa: F401  (fixtures)
    fake_slack,
    medic_env,
    seeded_data_dir,
    start_medic,
)
from tests.bot.slack.fake_slack import FakeSlack
from tests.bot.slack.harness import APPROVER, Medic


def delivered(medic: Medic, timeout: float = 120) -> None:
    """Wait until the work is done and the outbox empty (retries wait in the outbox, not due)."""
    deadline = time.monotonic() + timeout
    while True:
        medic.settle(timeout)
        if not medic.service.outbox.counts().get("pending"):
            return
        assert time.monotonic() < deadline, "the outbox did not empty"
        time.sleep(0.2)


def test_rate_limits_errors_and_timeouts_lose_nothing_and_post_nothing_twice(
    start_medic: Callable[..., Medic],  # noqa: F811
    fake_slack: FakeSlack,  # noqa: F811
) -> None:
    medic = start_medic(MEDIC_SLACK__TIMEOUT_SECONDS="1")
    # The root message: rate limited, then a 500, then posted but answered too late; the
    # diagnosis: posted but answered too late.
    fake_slack.fail("chat.postMessage", "ratelimited", retry_after=1)
    fake_slack.fail("chat.postMessage", "server_error")
    fake_slack.fail("chat.postMessage", "timeout", times=2, retry_after=2)
    # A chart: shared in the thread, but the upload's last call answered too late.
    fake_slack.fail("files.completeUploadExternal", "timeout", retry_after=2)
    assert medic.alert(medic.demo_alert()).status_code == 200
    delivered(medic)

    root = medic.root()  # one root, though its post was sent three times
    charts = Counter(f.filename for f in fake_slack.uploaded(root.ts) if f.title)
    assert charts and set(charts.values()) == {1}, charts  # the retry found the shared file
    thread = fake_slack.thread(root.ts)
    assert [m.text.split(":")[0] for m in thread] == ["Medic investigated INC-0001 (recommender)"]
    # Sent: the root three times (429, 500, timed out after Slack took it), the diagnosis once
    # (timed out likewise); each retry after a timeout found the message Slack had taken.
    assert len(fake_slack.calls_to("chat.postMessage")) == 4
    assert fake_slack.calls_to("conversations.history") and fake_slack.calls_to(
        "conversations.replies"
    )
    assert all(m.metadata for m in [root, *thread])  # how an earlier post is found again

    # The approver approves while updates of the message time out and fail.
    fake_slack.fail("chat.update", "timeout", retry_after=2)
    fake_slack.fail("chat.update", "server_error")
    diagnosis = medic.diagnosis(root)
    medic.click(diagnosis, diagnosis.button("medic_approve", "scale shop/recommender"), APPROVER)
    delivered(medic)
    text = diagnosis.all_text()
    assert f"Approved by <@{APPROVER}>" in text and "3 -> 6 replicas" in text
    assert medic.sim.get_deployment("shop", "recommender").replicas == 6
    assert fake_slack.ephemeral_texts() == []
    assert medic.service.outbox.counts().keys() <= {"sent"}  # nothing waiting, nothing dead
