"""Configuration: one typed object, read once from the YAML file named by MEDIC_CONFIG and the
environment (which wins), then passed down. Nothing else reads the environment.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from bot import messages
from bot.database import BUSY_TIMEOUT_SECONDS
from bot.errors import ConfigError
from detectors import (
    DEFAULT_ENSEMBLE,
    DetectorConfigError,
    DetectorSuite,
    DriftRules,
    EnsembleConfig,
    FindingRules,
    ForecastRules,
    Member,
)
from tools.transactions import DEFAULT_RETRY_SECONDS
from tools.yaml_input import YamlInputError, load_yaml


class InvestigationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    baseline_minutes: float = Field(
        60, gt=0, description="Length of the normal window compared against."
    )
    lead_minutes: float = Field(
        15, ge=0, description="How long before the alert's start an anomaly may have begun."
    )
    similar_limit: int = Field(3, ge=1)
    min_similarity: float = Field(0.45, ge=0, le=1)
    max_window_minutes: float = Field(
        360,
        gt=0,
        le=7 * 24 * 60,
        description="Longest window read (baseline included, a week at most); an older alert "
        "gets the most recent window.",
    )
    timeout_seconds: float = Field(
        60, gt=0, le=3600, description="Time budget of one investigation (its sources included)."
    )
    max_log_lines: int = Field(50_000, ge=100, description="Most log lines read per investigation.")
    lease_seconds: float = Field(
        60,
        ge=1,
        le=3600,
        description="An investigation's lease among replicas: renewed every third of it while "
        "the investigation runs; once it runs out (its replica died), another replica takes over.",
    )
    max_attempts: int = Field(
        2,
        ge=1,
        le=10,
        description="Tries of one investigation that never finished (killed, out of memory) "
        "before it is dead-lettered: said once in its thread, never tried again.",
    )

    @model_validator(mode="after")
    def _window_holds_a_baseline(self) -> InvestigationSettings:
        if self.max_window_minutes <= self.baseline_minutes + self.lead_minutes:
            raise ValueError(
                "max_window_minutes must be longer than baseline_minutes + lead_minutes"
            )
        return self


class VerificationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    delay_seconds: float = Field(300, ge=0, description="Wait after acting before re-reading.")
    window_seconds: float = Field(180, gt=0, description="Recent window whose median is judged.")
    tolerance: float = Field(
        0.25, ge=0, description="Recovered if within this fraction of baseline."
    )


class MemberSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    detector: str
    weight: float = Field(1.0, ge=0)
    explained_by: str | None = None
    params: dict[str, float] = Field(default_factory=dict)


class DetectorSettings(BaseModel):
    """Which detectors vote and how much (see docs/detectors.md), and when a metric is abnormal."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    members: list[MemberSettings] = Field(
        default_factory=lambda: [
            MemberSettings(
                detector=m.detector,
                weight=m.weight,
                explained_by=m.explained_by,
                params=dict(m.params),
            )
            for m in DEFAULT_ENSEMBLE.members
        ]
    )
    history: int = Field(DEFAULT_ENSEMBLE.history, ge=30)
    tail: float = Field(DEFAULT_ENSEMBLE.tail, gt=0, lt=0.5)
    suppression: float = Field(DEFAULT_ENSEMBLE.suppression, ge=0)
    grouping: float = Field(DEFAULT_ENSEMBLE.grouping, ge=0)
    reference_points: int = Field(DEFAULT_ENSEMBLE.reference_points, ge=1)
    period_correction: float = Field(DEFAULT_ENSEMBLE.period_correction, ge=0)
    alert_score: float = Field(0.5, gt=0, lt=1, description="Ensemble score of an abnormal point.")
    min_run: int = Field(3, ge=1, description="Consecutive abnormal points for a finding.")
    min_relative_change: float = Field(0.1, ge=0)
    min_baseline_points: int = Field(30, ge=30)
    limits: dict[str, float] = Field(
        default_factory=dict, description="Metric -> limit whose crossing is forecast."
    )
    forecast_horizon_minutes: float = Field(360, gt=0)
    forecast_lookback_minutes: float = Field(30, gt=0)
    drift_features: list[str] = Field(
        default_factory=lambda: ["request_payload_bytes"],
        description="Metrics that are a model's input features, checked for drift.",
    )
    psi_threshold: float = Field(0.25, gt=0)

    @model_validator(mode="after")
    def _valid_ensemble(self) -> DetectorSettings:
        try:
            self.ensemble()
        except DetectorConfigError as exc:
            raise ValueError(str(exc)) from exc
        return self

    def ensemble(self) -> EnsembleConfig:
        return EnsembleConfig(
            members=tuple(
                Member(m.detector, m.weight, m.explained_by, dict(m.params)) for m in self.members
            ),
            history=self.history,
            tail=self.tail,
            suppression=self.suppression,
            grouping=self.grouping,
            reference_points=self.reference_points,
            period_correction=self.period_correction,
        )

    def suite(self) -> DetectorSuite:
        return DetectorSuite(
            ensemble=self.ensemble(),
            rules=FindingRules(
                self.alert_score, self.min_run, self.min_relative_change, self.min_baseline_points
            ),
            limits=dict(self.limits),
            forecast=ForecastRules(
                horizon=60 * self.forecast_horizon_minutes,
                lookback=60 * self.forecast_lookback_minutes,
            ),
            drift_features=frozenset(self.drift_features),
            drift=DriftRules(psi_threshold=self.psi_threshold),
        )


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


class SlackSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    alert_pattern: str | None = Field(
        None,
        description="Regex for alert messages in watched channels; named groups alertname, "
        "service, namespace, status.",
    )
    timeout_seconds: float = Field(
        10, gt=0, le=120, description="How long one Slack Web API call may take."
    )


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    token: SecretStr | None = Field(None, description="Bearer token Alertmanager must send.")
    max_body_bytes: int = Field(1_048_576, gt=0, description="Larger bodies get 413.")


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    model: str | None = Field(
        None,
        description="A LangChain chat model for init_chat_model, e.g. 'openai:gpt-4o-mini', "
        "'anthropic:claude-sonnet-4-5', 'ollama:llama3.1'; none: plan without an LLM.",
    )
    timeout_seconds: float = Field(
        30, gt=0, le=600, description="Give up on the model after this long (one conversation)."
    )
    max_retries: int = Field(
        1, ge=0, le=5, description="Retries of a failed request, within timeout_seconds."
    )
    max_in_flight: int = Field(
        2, ge=1, le=16, description="Conversations with the model at once in one process."
    )
    max_steps: int = Field(3, ge=1, le=8, description="Model turns (read-only tool calls between).")
    temperature: float = Field(0.0, ge=0, le=2)


class DatabaseSettings(BaseModel):
    """How long Medic waits out a busy state database before telling the person it could not
    record what they did (see tools/transactions.py)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    busy_timeout_seconds: float = Field(
        BUSY_TIMEOUT_SECONDS,
        ge=0,
        le=60,
        description="SQLite: how long one statement waits for another writer.",
    )
    retry_seconds: float = Field(
        DEFAULT_RETRY_SECONDS,
        ge=0,
        le=600,
        description="How long a transaction is retried on a transient error (SQLite locked, "
        "PostgreSQL restarted or unreachable, serialization failure) before giving up.",
    )


class ReconcileSettings(BaseModel):
    """Actions interrupted mid-execution (a crash, a kill): checked against the target's real
    state and settled, never run again (tools/reconcile.py)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    after_seconds: float = Field(
        600,
        gt=0,
        description="An action still executing this long after it started is taken for "
        "interrupted; the tools' retries give up well before (docs/security.md).",
    )
    interval_seconds: float = Field(
        60, gt=0, description="How often `medic serve` looks for interrupted actions."
    )


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
    default_namespace: str | None = Field(
        None,
        description="Namespace of a service named without one (an alert without a namespace "
        "label, `medic investigate SERVICE`); unset: the simulated cluster's, or `default`.",
    )
    redis_url: str | None = Field(None, description="Redis holding the caches purge_cache clears.")
    alertmanager_url: str | None = Field(None, description="Alertmanager base URL for silences.")
    runbooks_dir: Path | None = None
    investigation: InvestigationSettings = Field(default_factory=InvestigationSettings)
    verification: VerificationSettings = Field(default_factory=VerificationSettings)
    detectors: DetectorSettings = Field(default_factory=DetectorSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    reconcile: ReconcileSettings = Field(default_factory=ReconcileSettings)


def load_settings(**overrides: Any) -> Settings:
    """Settings from MEDIC_CONFIG's YAML, overridden by the environment, overridden by ``overrides``
    (command-line options). Paths in the YAML are relative to the YAML file. A bad value is a
    ``ConfigError`` naming the setting and where it came from (file, variable or option)."""
    config_path = os.environ.get("MEDIC_CONFIG")
    from_file = _read_yaml(Path(config_path)) if config_path else {}
    from_env = _from_environment()
    given = {k: v for k, v in overrides.items() if v is not None}
    merged = {**_merged(from_file, from_env), **given}
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        loc = tuple(str(p) for p in exc.errors()[0]["loc"])
        if loc[:1] and loc[0] in given:
            origin = messages.CONFIG_FROM_OPTION.format(option=loc[0].replace("_", "-"))
        elif _holds(from_env, loc):
            origin = messages.CONFIG_FROM_VARIABLE.format(variable=_variable(loc))
        elif config_path:
            origin = messages.CONFIG_FROM_FILE.format(path=config_path)
        else:
            origin = messages.CONFIG_FROM_VARIABLE.format(variable="the environment")
        raise ConfigError(_invalid(exc, origin)) from exc


def _from_environment() -> dict[str, Any]:
    """The settings the environment sets (MEDIC_*, SLACK_*, KUBECONFIG), and only those."""
    try:
        return Settings().model_dump(exclude_unset=True)
    except ValidationError as exc:
        loc = tuple(str(p) for p in exc.errors()[0]["loc"])
        origin = messages.CONFIG_FROM_VARIABLE.format(variable=_variable(loc))
        raise ConfigError(_invalid(exc, origin)) from exc
    except (SettingsError, RecursionError) as exc:  # a list or section that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        variable = _variable((field.group(1),)) if field else "a MEDIC_* variable"
        raise ConfigError(messages.CONFIG_VARIABLE_NOT_JSON.format(variable=variable)) from exc


def _invalid(exc: ValidationError, origin: str) -> str:
    problem = exc.errors()[0]
    where = ".".join(str(p) for p in problem["loc"]) or "settings"
    return messages.CONFIG_INVALID.format(where=where, origin=origin, problem=problem["msg"])


def _variable(loc: tuple[str, ...]) -> str:
    """The environment variable of the setting at ``loc`` (the first two levels name it)."""
    field = Settings.model_fields.get(loc[0]) if loc else None
    alias = field.validation_alias if field is not None else None
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return "MEDIC_" + "__".join(loc[:2]).upper()


def _holds(data: dict[str, Any], loc: tuple[str, ...]) -> bool:
    """Whether ``data`` sets the setting at ``loc`` (or the section above it)."""
    below: Any = data
    for key in loc:
        if not isinstance(below, dict) or key not in below:
            return False
        below = below[key]
        if not isinstance(below, dict):
            return True
    return True


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, key by key at every depth: one variable such as
    MEDIC_METRICS__PROMETHEUS_URL replaces that setting, not the file's whole ``metrics``."""
    merged = dict(base)
    for key, value in override.items():
        below = merged.get(key)
        if isinstance(below, dict) and isinstance(value, dict):
            merged[key] = _merged(below, value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    shown = str(path) if str(path).isprintable() else repr(str(path))  # a path is text too
    try:
        text = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror
        raise ConfigError(messages.CONFIG_UNREADABLE.format(path=shown, reason=reason)) from exc
    try:
        data = load_yaml(text, f"MEDIC_CONFIG file {shown}") or {}
    except YamlInputError as exc:
        raise ConfigError(str(exc)) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"MEDIC_CONFIG file {shown} must hold a mapping of settings")
    for key in ("policy", "runbooks_dir", "data_dir"):
        if isinstance(data.get(key), str):
            data[key] = (path.parent / data[key]).resolve()
    data["config"] = path
    return data
