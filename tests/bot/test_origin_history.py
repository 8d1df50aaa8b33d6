"""The evidence kept between investigations is bounded: the last ``keep`` windows of a
namespace, at most ``NAMESPACES`` namespaces (the least recently investigated forgotten first),
and only the numbers the ranking compares - never the log text the evidence quoted."""

from __future__ import annotations

from bot.diagnosis.origin_history import NAMESPACES, MemoryHistory
from knowledge.ranking import Features


def found(errors: float) -> dict[str, Features]:
    quoted = ("ERROR <!channel> card 4111-1111 declined",)
    return {"ledger": Features({"errors": errors}, 1.0, quoted, quoted)}


def test_the_last_windows_of_each_namespace_are_kept_as_numbers_only() -> None:
    history = MemoryHistory(keep=3)
    for k in range(5):
        history.keep("shop", found(float(k)))
    past = history.past("shop")
    assert [p["ledger"].channels["errors"] for p in past] == [2.0, 3.0, 4.0]
    assert all(p["ledger"].evidence == () and p["ledger"].abnormal_templates == () for p in past)
    assert history.past("elsewhere") == []


def test_the_least_recently_investigated_namespace_is_forgotten_first() -> None:
    history = MemoryHistory(keep=2)
    for k in range(NAMESPACES):
        history.keep(f"ns-{k}", found(1.0))
    history.keep("ns-0", found(2.0))  # investigated again: now the most recent
    history.keep("new", found(1.0))
    assert history.past("ns-1") == []
    assert len(history.past("ns-0")) == 2


def test_origin_history_zero_keeps_nothing() -> None:
    history = MemoryHistory(keep=0)
    history.keep("shop", found(1.0))
    assert history.past("shop") == []


def test_each_window_is_kept_with_the_origin_it_named() -> None:
    history = MemoryHistory(keep=3)
    history.keep("shop", found(1.0), "ledger")
    history.keep("shop", found(2.0))
    history.keep("shop", found(3.0), "not-ranked")  # not among the services kept: no leader
    assert history.recall("shop").leaders == ["ledger", None, None]
