"""The investigation: for one incident, what is abnormal (metrics), what the logs say (templates),
what happened before (similar incidents), and therefore what is likely wrong (hypotheses).

Each source may fail; the investigation goes on without it and says so in its notes.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bot.changes import Change
from bot.config import InvestigationSettings
from bot.diagnosis import Hypothesis, Relatedness, diagnose
from bot.incidents import Incident
from bot.signals import SignalCatalog
from detectors import (
    DetectorSuite,
    Finding,
    MetricSource,
    MetricSourceError,
    PartialMetricsError,
    Series,
)
from knowledge.errors import KnowledgeError
from knowledge.logs import LogLine, LogSource
from knowledge.memory import IncidentMemory
from knowledge.ranking import ComponentWindow, RankedCause, features, rank
from knowledge.records import SimilarIncident
from knowledge.template_state import load_miner, save_miner
from knowledge.templates import TemplateChanges, TemplateMiner
from tools.clock import Clock
from tools.errors import ToolError


@dataclass(frozen=True)
class Window:
    """Baseline [baseline_start, split) against the suspect window [split, end)."""

    baseline_start: float
    split: float
    end: float


@dataclass
class Investigation:
    incident_id: str
    window: Window
    series: list[Series]
    findings: list[Finding]
    templates: TemplateChanges | None
    similar: list[SimilarIncident]
    hypotheses: list[Hypothesis]
    symptoms: list[str]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    forecasts: list[Finding] = field(default_factory=list)  # limits about to be crossed
    drift: list[Finding] = field(default_factory=list)  # model inputs whose distribution moved
    components: list[RankedCause] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)  # recent rollouts (bot.enrichment)

    @property
    def abnormal_templates(self) -> list[str]:
        return [t.template for t in self.templates.abnormal] if self.templates else []


class Investigator:
    def __init__(
        self,
        metrics: MetricSource,
        logs: LogSource,
        memory: IncidentMemory,
        catalog: SignalCatalog,
        detectors: DetectorSuite,
        settings: InvestigationSettings,
        clock: Clock,
        relatedness: Relatedness | None = None,
        template_state: Path | None = None,
    ) -> None:
        self._metrics = metrics
        self._logs = logs
        self._memory = memory
        self._catalog = catalog
        self._detectors = detectors
        self._settings = settings
        self._clock = clock
        self._relatedness = relatedness
        self._template_state = template_state

    def window_for(self, incident: Incident) -> Window:
        split = incident.starts_at - 60.0 * self._settings.lead_minutes
        return Window(
            baseline_start=split - 60.0 * self._settings.baseline_minutes,
            split=split,
            end=max(self._clock.now(), incident.starts_at + 60.0),
        )

    def investigate(self, incident: Incident) -> Investigation:
        started = time.perf_counter()
        window = self.window_for(incident)
        notes: list[str] = []
        ns, svc = incident.namespace, incident.service

        try:
            series = self._metrics.fetch(ns, svc, window.baseline_start, window.end)
        except PartialMetricsError as exc:  # a bad query costs only its own metric
            series = exc.series
            notes += [f"metric {m} not investigated: {why}" for m, why in exc.failed.items()]
        except (MetricSourceError, ToolError) as exc:
            series = []
            notes.append(f"metrics unavailable, continuing without them: {exc}")
        analysis = self._detectors.analyse(series, window.split)
        findings = analysis.anomalies

        templates, components = self._template_changes(ns, svc, window, notes)
        abnormal = [t.template for t in templates.abnormal] if templates else []
        symptoms = [self._catalog.symptom_text(f) for f in findings if self._catalog.is_bad(f)]

        try:
            similar = self._memory.similar(
                service=svc,
                title=incident.summary,
                symptoms=symptoms,
                templates=abnormal,
                metrics=[f.metric for f in findings],
                namespace=ns,
                limit=self._settings.similar_limit,
                exclude={incident.id},
            )
        except KnowledgeError as exc:
            similar = []
            notes.append(f"incident memory unavailable: {exc}")

        hypotheses = diagnose(
            findings,
            templates.abnormal if templates else [],
            similar,
            self._catalog,
            measured_metrics={s.metric for s in series if len(s)},
            relatedness=self._relatedness,
            min_similarity=self._settings.min_similarity,
        )
        return Investigation(
            incident_id=incident.id,
            window=window,
            series=series,
            findings=findings,
            templates=templates,
            similar=similar,
            hypotheses=hypotheses,
            symptoms=symptoms,
            notes=notes,
            seconds=time.perf_counter() - started,
            forecasts=analysis.forecasts,
            drift=analysis.drift,
            components=components,
        )

    def _template_changes(
        self, namespace: str, service: str, window: Window, notes: list[str]
    ) -> tuple[TemplateChanges | None, list[RankedCause]]:
        """New and surging templates, and the service's log sources (pods) ranked by evidence.
        Templates come from the persisted miner when there is one, so they keep their identity
        from one incident to the next."""
        try:
            lines = self._logs.fetch(namespace, service, window.baseline_start, window.end)
            miner = load_miner(self._template_state) if self._template_state else TemplateMiner()
        except (KnowledgeError, ToolError) as exc:
            notes.append(f"logs unavailable, continuing without them: {exc}")
            return None, []
        baseline: list[LogLine] = [line for line in lines if line.timestamp < window.split]
        current = [line for line in lines if line.timestamp >= window.split]
        base_minutes = (window.split - window.baseline_start) / 60.0
        cur_minutes = (window.end - window.split) / 60.0
        changes = miner.compare(baseline, current, base_minutes, cur_minutes)
        components = rank(
            {
                source: features(
                    ComponentWindow(
                        name=source,
                        baseline_templates=Counter(
                            miner.templates_of(
                                x for x in baseline if (x.source or service) == source
                            )
                        ),
                        current_templates=Counter(
                            miner.templates_of(
                                x for x in current if (x.source or service) == source
                            )
                        ),
                        baseline_minutes=base_minutes,
                        current_minutes=cur_minutes,
                    )
                )
                for source in sorted({line.source or service for line in lines})
            }
        )
        if self._template_state:
            try:
                save_miner(miner, self._template_state)
            except KnowledgeError as exc:
                notes.append(f"template state not saved: {exc}")
        return changes, components
