"""Verification of a right-sizing change the watch proposed: nothing was broken to recover from,
so "verified" means the change took (the Deployment runs the replicas approved, all ready)
and the replicas left are not running hot (CPU utilisation over the verification window stays
under the saturation threshold kept with the proposal) - a scale-in that overloads the rest
is not verified, and says so."""

from __future__ import annotations

import numpy as np

from bot import messages
from bot.config import VerificationSettings
from bot.diagnosis.model_checks import StateCheck
from bot.diagnosis.verification import MetricCheck, Verification
from bot.watch.checks import CPU
from detectors import MetricSource, MetricSourceError, PartialMetricsError
from tools.backends import ClusterBackend
from tools.clock import Clock
from tools.errors import ToolError
from tools.proposals import Proposal

DEFAULT_CEILING = 80.0  # percent: the right-sizing check's default saturation threshold


def verify_change(
    proposal: Proposal,
    cluster: ClusterBackend,
    metrics: MetricSource,
    clock: Clock,
    settings: VerificationSettings,
) -> Verification:
    """After ``settings.delay_seconds``: the replicas and the CPU of the changed service."""
    action = proposal.action
    watch = proposal.recipe.get("watch")
    kept = watch if isinstance(watch, dict) else {}
    ceiling = _number(kept.get("ceiling_pct"), DEFAULT_CEILING)
    before = _number(kept.get("before_pct"), float("nan"))
    wanted = int(action.params.get("replicas", 0))
    clock.sleep(settings.delay_seconds)
    now = clock.now()
    try:
        info = cluster.get_deployment(action.namespace, action.name)
        fetched = metrics.fetch(
            action.namespace, action.name, now - settings.window_seconds, now + 1
        )
    except PartialMetricsError as exc:  # another metric's bad query: judge what was read
        fetched = list(exc.series)
    except (MetricSourceError, ToolError) as exc:
        return Verification(False, [], messages.WATCH_VERIFY_UNREAD.format(reason=exc))
    ready = min(info.replicas, info.ready_replicas) == wanted == info.replicas
    replicas = StateCheck(
        "replicas",
        "replicas",
        ready,
        messages.WATCH_VERIFY_REPLICAS.format(
            wanted=wanted, replicas=info.replicas, ready=info.ready_replicas
        ),
    )
    values = [s.values for s in fetched if s.metric == CPU and len(s)]
    if not values:
        text = messages.WATCH_VERIFY_NO_CPU
        cpu = MetricCheck(CPU, "CPU utilisation", before, before, None, False, text)
        return Verification(False, [replicas, cpu])
    after = float(np.median(np.concatenate(values)))
    cool = after <= ceiling
    cpu = MetricCheck(
        CPU,
        "CPU utilisation",
        before,
        before,
        after,
        cool,
        messages.WATCH_VERIFY_CPU.format(
            after=f"{after:.0f}",
            ceiling=f"{ceiling:.0f}",
            before=f"{before:.0f}",
            verdict="under" if cool else "over",
        ),
    )
    return Verification(ready and cool, [replicas, cpu])


def _number(value: object, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)
