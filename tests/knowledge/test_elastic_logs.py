"""Elasticsearch/OpenSearch as a log source, against a loopback server answering the documented
``_search`` API (tests/services/log_stores.py): the bool query from the field mapping,
``search_after`` paging, the bounds, and every way it can fail as one line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.config import load_settings
from bot.wiring.sources import log_source
from knowledge.errors import LogSourceError
from knowledge.logs import InMemoryLogSource, LogSource
from tests.services.binaries import free_port
from tests.services.log_stores import FakeElasticsearch, serving

T0 = 1_800_000_000  # 2027-01-15T08:00:00Z
OWN = InMemoryLogSource(lambda *_: [])


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def doc(
    at: float, message: str, level: str = "info", service: str = "checkout", **more: Any
) -> dict[str, Any]:
    """A Filebeat-shaped (ECS) document: nested kubernetes.*, a dotted log.level key."""
    return {
        "@timestamp": iso(at),
        "message": message,
        "log.level": level,
        "kubernetes": {
            "namespace": "shop",
            "labels": {"app": service},
            "pod": {"name": f"{service}-7f9c-abcde"},
        },
        **more,
    }


def elastic(url: str, max_lines: int = 50_000, **logs: object) -> LogSource:
    settings = load_settings(logs={"source": "elasticsearch", "url": url, **logs})
    return log_source(settings.logs, max_lines, OWN)


def test_a_services_documents_become_its_lines_with_level_and_pod() -> None:
    fake = FakeElasticsearch(
        docs=[
            doc(T0 + 2, "payment declined", "error"),
            doc(T0 + 1, "slow upstream", "warn"),
            doc(T0 + 1, "not this service", service="frontend"),
            doc(T0 - 7200, "before the window"),
        ],
        api_key="aWQ6a2V5",
    )
    with serving(fake) as url:
        lines = elastic(url, api_key="aWQ6a2V5").fetch("shop", "checkout", T0 - 60, T0 + 60)
    assert [(ln.message, ln.level, ln.source) for ln in lines] == [
        ("slow upstream", "WARN", "checkout-7f9c-abcde"),
        ("payment declined", "ERROR", "checkout-7f9c-abcde"),
    ]
    assert lines[0].timestamp == T0 + 1
    body = fake.requests[0]
    assert body["sort"][0] == {"@timestamp": {"order": "asc", "format": "epoch_millis"}}
    assert {"term": {"kubernetes.labels.app": "checkout"}} in body["query"]["bool"]["filter"]
    assert "search_after" not in body


def test_differently_named_fields_are_mapped() -> None:
    fake = FakeElasticsearch(
        index="app-logs",
        docs=[
            {
                "@timestamp": iso(T0),
                "msg": "ERROR disk full",
                "ns": "shop",
                "service.name.keyword": "checkout",
                "host": "node-1",
            }
        ],
    )
    fields = {
        "message": "msg",
        "namespace": "ns",
        "service": "service.name.keyword",
        "pod": "host",
        "level": "lvl",
    }
    with serving(fake) as url:
        source = elastic(url, index="app-logs", fields=fields)
        lines = source.fetch("shop", "checkout", T0 - 60, T0 + 60)
    assert [(ln.message, ln.level, ln.source) for ln in lines] == [("disk full", "ERROR", "node-1")]


def test_search_after_pages_through_every_document_once_with_a_tiebreaker() -> None:
    """Pages of 50 over 1,000 documents, 300 of them in one millisecond: with a tiebreaker
    field each is read once."""
    docs = [doc(T0 + k / 10, f"line {k}", seq=k) for k in range(700)]
    docs += [doc(T0 + 30.0005, f"same ms {k}", seq=700 + k) for k in range(300)]
    fake = FakeElasticsearch(docs=docs)
    with serving(fake) as url:
        source = elastic(url, page_lines=50, slices=1, fields={"tiebreaker": "seq"})
        lines = source.fetch("shop", "checkout", T0, T0 + 100)
    assert len(lines) == 1000
    assert len({ln.message for ln in lines}) == 1000
    assert len(fake.requests) >= 20
    assert all(len(r["search_after"]) == 2 for r in fake.requests[1:])


def test_at_most_max_lines_are_read_spread_over_the_whole_window() -> None:
    fake = FakeElasticsearch(docs=[doc(T0 + s, f"tick {s}") for s in range(3600)])
    with serving(fake) as url:
        lines = elastic(url, max_lines=400, slices=8).fetch("shop", "checkout", T0, T0 + 3600)
    assert len(lines) <= 400
    assert min(ln.timestamp for ln in lines) < T0 + 600
    assert max(ln.timestamp for ln in lines) > T0 + 3000
    assert all(r["size"] <= 50 for r in fake.requests)


def test_a_server_that_ignores_search_after_does_not_loop() -> None:
    fake = FakeElasticsearch(
        docs=[doc(T0 + k, f"line {k}") for k in range(30)], mode="ignore-search-after"
    )
    with serving(fake) as url:
        lines = elastic(url, page_lines=10, slices=1).fetch("shop", "checkout", T0, T0 + 60)
    assert len(fake.requests) <= 4
    assert len(lines) <= 40


def test_hostile_text_is_bounded_and_markup_kept_as_text() -> None:
    fake = FakeElasticsearch(
        docs=[
            doc(T0, "<!channel> " + "x" * 100_000, "error"),
            doc(T0 + 1, "", "error"),  # no message: dropped
            {"@timestamp": iso(T0 + 2), "kubernetes": {"namespace": "shop"}},  # no service
        ]
    )
    with serving(fake) as url:
        lines = elastic(url).fetch("shop", "checkout", T0 - 60, T0 + 60)
    assert len(lines) == 1
    assert lines[0].message.startswith("<!channel>") and len(lines[0].message) <= 4096


@pytest.mark.parametrize(
    ("index", "api_key", "says"),
    [
        ("missing-*", None, "404 index_not_found_exception: no such index [missing-*]"),
        ("logs-*", "wrong", "401 security_exception: missing authentication credentials"),
    ],
)
def test_elasticsearch_errors_are_its_own_reason_in_one_line(
    index: str, api_key: str | None, says: str
) -> None:
    fake = FakeElasticsearch(api_key="right" if api_key else None)
    logs: dict[str, object] = {"index": index}
    if api_key:
        logs["api_key"] = api_key
    with serving(fake) as url, pytest.raises(LogSourceError) as caught:
        elastic(url, **logs).fetch("shop", "checkout", T0 - 60, T0 + 60)
    assert says in str(caught.value)


def test_garbage_and_a_server_that_is_down_are_one_line() -> None:
    with (
        serving(FakeElasticsearch(mode="garbage")) as url,
        pytest.raises(LogSourceError, match="no hits in the answer"),
    ):
        elastic(url).fetch("shop", "checkout", T0 - 60, T0 + 60)
    with pytest.raises(LogSourceError, match="unreachable"):
        elastic(f"http://127.0.0.1:{free_port()}").fetch("shop", "checkout", T0 - 60, T0 + 60)


def test_a_page_larger_than_the_result_window_is_refused_by_configuration() -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="page_lines"):
        load_settings(logs={"source": "elasticsearch", "url": "http://es", "page_lines": 20_000})
