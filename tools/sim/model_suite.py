"""The MLOps scenarios: incidents of the simulated shop's registered model (``recommender-ranker``,
``tools.sim.models``), each with the remediation that fixes it and a tempting wrong one.

- ``model-drift``: the data changed; every version was trained before it, so going back one does
  not help, retraining on recent data does.
- ``model-regression``: the alias moved to a new, worse version; the inputs are as before, and
  retraining reruns the pipeline that produced the bad version; going back one version fixes it.
- ``model-overload``: the seed's story on the extended profile - an input-size surge saturates
  the recommender while it serves the registered model; scale and purge, the model is fine.
- ``slow-model-version``: a victim whose origin is the ML service - frontend calls recommender on
  every page and pages on latency, because the version the alias moved to is slower (and ranks
  worse); going back one version on recommender fixes it, restarting frontend does not.

Data only; they join ``tools.sim.SCENARIOS`` once the investigation and the actions know the
cause keys and tools they name.
"""

from __future__ import annotations

from dataclasses import replace

from tools.sim.models import DAY, ModelPlay, SeedVersion
from tools.sim.scenarios import Expectation, LogPattern, Scenario, Surge, above
from tools.sim.suite import (
    CHECKOUT_FULL,
    FRONTEND_FULL,
    MINUTE,
    RECOMMENDER_FULL,
    shop_alert,
    shop_scenario,
)
from tools.sim.victims import FRONTEND_SLOW, PAGED_AFTER

FRONTEND_CALLS_RECOMMENDER = replace(
    FRONTEND_FULL,
    dependency="recommender",
    dependency_latency_ms=174.0,  # recommender's p95 at rest: the call costs nothing extra then
    logs=(
        *FRONTEND_FULL.logs,
        LogPattern(
            "WARN",
            "recommender GetRecommendations took {up_ms} ms (budget 300 ms)",
            above("upstream", 1.6, 0.3),
        ),
    ),
)

CTR_ALERT = (
    "recommender",
    "RecommenderClickThroughLow",
    "recommender click-through rate 30% below normal in eu-west-1",
    "click-through rate of recommendations dropped below 3%.",
)


def _with_model(scenario: Scenario, play: ModelPlay) -> Scenario:
    return replace(scenario, extra={**scenario.extra, "model": play})


MODEL_DRIFT = _with_model(
    shop_scenario(
        "model-drift",
        "A marketing campaign brings a new kind of customer: baskets are worth twice as much, "
        "sessions are shorter and longer lists are browsed. Every version of recommender-ranker "
        "was trained on the old traffic, so click-through falls. Retraining on recent data fixes "
        "it; rolling back the Deployment or the model serves another model of the old data.",
        shop_alert(*CTR_ALERT),
        -15 * MINUTE,
        Expectation(causes=("input-drift",), fix="retrain", tempting="rollback"),
    ),
    ModelPlay(data_shift=(-25 * MINUTE, 1.0)),
)

MODEL_REGRESSION = _with_model(
    shop_scenario(
        "model-regression",
        "The weekly CT pipeline trained version 4 with a feature-join bug and promoted it on its "
        "offline metrics; online it ranks worse and click-through falls. The inputs are as "
        "before. Moving champion back to version 3 fixes it; retraining reruns the same broken "
        "pipeline.",
        shop_alert(*CTR_ALERT),
        -14 * MINUTE,
        Expectation(causes=("model-regression",), fix="promote_model", tempting="retrain"),
    ),
    ModelPlay(
        extra=(SeedVersion(-6, -1, 0.62, 0.738, 0.409, note="weekly CT (join bug)"),),
        moves=((-6 * DAY, "3"), (-20 * MINUTE, "4")),
        pipeline_quality=0.62,
    ),
)

MODEL_OVERLOAD = _with_model(
    shop_scenario(
        "model-overload",
        "The seed's incident on a served model: a client release sends full browsing histories, "
        "tripling request payloads; scoring saturates the recommender and its cache bloats. The "
        "model is fine (inputs and click-through are normal): scale out and purge the cache; "
        "promoting another version changes nothing.",
        shop_alert(
            "recommender",
            "RecommenderLatencyHigh",
            "recommender p95 latency above 500 ms in eu-west-1",
            "p95 latency of recommender has been above 500 ms for 5 minutes.",
        ),
        -16 * MINUTE,
        Expectation(
            causes=("input-size-surge",),
            fix="scale",
            tempting="promote_model",
            also=("purge_cache",),
        ),
        surges=(Surge("recommender", "payload", 3.0, -20 * MINUTE),),
        # the seed's cache holds rendered responses, whose bloat is the trouble (no hit ratio to
        # lose: the extended profile's recommendation cache would stampede when purged)
        services=(replace(RECOMMENDER_FULL, hit_ratio=0.0), CHECKOUT_FULL, FRONTEND_FULL),
    ),
    ModelPlay(),
)

SLOW_MODEL_VERSION = _with_model(
    shop_scenario(
        "slow-model-version",
        "The weekly CT pipeline promoted version 4 of recommender-ranker, which joins one more "
        "feature-store table per candidate: scoring takes 400 ms longer and it ranks worse. "
        "frontend waits on recommender on every page and pages on latency. Moving champion back "
        "to version 3 on recommender fixes both; restarting frontend does not.",
        FRONTEND_SLOW,
        PAGED_AFTER,
        Expectation(
            causes=("dependency-timeout", "model-regression"),
            fix="promote_model",
            tempting="restart",
            origin="recommender",
        ),
        services=(RECOMMENDER_FULL, CHECKOUT_FULL, FRONTEND_CALLS_RECOMMENDER),
    ),
    ModelPlay(
        extra=(
            SeedVersion(
                -6, -1, 0.62, 0.738, 0.409, note="weekly CT (extra join)", extra_latency_ms=400.0
            ),
        ),
        moves=((-6 * DAY, "3"), (-20 * MINUTE, "4")),
        pipeline_quality=0.62,
    ),
)

MODEL_SCENARIOS: tuple[Scenario, ...] = (
    MODEL_DRIFT,
    MODEL_REGRESSION,
    MODEL_OVERLOAD,
    SLOW_MODEL_VERSION,
)
