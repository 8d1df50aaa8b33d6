"""`/medic watch list|add|remove`: the services the watch looks at, changed from Slack.

Anyone may list. Adding or removing a service in a namespace is for the people who may approve
actions there (the policy's approvers), as changing what Medic watches changes what it posts.
Services named in the configuration stay: they are removed there. Every name is checked as a
Kubernetes name before it is stored, and every answer is escaped."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable

from bot import messages
from bot.config.watch import WatchSettings
from bot.slack.blocks import slack_time
from bot.slack.decisions import SlackUser
from bot.slack.mrkdwn import Mrkdwn, joined, markup
from bot.watch.findings import Target
from bot.watch.store import WatchStore
from bot.watch.targets import parse_target
from tools.policy import Policy

LISTED = 50  # services and heads-ups shown in one answer
CONFIGURED = " - configured"


def approver_anywhere_in(policy: Policy) -> Callable[[SlackUser, str], bool]:
    """Whether the user may approve some tool in the namespace."""

    def may(user: SlackUser, namespace: str) -> bool:
        who = user.principal
        return any(
            rule.admits(who) and any(fnmatch.fnmatchcase(namespace, n) for n in rule.namespaces)
            for rule in policy.approvers
        )

    return may


class WatchCommands:
    def __init__(
        self,
        *,
        store: WatchStore,
        settings: WatchSettings,
        default_namespace: str,
        may_change: Callable[[SlackUser, str], bool],
        now: Callable[[], float],
    ) -> None:
        self._store = store
        self._settings = settings
        self._default = default_namespace
        self._may = may_change
        self._now = now

    def _configured(self) -> set[Target]:
        return {parse_target(s, self._default) for s in self._settings.services}

    def list(self) -> Mrkdwn:
        configured = self._configured()
        added = self._store.targets()
        every = sorted(configured | set(added))
        if not every and not self._settings.namespaces:
            return Mrkdwn(messages.WATCH_LIST_EMPTY)
        lines = [markup(messages.WATCH_LIST_HEADER, count=len(every))]
        lines += [
            markup("• {} ({}){}", t.service, t.namespace, CONFIGURED if t in configured else "")
            for t in every[:LISTED]
        ]
        lines += [markup("• every service of {}", ns) for ns in self._settings.namespaces]
        open_ = self._store.headsups(self._now())
        if open_:
            lines.append(markup(messages.WATCH_LIST_OPEN, count=len(open_)))
            lines += [
                markup(
                    "• {} ({}): {} since {}",
                    h.target.service,
                    h.target.namespace,
                    h.finding,
                    slack_time(h.opened_at),
                )
                for h in open_[:LISTED]
            ]
        return joined("\n", lines)

    def add(self, user: SlackUser, service: str, namespace: str | None) -> Mrkdwn:
        target = Target(namespace or self._default, service)
        if not self._may(user, target.namespace):
            return markup(messages.WATCH_NOT_ALLOWED, namespace=target.namespace)
        fields = {"service": target.service, "namespace": target.namespace}
        if target in self._configured() or not self._store.add(target, user.id, self._now()):
            return markup(messages.WATCH_ALREADY, **fields)
        return markup(messages.WATCH_ADDED, **fields)

    def remove(self, user: SlackUser, service: str, namespace: str | None) -> Mrkdwn:
        target = Target(namespace or self._default, service)
        if not self._may(user, target.namespace):
            return markup(messages.WATCH_NOT_ALLOWED, namespace=target.namespace)
        fields = {"service": target.service, "namespace": target.namespace}
        if self._store.remove(target):
            return markup(messages.WATCH_REMOVED, **fields)
        if target in self._configured():
            return markup(messages.WATCH_CONFIGURED, **fields)
        return markup(messages.WATCH_NOT_WATCHED, **fields)
