"""Reading the Nezha TrainTicket data set: the incident index, per-minute log CSVs (gzip) and
per-pod metric CSVs, from the directory given with ``--data`` (e.g.
``../shared/bench-data/rca/nezha``), in the layout its README describes. No data is in the
repository; the tests write small synthetic directories of the same shape."""

from __future__ import annotations

import csv
import gzip
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from knowledge.errors import CorpusError
from knowledge.evaluation.corpus import corpus_lines
from knowledge.logs import LEVELS, LogLine

INDEX = "incidents_trainticket.jsonl"
FAULT_SECONDS = 180.0
_POD_SUFFIX = re.compile(r"-[a-z0-9]{5,10}-[a-z0-9]{5}$")
_TRACE = re.compile(r"TraceID: \S+ SpanID: \S+ ")
_CLOCK = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d+\s+")
csv.field_size_limit(16 * 1024 * 1024)


def service_of(pod: str) -> str:
    """``ts-food-service-f5756978c-k8vqf`` -> ``ts-food-service``."""
    return _POD_SUFFIX.sub("", pod)


@dataclass(frozen=True)
class NezhaIncident:
    id: str
    inject_time: float
    root_cause: str
    fault_type: str
    log_files: list[Path]
    baseline_log_files: list[Path]
    metric_dir: Path


@dataclass
class ServiceLogs:
    """Log lines per service; ``trace`` of a line is kept alongside (same index)."""

    lines: dict[str, list[LogLine]] = field(default_factory=lambda: defaultdict(list))
    traces: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    bad_rows: int = 0

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.lines.values())


def load_index(data: Path) -> list[NezhaIncident]:
    path = data / INDEX
    if not path.is_file():
        raise CorpusError(f"{path} not found: --data must be the Nezha directory holding {INDEX}")
    with path.open("rb") as stream:
        return _index(path, corpus_lines(stream, path), data)


def _index(path: Path, lines: Iterable[str], data: Path) -> list[NezhaIncident]:
    incidents = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            moment = datetime.fromisoformat(item["inject_time"]).replace(tzinfo=UTC)
            incidents.append(
                NezhaIncident(
                    id=item["incident_id"],
                    inject_time=moment.timestamp(),
                    root_cause=item["root_cause_service"],
                    fault_type=item["fault_type"],
                    log_files=[data / f for f in item["log_files"]],
                    baseline_log_files=[data / f for f in item["fault_free_log"]],
                    metric_dir=data / item["metric_dir"],
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CorpusError(f"{path}:{number}: not a Nezha incident entry ({exc})") from exc
    return incidents


def read_logs(files: list[Path]) -> ServiceLogs:
    """Lines of the per-minute CSVs, by service. Rows whose ``Log`` cell is not the expected
    JSON are counted and skipped."""
    logs = ServiceLogs()
    decoder = json.JSONDecoder()
    for file in files:
        try:
            with gzip.open(file) as fh:
                for row in csv.DictReader(corpus_lines(fh, file)):
                    try:
                        text = decoder.raw_decode(row["Log"])[0]["log"]
                        nanos = int(row["TimeUnixNano"])
                    except (ValueError, KeyError, TypeError):
                        logs.bad_rows += 1
                        continue
                    service = service_of(row.get("PodName") or "")
                    line = _line(text, nanos / 1e9, service)
                    logs.lines[service].append(line)
                    logs.traces[service].append(row.get("TraceID") or "")
        except (OSError, EOFError) as exc:
            raise CorpusError(f"cannot read {file}: {exc}") from exc
    return logs


def _line(text: str, timestamp: float, service: str) -> LogLine:
    """``16:42:22.382 INFO  t.s.Class#532 TraceID: .. SpanID: .. [method][message]`` -> level
    and message (clock and trace ids dropped: they are per-line noise)."""
    text = _CLOCK.sub("", text.strip())
    level, _, rest = text.partition(" ")
    if level.upper() not in LEVELS:
        level, rest = "", text
    return LogLine(timestamp, _TRACE.sub("", rest.strip(), count=1), level.upper(), service)


def read_metrics(metric_dir: Path) -> dict[str, dict[str, list[tuple[float, float]]]]:
    """service -> metric -> [(unix seconds, value)], NaN dropped."""
    out: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for file in sorted(metric_dir.glob("*_metric.csv.gz")):
        series: dict[str, list[tuple[float, float]]] = defaultdict(list)
        service = ""
        with gzip.open(file) as fh:
            for row in csv.DictReader(corpus_lines(fh, file)):
                service = service or service_of(row.get("PodName") or "")
                try:
                    ts = float(row["TimeStamp"])
                except (KeyError, ValueError):
                    continue
                for name, raw in row.items():
                    if name in ("Time", "TimeStamp", "PodName") or name.startswith("Node"):
                        continue
                    try:
                        value = float(raw)
                    except (TypeError, ValueError):
                        continue
                    if not math.isnan(value):
                        series[name].append((ts, value))
        if service:
            out[service] = dict(series)
    return out
