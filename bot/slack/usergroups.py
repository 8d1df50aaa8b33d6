"""Which Slack user groups a user is in, for approver checks that name groups. Read from Slack's
``usergroups.list`` (scope ``usergroups:read``) and cached for a few minutes; only asked at all
when an approver entry is a group. When Slack cannot say (a missing scope, an error, Slack down)
the answer carries why, so a refusal names that cause instead of "you may not approve"."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import messages
from tools.policy import ApproverRule

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0


def names_groups(approvers: Iterable[ApproverRule]) -> bool:
    """True when some approver rule of the policy admits a Slack user group."""
    return any(rule.groups for rule in approvers)


@dataclass(frozen=True)
class Membership:
    groups: tuple[str, ...] = ()
    unknown: str = ""  # why the groups could not be read; empty when they were


class UserGroups:
    def __init__(
        self, client: WebClient, enabled: bool, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._enabled = enabled
        self._clock = clock
        self._lock = threading.Lock()
        self._members: dict[str, list[str]] = {}
        self._loaded_at = -CACHE_SECONDS
        self._problem = ""  # why the last refresh failed; the next lookup tries again

    def of(self, user_id: str) -> Membership:
        """Group ids and handles of ``user_id``, and why they are unknown if Slack cannot say
        (groups read before, if any, are still given)."""
        if not self._enabled:
            return Membership()
        with self._lock:
            if self._problem or self._clock() - self._loaded_at >= CACHE_SECONDS:
                self._load()
            return Membership(tuple(self._members.get(user_id, [])), self._problem)

    def _load(self) -> None:
        try:
            response = self._client.usergroups_list(include_users=True)
        except (SlackClientError, OSError) as exc:  # OSError: unreachable, timed out
            self._problem = _why(exc)
            log.warning("cannot read Slack user groups: %s", self._problem)
            return
        members: dict[str, list[str]] = {}
        for group in response.get("usergroups") or []:
            for user in group.get("users") or []:
                members.setdefault(user, []).extend([group["id"], group.get("handle", "")])
        self._members = members
        self._loaded_at = self._clock()
        self._problem = ""


def _why(exc: Exception) -> str:
    """Slack's reason in one line: its error code (with the scope it wants), or the failure."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = f"HTTP {status}" if status >= 500 else str(data.get("error") or f"HTTP {status}")
        if error == "missing_scope":
            return messages.GROUPS_MISSING_SCOPE.format(
                needed=data.get("needed") or "usergroups:read"
            )
        return messages.GROUPS_SLACK_ANSWERED.format(error=error)
    first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    failure = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return messages.GROUPS_SLACK_UNREACHABLE.format(failure=failure)
