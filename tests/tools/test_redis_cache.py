"""purge_cache against a real Redis: only keys matching the pattern go, in batches, counted."""

from __future__ import annotations

import pytest
import redis

from tests.services.binaries import free_port
from tests.services.redis import redis_url  # noqa: F401  (fixture)
from tools.actions import Action, ToolStatus
from tools.errors import BackendUnavailableError
from tools.redis_cache import RedisCache, client_for
from tools.retry import RetryPolicy


def fill(client: redis.Redis) -> None:
    pipe = client.pipeline()
    for i in range(1234):
        pipe.set(f"recommender:recs:u-{i:05d}", "x" * 200)
    for i in range(50):
        pipe.set(f"checkout:cart:{i}", "y")
        pipe.set(f"recommender-secrets:{i}", "z")  # looks alike, outside the prefix
    pipe.execute()


def test_purge_deletes_exactly_the_matching_keys_in_batches(redis_url: str) -> None:  # noqa: F811
    client = redis.Redis.from_url(redis_url)
    fill(client)
    cache = RedisCache(client, batch=100)
    preview = cache.purge("recommender:*", dry_run=True)
    assert preview.keys == 1234 and client.dbsize() == 1334
    done = cache.purge("recommender:*")
    assert done.keys == 1234
    assert done.bytes_freed is not None and done.bytes_freed > 1234 * 200
    assert client.dbsize() == 100
    assert client.exists("checkout:cart:7", "recommender-secrets:7") == 2
    assert cache.purge("recommender:*").keys == 0  # deleting again deletes nothing


def test_purge_never_sends_flushall_or_keys(redis_url: str) -> None:  # noqa: F811
    client = redis.Redis.from_url(redis_url)
    fill(client)
    commands: list[str] = []
    monitor_client = redis.Redis.from_url(redis_url)
    with monitor_client.monitor() as monitor:
        RedisCache(client, batch=500).purge("recommender:recs:u-000*")
        client.set("medic:test:end", "1")
        for event in monitor.listen():
            commands.append(event["command"].split()[0].upper())
            if "medic:test:end" in event["command"]:
                break
    assert {"SCAN", "UNLINK"} <= set(commands)
    assert not {"FLUSHALL", "FLUSHDB", "KEYS", "DEL"} & set(commands)


def test_purge_cache_tool_reports_how_many_keys_went(
    redis_url: str,  # noqa: F811
    sim,  # type: ignore[no-untyped-def]
) -> None:
    from tools.backends import Backends
    from tools.catalog import TOOLS, ToolContext

    client = redis.Redis.from_url(redis_url)
    fill(client)
    backends = Backends(sim, RedisCache(client), sim)
    action = Action("purge_cache", "shop", "recommender", {"pattern": "recommender:*"})
    result = TOOLS["purge_cache"].run(ToolContext(backends, 0.0), action, False)
    assert result.status is ToolStatus.SUCCEEDED
    assert result.summary.startswith("purged 1234 cache keys matching recommender:*")
    assert result.details["keys"] == 1234


def test_unreachable_redis_is_retried_with_backoff_then_reported() -> None:
    waits: list[float] = []
    cache = RedisCache(
        client_for(f"redis://127.0.0.1:{free_port()}/0", connect_timeout=0.5),
        retry=RetryPolicy(attempts=3, initial_seconds=0.01, sleep=waits.append),
    )
    with pytest.raises(BackendUnavailableError, match="cannot reach Redis"):
        cache.purge("recommender:*")
    assert len(waits) == 2
