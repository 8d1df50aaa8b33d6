"""Settings of the log source: the cluster's own pod logs (default), Loki or
Elasticsearch/OpenSearch. Read once, like every section; the source gets them in its constructor.

Loki streams and Elasticsearch documents name a service's namespace, service and pod in their own
labels or fields: the mappings here say which (defaults: what promtail's Kubernetes discovery and
Filebeat's ECS fields write). The clusters part may name a ``LogsSettings`` per cluster."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator

# A Loki label name (Prometheus' rule): anything else could not be put into a LogQL selector.
LabelName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]{0,127}$")]
# An Elasticsearch field path: dotted names, no quotes or spaces (it goes into the query DSL as a
# key, never into a query string, but a clear error beats a confusing answer from the server).
FieldName = Annotated[str, StringConstraints(pattern=r"^[@a-zA-Z_][\w.@-]{0,199}$")]


class LokiLabels(BaseModel):
    """The stream labels that name a line's namespace, service and pod."""

    model_config = ConfigDict(extra="forbid")
    namespace: LabelName = Field("namespace", description="Label holding the namespace.")
    service: LabelName = Field(
        "app", description="Label holding the service (workload) name, e.g. app or container."
    )
    pod: LabelName = Field("pod", description="Label holding the pod name (shown as the source).")


class ElasticFields(BaseModel):
    """The document fields Medic reads and filters on."""

    model_config = ConfigDict(extra="forbid")
    timestamp: FieldName = Field("@timestamp", description="Date field: range filter and sort.")
    message: FieldName = Field("message", description="The log line.")
    level: FieldName = Field("log.level", description="The line's level (may be absent).")
    namespace: FieldName = Field(
        "kubernetes.namespace", description="Keyword field holding the namespace (term filter)."
    )
    service: FieldName = Field(
        "kubernetes.labels.app",
        description="Keyword field holding the service name (term filter); a text field's "
        "keyword sub-field, e.g. service.name.keyword, where it is mapped as text.",
    )
    pod: FieldName = Field("kubernetes.pod.name", description="The pod (shown as the source).")
    tiebreaker: FieldName | None = Field(
        None,
        description="A unique, sortable field (e.g. log.offset or event.sequence) sorted after "
        "the timestamp, so that paging with search_after never skips lines sharing a "
        "millisecond; unset: the timestamp alone.",
    )


class LogsSettings(BaseModel):
    """Where an investigation reads log lines from, and how far it may go reading them."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    source: Literal["pods", "loki", "elasticsearch"] | None = Field(
        None,
        description="pods (the cluster's own pod logs), loki or elasticsearch (also OpenSearch); "
        "unset: the cluster's own.",
    )
    url: str | None = Field(
        None,
        pattern=r"^https?://",
        description="Base URL of Loki (http://loki.monitoring:3100) or Elasticsearch/OpenSearch "
        "(https://es.logging:9200).",
    )
    username: str | None = Field(None, description="Basic authentication user.")
    password: SecretStr | None = Field(None, description="Basic authentication password.")
    token: SecretStr | None = Field(None, description="Bearer token (Authorization: Bearer).")
    api_key: SecretStr | None = Field(
        None, description="Elasticsearch API key, base64 id:key (Authorization: ApiKey)."
    )
    tenant: str | None = Field(
        None,
        max_length=200,
        pattern=r"^[!-~]+$",
        description="Loki tenant (X-Scope-OrgID header) of a multi-tenant Loki.",
    )
    index: str = Field(
        "logs-*",
        min_length=1,
        max_length=500,
        pattern=r"^[^\s/?#\\\"<>|]+$",
        description="Elasticsearch index, alias or pattern (comma-separated) searched.",
    )
    labels: LokiLabels = Field(default_factory=LokiLabels)
    fields: ElasticFields = Field(default_factory=ElasticFields)
    timeout_seconds: float = Field(10, gt=0, le=300, description="Longest wait per request.")
    page_lines: int = Field(
        1000,
        ge=10,
        le=10_000,
        description="Lines asked for per request (Loki caps them, 5,000 by default "
        "max_entries_limit_per_query; Elasticsearch at 10,000 index.max_result_window).",
    )
    max_lines: int | None = Field(
        None, ge=1, description="Most lines read per service; unset: investigation.max_log_lines."
    )
    max_response_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="Largest answer read per request."
    )
    slices: int = Field(
        8,
        ge=1,
        le=100,
        description="The window is read in this many equal slices, each with its share of the "
        "lines, so that a loud minute cannot crowd out the rest of the window.",
    )

    @model_validator(mode="after")
    def _remote_needs_url(self) -> LogsSettings:
        if self.source in ("loki", "elasticsearch") and not self.url:
            raise ValueError(f"logs.source {self.source} needs logs.url (its base URL)")
        return self
