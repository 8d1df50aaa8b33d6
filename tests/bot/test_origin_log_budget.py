"""The origin finder reads what a Nezha-like fault needs: logs of every candidate (a fault that
throws exceptions shows in a service's logs long before its metrics move), all of them within one
line budget, each service compared with its own earlier investigations, and a log source that is
down said once."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable

import numpy as np

from bot import messages
from bot.config import InvestigationSettings
from bot.diagnosis.budget import Budget
from bot.diagnosis.origin_history import MemoryHistory
from bot.diagnosis.origins import LOG_READERS, OriginFinder
from bot.diagnosis.window import Window
from detectors import InMemoryMetricSource, Series
from knowledge import LogLine, LogSourceError, TemplateMiner
from knowledge.logs import (
    IN_PROCESS_READS,
    REMOTE_READS,
    InMemoryLogSource,
    TimeLeft,
    concurrent_reads,
)

NOW = 1_800_000_000.0
WINDOW = Window(NOW - 7200.0, NOW - 1800.0, NOW)  # 90 minutes of baseline, 30 in the window
BUSY = [f"svc-{k:02d}" for k in range(8)]  # CPU that jumps in the window: the metric screen's pick


class Namespace:
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def workloads(self, namespace: str, limit: int) -> list[str]:
        return self.names[:limit]


def metrics(namespace: str, service: str, start: float, end: float) -> list[Series]:
    """Flat CPU for every service, except the busy ones, whose CPU rises in the window. The
    noise is the same in every process (``hash`` of a str is not): noise alone can lift a
    service's CPU evidence enough to reorder close candidates."""
    ts = np.arange(start, end, 60.0)
    rng = np.random.default_rng(zlib.crc32(service.encode()))
    cpu = 30.0 + rng.normal(0.0, 1.0, len(ts))
    if service in BUSY:
        cpu[ts >= WINDOW.split] += 25.0
    return [Series.of("cpu_utilization_pct", ts, cpu)]


Lines = Callable[[str, float], list[str]]  # service, minute start -> that minute's messages


def steady(service: str, minute: float) -> list[str]:
    return [f"INFO served request {k} in 12 ms" for k in range(4)]


