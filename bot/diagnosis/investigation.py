"""The investigation: for one incident, what is abnormal (metrics), what the logs say (templates),
what happened before (similar incidents), and therefore what is likely wrong (hypotheses).

Each source may fail; the investigation goes on without it and says so in its notes. The work is
bounded whatever the alert says: the window is at most ``max_window_minutes`` long and ends now,
at most ``max_log_lines`` log lines are read, and a time budget is checked between stages and
handed to the sources (:mod:`bot.diagnosis.budget`).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot import messages
from bot.config import InvestigationSettings
from bot.diagnosis.at_origin import OriginLook, origin_elsewhere
from bot.diagnosis.budget import Budget
from bot.diagnosis.changes import Change
from bot.diagnosis.hypotheses import Hypothesis, Relatedness, diagnose
from bot.diagnosis.model_look import ModelLook
from bot.diagnosis.origins import OriginFinder, Origins
from bot.diagnosis.signals import Glossary
from bot.diagnosis.window import (
    Window,
    earliest_split,
    onset,
    probe,
    suspect_window,
)
from bot.incidents import Incident
from detectors import (
    DetectorSuite,
    Finding,
    MetricSource,
    MetricSourceError,
    PartialMetricsError,
    Series,
)
from knowledge import (
    PROFILE_WIDTH,
    ComponentWindow,
    IncidentMemory,
    KnowledgeError,
    LogLine,
    LogSource,
    RankedCause,
    SimilarIncident,
    TemplateChanges,
    TemplateMiner,
    evidence_profile,
    features,
    load_miner,
    rank_components,
    save_miner,
)
from knowledge.logs import spread
from knowledge.matching import suspects_of
from tools import Clock, ToolError
from tools.backends import ClusterEvent


@dataclass(frozen=True)
class Investigation:
    """What the sources said about one incident. Never changed once made: what changed, the
    corrections and the plan are weighed in by :mod:`bot.diagnosis.assembly` into new values."""

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
    changes: list[Change] = field(default_factory=list)  # recent rollouts (assembly.with_context)
    origins: Origins = field(default_factory=lambda: Origins([], {}, frozenset()))
    at_origin: OriginLook | None = None  # the origin's own evidence, when it is another service
    model: ModelLook | None = None  # the look at the model it serves, when it is an ML service
    events: list[ClusterEvent] = field(default_factory=list)  # Kubernetes Events in the window

    @property
    def abnormal_templates(self) -> list[str]:
        return [t.template for t in self.templates.abnormal] if self.templates else []


def origins_profile(origins: Origins) -> dict[str, float]:
    """The evidence profile of the services around the alerting one (which kind of evidence
    the origins ranking held against which of its ``PROFILE_WIDTH`` leaders, how strongly): what
    the memory keeps of an incident and matches a new one by, as ``medic eval rca`` measures it
    (``knowledge.matching``). Empty when nothing around it was ranked."""
    return evidence_profile([o.cause for o in origins.ranked], PROFILE_WIDTH)


def neighbourhood_profile(origins: Origins) -> dict[str, float]:
    """The evidence profile of every service the origins ranking weighed (bounded by
    ``max_candidates``): what the fault did to the whole neighbourhood, which the memory matches
    on its own for one place of the list (``knowledge.matching.slotted_order``) - when the cause
    is silent the leaders are its victims, but the neighbourhood still looks alike."""
    return evidence_profile([o.cause for o in origins.ranked], len(origins.ranked))


def origins_suspects(origins: Origins) -> dict[str, float]:
    """The origins ranking's ``PROFILE_WIDTH`` leaders by their score relative to the first:
    a past incident of one of them is in the right place, as ``medic eval rca`` scores the
    memory (without them only the service the look is about counted as a place)."""
    return suspects_of([o.cause for o in origins.ranked], PROFILE_WIDTH)


class Investigator:
    def __init__(
        self,
        metrics: MetricSource,
        logs: LogSource,
        memory: IncidentMemory,
        catalog: Glossary,
        detectors: DetectorSuite,
        settings: InvestigationSettings,
        clock: Clock,
        relatedness: Relatedness | None = None,
        template_state: Path | None = None,
        origins: OriginFinder | None = None,
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
        self._origins = origins

    def window_for(self, incident: Incident) -> Window:
        """The window the alert asks for (before any onset moves it): bounded by
        ``max_window_minutes`` and the clock, whatever the alert says."""
        return suspect_window(
            incident.starts_at, incident.annotations, self._clock.now(), self._settings
        )

    def budget(self, stop: threading.Event | None = None) -> Budget:
        """A new investigation's time budget (``timeout_seconds``), ended early by ``stop``."""
        return Budget(self._settings.timeout_seconds, stop)

    def investigate(self, incident: Incident, budget: Budget | None = None) -> Investigation:
        """Everything the sources say about ``incident`` within ``budget`` (by default a new
        one): OutOfTimeError when it runs out between stages."""
        started = time.perf_counter()
        budget = budget or self.budget()
        window = self.window_for(incident)
        notes: list[str] = [window.note] if window.note else []
        ns, svc = incident.namespace, incident.service
        earliest = earliest_split(window, self._settings)
        reach = earliest - (window.split - window.baseline_start)  # the onset's baseline too

        budget.check("reading the metrics")
        try:
            series = self._metrics.fetch(ns, svc, reach, window.end, time_left=budget.share())
        except PartialMetricsError as exc:  # a bad query costs only its own metric
            series = exc.series
            if series:
                notes += [
                    messages.METRIC_NOT_INVESTIGATED.format(metric=m, why=why)
                    for m, why in exc.failed.items()
                ]
            else:  # every query failed (a silent server): one note, not one per metric
                first = next(iter(exc.failed.values()))
                more = len(exc.failed) - 1
                why = f"{first} ({messages.AND_MORE.format(count=more)})" if more else first
                notes.append(messages.METRICS_UNAVAILABLE.format(why=why))
        except (MetricSourceError, ToolError) as exc:
            series = []
            notes.append(messages.METRICS_UNAVAILABLE.format(why=exc))
        budget.check("running the detectors")
        if earliest < window.split:  # judged from further back first: did it start earlier?
            probed = _within(series, probe(window, earliest))
            judged = self._detectors.analyse(probed, earliest).anomalies
            began = onset(window, earliest, judged, probed)
            if began is not None:
                at, symptom = began
                window = replace(probe(window, at), onset_of=self._catalog.name(symptom))
        series = _within(series, window)
        analysis = self._detectors.analyse(series, window.split)
        findings = analysis.anomalies

        budget.check("reading the logs")
        templates, components, origins, at_origin = self._logs_and_origins(
            incident, window, notes, budget
        )
        symptoms = [self._catalog.symptom_text(f) for f in findings if self._catalog.is_bad(f)]

        budget.check("searching similar incidents")
        similar = self._similar(incident, svc, symptoms, templates, findings, notes, origins)
        hypotheses = self._diagnose(findings, templates, similar, series)
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
            origins=origins,
            at_origin=at_origin,
        )

    def _similar(
        self,
        incident: Incident,
        service: str,
        symptoms: list[str],
        templates: TemplateChanges | None,
        findings: list[Finding],
        notes: list[str],
        origins: Origins | None = None,
    ) -> list[SimilarIncident]:
        """``service``'s past incidents most like this one (none, and a note, when the memory
        cannot be searched). ``origins``: the services around it as the ranking saw them - its
        leaders (``origins_suspects``) and their evidence (``origins_profile``), every service
        it weighed (``neighbourhood_profile``) - matched against what the memory kept."""
        try:
            found = self._memory.similar(
                service=service,
                title=incident.summary,
                symptoms=symptoms,
                templates=[t.template for t in templates.abnormal] if templates else [],
                metrics=[f.metric for f in findings],
                namespace=incident.namespace,
                limit=self._settings.similar_limit,
                exclude={incident.id},
                evidence=origins_profile(origins) if origins else None,
                suspects=origins_suspects(origins) if origins else None,
                neighbourhood=neighbourhood_profile(origins) if origins else None,
            )
        except KnowledgeError as exc:
            notes.append(messages.MEMORY_UNAVAILABLE.format(why=exc))
            return []
        floor = self._settings.min_similarity
        return [m.model_copy(update={"weak": True}) if m.similarity < floor else m for m in found]

    def _diagnose(
        self,
        findings: list[Finding],
        templates: TemplateChanges | None,
        similar: list[SimilarIncident],
        series: list[Series],
    ) -> list[Hypothesis]:
        return diagnose(
            findings,
            templates.abnormal if templates else [],
            similar,
            self._catalog,
            measured_metrics={s.metric for s in series if len(s)},
            relatedness=self._relatedness,
            min_similarity=self._settings.min_similarity,
        )

    def _logs_and_origins(
        self, incident: Incident, window: Window, notes: list[str], budget: Budget
    ) -> tuple[TemplateChanges | None, list[RankedCause], Origins, OriginLook | None]:
        """The service's template changes and its pods ranked; then the services around it
        ranked, and a look at the origin when it is another service (their templates from the
        same miner, saved once all are done)."""
        namespace, service = incident.namespace, incident.service
        read = self._read_logs(namespace, service, window, notes, budget)
        templates: TemplateChanges | None = None
        components: list[RankedCause] = []
        origins = Origins([], {}, frozenset())
        at_origin: OriginLook | None = None
        lines, miner = read if read is not None else ([], TemplateMiner())
        if read is not None:
            budget.check("mining the log templates")
            templates, components = _template_changes(service, window, lines, miner)
        if self._origins is not None:
            budget.check("ranking the services around it")
            around: dict[str, list[LogLine]] = {}
            noted = len(notes)
            origins = self._origins.find(
                namespace, service, window, lines, miner, budget, notes, lines_read=around
            )
            if read is None:  # the log source is down: said once, not again for the others
                said = notes[noted - 1] if noted else ""
                why = said.removeprefix(messages.LOGS_UNAVAILABLE.format(why=""))
                notes[noted:] = [n for n in notes[noted:] if not (why and n.endswith(why))]
            origin = origin_elsewhere(origins, service)
            if origin is not None:
                budget.check("looking at the likely origin")
                at_origin = self._look_at(
                    incident,
                    origin.service,
                    window,
                    around.get(origin.service),
                    miner,
                    budget,
                    origins,
                )
        if read is not None:
            self._save_miner(miner, notes)
        return templates, components, origins, at_origin

    def _look_at(
        self,
        incident: Incident,
        service: str,
        window: Window,
        lines: list[LogLine] | None,
        miner: TemplateMiner,
        budget: Budget,
        origins: Origins | None = None,
    ) -> OriginLook:
        """The origin ``service``'s own evidence in the alerting service's ``window``: its
        metrics judged by the detectors, its logs' templates (``lines``: as the ranking read
        them; read here only when it did not), its past incidents and its likely causes."""
        notes: list[str] = []
        try:
            series = self._metrics.fetch(
                incident.namespace,
                service,
                window.baseline_start,
                window.end,
                time_left=budget.share(),
            )
        except PartialMetricsError as exc:
            series = exc.series
        except (MetricSourceError, ToolError) as exc:
            series = []
            notes.append(messages.ORIGIN_METRICS_UNAVAILABLE.format(service=service, why=exc))
        series = _within(series, window)
        findings = self._detectors.analyse(series, window.split).anomalies
        if lines is None:
            try:
                lines = self._logs.fetch(
                    incident.namespace,
                    service,
                    window.baseline_start,
                    window.end,
                    time_left=budget.share(),
                )
            except (KnowledgeError, ToolError) as exc:
                notes.append(messages.ORIGIN_LOGS_UNAVAILABLE.format(service=service, why=exc))
                lines = []
            lines = _spread(lines, self._settings.max_log_lines, [])
        templates = _compare(window, lines, miner) if lines else None
        symptoms = [self._catalog.symptom_text(f) for f in findings if self._catalog.is_bad(f)]
        similar = self._similar(incident, service, symptoms, templates, findings, notes, origins)
        return OriginLook(
            service=service,
            findings=findings,
            templates=templates,
            similar=similar,
            hypotheses=self._diagnose(findings, templates, similar, series),
            symptoms=symptoms,
            measured=sorted({s.metric for s in series if len(s)}),
            notes=notes,
        )

    def _read_logs(
        self, namespace: str, service: str, window: Window, notes: list[str], budget: Budget
    ) -> tuple[list[LogLine], TemplateMiner] | None:
        """The service's log lines in the window (at most ``max_log_lines``, spread evenly) and
        the template miner: the persisted one when there is one, so templates keep their
        identity from one incident to the next."""
        try:
            lines = self._logs.fetch(
                namespace, service, window.baseline_start, window.end, time_left=budget.share()
            )
            miner = load_miner(self._template_state) if self._template_state else TemplateMiner()
        except (KnowledgeError, ToolError) as exc:
            notes.append(messages.LOGS_UNAVAILABLE.format(why=exc))
            return None
        return _spread(lines, self._settings.max_log_lines, notes), miner

    def _save_miner(self, miner: TemplateMiner, notes: list[str]) -> None:
        if self._template_state:
            try:
                save_miner(miner, self._template_state)
            except KnowledgeError as exc:
                notes.append(messages.TEMPLATE_STATE_NOT_SAVED.format(why=exc))


