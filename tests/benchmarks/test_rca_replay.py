"""Replayed faults (issue 13): a network delay makes everything the target sends late and nothing
else; past the callers' patience it cuts the requests; a saturated service takes longer over its
own steps. The replays are the held-out fault types of the root-cause evaluation, so they must do
what the fault does and no more."""

from __future__ import annotations

import random

from benchmarks.generalization.rca_replay import (
    Fault,
    active_services,
    draw,
    neighbours,
    replay,
    usual_handoff,
)
from knowledge.evaluation.fault_data import ServiceLogs
from knowledge.logs import LogLine

SINCE = 100.0
# gateway calls route, route answers, gateway finishes; 0 ms, 5 ms, 10 ms
USUAL = [("gateway", "INFO query travels"), ("route", "INFO query route"), ("gateway", "INFO done")]


def logs(starts: list[float]) -> ServiceLogs:
    out = ServiceLogs()
    for n, start in enumerate(starts):
        for k, (service, message) in enumerate(USUAL):
            out.lines[service].append(LogLine(start + 0.005 * k, message, "INFO", service))
            out.traces[service].append(f"t{n}")
    return out


def times(found: ServiceLogs, service: str, message: str) -> list[float]:
    return [line.timestamp for line in found.lines[service] if line.message == message]


METRICS = {
    "route": {"PodClientLatencyP90(s)": [(SINCE - 60.0, 0.01), (SINCE + 60.0, 0.01)]},
    "gateway": {"PodClientLatencyP90(s)": [(SINCE + 60.0, 0.02)]},
}


def test_a_delay_makes_the_targets_replies_late_from_the_fault_on_and_nothing_else() -> None:
    before, during = 50.0, 110.0
    current = logs([before, during])
    fault = Fault("delay", "route", 0.5)
    found, metrics = replay(fault, current, METRICS, logs([0.0, 10.0]), SINCE, random.Random(1))
    done = times(found, "gateway", "INFO done")
    assert done[0] == before + 0.010  # before the fault: untouched
    assert 0.010 + 0.375 <= done[1] - during <= 0.010 + 0.625  # the reply came 0.5 s +-25% late
    assert times(found, "route", "INFO query route") == [before + 0.005, during + 0.005]
    assert metrics["route"]["PodClientLatencyP90(s)"] == [
        (SINCE - 60.0, 0.01),
        (SINCE + 60.0, 0.51),
    ]
    assert metrics["gateway"]["PodClientLatencyP90(s)"] == [(SINCE + 60.0, 0.52)]  # its caller
    assert METRICS["route"]["PodClientLatencyP90(s)"][1] == (SINCE + 60.0, 0.01)  # not mutated


def test_a_delay_past_the_callers_patience_cuts_the_request_and_may_log_the_timeout() -> None:
    current = logs([110.0])
    quiet = Fault("timeout", "route", 2.0, caller_wait=0.5)
    found, _ = replay(quiet, current, {}, logs([0.0]), SINCE, random.Random(1))
    assert times(found, "gateway", "INFO done") == []  # the gateway gave up
    assert [line.level for line in found.lines["gateway"]] == ["INFO"]  # and said nothing
    loud = Fault("timeout", "route", 2.0, caller_wait=0.5, logs_error=True)
    found, _ = replay(loud, current, {}, logs([0.0]), SINCE, random.Random(1))
    error = [line for line in found.lines["gateway"] if line.level == "ERROR"]
    assert len(error) == 1 and "Read timed out" in error[0].message
    assert error[0].timestamp == 110.0 + 0.005 + 0.5  # when the gateway stopped waiting
    assert found.traces["gateway"][-1] == "t0"  # in the same request


def test_a_saturated_service_takes_longer_over_its_own_steps() -> None:
    current = logs([110.0])
    found, _ = replay(
        Fault("slow", "route", 5.0), current, {}, logs([0.0]), SINCE, random.Random(1)
    )
    # route's 5 ms to its reply take 25 ms; the gateway's own 5 ms stay
    assert abs(times(found, "gateway", "INFO done")[0] - 110.0 - (0.005 + 5 * 0.005)) < 1e-9


def test_only_services_that_hand_requests_on_after_the_fault_can_be_targets() -> None:
    assert active_services(logs([110.0 + k for k in range(5)]), SINCE) == ["gateway", "route"]
    assert active_services(logs([10.0 + k for k in range(5)]), SINCE) == []


def test_a_delay_on_one_edge_or_on_some_requests_leaves_the_rest_on_time() -> None:
    during = [110.0 + k for k in range(50)]
    current = logs(during)

    def late_replies(fault: Fault) -> int:
        found, _ = replay(fault, current, METRICS, logs([0.0]), SINCE, random.Random(1))
        done = times(found, "gateway", "INFO done")
        return sum(1 for t, start in zip(sorted(done), during, strict=True) if t - start > 0.1)

    assert late_replies(Fault("delay", "route", 0.5)) == 50
    assert late_replies(Fault("delay", "route", 0.5, peer="gateway")) == 50
    assert late_replies(Fault("delay", "route", 0.5, peer="price")) == 0  # another edge
    partial = late_replies(Fault("delay", "route", 0.5, share=0.2))
    assert 3 <= partial <= 20  # about one request in five


def test_a_small_delay_is_drawn_relative_to_the_targets_own_hand_offs() -> None:
    base = logs([0.0, 10.0])
    assert abs(usual_handoff(base, "route") - 0.005) < 1e-9  # route answers in 5 ms
    assert neighbours(base, "route") == {"gateway"}
    sizes = {
        draw("delay", "route", random.Random(seed), usual_handoff(base, "route")).size
        for seed in range(40)
    }
    assert {0.0025, 0.005, 0.01} <= sizes  # half, once and twice its usual hand-off
    assert {0.05, 1.0} <= sizes  # and the absolute sizes as before
