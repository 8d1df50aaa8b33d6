"""Which Slack user groups a user is in, for approver checks that name groups. Read from Slack's
``usergroups.list`` (scope ``usergroups:read``) and cached for a few minutes; only asked at all
when an approver entry is a group."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from tools.policy import ApproverRule

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0


def names_groups(approvers: Iterable[ApproverRule]) -> bool:
    """True when some approver rule of the policy admits a Slack user group."""
    return any(rule.groups for rule in approvers)


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

    def of(self, user_id: str) -> list[str]:
        """Group ids and handles of ``user_id``; empty when unknown or Slack cannot say."""
        if not self._enabled:
            return []
        with self._lock:
            if self._clock() - self._loaded_at >= CACHE_SECONDS:
                self._load()
            return list(self._members.get(user_id, []))

    def _load(self) -> None:
        try:
            response = self._client.usergroups_list(include_users=True)
        except SlackClientError as exc:
            log.warning("cannot read Slack user groups (approver groups ignored): %s", exc)
            return
        members: dict[str, list[str]] = {}
        for group in response.get("usergroups") or []:
            for user in group.get("users") or []:
                members.setdefault(user, []).extend([group["id"], group.get("handle", "")])
        self._members = members
        self._loaded_at = self._clock()
