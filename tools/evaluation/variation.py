"""Variants of a scenario for robustness checks (``medic eval scenarios --vary N``): the same
incident, stronger or weaker, earlier or later, so a score does not rest on one exact timeline."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

from tools.sim import Scenario
from tools.sim.models import ModelPlay


def vary(scenario: Scenario, seed: int) -> Scenario:
    """A variant of ``scenario`` for robustness checks: every failure 0.75-1.3 times as strong,
    shifted up to 3 minutes, and the alert up to a minute earlier or later."""
    rng = random.Random(f"{scenario.name}/{seed}")
    strength = rng.uniform(0.75, 1.3)
    shift = rng.uniform(-180.0, 180.0)

    def stronger(value: float, neutral: float = 0.0) -> float:
        return neutral + (value - neutral) * strength

    return replace(
        scenario,
        name=f"{scenario.name}~{seed}",
        surges=tuple(
            replace(s, factor=stronger(s.factor, 1.0), offset=s.offset + shift)
            for s in scenario.surges
        ),
        releases=tuple(
            replace(
                r,
                offset=r.offset + shift,
                effects=replace(
                    r.effects,
                    crash=stronger(r.effects.crash),
                    extra_latency_ms=stronger(r.effects.extra_latency_ms),
                    cpu_cost=stronger(r.effects.cpu_cost, 1.0),
                    drift=stronger(r.effects.drift),
                    pool_size=rng.randint(3, 8) if r.effects.pool_size else None,
                ),
            )
            for r in scenario.releases
        ),
        faults=tuple(
            replace(
                f,
                offset=f.offset + shift,
                size=float(rng.randint(2, 3))
                if f.kind == "noisy_neighbour"
                else min(0.3, stronger(f.size))
                if f.kind == "stampede"
                else stronger(f.size),
            )
            for f in scenario.faults
        ),
        alert_offset=scenario.alert_offset + shift + rng.uniform(-60.0, 60.0),
        extra=_vary_model(scenario.extra, stronger, shift),
    )


def _vary_model(
    extra: dict[str, object], stronger: Callable[[float], float], shift: float
) -> dict[str, object]:
    """The model's story (``tools.sim.models.ModelPlay``) varied like the rest: a data shift as
    much stronger and as shifted, an alias move of the last hour as shifted."""
    play = extra.get("model")
    if not isinstance(play, ModelPlay):
        return dict(extra)
    data_shift = play.data_shift
    if data_shift is not None:
        data_shift = (data_shift[0] + shift, stronger(data_shift[1]))
    moves = tuple((t + shift if t > -3600.0 else t, v) for t, v in play.moves)
    return {**extra, "model": replace(play, data_shift=data_shift, moves=moves)}
