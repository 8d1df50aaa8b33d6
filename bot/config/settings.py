"""The one typed settings object: top-level settings, read from MEDIC_* (and SLACK_*,
KUBECONFIG) variables, with one section per concern (the section modules beside this one)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, StringConstraints, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config.clusters import MAX_CLUSTERS, ClusterName, ClusterSettings, LabelName
from bot.config.diagnosis import DetectorSettings, InvestigationSettings, VerificationSettings
from bot.config.front import ReceiverSettings, SlackSettings, WebhookSettings
from bot.config.llm import LLMSettings
from bot.config.logs import LogsSettings
from bot.config.metrics import MetricsSettings
from bot.config.registry import RegistrySettings
from bot.config.state import DatabaseSettings, ReconcileSettings
from bot.config.watch import WatchSettings

ServiceName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
Callees = Annotated[list[ServiceName], Field(max_length=500)]  # a namespace's worth at most


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEDIC_",
        env_nested_delimiter="__",
        extra="forbid",
        populate_by_name=True,
        allow_inf_nan=False,
    )

    data_dir: Path = Path(".medic")
    cluster: Literal["kube", "sim"] | None = None
    config: Path | None = None
    alert_channel: str | None = None
    watched_channels: list[str] = Field(default_factory=list)
    slack_api_url: str | None = None
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    chroma_url: str | None = Field(
        None, description="Chroma server (http://host:port); unset: embedded in data_dir/chroma."
    )
    chroma_timeout_seconds: int = Field(
        10,
        ge=1,
        le=600,
        description="Longest wait for an answer from the Chroma server, per request; past it the "
        "incident memory is a skipped source.",
    )
    policy: Path | None = None
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the state database; default SQLite in data_dir."
    )
    kubeconfig: str | None = Field(
        None,
        validation_alias=AliasChoices("KUBECONFIG", "kubeconfig"),
        description="kubeconfig file(s) for cluster=kube outside a cluster (KUBECONFIG).",
    )
    kube_context: str | None = Field(None, description="kubeconfig context for cluster=kube.")
    kube_in_cluster: bool | None = Field(
        None,
        description="true: only the in-cluster service account; false: only kubeconfig; unset: "
        "the service account when Medic runs in a pod, else kubeconfig.",
    )
    default_namespace: str | None = Field(
        None,
        description="Namespace of a service named without one (an alert without a namespace "
        "label, `medic investigate SERVICE`); unset: the simulated cluster's, or `default`.",
    )
    redis_url: str | None = Field(None, description="Redis holding the caches purge_cache clears.")
    redis_timeout_seconds: float = Field(
        6.0,  # tools.redis_cache.TIMEOUT_SECONDS (not imported: redis-py is loaded only to purge)
        ge=0.2,
        le=120,
        description="The longest one Redis call may take, its retries included (each try gets "
        "half of it); a Redis that accepts and never answers is then 'did not answer', not a "
        "wait of minutes.",
    )
    alertmanager_url: str | None = Field(None, description="Alertmanager base URL for silences.")
    alertmanager_timeout_seconds: float = Field(
        10.0,  # tools.alertmanager.TIMEOUT_SECONDS
        ge=0.2,
        le=300,
        description="The longest one Alertmanager call may take, its retries included (each try, "
        "its whole answer included, gets half of it): a server that accepts and never answers, "
        "or answers a byte at a time, is then 'did not answer', not a wait of minutes.",
    )
    runbooks_dir: Path | None = None
    dependencies: dict[ServiceName, Callees] = Field(
        default_factory=dict,
        max_length=1000,
        description="The call graph where no trace source tells it: each service -> the services "
        "it calls (same namespace). Where a fault started is then followed down the calls.",
    )
    clusters: dict[ClusterName, ClusterSettings] = Field(
        default_factory=dict,
        max_length=MAX_CLUSTERS,
        description="Several clusters: name -> its API, metrics, logs, Redis, Alertmanager. "
        "Unset: the top-level settings are the one cluster.",
    )
    cluster_label: LabelName = Field(
        "cluster", description="The alert label that names the alert's cluster (with clusters)."
    )
    default_cluster: ClusterName | None = Field(
        None,
        description="The cluster of an alert without the cluster label, and of a service named "
        "without one (required with clusters).",
    )
    investigation: InvestigationSettings = Field(default_factory=InvestigationSettings)
    verification: VerificationSettings = Field(default_factory=VerificationSettings)
    detectors: DetectorSettings = Field(default_factory=DetectorSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    logs: LogsSettings = Field(default_factory=LogsSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    receivers: ReceiverSettings = Field(default_factory=ReceiverSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    reconcile: ReconcileSettings = Field(default_factory=ReconcileSettings)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    watch: WatchSettings = Field(default_factory=WatchSettings)

    @model_validator(mode="after")
    def _one_cluster_setting(self) -> Settings:
        """With the map, the clusters are its entries, named; the top-level ``cluster`` would be
        a second, unnamed one (and which of them an alert meant could not be told)."""
        if not self.clusters:
            return self
        if self.cluster is not None:
            raise ValueError(
                "set either cluster (one cluster) or clusters (several), not both; with "
                "clusters, unset MEDIC_CLUSTER and --cluster"
            )
        if self.default_cluster is None:
            raise ValueError(
                f"clusters needs default_cluster: the cluster of an alert without the "
                f"{self.cluster_label!r} label (one of: {', '.join(self.clusters)})"
            )
        if self.default_cluster not in self.clusters:
            raise ValueError(
                f"default_cluster {self.default_cluster} is not in clusters "
                f"({', '.join(self.clusters)})"
            )
        in_cluster = [name for name, c in self.clusters.items() if c.in_cluster]
        if len(in_cluster) > 1:
            raise ValueError(
                f"only one cluster can be the one Medic runs in (in_cluster): {in_cluster}"
            )
        return self
