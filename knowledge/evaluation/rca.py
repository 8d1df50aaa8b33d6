"""`medic eval rca`: root-cause service ranking (AS@k) and leave-one-out similar-incident retrieval
(hit@k, MRR) on the Nezha incidents, with a plain TF-IDF retrieval baseline from the same run.

The ranking is the live investigation's (``knowledge.origins.rank_origins``), seen two ways: with
every service's logs read in full ("localization"), and as the live fan-out reads them with the
live defaults ("localization_screened"): every service on its metrics alone (``screen``), the
logs - templates and the traces among them - of the ``log_candidates`` the metrics put highest,
all services together within ``max_log_lines`` (each its fair share, the loudest thinned evenly,
as ``bot.diagnosis.origins`` does). Nezha names no alerting service, so the screen alone decides
(live, the alerting service's logs are read too). The live time for logs (``log_seconds``) is not
emulated: it depends on the log source's speed. Both rank against the same history - the other
incidents, standing for the evidence a live investigation keeps from the namespace's earlier
ones (``bot.diagnosis.origin_history``) - so the difference is what the screen and the line
budget leave unread. ``history_modes`` then ranks the live path's evidence against each history a
deployment may have (``history_ranks``): none, the earlier incidents only, or all the others.
Nezha has no call graph either: the call-path rule has nothing to follow here.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from knowledge.embeddings import MiniLMEmbedding
from knowledge.evaluation.fault_data import (
    FAULT_SECONDS,
    NezhaIncident,
    ServiceLogs,
    load_index,
    read_logs,
    read_metrics,
)
from knowledge.logs import REMOTE_READS, fair_share
from knowledge.matching import PROFILE_WIDTH, evidence_profile, suspects_of
from knowledge.memory import IncidentMemory
from knowledge.origins import leader_of, metrics_only, rank_origins, screen
from knowledge.ranking import ComponentWindow, Features, RankedCause, features
from knowledge.records import IncidentRecord
from knowledge.store import open_chroma
from knowledge.templates import TemplateMiner
from knowledge.traces import TraceEvent, trace_evidence

GAP_SECONDS = 60.0
SIGNATURE_COMPONENTS = 3
PROFILE_COMPONENTS = PROFILE_WIDTH  # the suspects and evidence profile (knowledge.matching)
KS = (1, 3, 5)
LOG_CANDIDATES = 50  # the live defaults (investigation.log_candidates, max_log_lines)
MAX_LOG_LINES = 50_000

Metrics = dict[str, dict[str, list[tuple[float, float]]]]  # service -> metric -> points


@dataclass
class _Case:
    incident: NezhaIncident
    features: dict[str, Features]
    text: str
    screened: dict[str, Features]
    ranking: list[RankedCause] | None = None
    screened_ranking: list[RankedCause] | None = None
    timed: dict[str, Features] = field(default_factory=dict)  # read in time at a log speed
    timed_ranking: list[RankedCause] | None = None


@dataclass(frozen=True)
class MinedIncident:
    """One incident's logs mined into templates once, so that each choice of whose logs are
    read ranks the same templates."""

    incident: NezhaIncident
    services: list[str]
    base: ServiceLogs
    cur: ServiceLogs
    base_templates: dict[str, list[str]]
    cur_templates: dict[str, list[str]]
    metrics: Metrics


def evaluate_rca(
    data: Path,
    embedder: MiniLMEmbedding,
    workdir: Path,
    progress: Callable[[str], None] = print,
    log_candidates: int = LOG_CANDIDATES,
    max_log_lines: int = MAX_LOG_LINES,
    speed: LogSpeed | None = None,
) -> dict[str, Any]:
    """Both localizations (``log_candidates``: whose logs the screened one reads, all of them
    within ``max_log_lines``), the screened one against each history mode, and at ``speed``
    (the time for logs emulated) when given; retrieval and its baseline; each incident's
    ranks."""
    started = time.perf_counter()
    incidents = load_index(data)
    miner = TemplateMiner()
    logs_cache: dict[tuple[Path, ...], ServiceLogs] = {}
    metrics_cache: dict[Path, dict[str, dict[str, list[tuple[float, float]]]]] = {}
    cases: list[_Case] = []
    for incident in incidents:
        base = _logs(logs_cache, incident.baseline_log_files)
        cur = _logs(logs_cache, incident.log_files)
        if incident.metric_dir not in metrics_cache:
            metrics_cache[incident.metric_dir] = read_metrics(incident.metric_dir)
        mined = mine_incident(incident, base, cur, metrics_cache[incident.metric_dir], miner)
        found = evidence(mined)
        text = " ".join(line.message for lines in cur.lines.values() for line in lines)
        live = screened_evidence(mined, log_candidates, max_log_lines, miner)
        timed = (
            screened_evidence(mined, log_candidates, max_log_lines, miner, speed) if speed else {}
        )
        cases.append(_Case(incident, found, text, live, timed=timed))
        progress(f"{incident.id}: {cur.total} lines, {len(found)} services")
    for i, case in enumerate(cases):
        history = [c.features for j, c in enumerate(cases) if j != i]
        case.ranking = [o.cause for o in rank_origins(case.features, history)]
        case.screened_ranking = [o.cause for o in rank_origins(case.screened, history)]
        case.timed_ranking = [o.cause for o in rank_origins(case.timed, history)]
    localization = _localization([_position(c.incident, c.ranking) for c in cases])
    screened = _localization([_position(c.incident, c.screened_ranking) for c in cases])
    modes = history_ranks([c.incident for c in cases], [c.screened for c in cases])
    retrieval = _retrieval(cases, embedder, workdir)
    baseline = _tfidf_retrieval(cases)
    return {
        "incidents": len(cases),
        "localization": localization,
        "localization_screened": screened
        | {"log_candidates": log_candidates, "max_log_lines": max_log_lines},
        "history_modes": {mode: _localization(list(r.values())) for mode, r in modes.items()},
        **(
            {
                "localization_timed": _localization(
                    [_position(c.incident, c.timed_ranking) for c in cases]
                )
                | asdict(speed)
            }
            if speed
            else {}
        ),
        "retrieval": retrieval,
        "baseline_tfidf_retrieval": baseline,
        "per_incident": [
            {
                "id": c.incident.id,
                "root_cause": c.incident.root_cause,
                "fault_type": c.incident.fault_type,
                "rank": _position(c.incident, c.ranking),
                "top3": [r.component for r in (c.ranking or [])[:3]],
                "screened_rank": _position(c.incident, c.screened_ranking),
                **{f"{mode}_rank": ranks[c.incident.id] for mode, ranks in modes.items()},
                **({"timed_rank": _position(c.incident, c.timed_ranking)} if speed else {}),
            }
            for c in cases
        ],
        "seconds": round(time.perf_counter() - started, 2),
    }


HISTORY_MODES = ("fresh", "earlier_only", "leave_one_out")


def history_ranks(
    incidents: Sequence[NezhaIncident],
    found: Sequence[Mapping[str, Features]],
    modes: Collection[str] = HISTORY_MODES,
) -> dict[str, dict[str, int | None]]:
    """Each incident's root-cause rank (incident id -> rank) when ranked against the history a
    live deployment would have kept (``found``: each incident's evidence as the live path reads
    it, which is also what it keeps): ``fresh`` - none (a first investigation, a restart before
    the history was kept in the state database); ``earlier_only`` - the incidents before it in
    time, as a deployment accumulates them; ``leave_one_out`` - every other incident, later ones
    too (an upper bound a deployment only reaches after many incidents). Each kept incident
    comes with the origin it was named when it was investigated, in time order against the ones
    before it, as a deployment keeps it (``knowledge.origins.leader_of``)."""
    order = sorted(range(len(incidents)), key=lambda k: (incidents[k].inject_time, k))
    leaders: dict[int, str | None] = {}
    for position, i in enumerate(order):
        earlier = order[:position]
        named = rank_origins(
            found[i], [found[j] for j in earlier], leaders=[leaders[j] for j in earlier]
        )
        leaders[i] = leader_of(named)
    out: dict[str, dict[str, int | None]] = {}
    for mode in modes:
        ranks: dict[str, int | None] = {}
        for position, i in enumerate(order):
            if mode == "fresh":
                kept: list[int] = []
            elif mode == "earlier_only":
                kept = order[:position]
            elif mode == "leave_one_out":
                kept = [j for j in order if j != i]
            else:
                raise ValueError(f"unknown history mode {mode!r}")
            ranked = rank_origins(
                found[i], [found[j] for j in kept], leaders=[leaders[j] for j in kept]
            )
            ranks[incidents[i].id] = _position(incidents[i], [o.cause for o in ranked])
        out[mode] = ranks
    return out


def _logs(cache: dict[tuple[Path, ...], ServiceLogs], files: list[Path]) -> ServiceLogs:
    key = tuple(files)
    if key not in cache:
        cache[key] = read_logs(files)
    return cache[key]


def incident_features(
    incident: NezhaIncident,
    base: ServiceLogs,
    cur: ServiceLogs,
    metrics: Metrics,
    miner: TemplateMiner,
    candidates: bool = False,
) -> dict[str, Features]:
    """Every service's evidence for one incident: its logs in the fault window against the
    fault-free baseline, the request traces of both, its metrics up to the window's end
    (``candidates``: with the trace channels the protocol dropped, for the benchmark)."""
    return evidence(mine_incident(incident, base, cur, metrics, miner), candidates=candidates)


def mine_incident(
    incident: NezhaIncident,
    base: ServiceLogs,
    cur: ServiceLogs,
    metrics: Metrics,
    miner: TemplateMiner,
) -> MinedIncident:
    """Every service's baseline and fault-window lines as templates (``miner`` keeps its state
    across incidents, as the live template state does)."""
    services = sorted(set(base.lines) | set(cur.lines) | set(metrics))
    return MinedIncident(
        incident=incident,
        services=services,
        base=base,
        cur=cur,
        base_templates={s: miner.templates_of(base.lines.get(s, [])) for s in services},
        cur_templates={s: miner.templates_of(cur.lines.get(s, [])) for s in services},
        metrics=metrics,
    )


def evidence(
    mined: MinedIncident, read: Collection[str] | None = None, candidates: bool = False
) -> dict[str, Features]:
    """Every service's evidence when the logs of ``read`` (None: every service) are read: their
    templates, and the traces as far as those logs tell them; the others on metrics alone."""
    incident = mined.incident
    start = incident.inject_time
    end = start + FAULT_SECONDS + GAP_SECONDS
    logged = set(mined.services if read is None else read)
    traces = trace_evidence(
        _events(mined.base, mined.base_templates, logged),
        _events(mined.cur, mined.cur_templates, logged),
        candidates=candidates,
    )
    out: dict[str, Features] = {}
    for service in mined.services:
        has_logs = service in logged
        current_lines = mined.cur.lines.get(service, []) if has_logs else []
        current = mined.cur_templates[service] if has_logs else []
        first_seen: dict[str, float] = {}
        for template, line in zip(current, current_lines, strict=True):
            first_seen[template] = min(first_seen.get(template, line.timestamp), line.timestamp)
        window = ComponentWindow(
            name=service,
            baseline_templates=Counter(mined.base_templates[service] if has_logs else []),
            current_templates=Counter(current),
            baseline_minutes=len(incident.baseline_log_files),
            current_minutes=len(incident.log_files),
            metrics={
                name: [(ts, v) for ts, v in points if ts < end]
                for name, points in mined.metrics.get(service, {}).items()
            },
            window=(start, end),
            first_seen=first_seen,
            traces=traces.get(service),
            candidates=candidates,
        )
        out[service] = features(window) if has_logs else metrics_only(features(window))
    return out


@dataclass(frozen=True)
class LogSpeed:
    """A log source's speed, to emulate ``investigation.log_seconds``: a read costs
    ``request_seconds`` plus its lines - at most ``max_lines``, the cap the sources put on one
    service's read (``logs.max_lines``, by default ``investigation.max_log_lines``) - at
    ``lines_per_second``; ``readers`` run at once (``knowledge.logs.concurrent_reads`` of a
    remote store, as the live fan-out reads one), and a read is started only before
    ``log_seconds`` have passed - once started it finishes, as live."""

    log_seconds: float
    lines_per_second: float
    request_seconds: float = 0.05
    readers: int = REMOTE_READS
    max_lines: int = MAX_LOG_LINES

    def reached(self, names: Sequence[str], sizes: Mapping[str, int]) -> list[str]:
        """The services of ``names`` (in the order asked) whose logs are read in time."""
        free = [0.0] * max(self.readers, 1)
        out: list[str] = []
        for name in names:
            at = heapq.heappop(free)
            if at >= self.log_seconds:
                break
            out.append(name)
            lines = min(sizes.get(name, 0), self.max_lines)
            cost = self.request_seconds + lines / max(self.lines_per_second, 1e-9)
            heapq.heappush(free, at + cost)
        return out


def screened_evidence(
    mined: MinedIncident,
    keep: int,
    max_log_lines: int = MAX_LOG_LINES,
    miner: TemplateMiner | None = None,
    speed: LogSpeed | None = None,
) -> dict[str, Features]:
    """The evidence the live fan-out gathers: every service ranked on its metrics alone, the
    logs read for the ``keep`` the metrics put highest (``knowledge.origins.screen``) - those
    reached in time at ``speed``, when given - all of them within ``max_log_lines`` (mined again
    by ``miner`` where the budget thinned them)."""
    read = screen(evidence(mined, read=()), keep)
    if speed is not None:
        sizes = {
            s: len(mined.base.lines.get(s, [])) + len(mined.cur.lines.get(s, [])) for s in read
        }
        read = speed.reached(read, sizes)
    return evidence(within_budget(mined, read, max_log_lines, miner), read=read)


def within_budget(
    mined: MinedIncident,
    read: Collection[str],
    max_log_lines: int,
    miner: TemplateMiner | None = None,
) -> MinedIncident:
    """``mined`` as the live fan-out keeps it: each read service's baseline and window lines
    together cut to the fair share of ``max_log_lines`` (``knowledge.logs.fair_share``), every
    k-th kept as ``spread`` keeps them from one time-ordered read."""
    sizes = {s: len(mined.base.lines.get(s, [])) + len(mined.cur.lines.get(s, [])) for s in read}
    most = max(fair_share(list(sizes.values()), max_log_lines), 1)
    if all(size <= most for size in sizes.values()):
        return mined
    base, cur = ServiceLogs(), ServiceLogs()
    for service in mined.services:
        before, during = mined.base.lines.get(service, []), mined.cur.lines.get(service, [])
        ids = mined.base.traces.get(service, []) + mined.cur.traces.get(service, [])
        step = -(-sizes[service] // most) if sizes.get(service, 0) > most else 1
        for k in range(0, len(before) + len(during), step):
            side, line = (base, before[k]) if k < len(before) else (cur, during[k - len(before)])
            side.lines[service].append(line)
            side.traces[service].append(ids[k])
    return mine_incident(mined.incident, base, cur, mined.metrics, miner or TemplateMiner())


def _events(
    logs: ServiceLogs, templates: dict[str, list[str]], services: Collection[str]
) -> list[TraceEvent]:
    return [
        TraceEvent(trace, line.timestamp, service, template)
        for service, lines in logs.lines.items()
        if service in services
        for line, template, trace in zip(
            lines, templates[service], logs.traces[service], strict=True
        )
    ]


def _position(incident: NezhaIncident, ranking: Sequence[RankedCause] | None) -> int | None:
    names = [r.component for r in ranking or []]
    return names.index(incident.root_cause) + 1 if incident.root_cause in names else None


def _localization(ranks: Sequence[int | None]) -> dict[str, float]:
    return {
        f"as@{k}": _share(sum(1 for r in ranks if r is not None and r <= k), len(ranks)) for k in KS
    }


def _share(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def relevance_label(incident: NezhaIncident) -> tuple[str, str]:
    """Two incidents are alike for retrieval when the same fault hit the same service."""
    return incident.root_cause, incident.fault_type


def retrieval_queries(incidents: Sequence[NezhaIncident]) -> list[int]:
    """The incidents that have an alike other incident: the leave-one-out queries."""
    labels = Counter(relevance_label(i) for i in incidents)
    return [k for k, i in enumerate(incidents) if labels[relevance_label(i)] > 1]


def _queries(cases: Sequence[_Case]) -> list[int]:
    return retrieval_queries([c.incident for c in cases])


@dataclass(frozen=True)
class Signature:
    """What Medic knows of an incident before its cause is confirmed: the suspect (the top of
    the ranking), the top-ranked services' abnormal templates and evidence, the kinds of evidence
    against the suspect, and the evidence profile."""

    suspect: str
    symptoms: list[str]
    templates: list[str]
    metrics: list[str]
    evidence: dict[str, float]
    suspects: dict[str, float]
    neighbourhood: dict[str, float] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"TrainTicket incident, {self.suspect} suspected"


def incident_signature(
    ranking: Sequence[RankedCause], found: dict[str, Features], width: int = PROFILE_COMPONENTS
) -> Signature:
    """The signature: templates, symptoms and metrics from the top-ranked services; the
    evidence profile and the suspects (by score relative to the leader's) from the ``width``
    top-ranked; the neighbourhood profile from every ranked service."""
    top = list(ranking[:SIGNATURE_COMPONENTS])
    return Signature(
        suspect=top[0].component if top else "",
        symptoms=[f"{r.component}: {e}" for r in top for e in r.evidence[:3]],
        templates=[t for r in top for t in found[r.component].abnormal_templates[:10]],
        metrics=top[0].signals if top else [],
        evidence=evidence_profile(ranking, width),
        suspects=suspects_of(ranking, width),
        neighbourhood=evidence_profile(ranking, len(ranking)),
    )


def memory_record(incident: NezhaIncident, signature: Signature) -> IncidentRecord:
    """The incident as the memory keeps it once its cause is confirmed."""
    return IncidentRecord(
        id=incident.id,
        title=signature.title,
        service=incident.root_cause,
        symptoms=signature.symptoms,
        abnormal_metrics=signature.metrics,
        evidence=signature.evidence,
        neighbourhood=signature.neighbourhood,
        templates=signature.templates,
        root_cause=f"{incident.fault_type} in {incident.root_cause}",
        cause=incident.fault_type,
        outcome="unknown",
        source="imported",
    )


def _retrieval(cases: Sequence[_Case], embedder: MiniLMEmbedding, workdir: Path) -> dict[str, Any]:
    memory = IncidentMemory(open_chroma(workdir / "chroma"), embedder)
    signatures = [incident_signature(c.ranking or [], c.features) for c in cases]
    for case, signature in zip(cases, signatures, strict=True):
        memory.add(memory_record(case.incident, signature))
    ranks: list[int | None] = []
    for i in _queries(cases):
        case, signature = cases[i], signatures[i]
        matches = memory.similar(
            service=signature.suspect,
            title=signature.title,
            symptoms=signature.symptoms,
            templates=signature.templates,
            metrics=signature.metrics,
            limit=len(cases),
            ranked=True,
            exclude={case.incident.id},
            evidence=signature.evidence,
            suspects=signature.suspects,
            neighbourhood=signature.neighbourhood,
        )
        wanted = relevance_label(case.incident)
        found = [m.record.service == wanted[0] and m.record.cause == wanted[1] for m in matches]
        ranks.append(found.index(True) + 1 if True in found else None)
    return _retrieval_scores(ranks)


def _tfidf_retrieval(cases: Sequence[_Case]) -> dict[str, Any]:
    """Baseline: TF-IDF of each incident's raw fault-window log text, nearest other incident."""
    matrix = TfidfVectorizer(max_features=50_000, sublinear_tf=True).fit_transform(
        [c.text for c in cases]
    )
    similarity = (matrix @ matrix.T).toarray()
    ranks: list[int | None] = []
    for i in _queries(cases):
        order = [j for j in np.argsort(-similarity[i]) if j != i]
        found = [
            relevance_label(cases[j].incident) == relevance_label(cases[i].incident) for j in order
        ]
        ranks.append(found.index(True) + 1 if True in found else None)
    return _retrieval_scores(ranks)


def _retrieval_scores(ranks: Sequence[int | None]) -> dict[str, Any]:
    return {
        "queries": len(ranks),
        "hit@1": _share(sum(1 for r in ranks if r == 1), len(ranks)),
        "hit@3": _share(sum(1 for r in ranks if r is not None and r <= 3), len(ranks)),
        "mrr": round(sum(1.0 / r for r in ranks if r) / len(ranks), 4) if ranks else 0.0,
    }
