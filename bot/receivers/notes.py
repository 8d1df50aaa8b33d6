"""Write-back: the diagnosis as a note on the PagerDuty incident or Opsgenie alert an alert came
from, so the person paged reads it where they were paged.

Documented requests (contract-tested against a local server, tests/bot/receivers/test_notes.py):

- PagerDuty REST API v2, "Create a note on an incident": ``POST /incidents/{id}/notes`` with
  ``Authorization: Token token=<api token>``, ``From: <a PagerDuty user's email>``,
  ``Accept: application/vnd.pagerduty+json;version=2`` and ``{"note": {"content": "..."}}``;
  answered 201. Errors: 401/403 (token), 404 (incident), 429 (rate limit), 5xx.
- Opsgenie Alert API, "Add Note to Alert": ``POST /v2/alerts/{identifier}/notes?identifierType=id``
  with ``Authorization: GenieKey <key>`` and ``{"note", "user", "source"}``; answered 202 (the note
  is queued). Errors as above.

A 429 or 5xx or a connection that fails is tried again (tenacity, ``attempts`` tries in all,
waiting what a 429's ``Retry-After`` says, at most ``max_wait`` seconds); anything else is final.
A failure is a :class:`NoteError` with one line saying why.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from tools.http_deadline import TooLargeError, TooSlowError, request_within

log = logging.getLogger(__name__)

MAX_NOTE = 25_000  # PagerDuty's limit on a note's content; Opsgenie takes 25,000 too
PAGERDUTY_ACCEPT = "application/vnd.pagerduty+json;version=2"
NOTE_SECONDS = 10.0  # one note request, its whole answer included, when the client sets none
MAX_ANSWER = 1024 * 1024  # a note's answer is small; more is refused, not held


class NoteError(Exception):
    """A note that could not be written, in one line."""


class _RetryableError(NoteError):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class NoteTarget(Protocol):
    """Where notes about one source's alerts go."""

    kind: str

    def add_note(self, ref: str, text: str) -> None:
        """Add ``text`` as a note on the source's own object ``ref``; NoteError if it failed."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    max_wait: float = 30.0
    sleep: Callable[[float], None] | None = None  # tenacity's own sleep when None

    def wait(self, state: RetryCallState) -> float:
        """A 429's Retry-After when it said one, else 0.5 s doubling; never over max_wait."""
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryableError) and error.retry_after is not None:
            return min(error.retry_after, self.max_wait)
        return float(min(0.5 * 2 ** (state.attempt_number - 1), self.max_wait))

    def run(self, call: Callable[[], None]) -> None:
        extra = {"sleep": self.sleep} if self.sleep is not None else {}
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self.wait,
            retry=retry_if_exception_type(_RetryableError),
            reraise=True,
            **extra,  # type: ignore[arg-type]
        )
        retrying(call)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date, or nothing: the policy's own pause
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _post(client: httpx.Client, url: str, what: str, **kwargs: Any) -> None:
    """POST once, its whole answer within the client's timeout (a server answering a byte at a
    time is cut off: httpx's own timeout is per read); _RetryableError for what is worth another
    try, NoteError for the rest."""
    seconds = client.timeout.read or NOTE_SECONDS
    try:
        response, content = request_within(
            client, "POST", url, seconds, max_bytes=MAX_ANSWER, **kwargs
        )
    except httpx.HTTPError as exc:
        raise _RetryableError(f"{what}: {type(exc).__name__}: {str(exc)[:200]}") from exc
    except TooSlowError as exc:
        raise _RetryableError(f"{what}: {exc}") from exc
    except TooLargeError as exc:
        raise NoteError(f"{what}: {exc}") from exc
    status = response.status_code
    if status < 300:
        return
    detail = content[:200].decode("utf-8", errors="replace").replace("\n", " ")
    if status == 429 or status >= 500:
        raise _RetryableError(f"{what}: HTTP {status} {detail}", _retry_after(response))
    raise NoteError(f"{what}: HTTP {status} {detail}")


class PagerDutyNotes:
    kind = "pagerduty"

    def __init__(
        self, client: httpx.Client, *, token: str, from_email: str, api_url: str,
        retry: RetryPolicy,
    ) -> None:  # fmt: skip
        self._client = client
        self._headers = {
            "Authorization": f"Token token={token}",
            "From": from_email,
            "Accept": PAGERDUTY_ACCEPT,
        }
        self._api = api_url.rstrip("/")
        self._retry = retry

    def add_note(self, ref: str, text: str) -> None:
        url = f"{self._api}/incidents/{quote(ref, safe='')}/notes"
        body = {"note": {"content": text[:MAX_NOTE]}}
        what = f"PagerDuty incident {ref}"
        self._retry.run(lambda: _post(self._client, url, what, json=body, headers=self._headers))


class OpsgenieNotes:
    kind = "opsgenie"

    def __init__(self, client: httpx.Client, *, key: str, api_url: str, retry: RetryPolicy) -> None:
        self._client = client
        self._headers = {"Authorization": f"GenieKey {key}"}
        self._api = api_url.rstrip("/")
        self._retry = retry

    def add_note(self, ref: str, text: str) -> None:
        url = f"{self._api}/v2/alerts/{quote(ref, safe='')}/notes"
        body = {"note": text[:MAX_NOTE], "user": "Medic", "source": "Medic"}
        what = f"Opsgenie alert {ref}"
        self._retry.run(
            lambda: _post(
                self._client,
                url,
                what,
                json=body,
                headers=self._headers,
                params={"identifierType": "id"},
            )
        )
