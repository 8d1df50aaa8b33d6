"""Several clusters in one process: which cluster an alert belongs to (its cluster label, else
the default cluster), and the seam through which the incident flow hands an incident or a
proposal to its own cluster's flow.

The choice is pure; an alert naming a cluster that is not in the map is refused with one line
that says so - never investigated or acted on in the default cluster, whose workloads of the same
name are not the ones that alerted (README, "Several clusters").
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Protocol

from bot import messages
from bot.errors import InputError

if TYPE_CHECKING:
    from bot.flow import IncidentFlow
    from tools.workflow import Settled

SHOWN_CHARS = 63  # of a label value that names no cluster: enough to recognise it, no more


def shown(value: str) -> str:
    """A label value as a refusal shows it: bounded, quoted, control characters visible (the
    front end escapes it for Slack)."""
    cut = value if len(value) <= SHOWN_CHARS else value[: SHOWN_CHARS - 1] + "\u2026"
    return repr(cut)


def cluster_of(
    labels: Mapping[str, str],
    *,
    label: str,
    known: Collection[str],
    default: str,
    alert: str = "alert",
) -> str:
    """The cluster of an alert with ``labels``: the one its ``label`` names, else ``default``.
    A name that is not ``known`` is an InputError (one line): the default is not used instead."""
    named = labels.get(label)
    if named is None or named == "":
        return default
    if named not in known:
        raise InputError(
            messages.CLUSTER_UNKNOWN.format(
                alert=shown(alert), cluster=shown(named), label=label, known=", ".join(known)
            )
        )
    return named


def check_name(name: str, known: Collection[str]) -> str:
    """``name`` if it is a cluster of the map (a CLI option, a slash command's word)."""
    if name not in known:
        raise InputError(
            messages.CLUSTER_NAME_UNKNOWN.format(cluster=shown(name), known=", ".join(known))
        )
    return name


def scoped(cluster: str, identity: str) -> str:
    """An alert's identity within ``cluster`` (what its incident is deduplicated by): a hash, so
    it fits the fingerprint column whatever the alert sent."""
    return hashlib.sha256(f"{cluster}\0{identity}".encode()).hexdigest()[:32]


class FlowRouter(Protocol):
    """The flows of the clusters of the map, each built on first use (bot.wiring.clusters)."""

    @property
    def label(self) -> str:
        """The alert label that names the cluster."""
        ...

    @property
    def names(self) -> list[str]:
        """The clusters of the map."""
        ...

    def name_for(self, labels: Mapping[str, str], alert: str = "alert") -> str:
        """The name of the cluster an alert with ``labels`` belongs to (InputError: none)."""
        ...

    def flow_for(self, labels: Mapping[str, str], alert: str = "alert") -> IncidentFlow:
        """The flow of the cluster an alert with ``labels`` belongs to (InputError: none)."""
        ...

    def flow_named(self, cluster: str) -> IncidentFlow | None:
        """The flow of the cluster named ``cluster``; None when the map has no such cluster."""
        ...

    def settle_interrupted(self, after_seconds: float) -> list[Settled]:
        """Each cluster's interrupted actions, settled by that cluster's own workflow."""
        ...