def _template_changes(
    service: str, window: Window, lines: list[LogLine], miner: TemplateMiner
) -> tuple[TemplateChanges, list[RankedCause]]:
    """New and surging templates, and the service's log sources (pods) ranked by evidence."""
    baseline: list[LogLine] = [line for line in lines if line.timestamp < window.split]
    current = [line for line in lines if line.timestamp >= window.split]
    base_minutes = (window.split - window.baseline_start) / 60.0
    cur_minutes = (window.end - window.split) / 60.0
    changes = _compare(window, lines, miner)
    components = rank_components(
        {
            source: features(
                ComponentWindow(
                    name=source,
                    baseline_templates=Counter(
                        miner.templates_of(x for x in baseline if (x.source or service) == source)
                    ),
                    current_templates=Counter(
                        miner.templates_of(x for x in current if (x.source or service) == source)
                    ),
                    baseline_minutes=base_minutes,
                    current_minutes=cur_minutes,
                )
            )
            for source in sorted({line.source or service for line in lines})
        }
    )
    return changes, components


def _compare(window: Window, lines: list[LogLine], miner: TemplateMiner) -> TemplateChanges:
    """The templates new or surging in ``window``'s suspect part against its baseline."""
    return miner.compare(
        [line for line in lines if line.timestamp < window.split],
        [line for line in lines if line.timestamp >= window.split],
        (window.split - window.baseline_start) / 60.0,
        (window.end - window.split) / 60.0,
    )


def _within(series: list[Series], window: Window) -> list[Series]:
    """The samples of ``window`` (baseline and suspect window): more were read only to find an
    onset, and the detectors learn from everything before the split."""
    return [s.between(window.baseline_start, window.end + 1.0) for s in series]


def _spread(lines: list[LogLine], most: int, notes: list[str]) -> list[LogLine]:
    """At most ``most`` lines, evenly spread over the window, whatever the source returned."""
    kept = spread(lines, most)
    if len(kept) < len(lines):
        notes.append(messages.LOG_LINES_CAPPED.format(kept=len(kept), read=len(lines)))
    return kept
