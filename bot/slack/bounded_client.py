"""The Slack Web API client with a deadline on every call, its whole answer included.

slack_sdk's ``timeout`` is urllib's, per socket operation: a Slack-compatible server or proxy
(``slack_api_url``) that answers a byte at a time never trips it, and the call never ends - the
delivery thread that posts every message, or a click's handler, held with it. Each call here runs
on a daemon thread and is abandoned after ``slack.timeout_seconds`` (its slot stays taken until
it really ends, so at most ``STUCK_LIMIT`` can pile up; past that a call is refused at once).
Both failures are an ``OSError``, which every caller already takes for "Slack did not answer"
(the outbox looks for a post that may have arrived before sending it again).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.web.slack_response import SlackResponse

from bot.llm.calls import BoundedCalls, BusyError, DeadlineExceededError

T = TypeVar("T")

STUCK_LIMIT = 8  # calls still running (answered too slowly, abandoned) before more are refused
SETTING = "slack.timeout_seconds"


class BoundedWebClient(WebClient):
    """A ``WebClient`` whose every API call and file upload ends within ``deadline`` seconds."""

    def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline
        self._calls = BoundedCalls(STUCK_LIMIT, what="Slack calls", thread="medic-slack")

    def api_call(self, *args: Any, **kwargs: Any) -> SlackResponse:
        return self._bounded(lambda: super(BoundedWebClient, self).api_call(*args, **kwargs))

    def _upload_file(self, **kwargs: Any) -> Any:  # the upload to the URL files_upload_v2 got
        return self._bounded(lambda: super(BoundedWebClient, self)._upload_file(**kwargs))

    def _bounded(self, call: Callable[[], T]) -> T:
        try:
            return self._calls.run_with_deadline(self._deadline, lambda _deadline: call())
        except DeadlineExceededError as exc:
            raise TimeoutError(
                f"Slack did not answer within {self._deadline:g} s ({SETTING})"
            ) from exc
        except BusyError as exc:
            raise TimeoutError(f"Slack is not answering: {exc}") from exc
