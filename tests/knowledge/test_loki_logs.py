"""Loki as a log source, against a loopback server answering Loki's documented query_range API
(tests/services/log_stores.py): the selector from the label mapping, nanosecond paging past
Loki's per-query cap without losing or repeating a line, the bounds, and every way it can fail
as one line."""

from __future__ import annotations

import json
import time

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from bot.wiring.sources import log_source
from knowledge.errors import LogSourceError
from knowledge.logs import InMemoryLogSource, LogSource
from tests.services.binaries import free_port
from tests.services.log_stores import FakeLoki, LokiEntry, serving

NS = 1_000_000_000
T0 = 1_800_000_000  # 2027-01-15T08:00:00Z
OWN = InMemoryLogSource(lambda *_: [])


def labels(service: str = "checkout", pod: str = "checkout-7f9c-abcde") -> dict[str, str]:
    return {"namespace": "shop", "app": service, "pod": pod, "job": "shop/checkout"}


def loki(url: str, max_lines: int = 50_000, **logs: object) -> LogSource:
    settings = load_settings(logs={"source": "loki", "url": url, **logs})
    return log_source(settings.logs, max_lines, OWN)


def test_a_services_lines_come_from_its_streams_in_order_with_level_and_pod() -> None:
    fake = FakeLoki(
        entries=[
            LokiEntry(T0 * NS + 5, labels(), '{"level": "error", "msg": "payment declined"}'),
            LokiEntry(T0 * NS + 1, labels(pod="checkout-7f9c-fghij"), "WARN slow upstream"),
            LokiEntry(T0 * NS + 2, labels(service="frontend"), "INFO not this service"),
            LokiEntry((T0 - 7200) * NS, labels(), "INFO before the window"),
        ],
        tenant="team-a",
        token="s3cret",
    )
    with serving(fake) as url:
        lines = loki(url, tenant="team-a", token="s3cret").fetch(
            "shop", "checkout", T0 - 60, T0 + 60
        )
    assert [(ln.message, ln.level, ln.source) for ln in lines] == [
        ("slow upstream", "WARN", "checkout-7f9c-fghij"),
        ("payment declined", "ERROR", "checkout-7f9c-abcde"),
    ]
    assert lines[1].timestamp == pytest.approx(T0 + 5e-9)
    asked = fake.requests[0]
    assert asked["direction"] == "forward"
    assert asked["query"] == '{namespace="shop", app="checkout"}'
    assert int(asked["start"]) >= (T0 - 60) * NS and int(asked["end"]) <= (T0 + 60) * NS
    assert fake.headers[0]["X-Scope-OrgID"] == "team-a"


def test_a_differently_named_service_label_is_mapped() -> None:
    fake = FakeLoki(
        entries=[LokiEntry(T0 * NS, {"k8s_ns": "shop", "container": "checkout"}, "ERROR boom")]
    )
    with serving(fake) as url:
        source = loki(url, labels={"namespace": "k8s_ns", "service": "container"})
        lines = source.fetch("shop", "checkout", T0 - 60, T0 + 60)
    assert [ln.message for ln in lines] == ["boom"]
    assert fake.requests[0]["query"] == '{k8s_ns="shop", container="checkout"}'


def test_paging_past_lokis_cap_reads_every_line_once_even_many_at_one_nanosecond() -> None:
    """Loki answers at most max_entries lines per query: a window of 980 lines, 80 of them at
    one nanosecond across a page boundary, is read whole, each line once."""
    entries = [LokiEntry(T0 * NS + k * 1000, labels(), f"INFO line {k}") for k in range(900)]
    entries += [LokiEntry(T0 * NS + 95_500, labels(), f"INFO same instant {k}") for k in range(80)]
    fake = FakeLoki(entries=entries, max_entries=100)
    with serving(fake) as url:
        source = loki(url, page_lines=100, slices=1)
        lines = source.fetch("shop", "checkout", T0, T0 + 10)
    assert len(lines) == 980
    assert len({ln.message for ln in lines}) == 980
    assert [ln.timestamp for ln in lines] == sorted(ln.timestamp for ln in lines)
    assert len(fake.requests) >= 10  # 980 lines at 100 a page
    assert all(int(r["limit"]) <= 100 for r in fake.requests)


