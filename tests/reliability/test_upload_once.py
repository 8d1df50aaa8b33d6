"""A file upload Slack took but answered too late (the upload's last call timed out after Slack
shared the file): the retry finds the file in the thread and does not upload it again, so the
thread shows each chart, and each postmortem draft, once."""

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
from tests.bot.slack.harness import Medic


def test_an_upload_that_timed_out_after_slack_took_it_is_not_uploaded_twice(
    start_medic: Callable[..., Medic],  # noqa: F811
    fake_slack: FakeSlack,  # noqa: F811
) -> None:
    medic = start_medic(MEDIC_SLACK__TIMEOUT_SECONDS="1")
    fake_slack.fail("files.completeUploadExternal", "timeout", retry_after=2)
    assert medic.alert(medic.demo_alert()).status_code == 200
    deadline = time.monotonic() + 120
    while True:  # settled, and the retried upload delivered
        medic.settle()
        if not medic.service.outbox.counts().get("pending"):
            break
        assert time.monotonic() < deadline, "the outbox did not empty"
        time.sleep(0.2)
    root = medic.root()
    shared = Counter(f.filename for f in fake_slack.uploaded(root.ts) if f.title)
    assert shared and set(shared.values()) == {1}, shared
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == len(shared)
