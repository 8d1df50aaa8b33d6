"""A namespace of many services around one victim scenario (issue 14's scale target): the cascade
of ``tools.sim.victims`` (payments' bad release fails checkout's charges and frontend pages on
errors) with healthy neighbours until the namespace holds ``size`` services.

The neighbours are the shop's own profiles under other names, each busier or quieter than the
original and most calling another neighbour (call chains up to three deep, as a trace source
would report them), so every one exports the extended metric set (11 to 16 metrics) and writes
the logs of a real service. They share the namespace and nothing else: the right answer stays
payments, now among ``size`` candidates instead of four. Deterministic: the same ``size`` gives
the same namespace.
"""

from __future__ import annotations

from dataclasses import replace

from tools.sim.scenarios import Scenario, ServiceProfile
from tools.sim.suite import CHECKOUT_FULL, FRONTEND_FULL, RECOMMENDER_FULL
from tools.sim.victims import PAYMENTS, VICTIMS

CASCADE = next(s for s in VICTIMS if s.name == "cascading-failure")
KINDS = (RECOMMENDER_FULL, CHECKOUT_FULL, FRONTEND_FULL, PAYMENTS)
NAMES = (
    "ads", "auth", "billing", "cart", "catalog", "currency", "email", "fraud", "gateway",
    "inventory", "loyalty", "notifications", "orders", "pricing", "profiles", "quotes",
    "ratings", "reviews", "search", "sessions", "shipping", "stock", "tax", "wishlist",
)  # fmt: skip
CHAIN = 3  # each neighbour calls the one three places before it: chains stay short


def neighbours(count: int, taken: frozenset[str] = frozenset()) -> tuple[ServiceProfile, ...]:
    """``count`` healthy services named apart from ``taken``, built from the shop's profiles."""
    names = [n for n in (*NAMES, *(f"{n}-worker" for n in NAMES)) if n not in taken]
    names += [f"svc-{i:03d}" for i in range(max(0, count - len(names)))]
    found: list[ServiceProfile] = []
    for i, name in enumerate(names[:count]):
        kind = KINDS[i % len(KINDS)]
        load = 0.6 + 0.1 * (i % 9)  # 0.6 to 1.4 times the original's traffic
        callee = found[i - CHAIN].name if i >= CHAIN and i % 4 != 0 else kind.dependency
        found.append(
            replace(
                kind,
                name=name,
                request_rate=kind.request_rate * load,
                base_latency_ms=kind.base_latency_ms * (0.7 + 0.15 * (i % 5)),
                dependency=callee,
                template_labels={**kind.template_labels, "app": name},
            )
        )
    return tuple(found)


def wide_cascade(size: int = 50) -> Scenario:
    """The cascading failure in a namespace of ``size`` services (at least its own four)."""
    own = frozenset(p.name for p in CASCADE.services)
    more = neighbours(max(0, size - len(own)), own)
    return replace(CASCADE, name=f"cascading-failure-x{size}", services=(*CASCADE.services, *more))