class MinuteLogs:
    """Log lines a minute apart, from ``lines`` (service, minute -> messages)."""

    def __init__(self, lines: Lines) -> None:
        self.lines = lines

    def fetch(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> list[LogLine]:
        out = []
        for minute in np.arange(start, end, 60.0):
            for k, text in enumerate(self.lines(service, float(minute))):
                level, _, message = text.partition(" ")
                out.append(LogLine(float(minute) + k * 0.01, message, level, service))
        return out


def finder(logs: object, names: list[str], **settings: float) -> OriginFinder:
    chosen: dict[str, float] = {"log_seconds": 60.0, **settings}
    return OriginFinder(
        metrics=InMemoryMetricSource(metrics),
        logs=logs,  # type: ignore[arg-type]
        directories=[Namespace(names)],
        graphs=[],
        settings=InvestigationSettings(**chosen),  # type: ignore[arg-type]
    )


def failing_ledger(service: str, minute: float) -> list[str]:
    if service == "ledger" and minute >= WINDOW.split:
        return [*steady(service, minute), *["ERROR NullPointerException in Ledger.post"] * 6]
    return steady(service, minute)


def test_an_origin_quiet_on_metrics_and_loud_in_logs_is_named_first() -> None:
    names = ["front", *BUSY, "ledger", "mail"]
    notes: list[str] = []
    origins = finder(MinuteLogs(failing_ledger), names).find(
        "shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), notes
    )
    assert origins.ranked[0].service == "ledger"
    assert "ledger" in origins.with_logs
    assert notes == []


def test_fifty_candidates_with_two_hours_of_logs_stay_within_the_line_budget() -> None:
    names = ["front", *[f"svc-{k:02d}" for k in range(48)], "quiet"]

    def loud(service: str, minute: float) -> list[str]:  # 30 lines a minute, but "quiet"
        count = 1 if service == "quiet" else 30
        return [f"INFO served request {k} in 12 ms" for k in range(count)]

    read: dict[str, list[LogLine]] = {}
    finder(MinuteLogs(loud), names, max_log_lines=20_000).find(
        "shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), [], lines_read=read
    )
    assert set(read) == set(names)
    assert sum(len(lines) for lines in read.values()) <= 20_000
    assert len(read["quiet"]) == 120  # a quiet service keeps every line; the loud are thinned
    kept = read["svc-00"]
    assert kept[0].timestamp < WINDOW.split <= kept[-1].timestamp  # evenly, the window in view


def test_a_log_source_down_is_one_note_and_the_services_are_ranked_on_metrics() -> None:
    class Down:
        def fetch(self, *args: object, time_left: TimeLeft | None = None) -> list[LogLine]:
            raise LogSourceError("Loki answered 503")

    names = ["front", *[f"svc-{k:02d}" for k in range(20)]]
    notes: list[str] = []
    origins = finder(Down(), names).find(
        "shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), notes
    )
    assert len(origins.ranked) == 21
    assert len(notes) == 1
    assert "20 services" in notes[0] and "Loki answered 503" in notes[0]


def test_a_service_that_always_fails_is_compared_with_its_own_past() -> None:
    """``batch`` logs a burst of errors in every window (a job that always fails); ``ledger``
    starts failing now, less loudly. Against its own earlier investigations batch is usual."""

    def burst(service: str, minute: float) -> list[str]:
        lines = steady(service, minute)
        if service == "batch" and minute >= WINDOW.split:
            lines += ["ERROR job export failed: disk quota"] * 12
        return lines

    def now(service: str, minute: float) -> list[str]:
        lines = burst(service, minute)
        if service == "ledger" and minute >= WINDOW.split:
            lines += ["ERROR NullPointerException in Ledger.post"] * 3
        return lines

    names = ["front", "batch", "ledger", "mail", "cart"]
    logs = MinuteLogs(burst)
    found = finder(logs, names)
    for _ in range(3):  # earlier investigations of the namespace: batch failing as always
        found.find("shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), [])
    logs.lines = now
    fresh = finder(MinuteLogs(now), names)
    alone = fresh.find("shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), [])
    assert alone.ranked[0].service == "batch"  # without a past, the loudest errors lead
    origins = found.find("shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), [])
    assert origins.ranked[0].service == "ledger"


def test_the_same_fault_four_times_in_a_row_keeps_its_service_first() -> None:
    """ledger fails the same way in four investigations in a row: its earlier faults are kept
    as what it led, not as its usual, so on the fourth it is still named the origin (before, it
    faded: its own failures were most of its yardstick)."""
    names = ["front", "batch", "ledger", "mail", "cart"]
    found = finder(MinuteLogs(failing_ledger), names)
    firsts = [
        found.find("shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), []).ranked[0]
        for _ in range(4)
    ]
    assert [o.service for o in firsts] == ["ledger"] * 4
    assert firsts[-1].clear


def test_candidates_not_reached_in_the_time_for_logs_are_one_note() -> None:
    """A slow source: the first reads, started at once, are still read (a read under way keeps
    the investigation's time, not only what is left of the time for logs); once that is up no
    more are started, and those are ranked on their metrics and named in one note."""
    started = threading.Barrier(LOG_READERS, timeout=20)

    class Slow(MinuteLogs):
        def fetch(
            self,
            namespace: str,
            service: str,
            start: float,
            end: float,
            *,
            time_left: TimeLeft | None = None,
        ) -> list[LogLine]:
            started.wait()  # all first reads are under way, then each outlasts the time for logs
            threading.Event().wait(1.5)
            if time_left is None or time_left() <= 0:  # as a real source gives up
                raise LogSourceError("no time left to read the logs")
            return super().fetch(namespace, service, start, end)

    names = ["front", *[f"svc-{k:02d}" for k in range(12)]]
    notes: list[str] = []
    origins = finder(Slow(steady), names, log_seconds=1.0).find(
        "shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), notes
    )
    assert len(origins.ranked) == 13
    assert len(origins.with_logs) == 1 + LOG_READERS  # the alerting one, and the first reads
    unread = sorted(set(names) - origins.with_logs)
    assert len(unread) == 12 - LOG_READERS
    assert notes == [
        messages.CANDIDATE_LOGS_LATE.format(count=len(unread), names=notes[0].rsplit(": ", 1)[1])
    ]
    assert f"(and {len(unread) - 3} more)" in notes[0]


def test_a_slow_remote_source_with_many_candidates_still_reads_the_likely_origin() -> None:
    """A remote log store that takes half a second a read (the wait is the network's, not this
    process's CPU) and 20 candidates: ``ledger``, failing in its logs, is sixth on metrics. All
    the reads that fit are started at once, not three, so its logs are read within the time for
    logs and it is named first; three at a time read only the five whose CPU jumped."""
    busy = BUSY[:5]
    names = ["front", *busy, "ledger", *[f"flat-{k:02d}" for k in range(13)]]

    def cpu(namespace: str, service: str, start: float, end: float) -> list[Series]:
        ts = np.arange(start, end, 60.0)
        rng = np.random.default_rng(zlib.crc32(service.encode()))
        values = 30.0 + rng.normal(0.0, 1.0, len(ts))
        values[ts >= WINDOW.split] += 25.0 if service in busy else 8.0 if service == "ledger" else 0
        return [Series.of("cpu_utilization_pct", ts, values)]

    class Remote(MinuteLogs):
        def fetch(
            self,
            namespace: str,
            service: str,
            start: float,
            end: float,
            *,
            time_left: TimeLeft | None = None,
        ) -> list[LogLine]:
            threading.Event().wait(0.5)  # the store's answer: longer than the time for logs
            return super().fetch(namespace, service, start, end)

    notes: list[str] = []
    origins = OriginFinder(
        metrics=InMemoryMetricSource(cpu),
        logs=Remote(failing_ledger),
        directories=[Namespace(names)],
        graphs=[],
        settings=InvestigationSettings(log_seconds=0.4),
    ).find("shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), notes)
    assert "ledger" in origins.with_logs
    assert origins.ranked[0].service == "ledger"
    assert len(origins.with_logs) < len(names)  # the rest are ranked on metrics, and said so
    assert len(notes) == 1


def test_a_source_that_makes_its_lines_in_this_process_is_read_three_at_a_time() -> None:
    """The simulator draws its lines on this process's CPU: more reads at once would only add
    up (the 50-service benchmark's time); a source may say its own number."""

    class Declared:
        concurrent_reads = 5

    assert concurrent_reads(InMemoryLogSource(lambda *_: [])) == IN_PROCESS_READS == 3
    assert concurrent_reads(MinuteLogs(steady)) == REMOTE_READS == LOG_READERS
    assert concurrent_reads(Declared()) == 5


def test_a_neighbour_read_for_the_first_time_does_not_outrank_a_recurring_origin() -> None:
    """ledger failed in three investigations, the only candidate whose logs were read (its CPU
    is what the screen picks); mail and cart, never read, log retries, more in a busy half
    hour. Now ledger fails the same way and their logs are read for the first time in a busy
    half hour: their past is unknown, not zero, so their retries are judged against each other
    as on a first investigation, and ledger is still named the origin (before, the retries
    were new against the zeros of the windows nobody read, and mail or cart was named)."""
    names = ["front", "ledger", "mail", "cart"]

    def busy_ledger(namespace: str, service: str, start: float, end: float) -> list[Series]:
        ts = np.arange(start, end, 60.0)
        rng = np.random.default_rng(zlib.crc32(service.encode()))
        cpu = 30.0 + rng.normal(0.0, 1.0, len(ts))
        if service == "ledger":
            cpu[ts >= WINDOW.split] += 25.0
        return [Series.of("cpu_utilization_pct", ts, cpu)]

    def lines(service: str, minute: float) -> list[str]:
        found = failing_ledger(service, minute)
        if service in ("mail", "cart"):  # retries, more in a busy half hour (as now)
            busy = 1 if minute >= WINDOW.split else 0
            found += ["WARN retrying upstream connection"] * (len(service) - 2 + busy)
        return found

    history = MemoryHistory(20)

    def finder_reading(log_candidates: int) -> OriginFinder:
        return OriginFinder(
            metrics=InMemoryMetricSource(busy_ledger),
            logs=MinuteLogs(lines),
            directories=[Namespace(names)],
            graphs=[],
            settings=InvestigationSettings(log_seconds=60.0, log_candidates=log_candidates),
            history=history,
        )

    for _ in range(3):
        earlier = finder_reading(1).find(
            "shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), []
        )
        assert earlier.with_logs == {"front", "ledger"}
    origins = finder_reading(10).find(
        "shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), []
    )
    assert "mail" in origins.with_logs
    assert origins.ranked[0].service == "ledger"


def test_a_busy_half_hour_of_a_neighbours_retries_does_not_outrank_a_recurring_origin() -> None:
    """ledger failed in three investigations, the only candidate whose logs were read. Now it
    fails the same way and every candidate's logs are read: mail, read for the first time, logs
    its usual retries - one a minute - a little more often in a busy half hour (1.6 times). Its
    retries are judged at least against what count noise alone gives them, not against peers
    that log no warnings at all, so they are not a clear new surge and ledger is still named
    the origin (before, mail was: its retries alone made it look implicated beyond its
    metrics, and ledger, against its own three failures, had faded)."""
    names = ["front", "ledger", "mail", "cart", "tax"]

    def busy_ledger(namespace: str, service: str, start: float, end: float) -> list[Series]:
        ts = np.arange(start, end, 60.0)
        rng = np.random.default_rng(zlib.crc32(service.encode()))
        cpu = 30.0 + rng.normal(0.0, 1.0, len(ts))
        if service == "ledger":
            cpu[ts >= WINDOW.split] += 25.0
        return [Series.of("cpu_utilization_pct", ts, cpu)]

    def lines(service: str, minute: float) -> list[str]:
        found = failing_ledger(service, minute)
        if service == "mail":
            busy = minute >= WINDOW.split and int(minute // 60) % 5 < 3
            found += ["WARN retrying upstream connection"] * (2 if busy else 1)
        return found

    history = MemoryHistory(20)

    def finder_reading(log_candidates: int) -> OriginFinder:
        return OriginFinder(
            metrics=InMemoryMetricSource(busy_ledger),
            logs=MinuteLogs(lines),
            directories=[Namespace(names)],
            graphs=[],
            settings=InvestigationSettings(log_seconds=60.0, log_candidates=log_candidates),
            history=history,
        )

    for _ in range(3):
        earlier = finder_reading(1).find(
            "shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), []
        )
        assert earlier.ranked[0].service == "ledger"
        assert earlier.with_logs == {"front", "ledger"}
    origins = finder_reading(10).find(
        "shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), []
    )
    assert origins.with_logs == set(names)
    assert origins.ranked[0].service == "ledger"
    mail = next(o for o in origins.ranked if o.service == "mail")
    assert not mail.beyond_metrics


def test_errors_quiet_in_a_few_windows_by_chance_do_not_outrank_a_recurring_origin() -> None:
    """Every candidate's logs are read in every investigation. ledger fails in each; mail logs
    its one-a-minute retries, a few more in one of three earlier half hours and as usual in the
    other two - so its errors were 0 in two of its three windows, as chance gives a count at its
    rate about half the time. Now a busy half hour of retries: judged against that median of 0
    it read as a clear new surge and mail was named (issue 14: with 45 neighbours' logs read,
    some neighbour did so in most investigations); judged at least against its count noise it is
    not, and ledger's recurring fault is still named."""
    names = ["front", "ledger", "mail", "cart", "tax"]
    extra = {"minutes": 0}  # minutes of the window in which mail retries twice

    def busy_ledger(namespace: str, service: str, start: float, end: float) -> list[Series]:
        ts = np.arange(start, end, 60.0)
        rng = np.random.default_rng(zlib.crc32(service.encode()))
        cpu = 30.0 + rng.normal(0.0, 1.0, len(ts))
        if service == "ledger":
            cpu[ts >= WINDOW.split] += 25.0
        return [Series.of("cpu_utilization_pct", ts, cpu)]

    def lines(service: str, minute: float) -> list[str]:
        found = failing_ledger(service, minute)
        if service == "mail":
            twice = minute >= WINDOW.split and (minute - WINDOW.split) / 60.0 < extra["minutes"]
            found += ["WARN retrying upstream connection"] * (2 if twice else 1)
        return found

    history = MemoryHistory(20)
    found = OriginFinder(
        metrics=InMemoryMetricSource(busy_ledger),
        logs=MinuteLogs(lines),
        directories=[Namespace(names)],
        graphs=[],
        settings=InvestigationSettings(log_seconds=60.0, log_candidates=10),
        history=history,
    )
    for minutes in (0, 6, 0):  # mail's errors: 0, then about 1, then 0
        extra["minutes"] = minutes
        earlier = found.find("shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), [])
        assert earlier.ranked[0].service == "ledger"
        assert earlier.with_logs == set(names)
    extra["minutes"] = 18  # a busy half hour: 48 retries where 30 are usual
    origins = found.find("shop", "front", WINDOW, [], TemplateMiner(), Budget(60.0), [])
    mail = next(o for o in origins.ranked if o.service == "mail")
    assert mail.cause.channels.get("errors", 0.0) > 0  # its surge counts, but is not clear
    assert not mail.beyond_metrics
    assert origins.ranked[0].service == "ledger"
