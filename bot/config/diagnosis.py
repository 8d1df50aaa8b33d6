"""Settings of the diagnosis: how an investigation reads and bounds its window, how a fix is
verified, and which detectors vote (the ensemble and the rules that turn its scores into
findings). Validated here so a bad ensemble is a configuration error, not a failed investigation.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


class ModelSettings(BaseModel):
    """How an ML service is looked at (bot.diagnosis.model): its quality proxy and how far back
    its registry is read."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    quality_metric: str = Field(
        "click_through_rate",
        max_length=200,
        description="The metric (a name in metrics.queries) whose fall says the model serves "
        "worse answers; higher is better. Judged against its own history by the detectors.",
    )
    quality: dict[str, str] = Field(
        default_factory=dict,
        description="Per service, a quality metric other than quality_metric "
        "(recommender: click_through_rate, search: search_success_ratio).",
    )
    previous_versions: int = Field(
        2,
        ge=0,
        le=10,
        description="Versions before the serving one whose training data the live inputs are "
        "also compared with: drift against all of them says the data changed, not the model.",
    )
    registry_lookback_minutes: float = Field(
        120,
        ge=0,
        le=7 * 24 * 60,
        description="How long before the investigation's window a registry change (an alias "
        "moved, a new version) still counts as what changed.",
    )
    max_features: int = Field(
        50, ge=1, le=500, description="Most input features compared per investigation."
    )

    def quality_for(self, service: str) -> str:
        return self.quality.get(service, self.quality_metric)


class InvestigationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    baseline_minutes: float = Field(
        60, gt=0, description="Length of the normal window compared against."
    )
    lead_minutes: float = Field(
        15, ge=0, description="How long before the alert's start an anomaly may have begun."
    )
    max_lookback_minutes: float = Field(
        60,
        ge=0,
        description="How far before the lead a symptom's onset may move the suspect window when "
        "the symptom was already abnormal there (0: never; the window then starts lead_minutes "
        "before the alert).",
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
    max_log_lines: int = Field(
        50_000,
        ge=100,
        le=1_000_000,
        description="Most log lines an investigation ranks, all services together: each service "
        "keeps its lines up to a fair share, the loudest are thinned evenly over the window.",
    )
    max_candidates: int = Field(
        50,
        ge=1,
        le=500,
        description="Most services ranked as where the fault may have started: the alerting "
        "one, what it calls, what calls it, then the namespace's other workloads.",
    )
    log_candidates: int = Field(
        50,
        ge=0,
        le=500,
        description="Services around the alerting one whose logs are read, in the order their "
        "metrics rank them, within log_seconds (the alerting service's logs are always read).",
    )
    log_seconds: float = Field(
        0.3,
        gt=0,
        le=60,
        description="Time for reading the other candidates' logs: those not reached in it are "
        "ranked on their metrics alone, and the thread says how many.",
    )
    origin_history: int = Field(
        30,
        ge=0,
        le=1000,
        description="Earlier investigations of a namespace whose evidence is kept (in the state "
        "database, shared by replicas) as each service's own yardstick when ranking where a "
        "fault started (0: none).",
    )
    lease_seconds: float = Field(
        60,
        ge=1,
        le=3600,
        description="An investigation's lease among replicas: renewed every third of it while "
        "the investigation runs; once it runs out (its replica died), another replica takes over.",
    )
    model: ModelSettings = Field(default_factory=ModelSettings)
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
    quality_metric: str = Field(
        "click_through_rate",
        min_length=1,
        max_length=200,
        description="The quality proxy an ML service exports: after promote_model or retrain it "
        "must be among the re-checked metrics and back to normal.",
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
    recurrence: bool = Field(
        DEFAULT_ENSEMBLE.recurrence,
        description="Streaming: discount an alarm by the series' earlier alarms as strong.",
    )
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
            recurrence=self.recurrence,
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
