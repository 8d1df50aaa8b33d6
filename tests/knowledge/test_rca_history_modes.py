"""`medic eval rca` reports the history a deployment ranks against, honestly: none (a first
investigation), only the incidents before it in time (what a deployment accumulates), or every
other incident (leave-one-out, later ones too). A service that fails in every incident is only
known to be usual once enough earlier incidents showed it."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.evaluation.fault_data import NezhaIncident
from knowledge.evaluation.rca import LogSpeed, history_ranks
from knowledge.ranking import Features


def incident(k: int, root: str) -> NezhaIncident:
    return NezhaIncident(f"i{k}", 1_800_000_000.0 + 600.0 * k, root, "exception", [], [], Path())


def found(root: str) -> dict[str, Features]:
    """``batch`` logs a burst of errors every time; the root cause a smaller one."""
    services = ["batch", "ledger", "cart", "mail", "auth"]
    errors = {s: 10.0 if s == "batch" else 3.0 if s == root else 0.0 for s in services}
    return {s: Features({"errors": e}, None, (), ()) for s, e in errors.items()}


def test_each_mode_ranks_against_the_history_a_deployment_would_have() -> None:
    roots = ["ledger", "cart", "mail", "auth", "ledger"]
    incidents = [incident(k, r) for k, r in enumerate(roots)]
    shuffled = [4, 0, 3, 1, 2]  # the eval's order is not time order: ranks follow inject_time
    ranks = history_ranks([incidents[k] for k in shuffled], [found(roots[k]) for k in shuffled])
    assert ranks["fresh"] == {f"i{k}": 2 for k in range(5)}  # batch always leads
    # the first three have fewer than three earlier incidents: batch leads; then it is usual
    assert ranks["earlier_only"] == {"i0": 2, "i1": 2, "i2": 2, "i3": 1, "i4": 1}
    assert ranks["leave_one_out"] == {f"i{k}": 1 for k in range(5)}


def test_an_unknown_mode_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown history mode"):
        history_ranks([incident(0, "ledger")], [found("ledger")], modes=["tomorrow"])


def test_the_time_for_logs_reads_as_many_as_a_source_of_that_speed_starts_in_time() -> None:
    """Three readers; a read is started only before ``log_seconds`` have passed, and finishes."""
    names = ["a", "b", "c", "d", "e", "f", "g"]
    quick = LogSpeed(log_seconds=0.3, lines_per_second=1000.0, request_seconds=0.05, readers=3)
    # 0.15 s a read: a, b, c at 0; d, e, f at 0.15; nothing is started at 0.3
    assert quick.reached(names, dict.fromkeys(names, 100)) == names[:6]
    slow = LogSpeed(log_seconds=0.3, lines_per_second=100.0, readers=3)
    assert slow.reached(names, dict.fromkeys(names, 1000)) == names[:3]
    # a quiet service is cheap: the order asked is kept, the reading stops at the deadline
    sizes = {"a": 10_000, "b": 10_000, "c": 0, "d": 0, "e": 0, "f": 0, "g": 0}
    assert slow.reached(names, sizes) == names  # c..g, 0.05 s each, on the third reader


def test_the_time_for_logs_is_emulated_as_a_remote_store_serves_it() -> None:
    """By default as the live fan-out reads a remote store: eight reads at once, each at most
    the lines a source returns for one service (a loud service costs no more than that)."""
    names = [f"s{k}" for k in range(20)]
    remote = LogSpeed(log_seconds=0.3, lines_per_second=2000.0)
    # 0.1 s a read (100 lines): eight at 0, 0.1 and 0.2; three readers would start nine
    assert remote.reached(names, dict.fromkeys(names, 100)) == names
    capped = LogSpeed(log_seconds=0.3, lines_per_second=2000.0, max_lines=100)
    assert capped.reached(names, dict.fromkeys(names, 100_000)) == names
