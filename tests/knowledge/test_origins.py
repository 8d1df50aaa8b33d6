"""The one root-cause ranker (``knowledge.origins``): the call-path rule moves the lead from a
victim to the service it calls that turned abnormal first, and only then; the screen picks whose
logs to read from the metrics alone."""

from __future__ import annotations

from knowledge.origins import LATER, metrics_only, rank_origins, screen
from knowledge.ranking import Features

T0 = 1_800_000_000.0


def service(
    saturation: float = 0.0,
    latency: float = 0.0,
    began: float | None = T0,
    errors: float = 0.0,
) -> Features:
    """A service's evidence: metric channels are judged against their own past (0 is usual
    without history), so 5.0 is clearly abnormal (e-fold) and 0.5 is not."""
    channels = {"saturation": saturation, "latency": latency, "errors": errors}
    return Features(channels, began, ("evidence",), ())


def names(current: dict[str, Features], graph: dict[str, list[str]] | None = None) -> list[str]:
    return [o.service for o in rank_origins(current, graph=graph)]


FRONTEND_CALLS_CHECKOUT = {"frontend": ["checkout"]}


def victim_and(checkout: Features) -> dict[str, Features]:
    """frontend pages loudly (its latency far out of band); checkout, which it calls, less so."""
    return {
        "frontend": service(latency=50.0, began=T0 + 240),
        "checkout": checkout,
        "recommender": service(saturation=0.5, began=T0 + 100),
    }


def test_without_a_graph_the_evidence_order_stands() -> None:
    current = victim_and(service(saturation=5.0, began=T0))
    assert names(current) == ["frontend", "checkout", "recommender"]
    assert names(current, graph={}) == ["frontend", "checkout", "recommender"]
    assert all(o.downstream_of is None for o in rank_origins(current))


def test_the_lead_moves_to_an_abnormal_callee_that_turned_first() -> None:
    ranked = rank_origins(
        victim_and(service(saturation=5.0, began=T0)), graph=FRONTEND_CALLS_CHECKOUT
    )
    assert [o.service for o in ranked] == ["checkout", "frontend", "recommender"]
    origin, frontend, recommender = ranked
    assert origin.clear and origin.began and origin.downstream_of is None
    assert frontend.downstream_of == "checkout"
    assert recommender.downstream_of is None  # not on the call path


def test_a_callee_seen_within_a_scrape_of_its_caller_still_counts() -> None:
    """'No later' allows for ``LATER`` seconds: metrics are sampled, a victim can show first."""
    checkout = service(saturation=5.0, began=T0 + 240 + LATER / 2)
    assert names(victim_and(checkout), FRONTEND_CALLS_CHECKOUT)[0] == "checkout"


def test_not_to_a_callee_that_turned_abnormal_later() -> None:
    checkout = service(saturation=5.0, began=T0 + 240 + 2 * LATER)
    ranked = rank_origins(victim_and(checkout), graph=FRONTEND_CALLS_CHECKOUT)
    assert ranked[0].service == "frontend"
    assert all(o.downstream_of is None for o in ranked)


def test_not_to_a_callee_with_no_known_onset() -> None:
    """A score alone can come from a metric that barely moved at no particular time."""
    checkout = service(saturation=5.0, began=None)
    assert names(victim_and(checkout), FRONTEND_CALLS_CHECKOUT)[0] == "frontend"


def test_not_to_a_callee_that_is_not_clearly_abnormal() -> None:
    checkout = service(saturation=0.5, began=T0)
    assert names(victim_and(checkout), FRONTEND_CALLS_CHECKOUT)[0] == "frontend"


def test_the_path_is_followed_to_the_deepest_origin_and_marks_every_service_passed() -> None:
    current = {
        "frontend": service(latency=50.0, began=T0 + 240),
        "checkout": service(latency=20.0, began=T0 + 120),
        "payments": service(saturation=5.0, began=T0),
    }
    graph = {"frontend": ["checkout"], "checkout": ["payments"]}
    ranked = rank_origins(current, graph=graph)
    assert [o.service for o in ranked] == ["payments", "frontend", "checkout"]
    assert {o.service: o.downstream_of for o in ranked} == {
        "payments": None,
        "frontend": "payments",
        "checkout": "payments",
    }


