"""Settings of several clusters in one process: the ``clusters:`` map (name -> where its API,
metrics, logs, Redis and Alertmanager are), the alert label that names an alert's cluster, and
the cluster of an alert without that label.

Without the map, the top-level settings (``cluster``, ``kubeconfig``, ``kube_context``,
``metrics``, ``logs``, ``redis_url``, ``alertmanager_url``, ``default_namespace``) are the one
implicit cluster, as before. With it, each entry is applied over the top-level settings
(:meth:`ClusterSettings.applied_to`), so the wiring of one cluster reads the same fields it
always read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from bot.config.logs import LogsSettings
from bot.config.metrics import MetricsSettings

if TYPE_CHECKING:
    from bot.config.settings import Settings

# A cluster's name is shown in threads, written to audit rows and compared with alert labels: a
# DNS label, like the names Kubernetes gives its own objects.
CLUSTER_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
ClusterName = Annotated[str, StringConstraints(pattern=CLUSTER_NAME_PATTERN)]
# A Prometheus label name (what carries the cluster on an alert).
LabelName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]{0,63}$")]
MAX_CLUSTERS = 64


class ClusterSettings(BaseModel):
    """One cluster of the ``clusters:`` map: how to reach its Kubernetes API (a kubeconfig
    context, or the in-cluster service account; or a simulated shop for tests and demos) and
    the sources and backends that belong to it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    kind: Literal["kube", "sim"] = Field(
        "kube", description="kube (a Kubernetes cluster) or sim (a simulated shop: tests, demo)."
    )
    context: str | None = Field(
        None, max_length=253, description="kubeconfig context of this cluster (kind kube)."
    )
    kubeconfig: str | None = Field(
        None,
        max_length=4096,
        description="kubeconfig file(s) of this cluster; unset: the top-level kubeconfig "
        "(KUBECONFIG).",
    )
    in_cluster: bool = Field(
        False, description="The service account of the pod Medic runs in (at most one cluster)."
    )
    scenario: str | None = Field(
        None, max_length=64, description="The simulated shop's scenario (kind sim)."
    )
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    logs: LogsSettings = Field(default_factory=LogsSettings)
    redis_url: str | None = None
    alertmanager_url: str | None = None
    default_namespace: str | None = None

    @model_validator(mode="after")
    def _one_way_in(self) -> ClusterSettings:
        if self.kind == "sim" and (self.context or self.kubeconfig or self.in_cluster):
            raise ValueError("a sim cluster has no kubeconfig, context or in_cluster")
        if self.kind == "kube" and self.scenario:
            raise ValueError("scenario is for kind: sim")
        if self.in_cluster and (self.context or self.kubeconfig):
            raise ValueError("in_cluster and a kubeconfig context are two different clusters")
        return self

    def applied_to(self, settings: Settings) -> Settings:
        """``settings`` as if this cluster were the only one: the fields the wiring of one
        cluster reads, replaced by this cluster's (a kubeconfig unset here is the top-level one;
        everything else is this cluster's own, unset meaning unset)."""
        return settings.model_copy(
            update={
                "cluster": self.kind,
                "kubeconfig": self.kubeconfig or settings.kubeconfig,
                "kube_context": self.context,
                "kube_in_cluster": self.in_cluster,
                "metrics": self.metrics,
                "logs": self.logs,
                "redis_url": self.redis_url,
                "alertmanager_url": self.alertmanager_url,
                "default_namespace": self.default_namespace,
                "clusters": {},
            }
        )
