"""The silence backend on Alertmanager's API v2.

Creating a silence is not idempotent: sent twice, it makes two silences. A request is therefore
resent only when it certainly did not arrive (connection refused, 429); after an answer that may
hide a success (timeout, 5xx) Medic first looks for its own silence by a token it put in the
comment, and creates it again only if it is not there.
"""

from __future__ import annotations

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
from tools.retry import RetryPolicy


class AlertmanagerSilences:
    def __init__(self, client: httpx.Client, *, retry: RetryPolicy | None = None) -> None:
        self._http = client
        self._retry = retry or RetryPolicy()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> AlertmanagerSilences:
        return cls(httpx.Client(base_url=url.rstrip("/"), timeout=10.0), **kwargs)

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
            response = self._http.request(method, path, json=body)
        except httpx.ConnectError as exc:
            raise TransientError(
                f"cannot reach Alertmanager: {exc}", may_have_applied=False
            ) from exc
        except httpx.TransportError as exc:
            raise TransientError(
                f"Alertmanager did not answer: {type(exc).__name__}", may_have_applied=True
            ) from exc
        status = response.status_code
        detail = f"Alertmanager answered {status} to {method} {path}: {response.text[:200]}"
        if status == 429:
            after = response.headers.get("Retry-After")
            retry_after = float(after) if after and after.isdigit() else None
            raise TransientError(detail, may_have_applied=False, retry_after=retry_after)
        if status >= 500:
            raise TransientError(detail, may_have_applied=True)
        if status in (401, 403):
            raise PermissionDeniedError(detail)
        if status >= 400:
            raise InvalidRequestError(detail)
        return response.json()
