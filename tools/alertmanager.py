"""The silence backend on Alertmanager's API v2.

Creating a silence is not idempotent: sent twice, it makes two silences. A request is therefore
resent only when it certainly did not arrive (connection refused, 429); after an answer that may
hide a success (timeout, 5xx) Medic first looks for its own silence by a token it put in the
comment, and creates it again only if it is not there.

Each call ends within ``timeout`` seconds (``alertmanager_timeout_seconds``), retries included:
half of it bounds each try - connecting and the whole answer, read as it streams in, so a server
sending a byte at a time is cut off too (httpx's timeout is per read) - and no new try starts
after the other half. A silence whose answer was lost adds one look for its token, within one
try's half. Before, a server that accepted and never answered cost four 10 s timeouts plus
backoff per call, and one that trickled its answer held the command for ever.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from tools.backends import SilenceRequest
from tools.errors import (
    InvalidRequestError,
    PermissionDeniedError,
    ToolError,
    TransientError,
)
from tools.http_deadline import TooLargeError, TooSlowError, request_within
from tools.retry import RetryPolicy

TIMEOUT_SECONDS = 10.0  # the longest one Alertmanager call may take, its retries included
SETTING = "alertmanager_timeout_seconds"


class AlertmanagerSilences:
    def __init__(
        self,
        client: httpx.Client,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._http = client
        self._timeout = timeout
        self._retry = retry or RetryPolicy(within_seconds=timeout / 2)
        self._half = f"a try's half of {SETTING}, {timeout:g} s"

    @classmethod
    def from_url(
        cls, url: str, *, timeout: float = TIMEOUT_SECONDS, **kwargs: Any
    ) -> AlertmanagerSilences:
        """Alertmanager at ``url``; each call, retries included, ends within ``timeout``."""
        client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout / 2)
        return cls(client, timeout=timeout, **kwargs)

    def silence(self, request: SilenceRequest, *, dry_run: bool = False) -> str:
        token = f"medic-token:{uuid.uuid4().hex[:16]}"
        body = {
            "matchers": [
                {"name": k, "value": v, "isRegex": False, "isEqual": True}
                for k, v in sorted(request.matchers.items())
            ],
            "startsAt": request.starts_at,
            "endsAt": request.ends_at,
            "createdBy": request.created_by,
            "comment": f"{request.comment} [{token}]",
        }
        if dry_run:  # Alertmanager has no dry run: check it answers, send nothing
            self._retry.call(lambda: self._json("GET", "/api/v2/status"), idempotent=True)
            return ""

        def create() -> str:
            try:
                return str(self._json("POST", "/api/v2/silences", body)["silenceID"])
            except TransientError as exc:
                if exc.may_have_applied:
                    existing = self._find(token)
                    if existing:
                        return existing
                    raise TransientError(str(exc), may_have_applied=False) from exc
                raise

        return self._retry.call(create, idempotent=False)

    def find(self, text: str) -> str | None:
        """The id of a silence whose comment contains ``text``, or None."""
        return self._retry.call(lambda: self._lookup(text), idempotent=True)

    def _find(self, token: str) -> str | None:
        """The id of the silence carrying ``token``, if the lost request did create it."""
        try:
            return self._lookup(token)
        except ToolError:
            return None

    def _lookup(self, text: str) -> str | None:
        silences = self._json("GET", "/api/v2/silences")
        return next((str(s["id"]) for s in silences if text in s.get("comment", "")), None)

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            status, text, after = self._read(method, path, body)
        except httpx.ConnectError as exc:
            raise TransientError(
                f"cannot reach Alertmanager: {exc}", may_have_applied=False
            ) from exc
        except httpx.TimeoutException as exc:
            raise TransientError(
                f"Alertmanager did not answer within {self._timeout / 2:g} s ({self._half}; "
                f"{type(exc).__name__})",
                may_have_applied=True,
            ) from exc
        except httpx.TransportError as exc:
            raise TransientError(
                f"Alertmanager did not answer: {type(exc).__name__}", may_have_applied=True
            ) from exc
        except _TooSlowError as exc:
            raise TransientError(str(exc), may_have_applied=True) from exc
        detail = f"Alertmanager answered {status} to {method} {path}: {text[:200]}"
        if status == 429:
            retry_after = float(after) if after and after.isdigit() else None
            raise TransientError(detail, may_have_applied=False, retry_after=retry_after)
        if status >= 500:
            raise TransientError(detail, may_have_applied=True)
        if status in (401, 403):
            raise PermissionDeniedError(detail)
        if status >= 400:
            raise InvalidRequestError(detail)
        try:
            return json.loads(text)
        except ValueError as exc:
            raise InvalidRequestError(
                f"Alertmanager's answer to {method} {path} is no JSON"
            ) from exc

    def _read(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> tuple[int, str, str | None]:
        """The status, text and Retry-After of one request, the whole answer within one try's
        time."""
        try:
            response, content = request_within(
                self._http, method, path, self._timeout / 2, json=body
            )
        except TooSlowError as exc:
            raise _TooSlowError(
                f"Alertmanager did not answer within {self._timeout / 2:g} s ({self._half}; "
                f"its answer to {method} {path} was still coming in)"
            ) from exc
        except TooLargeError as exc:
            raise InvalidRequestError(f"Alertmanager's answer to {method} {path}: {exc}") from exc
        text = content.decode("utf-8", errors="replace")
        return response.status_code, text, response.headers.get("Retry-After")


class _TooSlowError(Exception):
    """An answer still streaming in when its try's time was up."""
