"""The scenario suite: incidents of the simulated shop, each with the remediation that fixes it and
a wrong one that is tempting to pick. ``medic eval scenarios`` runs them all with the demo's and
the victims' (``tools.sim.SCENARIOS``, varied by ``tools.evaluation.vary``); the demo, ``medic
serve`` on the simulated cluster and the tests play them too, which is why the suite lives with
the simulator and not in ``tools/evaluation``.

The services export what real ones do (memory, restarts, throttling, disk, connection pool,
dependency latency, model quality), whatever the scenario; only the failure differs. (Just over
400 lines: most of it is the twelve scenarios' data, kept in one place so they can be compared.)
"""

from __future__ import annotations

from dataclasses import replace

from tools.registry.base import ALIAS_LABEL, MODEL_LABEL
from tools.sim.scenarios import (
    CHECKOUT,
    FRONTEND,
    RECOMMENDER,
    Effects,
    Expectation,
    Fault,
    LogPattern,
    Release,
    Scenario,
    ServiceProfile,
    Surge,
    above,
)

MINUTE = 60.0
GC_PAUSE = LogPattern(
    "WARN",
    "GC pause {gc_ms} ms with heap at {mem_pct}% of the memory limit",
    above("mem", 0.8, 2.0),
)

RECOMMENDER_FULL = replace(
    RECOMMENDER,
    extended=True,
    memory_base=0.5,
    memory_per_load=0.15,
    dependency="feature-store",
    dependency_latency_ms=45.0,
    hit_ratio=0.92,
    ctr=0.041,
    # the registered model it serves and the alias it follows (tools/sim/models.py)
    template_labels={
        "app": "recommender",
        "model-version": "recsys-2026-11-20",
        MODEL_LABEL: "recommender-ranker",
        ALIAS_LABEL: "champion",
    },
    logs=(
        *RECOMMENDER.logs,
        LogPattern(
            "WARN",
            "Cache miss for {n} concurrent requests on recs:{uid}; recomputing from feature-store",
            above("miss", 0.3, 1.0),
        ),
        LogPattern(
            "WARN",
            "feature-store GetFeatures took {up_ms} ms (budget 300 ms)",
            above("upstream", 3.0, 0.05),
        ),
        LogPattern(
            "ERROR",
            "Timed out after 800 ms calling feature-store GetFeatures for user {uid}",
            above("upstream", 8.0, 0.05),
        ),
        LogPattern(
            "WARN",
            "Inputs outside the training range of model {model} in {drift_pct}% of requests "
            "(feature basket_value)",
            above("drift", 0.1, 1.0),
        ),
        LogPattern(
            "WARN",
            "Re-ranking {n} candidates with the diversity service took {ms} ms (budget 150 ms)",
            above("slow", 0.0, 0.3),
        ),
        LogPattern(
            "ERROR",
            "Failed to write feature snapshot to /scratch/snapshots/{order}.parquet: "
            "No space left on device",
            above("disk", 0.97, 30.0),
        ),
        GC_PAUSE,
    ),
)

CHECKOUT_FULL = replace(
    CHECKOUT,
    extended=True,
    memory_base=0.4,
    memory_per_load=0.2,
    dependency="payment-provider",
    dependency_latency_ms=120.0,
    pool_size=50,
    pool_hold_seconds=1.5,
    template_labels={"app": "checkout"},
    logs=(
        *CHECKOUT.logs,
        LogPattern(
            "ERROR",
            "panic: runtime error: invalid memory address or nil pointer dereference "
            "[signal SIGSEGV] in applyCoupon",
            above("crash", 0.0, 2.0),
        ),
        LogPattern(
            "ERROR",
            "Timeout acquiring connection from pool orders-db after 2000 ms "
            "(all connections in use, {n} waiting)",
            above("pool", 1.0, 0.5),
        ),
        LogPattern(
            "ERROR",
            "Payment provider call failed for order {order}: x509: certificate has expired or is "
            "not yet valid",
            above("tls", 0.0, 1.5),
        ),
        LogPattern(
            "ERROR",
            "Payment provider call for order {order} timed out after 5000 ms",
            above("upstream", 8.0, 0.05),
        ),
        GC_PAUSE,
    ),
)

FRONTEND_FULL = replace(
    FRONTEND,
    extended=True,
    memory_base=0.35,
    memory_per_load=0.6,
    hit_ratio=0.85,
    template_labels={"app": "frontend"},
    logs=(
        *FRONTEND.logs,
        LogPattern("WARN", "Slow render of /product/{order}: {ms} ms", above("lat", 1.5, 0.2)),
        LogPattern(
            "ERROR",
            "Thumbnail render failed: write /tmp/thumbs/{order}.webp: no space left on device",
            above("disk", 0.97, 30.0),
        ),
        LogPattern(
            "WARN",
            "Heap at {mem_pct}% of the memory limit with {n} requests in flight",
            above("mem", 0.8, 2.0),
        ),
        LogPattern(
            "ERROR",
            "upstream connect error or disconnect/reset before headers. reset reason: "
            "connection termination",
            above("oom", 0.0, 1.0),
        ),
    ),
)

