"""A fault-free stretch of the simulated shop: the suite's three services with daily seasonality
(traffic low at night, high in the day, lower at the weekend), a day-to-day wobble and the
simulation's own noise - nothing for the watch to raise. The benchmark of false heads-ups
(``benchmarks/bench_watch.py``) replays it; each ``seed`` is a different week.

Traffic changes every ``STEP`` seconds by the ratio of the daily curve between two steps (the
simulation's surges multiply), small enough (a few percent) to look like a smooth curve."""

from __future__ import annotations

import math

import numpy as np

from tools.sim.scenarios import Scenario, Surge
from tools.sim.suite import SERVICES

DAY = 86400.0
STEP = 900.0  # seconds between two changes of the traffic level
NIGHT = 0.45  # traffic at the quietest hour, relative to the busiest
WEEKEND = 0.8  # a weekend day's traffic relative to a weekday's


def daily_level(t: float, wobble: float) -> float:
    """Traffic relative to the busiest weekday hour, ``t`` seconds after a Monday 00:00 UTC;
    ``wobble`` scales the day's peak (a busy or a quiet day)."""
    hour = (t % DAY) / 3600.0
    day = int(t // DAY) % 7
    shape = 0.5 - 0.5 * math.cos(2 * math.pi * (hour - 4.0) / 24.0)  # 0 at 04:00, 1 at 16:00
    level = NIGHT + (1 - NIGHT) * shape * wobble
    return level * (WEEKEND if day >= 5 else 1.0)


def normal_week(seed: int, days: float = 7.0, lead: float = DAY) -> Scenario:
    """``days`` of normal traffic starting at the simulation's anchor (a Monday 00:00 for the
    curve), with ``lead`` seconds before the anchor already following it (the look-back of the
    first pass). Each service's days wobble by up to 10% (``seed``)."""
    rng = np.random.default_rng(seed)
    surges: list[Surge] = []
    steps = math.ceil((days * DAY + lead) / STEP)
    for profile in SERVICES:
        wobbles = 0.9 + 0.2 * rng.random(math.ceil(days + lead / DAY) + 2)
        first = -lead
        previous = 1.0  # the profile's request rate is the busiest hour's
        for k in range(steps + 1):
            t = first + k * STEP
            day = int((t + lead) // DAY)
            level = daily_level(t, float(wobbles[day]))
            surges.append(Surge(profile.name, "rate", level / previous, t))
            previous = level
    return Scenario(
        name=f"normal-week-{seed}",
        description="A week of the shop with nothing wrong: daily seasonality and noise.",
        namespace="shop",
        region="eu-west-1",
        services=SERVICES,
        surges=tuple(surges),
        alert_labels={"alertname": "None", "service": "frontend", "namespace": "shop"},
        alert_annotations={},
        alert_offset=0.0,
    )