def test_at_most_max_lines_are_read_spread_over_the_whole_window() -> None:
    entries = [LokiEntry((T0 + s) * NS, labels(), f"INFO tick {s}") for s in range(0, 3600, 1)]
    fake = FakeLoki(entries=entries)
    with serving(fake) as url:
        lines = loki(url, max_lines=400, slices=8).fetch("shop", "checkout", T0, T0 + 3600)
    assert len(lines) <= 400
    assert min(ln.timestamp for ln in lines) < T0 + 600  # the baseline
    assert max(ln.timestamp for ln in lines) > T0 + 3000  # and the minutes before the alert
    assert len(fake.requests) == 8


def test_a_hostile_service_name_cannot_change_the_selector() -> None:
    fake = FakeLoki(entries=[LokiEntry(T0 * NS, labels(service="x"), "INFO someone else's")])
    with serving(fake) as url:
        lines = loki(url).fetch("shop", 'checkout"} or {app=~".+', T0 - 60, T0 + 60)
    assert lines == []
    assert fake.requests[0]["query"] == r'{namespace="shop", app="checkout\"} or {app=~\".+"}'


def test_lines_with_absurd_timestamps_or_huge_text_are_dropped_or_cut() -> None:
    huge = "ERROR " + "x" * 100_000
    fake = FakeLoki(entries=[LokiEntry(T0 * NS, labels(), huge)])
    with serving(fake) as url:
        lines = loki(url).fetch("shop", "checkout", T0 - 60, T0 + 60)
    assert len(lines) == 1 and len(lines[0].message) < 5000


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("error", "500 rpc error: code = Unavailable desc = <all ingesters down>"),
        ("garbage", "expected streams"),
        ("huge", "over 1,024 bytes"),
        ("nested", "not JSON"),
    ],
)
def test_a_store_that_fails_or_answers_garbage_is_one_line(mode: str, says: str) -> None:
    fake = FakeLoki(entries=[LokiEntry(T0 * NS, labels(), "INFO x")], mode=mode)
    with serving(fake) as url, pytest.raises(LogSourceError) as caught:
        loki(url, max_response_bytes=1024 if mode == "huge" else 1_000_000).fetch(
            "shop", "checkout", T0 - 60, T0 + 60
        )
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_tenant_is_lokis_own_401_in_one_line() -> None:
    fake = FakeLoki(tenant="team-a")
    with serving(fake) as url, pytest.raises(LogSourceError, match="401 no org id"):
        loki(url).fetch("shop", "checkout", T0 - 60, T0 + 60)


def test_a_store_that_is_down_says_where_and_what_to_check() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(LogSourceError, match=r"unreachable.*check logs.url"):
        loki(url).fetch("shop", "checkout", T0 - 60, T0 + 60)


def test_a_slow_store_is_given_up_on_within_the_time_left() -> None:
    fake = FakeLoki(mode="slow")
    started = time.monotonic()
    deadline = started + 0.5
    with serving(fake) as url, pytest.raises(LogSourceError):
        loki(url).fetch(
            "shop", "checkout", T0 - 60, T0 + 60, time_left=lambda: deadline - time.monotonic()
        )
    assert time.monotonic() - started < 2.5  # the server answers after 3 s


def test_the_answer_is_read_as_documented_with_structured_metadata() -> None:
    """Loki 3 may add a third element to each value (structured metadata)."""
    body = {
        "status": "success",
        "data": {
            "resultType": "streams",
            "result": [
                {
                    "stream": labels(),
                    "values": [[str(T0 * NS), "ERROR with metadata", {"trace_id": "abc"}]],
                }
            ],
        },
    }
    from knowledge.loki_logs import _entries

    entries = list(_entries(json.loads(json.dumps(body)), "pod"))
    assert [(e.ns, e.line, e.pod) for e in entries] == [
        (T0 * NS, "ERROR with metadata", "checkout-7f9c-abcde")
    ]


def test_pods_or_no_source_is_the_clusters_own() -> None:
    assert log_source(load_settings().logs, 100, OWN) is OWN
    assert log_source(load_settings(logs={"source": "pods"}).logs, 100, OWN) is OWN


def test_loki_without_a_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match=r"needs logs\.url"):
        load_settings(logs={"source": "loki"})
