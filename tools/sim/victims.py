"""Scenarios where the alerting service is a victim (issue 14): the fault starts in a service it
calls and reaches it through the call (a slow dependency, a saturated upstream, a crash in a
dependency, a cascade across three services), and one where the alerting service itself is the
origin, so that "look elsewhere" is never the right answer by default.

The shop's frontend calls checkout on every request here (and, in the cascade, checkout calls
payments): the simulator gives a caller its callee's own latency and errors
(``ServiceProfile.dependency`` naming a simulated service). Each expectation names the origin;
the fix acts there, the tempting remedy on the alerting service.
"""

from __future__ import annotations

from dataclasses import replace

from tools.sim.scenarios import (
    Effects,
    Expectation,
    Fault,
    LogPattern,
    Release,
    Scenario,
    ServiceProfile,
    Surge,
    above,
    const,
)
from tools.sim.suite import (
    CHECKOUT_FULL,
    FRONTEND_FULL,
    GC_PAUSE,
    MINUTE,
    RECOMMENDER_FULL,
    shop_alert,
    shop_scenario,
)

FRONTEND_CALLS_CHECKOUT = replace(
    FRONTEND_FULL,
    dependency="checkout",
    dependency_latency_ms=245.0,  # checkout's p95 at rest: the call costs nothing extra then
    logs=(
        *FRONTEND_FULL.logs,
        LogPattern(
            "WARN",
            "checkout PlaceOrder took {up_ms} ms (budget 500 ms)",
            above("upstream", 1.6, 0.3),
        ),
        LogPattern(
            "ERROR",
            "checkout PlaceOrder failed for order {order}: 503 Service Unavailable",
            above("upstream_errors", 0.01, 5.0),
        ),
    ),
)

PAYMENTS = ServiceProfile(
    name="payments",
    replicas=3,
    request_rate=35.0,
    payload_bytes=700.0,
    replica_capacity=40_000.0,
    base_latency_ms=110.0,
    cache_bytes=0.2 * 2**30,
    cache_limit_bytes=1.0 * 2**30,
    log_lines_per_minute=15,
    extended=True,
    memory_base=0.4,
    memory_per_load=0.2,
    template_labels={"app": "payments"},
    logs=(
        LogPattern("INFO", "Charge {order} captured: {amount} EUR in {ms} ms", const(0.9)),
        LogPattern("INFO", "Refund queue drained: {n} refunds", const(0.1)),
        LogPattern(
            "ERROR",
            "panic: runtime error: index out of range [{n}] in splitTender",
            above("crash", 0.0, 2.0),
        ),
        GC_PAUSE,
    ),
)

CHECKOUT_CALLS_PAYMENTS = replace(
    CHECKOUT_FULL,
    dependency="payments",
    dependency_latency_ms=111.0,  # payments' p95 at rest
    logs=(
        *CHECKOUT_FULL.logs,
        LogPattern(
            "ERROR",
            "payments Charge failed for order {order}: 500 Internal Server Error",
            above("upstream_errors", 0.01, 5.0),
        ),
    ),
)

SHOP = (RECOMMENDER_FULL, CHECKOUT_FULL, FRONTEND_CALLS_CHECKOUT)
PAGED_AFTER = -15 * MINUTE  # the alert's time, relative to the fault's start ~20 minutes before
CASCADE_SHOP = (RECOMMENDER_FULL, PAYMENTS, CHECKOUT_CALLS_PAYMENTS, FRONTEND_CALLS_CHECKOUT)

FRONTEND_SLOW = shop_alert(
    "frontend",
    "FrontendLatencyHigh",
    "frontend p95 latency above 300 ms in eu-west-1",
    "p95 latency of frontend has been above 300 ms for 5 minutes.",
)
FRONTEND_FAILING = shop_alert(
    "frontend",
    "FrontendErrorRateHigh",
    "frontend 5xx ratio above 2% in eu-west-1",
    "frontend is failing checkout requests.",
)


VICTIMS: tuple[Scenario, ...] = (
    shop_scenario(
        "slow-dependency",
        "A network delay of 600 ms lands on checkout's pods (a chaos experiment left running); "
        "every checkout call from frontend waits for it and frontend pages on latency. checkout "
        "logs no error. A rollout restart of checkout gets pods without the delay; more frontend "
        "replicas wait just the same.",
        FRONTEND_SLOW,
        PAGED_AFTER,
        Expectation(
            causes=("dependency-timeout",), fix="restart", tempting="scale", origin="checkout"
        ),
        services=SHOP,
        faults=(Fault("network_delay", "checkout", -20 * MINUTE, size=600.0),),
    ),
    shop_scenario(
        "saturated-upstream",
        "A partner's batch integration quadruples the orders sent straight to checkout; its "
        "replicas saturate and slow down, and frontend, which calls checkout on every page, pages "
        "on latency. More checkout replicas fix it; restarting frontend changes nothing.",
        FRONTEND_SLOW,
        PAGED_AFTER,
        Expectation(
            causes=("dependency-timeout", "traffic-surge", "cpu-saturation"),
            fix="scale",
            tempting="restart",
            origin="checkout",
        ),
        services=SHOP,
        surges=(Surge("checkout", "rate", 4.0, -20 * MINUTE),),
    ),
    shop_scenario(
        "dependency-bad-rollout",
        "Release 1.44.0 of checkout panics on a quarter of the orders; frontend returns the "
        "failures to its users and pages on errors. Rolling checkout back fixes it; restarting "
        "frontend does not.",
        FRONTEND_FAILING,
        PAGED_AFTER,
        Expectation(
            causes=("dependency-timeout", "bad-rollout", "crash-loop"),
            fix="rollback",
            tempting="restart",
            origin="checkout",
        ),
        services=SHOP,
        releases=(
            Release(
                "checkout",
                -19 * MINUTE,
                image="registry.example/shop/checkout:1.44.0",
                change_cause="release 1.44.0: split payments",
                effects=Effects(crash=0.3),
            ),
        ),
    ),
    shop_scenario(
        "cascading-failure",
        "Release 2.3.0 of payments panics on split tenders; checkout's charges fail, so do its "
        "orders, and frontend pages on errors: three services, one origin. Rolling payments back "
        "fixes all three; restarting frontend or checkout does not.",
        FRONTEND_FAILING,
        PAGED_AFTER,
        Expectation(
            causes=("dependency-timeout", "bad-rollout", "crash-loop"),
            fix="rollback",
            tempting="restart",
            origin="payments",
        ),
        services=CASCADE_SHOP,
        releases=(
            Release(
                "payments",
                -21 * MINUTE,
                image="registry.example/shop/payments:2.3.0",
                change_cause="release 2.3.0: split tenders",
                effects=Effects(crash=0.3),
            ),
        ),
    ),
    shop_scenario(
        "frontend-own-regression",
        "Release 1.43.0 of frontend renders the product page with a synchronous call to a new "
        "reviews widget: 350 ms more per request. checkout is healthy. Rolling frontend back "
        "fixes it; more replicas do not make a request faster.",
        FRONTEND_SLOW,
        PAGED_AFTER,
        Expectation(causes=("bad-rollout",), fix="rollback", tempting="scale"),
        services=SHOP,
        releases=(
            Release(
                "frontend",
                -19 * MINUTE,
                image="registry.example/shop/frontend:1.43.0",
                change_cause="release 1.43.0: reviews widget",
                effects=Effects(extra_latency_ms=350.0),
            ),
        ),
    ),
)
