"""The one metric vocabulary (``knowledge/vocabulary.yaml``): the diagnosis, the incident memory and
the root-cause ranking read the same file, and what it says holds together."""

from __future__ import annotations

import pytest

from knowledge import Vocabulary, default_vocabulary, metric_family
from knowledge.ranking import RankedCause, metric_kind
from knowledge.vocabulary import MetricFamily, VocabularyFile, shipped_vocabulary


@pytest.mark.parametrize(
    ("metric", "family"),
    [
        ("CpuUsageRate(%)", "cpu"),
        ("cpu_utilization_pct", "cpu"),
        ("container_cpu_cfs_throttled_ratio", "cpu"),
        ("memory_working_set_ratio", "memory"),
        ("PodLatencyP99", "latency"),
        ("http_request_duration_seconds", "latency"),
        ("error_ratio", "errors"),
        ("request_payload_bytes", "traffic"),
        ("disk_usage_ratio", "disk"),
        ("Queue_Depth", "queue_depth"),  # no family: the name is its own family
    ],
)
def test_metrics_of_any_exporter_fall_in_their_family(metric: str, family: str) -> None:
    assert metric_family(metric) == family


@pytest.mark.parametrize(
    ("metric", "channel"),
    [
        ("CpuUsageRate(%)", "saturation"),
        ("PodLatency", "latency"),
        ("grpc_server_handling_duration", "latency"),
        ("MemoryUsage", "other"),
        ("throttled_periods", "other"),  # the channels are narrower than the families
        ("p99", "other"),
    ],
)
def test_the_ranking_reads_cpu_and_latency_metrics_only(metric: str, channel: str) -> None:
    assert metric_kind(metric) == channel


def test_what_the_ranking_says_is_filed_under_the_family_it_means() -> None:
    """A remembered incident's ranked signals are matched by family: 'error logs' must be errors,
    'hand-off latency' latency, or similar incidents stop matching on them."""
    channels = {"errors": 9.0, "drops": 9.0, "flow": 9.0, "delay": 9.0, "saturation": 9.0}
    cause = RankedCause("db", 1.0, [], None, channels={**channels, "latency": 9.0})
    families = [metric_family(words) for words in cause.signals]
    assert families == ["errors", "flow", "flow", "latency", "cpu", "latency"]


def test_every_cause_the_vocabulary_points_to_is_described() -> None:
    vocabulary = shipped_vocabulary()
    known = {c.key for c in vocabulary.causes}
    pointed = {s.cause for s in vocabulary.signals if s.cause} | {
        s.cause for s in vocabulary.log_signatures
    }
    assert pointed <= known
    assert len(known) == len(vocabulary.causes)  # no key twice


@pytest.mark.parametrize(
    ("line", "causes"),
    [
        ("x509: certificate has expired or is not yet valid", ["cert-expiry"]),
        ("write /var/lib/data: no space left on device", ["disk-full"]),
        ("timeout acquiring a connection from the pool", ["connection-pool-exhaustion"]),
        ("request waited 1200 ms in the queue (timeout 5000 ms)", []),
        ("could not acquire connection from pool", ["connection-pool-exhaustion"]),
        ("GET /recommendations served in 12 ms", []),
    ],
)
def test_log_messages_name_their_cause(line: str, causes: list[str]) -> None:
    assert default_vocabulary().causes_named_by(line) == causes


def test_the_metric_of_a_cause_and_an_unknown_cause_are_found() -> None:
    vocabulary = default_vocabulary()
    signal = vocabulary.signal_for_cause("connection-pool-exhaustion")
    assert signal is not None and signal.metric == "db_pool_in_use_ratio"
    assert vocabulary.cause("queue-backlog").title == "Queue backlog"


def test_another_vocabulary_file_changes_what_a_metric_means() -> None:
    shipped = shipped_vocabulary()
    custom = VocabularyFile(
        families=(MetricFamily(name="queue", pattern="queue|backlog"),),
        channels=shipped.channels,
        signals=shipped.signals,
        causes=shipped.causes,
        log_signatures=shipped.log_signatures,
    )
    assert Vocabulary(custom).family("Queue_Depth") == "queue"
    assert Vocabulary(custom).family("cpu_utilization") == "cpu_utilization"
