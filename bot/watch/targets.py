"""Which services a pass looks at: the configured ones, every workload of the configured
namespaces (as the cluster lists them), and the ones added from Slack; each once, in a stable
order, at most ``max_services``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from bot.config.watch import WatchSettings
from bot.watch.findings import Target

log = logging.getLogger(__name__)

Workloads = Callable[[str, int], list[str]]


def parse_target(text: str, default_namespace: str) -> Target:
    """``namespace/service`` or ``service`` (in ``default_namespace``); checked by the caller."""
    namespace, _, service = text.rpartition("/")
    return Target(namespace or default_namespace, service)


def watched(
    settings: WatchSettings,
    default_namespace: str,
    added: Sequence[Target],
    workloads: Workloads,
) -> list[Target]:
    found = [parse_target(s, default_namespace) for s in settings.services]
    for namespace in settings.namespaces:
        try:
            names = workloads(namespace, settings.max_services)
        except Exception as exc:  # the cluster away: the named services are still watched
            log.warning("could not list the workloads of %s: %s", namespace, exc)
            continue
        found += [Target(namespace, name) for name in names]
    found += added
    return list(dict.fromkeys(found))[: settings.max_services]