def test_calls_in_a_cycle_end() -> None:
    current = {
        "frontend": service(latency=50.0, began=T0 + 240),
        "checkout": service(latency=20.0, began=T0 + 120),
        "payments": service(saturation=5.0, began=T0),
    }
    graph = {
        "frontend": ["checkout"],
        "checkout": ["payments", "frontend"],
        "payments": ["checkout", "frontend"],
    }
    assert names(current, graph)[0] == "payments"
    # and a cycle with nothing to move to ends where it started
    looping = {"frontend": ["checkout"], "checkout": ["frontend"]}
    quiet = victim_and(service(saturation=5.0, began=None))
    assert names(quiet, looping)[0] == "frontend"


def test_nothing_abnormal_nothing_moves() -> None:
    current = {"frontend": service(began=None), "checkout": service(began=None)}
    ranked = rank_origins(current, graph={"frontend": ["checkout"], "checkout": ["frontend"]})
    assert all(o.score == 0 for o in (r.cause for r in ranked))
    assert all(o.downstream_of is None for o in ranked)


def test_the_screen_reads_the_strongest_on_metrics_and_the_alerting_service() -> None:
    current = {
        "cart": service(errors=40.0),  # log evidence: the screen cannot see it
        "checkout": service(saturation=5.0),
        "frontend": service(),
        "payments": service(latency=2.0),
    }
    assert screen(current, keep=1) == ["checkout"]
    assert screen(current, keep=2) == ["checkout", "payments"]
    assert screen(current, keep=1, always={"frontend"}) == ["frontend", "checkout"]
    assert screen(current, keep=0, always={"frontend"}) == ["frontend"]


def test_a_service_s_recent_faults_are_not_its_yardstick() -> None:
    """price was quiet in three investigations and the origin of the next four: against every
    window its fifth fault is usual and cart's CPU out of band (a metric alone) leads; with the
    leaders kept, price is compared with its quiet windows and leads again."""
    quiet, failing = service(errors=0.0), service(errors=40.0)
    history = [
        *[{"price": quiet, "cart": quiet} for _ in range(3)],
        *[{"price": failing, "cart": quiet} for _ in range(4)],
    ]
    leaders: list[str | None] = [None, None, None, *["price"] * 4]
    now = {"price": failing, "cart": service(saturation=5.0)}
    assert rank_origins(now, history)[0].service == "cart"  # what led before
    assert rank_origins(now, history, leaders=leaders)[0].service == "price"


def test_a_service_that_led_every_window_yields_to_one_that_newly_logs_errors() -> None:
    """batch led all three earlier investigations (a job that always fails, louder than the
    rest); ledger now logs new errors: batch's failures are its usual and ledger leads."""
    batch, quiet = service(errors=40.0, saturation=5.0), service()
    history = [{"batch": batch, "ledger": quiet} for _ in range(3)]
    now = {"batch": batch, "ledger": service(errors=8.0)}
    ranked = rank_origins(now, history, leaders=["batch", "batch", "batch"])
    assert ranked[0].service == "ledger"
    assert ranked[0].beyond_metrics


def test_a_fault_that_recurs_with_nothing_else_abnormal_still_leads() -> None:
    """payments led every earlier investigation and now fails the same way, beside one service
    whose CPU is out of band (what chance gives some service among many): against its own
    faults payments looks usual, so it is compared without its led windows - and leads, as it
    did the first time."""
    failing, quiet = service(errors=40.0), service()
    history = [{"payments": failing, "cart": quiet, "ads": quiet} for _ in range(3)]
    now = {"payments": failing, "cart": quiet, "ads": service(saturation=5.0)}
    assert rank_origins(now, history)[0].service == "ads"  # before: payments faded
    assert rank_origins(now, history, leaders=["payments"] * 3)[0].service == "payments"


def test_a_channel_a_window_did_not_read_is_unknown_not_zero() -> None:
    """payments led three investigations; mail's and cart's logs were read in none of them
    (their windows hold metrics only). Now both are read and log their retries: against no
    window of their own they are judged against each other, as on a first investigation, not
    against zeros nobody measured - and payments, failing again, is still named first."""
    unread = Features({"saturation": 0.0}, None, (), ())
    history = [{"payments": service(errors=40.0), "mail": unread, "cart": unread}] * 3
    now = {
        "payments": service(errors=40.0),
        "mail": service(errors=3.0),
        "cart": service(errors=3.0),
    }
    ranked = rank_origins(now, history, leaders=["payments"] * 3)
    assert ranked[0].service == "payments"
    assert metrics_only(service(saturation=2.0, errors=5.0)).channels == {
        "saturation": 2.0,
        "latency": 0.0,
    }
