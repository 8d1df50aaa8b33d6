"""Settings of the metric source: the cluster's own (the simulation) or Prometheus, with the
PromQL Medic reads per metric (shipped defaults that configuration extends or replaces)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_SERVICE = 'namespace="{namespace}", service="{service}"'
DEFAULT_QUERIES: dict[str, str] = {
    "latency_p95_ms": "1000 * histogram_quantile(0.95, sum by (le) "
    f"(rate(http_request_duration_seconds_bucket{{{_SERVICE}}}[5m])))",
    "error_ratio": f'sum(rate(http_requests_total{{{_SERVICE}, code=~"5.."}}[5m])) / '
    f"sum(rate(http_requests_total{{{_SERVICE}}}[5m]))",
    "request_rate": f"sum(rate(http_requests_total{{{_SERVICE}}}[5m]))",
    "request_payload_bytes": f"sum(rate(http_request_size_bytes_sum{{{_SERVICE}}}[5m])) / "
    f"sum(rate(http_request_size_bytes_count{{{_SERVICE}}}[5m]))",
    "cpu_utilization_pct": "100 * sum(rate(container_cpu_usage_seconds_total"
    '{namespace="{namespace}", pod=~"{service}-.*"}[5m])) / sum(kube_pod_container_resource_limits'
    '{namespace="{namespace}", pod=~"{service}-.*", resource="cpu"})',
    "cache_memory_bytes": f"sum(redis_memory_used_bytes{{{_SERVICE}}})",
}


class MetricsSettings(BaseModel):
    """Where metrics come from: the cluster's own (the simulation) or a Prometheus server."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    source: Literal["cluster", "prometheus"] | None = Field(
        None, description="cluster or prometheus; unset: cluster for sim, prometheus for kube."
    )
    prometheus_url: str | None = Field(
        None, description="Prometheus base URL, e.g. http://prometheus.monitoring:9090."
    )
    queries: dict[str, str | None] = Field(
        default_factory=dict,
        description="Metric name -> PromQL ({namespace} and {service} are filled in), added to "
        "the shipped DEFAULT_QUERIES or replacing one of them; null drops a default.",
    )
    breakdowns: dict[str, str] = Field(
        default_factory=dict,
        description="Metric name -> PromQL for the same metric by pod/endpoint (attribution).",
    )
    step_seconds: float = Field(15, gt=0, description="Smallest query_range step.")
    max_points: int = Field(
        720,
        ge=10,
        le=11_000,  # Prometheus refuses more points per series
        description="Most points per series, from any metric source.",
    )
    timeout_seconds: float = Field(5, gt=0)
    max_response_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="Largest answer read from Prometheus per query."
    )
    max_series: int = Field(200, ge=1, description="Most series one Prometheus query may return.")

    def effective_queries(self) -> dict[str, str]:
        """The PromQL per metric in effect: the shipped defaults, overridden and extended by
        ``queries``; a metric set to null (or empty) there is not read."""
        merged = {**DEFAULT_QUERIES, **self.queries}
        return {metric: query for metric, query in merged.items() if query and query.strip()}
