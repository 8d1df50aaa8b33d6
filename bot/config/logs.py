"""Settings of the log source: the cluster's own pod logs (default), Loki or
Elasticsearch/OpenSearch. Read once, like every section; the source gets them in its constructor.

The evidence part of issue 16 fills in the fields each source needs (URL, label or field mapping
to namespace/service/pod, bounds); the clusters part may name a ``LogsSettings`` per cluster."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LogsSettings(BaseModel):
    """Where an investigation reads log lines from."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    source: Literal["pods", "loki", "elasticsearch"] | None = Field(
        None,
        description="pods (the cluster's own pod logs), loki or elasticsearch (also OpenSearch); "
        "unset: the cluster's own.",
    )
