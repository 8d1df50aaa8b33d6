"""The origin ranking's history in the state database (SQLite and PostgreSQL): the last ``keep``
investigations of a namespace read back after a restart, oldest pruned; two replicas keeping
evidence at once keep both, whole and once; a retried write inserts nothing twice; hostile
names and values are bounded; a database that is down is one error the finder turns into a
note."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, Table, create_engine, func, select

from bot.diagnosis import origin_store
from bot.diagnosis.origin_history import MAX_CHANNELS, HistoryUnavailableError
from bot.diagnosis.origin_store import OriginHistoryRow, StoredHistory
from knowledge.ranking import Features
from tests.services.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)
from tools.schema import head, revision, upgraded
from tools.schema.migrate import upgrade

NOW = 1_800_000_000.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'medic.db'}"
    found: str = request.getfixturevalue("postgres_url")
    return found


def engine_of(url: str) -> Engine:
    return upgraded(create_engine(url))


def found(errors: float, services: tuple[str, ...] = ("ledger", "mail")) -> dict[str, Features]:
    quoted = ("ERROR <!channel> card 4111-1111 declined",)
    return {s: Features({"errors": errors, "drops": 1.0}, 1.0, quoted, quoted) for s in services}


class Ticking:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> float:
        self.at += 60.0
        return self.at


def test_the_last_investigations_are_read_back_after_a_restart(url: str) -> None:
    first = engine_of(url)
    history = StoredHistory(first, keep=3, now=Ticking())
    for k in range(5):
        history.keep("shop", found(float(k)))
    first.dispose()

    again = StoredHistory(engine_of(url), keep=3, now=Ticking())  # a new process, same database
    past = again.past("shop")
    assert [p["ledger"].channels["errors"] for p in past] == [2.0, 3.0, 4.0]  # oldest first
    assert all(set(p) == {"ledger", "mail"} for p in past)
    assert all(p["ledger"].evidence == () and p["ledger"].abnormal_templates == () for p in past)
    assert again.past("elsewhere") == []
    with first.connect() as conn:  # the older two were deleted, not only hidden
        assert conn.scalar(select(func.count()).select_from(OriginHistoryRow)) == 3 * 2


def test_two_replicas_keeping_at_once_keep_every_investigation_whole_and_once(url: str) -> None:
    replicas = [StoredHistory(engine_of(url), keep=50, now=Ticking()) for _ in range(2)]
    services = tuple(f"svc-{k:02d}" for k in range(20))
    start = threading.Barrier(2)
    failed: list[BaseException] = []

    def keep(history: StoredHistory, base: float) -> None:
        try:
            start.wait(timeout=20)
            for k in range(10):
                history.keep("shop", found(base + k, services))
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=keep, args=(h, 100.0 * n)) for n, h in enumerate(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    past = replicas[0].past("shop")
    assert len(past) == 20
    assert all(set(p) == set(services) for p in past)  # whole: no investigation half-kept
    values = sorted(p["svc-00"].channels["errors"] for p in past)
    assert values == sorted([float(k) for k in range(10)] + [100.0 + k for k in range(10)])


def test_the_bound_holds_when_replicas_prune_at_once(url: str) -> None:
    replicas = [StoredHistory(engine_of(url), keep=3, now=Ticking()) for _ in range(2)]
    threads = [
        threading.Thread(target=lambda h=h: [h.keep("shop", found(1.0)) for _ in range(8)])
        for h in replicas
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(replicas[1].past("shop")) == 3


def test_a_write_retried_after_a_lost_commit_is_kept_once(url: str) -> None:
    history = StoredHistory(engine_of(url), keep=5, now=Ticking())
    numbers = {"ledger": {"errors": 1.0}}
    # the transaction runs again with the same token when its commit's answer was lost
    history._write("shop", "a" * 32, numbers, NOW)
    history._write("shop", "a" * 32, numbers, NOW)
    assert len(history.past("shop")) == 1


def test_hostile_names_and_values_are_bounded(url: str) -> None:
    history = StoredHistory(engine_of(url), keep=5, now=Ticking())
    hostile: dict[str, Features] = {
        "<!channel> *bold*": Features({"errors": 2.0}, None, (), ()),
        "x" * 5000: Features({"errors": 1.0}, None, (), ()),
        "ledger": Features(
            {
                "errors": math.nan,
                "drops": math.inf,
                "flow": 1e300,
                "c" * 500: 1.0,
                **{f"extra-{k}": float(k) for k in range(100)},
            },
            None,
            (),
            (),
        ),
    }
    history.keep("shop", hostile)
    history.keep("n" * 5000, found(1.0))  # no namespace is that long: not kept, not read
    (past,) = history.past("shop")
    assert set(past) == {"<!channel> *bold*", "ledger"}  # a name, kept as text, never markup
    channels = past["ledger"].channels
    assert "errors" not in channels and "drops" not in channels  # NaN and infinity dropped
    assert channels["flow"] == 1e12 and len(channels) == MAX_CHANNELS
    assert history.past("n" * 5000) == []


def test_rows_that_are_not_small_json_objects_read_as_nothing(url: str) -> None:
    engine = engine_of(url)
    history = StoredHistory(engine, keep=5, now=Ticking())
    history.keep("shop", found(1.0))
    with engine.begin() as conn:
        conn.execute(
            OriginHistoryRow.__table__.update().values(channels='[{"errors": [1, {"a": 2}]}]')
        )
    (past,) = history.past("shop")
    assert past["ledger"].channels == {}


def test_a_database_that_is_down_is_history_unavailable() -> None:
    down = create_engine("postgresql+psycopg://medic@127.0.0.1:9/medic")
    history = StoredHistory(down, keep=5, now=Ticking())
    with pytest.raises(HistoryUnavailableError, match="cannot be reached"):
        history.past("shop")
    with pytest.raises(HistoryUnavailableError, match="cannot be reached"):
        history.keep("shop", found(1.0))


def test_past_the_namespace_bound_the_least_recently_investigated_is_deleted(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(origin_store, "NAMESPACES", 3)
    history = StoredHistory(engine_of(url), keep=5, now=Ticking())
    for namespace in ("a", "b", "c", "a"):  # a again: now the most recently investigated
        history.keep(namespace, found(1.0))
    history.keep("d", found(1.0))
    assert history.past("b") == []
    assert [len(history.past(n)) for n in ("a", "c", "d")] == [2, 1, 1]


def test_the_origin_each_investigation_named_is_read_back_after_a_restart(url: str) -> None:
    """The leader is kept with the evidence: after a restart each investigation still says which
    service it named, so a recurring fault is not compared with itself; a leader that is not
    among the services ranked is kept as none."""
    first = engine_of(url)
    history = StoredHistory(first, keep=5, now=Ticking())
    history.keep("shop", found(1.0), "ledger")
    history.keep("shop", found(2.0))
    history.keep("shop", found(3.0), "mail")
    history.keep("shop", found(4.0), "<!channel>")
    first.dispose()

    recalled = StoredHistory(engine_of(url), keep=5, now=Ticking()).recall("shop")
    assert recalled.leaders == ["ledger", None, "mail", None]
    assert [w["ledger"].channels["errors"] for w in recalled.windows] == [1.0, 2.0, 3.0, 4.0]


def test_rows_kept_before_the_upgrade_read_their_zero_log_channels_as_unknown(
    tmp_path: Path,
) -> None:
    """Before 0012 a service whose logs were not read was kept with 0 errors: after the upgrade
    those zeros are unknown (left out), so a neighbour read for the first time is not judged
    against them; values that are not 0, and metric zeros (every candidate's metrics are
    read), are kept."""
    engine = create_engine(f"sqlite:///{tmp_path / 'medic.db'}")
    upgrade(engine, "0011_origin_leader")
    rows = Table("origin_history", MetaData(), autoload_with=engine)
    channels = {
        "ledger": {"errors": 40.0, "drops": 0.0, "saturation": 0.0},
        "mail": {"errors": 0.0, "drops": 0.0, "saturation": 1.5},
    }
    with engine.begin() as conn:
        for service, values in channels.items():
            conn.execute(
                rows.insert().values(
                    namespace="shop",
                    investigation="old",
                    service=service,
                    investigated_at=NOW,
                    channels=json.dumps(values),
                    led=service == "ledger",
                )
            )
    upgrade(engine)
    assert revision(engine) == head()
    recalled = StoredHistory(engine, keep=5, now=Ticking()).recall("shop")
    (window,) = recalled.windows
    assert window["ledger"].channels == {"errors": 40.0, "saturation": 0.0}
    assert window["mail"].channels == {"saturation": 1.5}
    assert recalled.leaders == ["ledger"]