SERVICES: tuple[ServiceProfile, ...] = (RECOMMENDER_FULL, CHECKOUT_FULL, FRONTEND_FULL)


def shop_alert(
    service: str, name: str, summary: str, description: str
) -> dict[str, dict[str, str]]:
    return {
        "labels": {
            "alertname": name,
            "service": service,
            "namespace": "shop",
            "region": "eu-west-1",
            "severity": "page",
        },
        "annotations": {"summary": summary, "description": description},
    }


def shop_scenario(
    name: str,
    description: str,
    alert: dict[str, dict[str, str]],
    alert_offset: float,
    expected: Expectation,
    *,
    surges: tuple[Surge, ...] = (),
    releases: tuple[Release, ...] = (),
    faults: tuple[Fault, ...] = (),
    services: tuple[ServiceProfile, ...] = SERVICES,
) -> Scenario:
    """One incident of the shop in eu-west-1 (``services``: the suite's three by default)."""
    return Scenario(
        name=name,
        description=description,
        namespace="shop",
        region="eu-west-1",
        services=services,
        surges=surges,
        alert_labels=alert["labels"],
        alert_annotations=alert["annotations"],
        alert_offset=alert_offset,
        releases=releases,
        faults=faults,
        expected=expected,
    )


SUITE: tuple[Scenario, ...] = (
    shop_scenario(
        "oom-after-traffic-surge",
        "A flash sale triples frontend traffic; requests in flight grow the pods' heaps past "
        "their memory limit and the kernel OOM-kills them. More replicas spread the requests; "
        "restarting only brings the pods back into the same load.",
        shop_alert(
            "frontend",
            "FrontendErrorRateHigh",
            "frontend 5xx ratio above 2% in eu-west-1",
            "frontend pods are restarting and returning 502s.",
        ),
        -17 * MINUTE,
        Expectation(causes=("traffic-surge",), fix="scale", tempting="restart"),
        surges=(Surge("frontend", "rate", 2.6, -22 * MINUTE),),
    ),
    shop_scenario(
        "crash-loop-after-bad-rollout",
        "Release 1.43.0 of checkout panics on orders with stacked coupons; the new pods crash "
        "and restart. Restarting brings back the same release; rolling back fixes it.",
        shop_alert(
            "checkout",
            "CheckoutErrorRateHigh",
            "checkout error ratio above 5% in eu-west-1",
            "checkout is failing orders; pods are restarting.",
        ),
        -16 * MINUTE,
        Expectation(causes=("bad-rollout",), fix="rollback", tempting="restart"),
        releases=(
            Release(
                "checkout",
                -19 * MINUTE,
                image="registry.example/shop/checkout:1.43.0",
                change_cause="release 1.43.0: coupon stacking",
                effects=Effects(crash=0.35),
            ),
        ),
    ),
    shop_scenario(
        "cache-stampede",
        "Recommendation cache entries written during a bulk warm-up expire together; every miss "
        "recomputes from the feature store, the replicas saturate and misses time out before "
        "they are written back. More replicas let the cache refill; purging it starts over.",
        shop_alert(
            "recommender",
            "RecommenderLatencyHigh",
            "recommender p95 latency above 500 ms in eu-west-1",
            "p95 latency of recommender has been above 500 ms for 5 minutes.",
        ),
        -17 * MINUTE,
        Expectation(causes=("cache-stampede",), fix="scale", tempting="purge_cache"),
        faults=(Fault("stampede", "recommender", -21 * MINUTE, size=0.12),),
    ),
    shop_scenario(
        "noisy-neighbour",
        "A batch job lands on the node that runs two frontend pods and takes its CPU; those pods "
        "are throttled and p95 latency follows them. A rollout restart lets the scheduler place "
        "the pods elsewhere; more replicas leave the two slow ones serving.",
        shop_alert(
            "frontend",
            "FrontendLatencyHigh",
            "frontend p95 latency above 300 ms in eu-west-1",
            "p95 latency of frontend has been above 300 ms for 5 minutes.",
        ),
        -17 * MINUTE,
        Expectation(causes=("noisy-neighbour",), fix="restart", tempting="scale"),
        releases=(
            Release(
                "frontend",
                -95 * MINUTE,
                image="registry.example/shop/frontend:1.42.1",
                change_cause="copy changes on the cart page",
            ),
        ),
        faults=(Fault("noisy_neighbour", "frontend", -20 * MINUTE, size=2),),
    ),
    shop_scenario(
        "pool-exhaustion-after-config-change",
        "A config change lowers checkout's database pool from 50 to 5 connections per pod; "
        "requests queue for a connection and time out. Rolling the config back fixes it; a "
        "restart keeps the same config, and twice the replicas still have too few connections.",
        shop_alert(
            "checkout",
            "CheckoutLatencyHigh",
            "checkout p95 latency above 1 s in eu-west-1",
            "p95 latency of checkout has been above 1 s for 5 minutes.",
        ),
        -15 * MINUTE,
        Expectation(
            causes=("config-change", "connection-pool-exhaustion"),
            fix="rollback",
            tempting="restart",
        ),
        releases=(
            Release(
                "checkout",
                -18 * MINUTE,
                annotations={"checksum/config": "9f3c41d2"},
                change_cause="config: DB_POOL_MAX 50 -> 5 to relieve orders-db",
                effects=Effects(pool_size=5),
            ),
        ),
    ),
    shop_scenario(
        "disk-filling",
        "A failing clean-up leaves thumbnails in frontend's scratch emptyDir; the disk fills and "
        "renders fail. A rollout restart gives every pod an empty scratch disk; new replicas "
        "leave the full ones failing.",
        shop_alert(
            "frontend",
            "FrontendErrorRateHigh",
            "frontend 5xx ratio above 2% in eu-west-1",
            "frontend is failing product page renders.",
        ),
        -12 * MINUTE,
        Expectation(causes=("disk-full",), fix="restart", tempting="scale"),
        faults=(Fault("disk_fill", "frontend", -26 * MINUTE, size=3.0),),
    ),
    shop_scenario(
        "certificate-expiry",
        "checkout's client certificate for the payment provider expired; cert-manager renewed "
        "the Secret yesterday but the pods load it only at start-up. Payments fail, retries burn "
        "CPU. A rollout restart loads the renewed certificate; new replicas leave the old pods "
        "failing.",
        shop_alert(
            "checkout",
            "CheckoutErrorRateHigh",
            "checkout error ratio above 5% in eu-west-1",
            "checkout payments are failing.",
        ),
        -16 * MINUTE,
        Expectation(causes=("cert-expiry",), fix="restart", tempting="scale"),
        faults=(Fault("cert_expiry", "checkout", -19 * MINUTE),),
    ),
    shop_scenario(
        "dependency-timeout",
        "The managed feature store answers twenty times slower; recommender waits for it and "
        "times out. Nothing on recommender fixes it; more replicas only add calls to the "
        "struggling dependency.",
        shop_alert(
            "recommender",
            "RecommenderLatencyHigh",
            "recommender p95 latency above 500 ms in eu-west-1",
            "p95 latency of recommender has been above 500 ms for 5 minutes.",
        ),
        -16 * MINUTE,
        Expectation(causes=("dependency-timeout",), fix=None, tempting="scale"),
        faults=(Fault("slow_dependency", "recommender", -20 * MINUTE, size=20.0),),
    ),
    shop_scenario(
        "model-drift-after-retrain",
        "The nightly retrain shipped model recsys-2026-11-27, trained on data where basket_value "
        "was in cents; live inputs fall outside its training range and click-through drops. "
        "Rolling back restores the previous model; a restart reloads the same one.",
        shop_alert(
            "recommender",
            "RecommenderClickThroughLow",
            "recommender click-through rate 40% below normal in eu-west-1",
            "click-through rate of recommendations dropped below 2.5%.",
        ),
        -14 * MINUTE,
        Expectation(causes=("model-change", "model-drift"), fix="rollback", tempting="restart"),
        releases=(
            Release(
                "recommender",
                -20 * MINUTE,
                labels={"model-version": "recsys-2026-11-27"},
                change_cause="nightly retrain: model recsys-2026-11-27",
                effects=Effects(drift=0.45),
            ),
        ),
    ),
    shop_scenario(
        "memory-leak",
        "A new client calls checkout's order export, whose buffers are never released; heaps "
        "grow until garbage collection stalls requests and pods are OOM-killed. A rollout restart "
        "empties the heaps and buys hours; new replicas leave the bloated pods serving.",
        shop_alert(
            "checkout",
            "CheckoutLatencyHigh",
            "checkout p95 latency above 1 s in eu-west-1",
            "p95 latency of checkout has been above 1 s for 5 minutes.",
        ),
        -10 * MINUTE,
        Expectation(causes=("memory-leak",), fix="restart", tempting="scale"),
        faults=(Fault("leak", "checkout", -24 * MINUTE, size=2.0),),
    ),
    shop_scenario(
        "latency-regression-after-rollout",
        "Release 1.43.0 of recommender re-ranks every response with a synchronous call to a new "
        "diversity service: each request takes 400 ms longer and a little more CPU. Rolling back "
        "fixes it; more replicas do not make a request faster.",
        shop_alert(
            "recommender",
            "RecommenderLatencyHigh",
            "recommender p95 latency above 500 ms in eu-west-1",
            "p95 latency of recommender has been above 500 ms for 5 minutes.",
        ),
        -17 * MINUTE,
        Expectation(causes=("bad-rollout",), fix="rollback", tempting="scale"),
        releases=(
            Release(
                "recommender",
                -21 * MINUTE,
                image="registry.example/shop/recommender:1.43.0",
                change_cause="release 1.43.0: diversity re-ranking",
                effects=Effects(extra_latency_ms=420.0, cpu_cost=1.35),
            ),
        ),
    ),
)
