"""An answer only the clicker sees goes to the request's response_url - data from the request, so
a value that is not a web URL is dropped with a warning instead of failing the handler (Bolt would
log "Failed to run an internal function" and the person would see nothing at all)."""

from __future__ import annotations

import logging

import pytest
from slack_bolt import Respond

from bot.slack.app import ephemeral
from bot.slack.mrkdwn import Mrkdwn


@pytest.mark.parametrize(
    "url",
    ["1", "http://[", "file:///etc/passwd", "https://", "<!channel>", "https://a." + "b" * 5000],
)
def test_a_response_url_that_is_not_a_web_url_is_dropped_with_a_warning(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.slack.app"):
        ephemeral(Respond(response_url=url), Mrkdwn("Approved."))
    assert "answer dropped" in caplog.text
