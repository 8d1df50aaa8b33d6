"""The incident flow: the one way in for every front end (Slack, the CLI, the webhooks).

intake -> diagnose (investigate -> plan -> propose, through the guard) -> decide (approve or
reject) -> verify -> remember; resolve (and withdraw what nobody decided) when the alerts end.
Front ends translate between their medium and these methods; they never reach past them into the
stores, the planner or the guarded workflow, and no rule of the incident lives in a front end.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import NamedTuple

from bot import messages
from bot.alerts import Alert, AlertGroup
from bot.clusters import FlowRouter, check_name, scoped
from bot.config import VerificationSettings
from bot.diagnosis.assembly import (
    Diagnosis,
    assemble,
    origin_context,
    planning_context,
)
from bot.diagnosis.at_origin import downstream_advice
from bot.diagnosis.budget import Budget
from bot.diagnosis.context import in_context
from bot.diagnosis.corrections import Correction, CorrectionStore, corrected, parse_correction
from bot.diagnosis.investigation import Investigation, Investigator
from bot.diagnosis.model import ModelInvestigator
from bot.diagnosis.model_checks import MODEL_TOOLS, model_checks
from bot.diagnosis.record import incident_record
from bot.diagnosis.signals import Glossary
from bot.diagnosis.stored import KeptDiagnoses
from bot.diagnosis.verification import Verification, verify, with_model_checks
from bot.errors import InputError
from bot.incidents import Incident, IncidentStore
from bot.llm.model import ChatModel
from bot.planners.combine import Plan, Planner, with_origin
from bot.postmortems.store import PostmortemStore
from bot.watch.proposals import from_watch
from bot.watch.verify import verify_change
from detectors import MetricSource
from knowledge.memory import IncidentMemory
from knowledge.records import IncidentRecord
from tools import SERVICE_LABELS
from tools.actions import Action, Principal, ToolResult
from tools.backends import Backends
from tools.clock import Clock
from tools.errors import TargetNotFoundError, ToolError
from tools.policy import Policy
from tools.proposals import Proposal, ProposalStatus
from tools.workflow import Outcome, RemediationWorkflow, Settled

__all__ = ["Diagnosed", "IncidentFlow", "Outcome"]

PLANNER = "medic:planner"
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")  # a deployment's possible name
MAX_CANDIDATES = 20  # words of an alert message tried as deployment names


class Diagnosed(NamedTuple):
    """What :meth:`IncidentFlow.diagnose` made: the diagnosis and the proposals put to people."""

    diagnosis: Diagnosis
    proposals: list[Proposal]


class IncidentFlow:
    """Every step of an incident, for every front end. (About 550 lines, and the module about
    640, over the house's 250 and 400: it is the one way in, so every step is a method here; each
    is short and hands the work to the module that does it.)"""

    def __init__(
        self,
        *,
        incidents: IncidentStore,
        workflow: RemediationWorkflow,
        investigator: Investigator,
        planner: Planner,
        backends: Backends,
        memory: IncidentMemory,
        metrics: MetricSource,
        catalog: Glossary,
        clock: Clock,
        verification: VerificationSettings,
        default_namespace: str,
        corrections: CorrectionStore | None = None,
        min_similarity: float = 0.45,
        chat: ChatModel | None = None,
        models: ModelInvestigator | None = None,
        postmortems: PostmortemStore | None = None,
    ) -> None:
        self.incidents = incidents
        self.models = models  # the look at an ML service's model (bot.diagnosis.model)
        self.chat = chat  # the configured chat model, for answers in a thread (bot.llm.model)
        self.workflow = workflow
        self.proposals = workflow.proposals
        self.investigator = investigator
        self.planner = planner
        self.backends = backends
        self.memory = memory
        self.metrics = metrics
        self.catalog = catalog
        self.clock = clock
        self.verification = verification
        self.default_namespace = default_namespace
        self.corrections = corrections
        self.min_similarity = min_similarity
        self.diagnoses = KeptDiagnoses(incidents)
        self.postmortems = postmortems  # keeps each verification for the postmortem draft
        # Several clusters (bot.wiring.clusters): the flows of the others, to which this one -
        # the default cluster's, the one front ends hold - hands what belongs to them.
        self.clusters: FlowRouter | None = None

    # --- clusters ------------------------------------------------------------------------------
    @property
    def cluster(self) -> str:
        """The cluster this flow's proposals are bound to and its actions run on."""
        return self.workflow.cluster

    def _at(self, labels: Mapping[str, str], alert: str = "alert") -> IncidentFlow:
        """The flow of the cluster of an alert (or incident) with ``labels``: this one, unless
        several clusters are configured; an InputError when they name an unknown cluster."""
        return self if self.clusters is None else self.clusters.flow_for(labels, alert)

    def _of(self, proposal_id: str) -> IncidentFlow:
        """The flow of the cluster ``proposal_id`` is bound to; this one when it is not in the
        map (whose workflow then refuses it: it is for another cluster)."""
        proposal = self.proposals.get(proposal_id)
        if self.clusters is None or proposal is None:
            return self
        return self.clusters.flow_named(proposal.cluster) or self

    def _scoped(self, group: AlertGroup, *, strict: bool) -> AlertGroup:
        """``group`` with each alert's identity made its cluster's own (several clusters): the
        same fingerprint from two clusters - two Alertmanagers, no external label, or a forged
        one - is two incidents, never one whose actions would reach the other cluster. An alert
        naming an unknown cluster is an InputError (``strict``), else left out."""
        if self.clusters is None:
            return group
        alerts = []
        for alert in group.alerts:
            try:
                name = self.clusters.name_for(alert.labels, alert.name)
            except InputError:
                if strict:
                    raise
                continue
            alerts.append(alert.model_copy(update={"fingerprint": scoped(name, alert.identity)}))
        return group.model_copy(update={"alerts": alerts})

    def by_cluster(
        self, group: AlertGroup, *, refused: list[str] | None = None
    ) -> list[AlertGroup]:
        """``group`` split by cluster (several clusters): the default cluster's alerts keep the
        group's key, another cluster's get it with ``@NAME`` after it - a thread per cluster, the
        same one whether or not the other clusters' alerts come along. An alert naming an unknown
        cluster is an InputError; with ``refused``, it is left out and its one-line refusal
        added there instead, so the other clusters' alerts of the group are still taken in.
        Without a map, ``[group]``."""
        if self.clusters is None:
            return [group]
        parts: dict[str, list[Alert]] = {}
        for alert in group.alerts:
            try:
                name = self.clusters.name_for(alert.labels, alert.name)
            except InputError as exc:
                if refused is None:
                    raise
                refused.append(str(exc))
                continue
            parts.setdefault(name, []).append(alert)
        split = []
        for name, alerts in parts.items():
            key = group.group_key or f"alert:{alerts[0].identity}"
            if name != self.cluster:  # this flow is the default cluster's (front ends hold it)
                key = f"{key}@{name}"
            elif not group.group_key:
                key = ""
            split.append(group.model_copy(update={"alerts": alerts, "group_key": key}))
        return split

    def cluster_labels(self, cluster: str | None) -> dict[str, str]:
        """The labels that put a manual investigation in ``cluster`` (None: the default)."""
        if cluster is None:
            return {}
        if self.clusters is None:
            raise InputError(messages.CLUSTER_NOT_CONFIGURED.format(cluster=cluster[:63]))
        return {self.clusters.label: check_name(cluster, self.clusters.names)}

    def namespace_in(self, cluster: str | None) -> str:
        """The namespace of a service named without one, in ``cluster`` (None: the default)."""
        return self._at(self.cluster_labels(cluster)).default_namespace

    # --- intake and resolution -----------------------------------------------------------------
    def intake(self, group: AlertGroup) -> list[tuple[Incident, bool]]:
        """Open (or attach to) an incident per firing alert. Every alert is checked before any is
        stored, so a bad one leaves nothing half-written."""
        group = self._scoped(group, strict=True)
        targets = []
        for alert in (a for a in group.alerts if a.status == "firing"):
            service = alert.service
            if service is None:
                raise InputError(
                    f"alert {alert.name} has no service label (looked for service, app, "
                    "deployment, job)"
                )
            home = self._at(alert.labels, alert.name)  # its own cluster's deployments
            namespace = alert.labels.get("namespace") or home.default_namespace
            try:
                home.backends.cluster.get_deployment(namespace, service)
            except TargetNotFoundError as exc:
                raise InputError(f"unknown service: {exc}") from exc
            # Any other ToolError (API server unreachable, no permission) is not the alert's
            # fault: it propagates, so the CLI says what failed and the webhook retries later.
            targets.append((alert, service, namespace))
        return [
            self.incidents.open_or_attach(
                alert,
                service=service,
                namespace=namespace,
                group_key=group.group_key,
                now=self.clock.now(),
            )
            for alert, service, namespace in targets
        ]

    def resolve(self, group: AlertGroup) -> list[tuple[Incident, bool]]:
        """End the open incidents of the group's resolved alerts: only those that started at or
        before the resolved copy's start (a later episode is not ended by a late copy from before
        it fired again). Each with True for the one caller, among the replicas, that ended it."""
        ended = self._scoped(group, strict=False).ended_episodes()
        if not ended:
            return []
        now = self.clock.now()
        return [
            (incident, self.incidents.resolve(incident.id, now))
            for incident in self.incidents.open_with_fingerprints(ended)
            if incident.starts_at <= ended[incident.fingerprint]
        ]

    def withdraw_when_resolved(
        self, proposal_ids: Sequence[str], incident_ids: Iterable[str]
    ) -> list[Proposal] | None:
        """The proposals (of ``proposal_ids``) nobody decided, withdrawn once every incident
        they answer (``incident_ids``: all of one service's alerts in a thread) has resolved;
        returns those withdrawn by this call, None while one of the incidents is still open."""
        if any(self.is_open(i) for i in incident_ids):
            return None
        withdrawn = []
        for proposal_id in proposal_ids:
            proposal = self.proposals.get(proposal_id)
            pending = proposal is not None and proposal.status is ProposalStatus.PROPOSED
            if pending and self.withdraw(proposal_id).result.ok:
                assert proposal is not None
                withdrawn.append(proposal)
        return withdrawn

    def withdraw(self, proposal_id: str) -> Outcome:
        """Take back a pending proposal because its alert resolved."""
        return self.workflow.withdraw(proposal_id, messages.ALERT_RESOLVED_REASON)

    @property
    def policy(self) -> Policy:
        """The guard's policy, to read: who may approve, where Medic acts."""
        return self.workflow.guard.policy

    def find_service(self, words: list[str]) -> tuple[str, str] | None:
        """(namespace, service) of the first word naming a deployment Medic knows: namespaces from
        the policy (a word naming one tried first), deployments looked up by name (a GET per
        candidate word, so no permission to list deployments is needed)."""
        namespaces = list(dict.fromkeys([self.default_namespace, *self.policy.namespaces]))
        preferred = [w for w in words if w in namespaces]
        candidates = [w for w in dict.fromkeys(words) if DNS_LABEL.fullmatch(w)][:MAX_CANDIDATES]
        for namespace in preferred + [n for n in namespaces if n not in preferred]:
            for word in candidates:
                try:
                    self.backends.cluster.get_deployment(namespace, word)
                except ToolError:
                    continue
                return namespace, word
        return None

    def incident(self, incident_id: str) -> Incident | None:
        return self.incidents.get(incident_id)

    def proposal(self, proposal_id: str) -> Proposal | None:
        return self.proposals.get(proposal_id)

    def is_open(self, incident_id: str) -> bool:
        incident = self.incidents.get(incident_id)
        return incident is not None and incident.status == "open"

    def keeps_lead(self, incident_id: str) -> bool:
        """Whether an incident keeps a later alert of its service in the same thread from being
        investigated on its own: an open alert's does; a heads-up's (bot.watch.proposals) never
        does - it only carries the watch's proposed change."""
        incident = self.incidents.get(incident_id)
        return incident is not None and incident.status == "open" and not from_watch(incident)

    def proposals_of(self, incident_id: str) -> list[Proposal]:
        """Every proposal made for the incident, in the order they were made."""
        return self.proposals.for_incident(incident_id)

    def open_incidents(self) -> list[tuple[Incident, list[Proposal]]]:
        """The open incidents, each with its proposals waiting for a decision (one past its
        expiry waits for none: nobody can approve it any more)."""
        now = self.clock.now()
        return [
            (
                incident,
                [
                    p
                    for p in self.proposals.for_incident(incident.id)
                    if p.status is ProposalStatus.PROPOSED and p.expires_at > now
                ],
            )
            for incident in self.incidents.open_incidents()
        ]

    # --- diagnosis -----------------------------------------------------------------------------
    def budget(self, stop: threading.Event | None = None) -> Budget:
        """A new investigation's time budget (``investigation.timeout_seconds`` from now), ended
        early when ``stop`` is set."""
        return self.investigator.budget(stop)

    def diagnose(
        self, incident: Incident, budget: Budget | None = None, *, keep: bool = True
    ) -> Diagnosed:
        """Investigate, plan and propose: the diagnosis, assembled once from all the evidence,
        and its proposals through the guard. Kept with the incident unless ``keep`` is False
        (a front end that may yet drop it keeps it with :meth:`keep` once it is posted)."""
        home = self._at(incident.labels)
        if home is not self:
            return home.diagnose(incident, budget, keep=keep)
        budget = budget or self.budget()
        investigation = self.investigate(incident, budget)
        budget.check("planning")
        plan = self.plan(incident, investigation)
        diagnosis = assemble(investigation, plan, self.catalog)
        proposals = self.propose(incident, diagnosis.investigation, plan)
        if keep:
            self.keep(diagnosis)
        return Diagnosed(diagnosis, proposals)

    def keep(self, diagnosis: Diagnosis) -> None:
        """Keep ``diagnosis`` with its incident, for verification and memory later."""
        self.diagnoses.keep(diagnosis)

    def diagnosis_of(self, incident: Incident) -> Diagnosis:
        """The diagnosis posted for ``incident`` (kept, also across a restart); diagnosed again,
        never proposed again, only when none was kept."""
        return self.diagnoses.of(incident, self._rediagnose)

    def _rediagnose(self, incident: Incident) -> Diagnosis:
        home = self._at(incident.labels)
        if home is not self:
            return home._rediagnose(incident)
        investigation = self.investigate(incident)
        return assemble(investigation, self.plan(incident, investigation), self.catalog)

    def investigate(self, incident: Incident, budget: Budget | None = None) -> Investigation:
        """The investigation, with what changed in the service and corrected past incidents,
        within ``budget`` (by default a new one)."""
        home = self._at(incident.labels)
        if home is not self:
            return home.investigate(incident, budget)
        budget = budget or self.budget()
        investigation = self.investigator.investigate(incident, budget)
        budget.check("reading what changed")
        return self.with_context(incident, investigation, budget)

    def with_context(
        self, incident: Incident, investigation: Investigation, budget: Budget | None = None
    ) -> Investigation:
        """``investigation`` with the service's recent rollouts, the look at its model (an ML
        service's) and the corrected causes of its similar past incidents weighed in
        (bot.diagnosis.context); the same for the origin's own evidence when the fault started
        in another service."""
        home = self._at(incident.labels)
        if home is not self:
            return home.with_context(incident, investigation, budget)
        return in_context(
            incident,
            investigation,
            budget,
            new_budget=self.budget,
            cluster=self.backends.cluster,
            models=self.models,
            catalog=self.catalog,
            corrections=self._corrections,
            min_similarity=self.min_similarity,
        )

    def plan(self, incident: Incident, investigation: Investigation) -> Plan:
        """Every planner's proposals merged and ranked, and the runbooks' diagnostic steps run
        (read-only helpers, through the guard). When the fault started in another service, the
        planners plan on that origin's evidence too and its remedies act on it. What the planners
        bring joins the diagnosis in :func:`bot.diagnosis.assembly.assemble`."""
        home = self._at(incident.labels)
        if home is not self:
            return home.plan(incident, investigation)
        corrections = self._corrections(m.record.id for m in investigation.similar)
        plan = self.planner.plan(
            planning_context(
                incident, investigation, self.catalog, corrections, self.min_similarity
            )
        )
        look = investigation.at_origin
        if look is not None:
            there = self.planner.plan(
                origin_context(
                    incident,
                    look,
                    self.catalog,
                    self._corrections(m.record.id for m in look.similar),
                    self.min_similarity,
                )
            )
            advice = downstream_advice(investigation.origins, incident.service, look.service)
            plan = with_origin(plan, there, advice)
        checked = [
            f"{self.workflow.read(action, PLANNER).summary} ({source})"
            for action, source in plan.checks
        ]
        return replace(plan, checked=checked)

    def propose(
        self, incident: Incident, investigation: Investigation, plan: Plan | None = None
    ) -> list[Proposal]:
        """Plan (unless given the plan), and put every planned action through the guarded
        workflow: each is recorded as a proposal with its dry-run preview (refused ones too, with
        the rule that refused them; one that an auto-run rule covers has already run)."""
        home = self._at(incident.labels)
        if home is not self:
            return home.propose(incident, investigation, plan)
        plan = plan if plan is not None else self.plan(incident, investigation)
        return [
            self.workflow.propose(
                incident.id,
                planned.action,
                requested_by=PLANNER,
                source=", ".join(planned.sources),
                rationale="; ".join(planned.reasons),
                recipe=planned.recipe.model_dump(exclude={"why"}),
                rank=rank,
            ).proposal
            for rank, planned in enumerate(plan.actions)
        ]

    def correct(self, incident_id: str, text: str, by: str) -> Correction | None:
        """Record what a person says the cause or the fix really was; None when ``text`` names
        neither (it is then not a correction)."""
        if self.corrections is None or self.incidents.get(incident_id) is None:
            return None
        parsed = parse_correction(text, self.catalog)
        if parsed is None:
            return None
        cause, fix = parsed
        correction = Correction(incident_id, cause, fix, text, by, self.clock.now())
        return self.corrections.add(correction)

    def corrections_of(self, incident_ids: Iterable[str]) -> dict[str, Correction]:
        """The latest correction of each of these incidents that has one."""
        return self._corrections(incident_ids)

    def _corrections(self, incident_ids: Iterable[str]) -> dict[str, Correction]:
        return self.corrections.latest(incident_ids) if self.corrections else {}

    # --- decisions -----------------------------------------------------------------------------
    def decide(
        self,
        proposal_id: str,
        user: Principal | str,
        *,
        approve: bool,
        digest: str = "",
        groups: Iterable[str] = (),
    ) -> Outcome | None:
        """``user`` (a Slack user with their user groups, or a CLI user) approves exactly what was
        shown (``digest``) - the guard checks the approver first and the action runs exactly
        once - or rejects. None when there is no such proposal; a refusal's summary is
        addressed to ``user``."""
        if self.proposals.get(proposal_id) is None:
            return None
        workflow = self._of(proposal_id).workflow  # the proposal's own cluster's, only
        if approve:
            return workflow.approve(proposal_id, user, digest, groups)
        outcome = workflow.reject(proposal_id, user, groups)
        declined = outcome.proposal
        incident = self.incidents.get(declined.incident_id)
        if declined.status is ProposalStatus.REJECTED and incident and from_watch(incident):
            # a heads-up's change turned down: nothing is left of that incident to decide
            self.incidents.resolve(incident.id, self.clock.now())
        return outcome

    def silence(
        self, incident: Incident, seconds: float, user: Principal, *, source: str, where: str
    ) -> ToolResult:
        """Silence the incident's alerts: a `silence` proposal asked for and approved by ``user``
        (from ``where``, e.g. Slack), so it passes the same guard (policy, silence scope,
        approvers, two-person rule) as every other write. The matchers are the alert's own name,
        namespace and workload labels."""
        home = self._at(incident.labels)
        if home is not self:
            return home.silence(incident, seconds, user, source=source, where=where)
        action = silence_action(incident, seconds, f"silenced from {where} by {user.id}")
        proposed = self.workflow.propose(
            incident.id,
            action,
            requested_by=user.id,
            source=source,
            rationale=f"requested by {user.id}",
            recipe={"tool": "silence", "params": action.params},
        )
        proposal = proposed.proposal
        if proposal.status is not ProposalStatus.PROPOSED:
            return proposed.result
        return self.workflow.approve(proposal.id, user, proposal.digest).result

    def settle_interrupted(self, after_seconds: float) -> list[Settled]:
        """Actions a stopped process left executing (or approved, not started): judged from
        their targets' state and recorded, never run twice (tools/reconcile.py); with several
        clusters, each cluster's by its own workflow."""
        if self.clusters is not None:
            return self.clusters.settle_interrupted(after_seconds)
        return self.workflow.settle_interrupted(after_seconds)

    def expire_due(self) -> list[Proposal]:
        """Pending proposals nobody decided before their approval expired, now expired (so
        their buttons can go without anyone clicking one first)."""
        return self.proposals.expire_due(self.clock.now())

    # --- after an action -----------------------------------------------------------------------
    def verify(self, incident: Incident, investigation: Investigation) -> Verification:
        """Whether the metrics the diagnosis found abnormal (``investigation.findings``) are
        back to normal; after a model remedy, also whether the registry shows it done and the
        quality proxy recovered."""
        home = self._at(incident.labels)
        if home is not self:
            return home.verify(incident, investigation)
        verified = verify(
            self.metrics,
            self.clock,
            self.catalog,
            incident.namespace,
            incident.service,
            investigation.findings,
            self.verification,
        )
        remedies = [
            p
            for p in self.proposals.for_incident(incident.id)
            if p.status is ProposalStatus.SUCCEEDED and p.action.tool in MODEL_TOOLS
        ]
        if remedies:
            registry = self.workflow.backends.registry
            checks = [c for p in remedies for c in model_checks(registry, p)]
            verified = self._origin_quality(incident, investigation, remedies, verified)
            verified = with_model_checks(verified, checks, self.verification.quality_metric)
        if self.postmortems is not None:
            self.postmortems.record_verification(
                incident.id,
                self.clock.now(),
                verified.recovered,
                [c.text for c in verified.checks],
                verified.note,
            )
        return verified

    def verify_change(self, incident: Incident) -> Verification:
        """A heads-up's incident: whether the change the watch proposed, once approved and run,
        took and left the service not running hot (bot.watch.verify). Resolved when verified:
        there is nothing left to do, and nothing to remember - no fault was diagnosed."""
        done = [
            p
            for p in self.proposals.for_incident(incident.id)
            if p.status is ProposalStatus.SUCCEEDED
        ]
        if not done:
            return Verification(False, [], messages.WATCH_NOTHING_CHANGED)
        verified = verify_change(
            done[-1], self.backends.cluster, self.metrics, self.clock, self.verification
        )
        if verified.recovered:
            self.incidents.resolve(incident.id, self.clock.now())
        return verified

    def _origin_quality(
        self,
        incident: Incident,
        investigation: Investigation,
        remedies: Sequence[Proposal],
        verified: Verification,
    ) -> Verification:
        """``verified`` with the quality proxy re-checked on the origin when a model remedy
        acted there (the origin serves the model; the alerting service has no such metric)."""
        look = investigation.at_origin
        if look is None or all(p.action.name != look.service for p in remedies):
            return verified
        metric = self.verification.quality_metric
        fell = [f for f in look.findings if f.metric == metric]
        if not fell:
            return verified
        there = verify(
            self.metrics,
            self.clock,
            self.catalog,
            incident.namespace,
            look.service,
            fell,
            self.verification,
        )
        return Verification(
            verified.recovered and there.recovered,
            [*verified.checks, *there.checks],
            verified.note,
        )

    def remember(
        self, incident: Incident, investigation: Investigation, verification: Verification
    ) -> IncidentRecord | None:
        """Store the incident, what was done and whether it worked; resolve it when it recovered.
        Nothing is stored when no action ran: there is no outcome to learn from yet."""
        executed = [
            p
            for p in self.proposals.for_incident(incident.id)
            if p.status is ProposalStatus.SUCCEEDED
        ]
        if not executed:
            return None
        record = incident_record(incident, investigation, executed, verification)
        record = corrected(record, self._corrections([incident.id]).get(incident.id))
        if verification.recovered:  # first: a memory that is down does not keep it open
            self.incidents.resolve(incident.id, self.clock.now())
        self.memory.add(record)
        return record


def silence_action(incident: Incident, seconds: float, comment: str) -> Action:
    """A silence of the incident's alerts for ``seconds``: the matchers are the alert's own
    name, namespace and workload labels."""
    labels = incident.labels
    workload = next((k for k in SERVICE_LABELS if labels.get(k) == incident.service), "service")
    matchers = {k: labels[k] for k in ("alertname", "namespace") if labels.get(k)}
    return Action(
        "silence",
        incident.namespace,
        incident.service,
        {
            "matchers": {**matchers, workload: incident.service},
            "duration_minutes": max(1, math.ceil(seconds / 60)),
            "comment": f"{incident.id}: {comment}",
        },
    )
