"""The incident flow: the one sequence every entry point (CLI, Slack, webhook) drives.

intake -> investigate -> propose (planner + guard) -> approve/reject -> execute -> verify
-> remember
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.alerts import AlertGroup
from bot.config import VerificationSettings
from bot.diagnosis.budget import Budget
from bot.diagnosis.corrections import Correction, CorrectionStore, corrected, parse_correction
from bot.diagnosis.enrichment import enrich
from bot.diagnosis.hypotheses import add_evidence
from bot.diagnosis.investigation import Investigation, Investigator
from bot.diagnosis.signals import Glossary
from bot.diagnosis.verification import Verification, verify
from bot.errors import InputError
from bot.incidents import Incident, IncidentStore
from bot.llm.model import ChatModel
from bot.planners.base import PlanningContext
from bot.planners.combine import Plan, Planner
from detectors import MetricSource
from knowledge.memory import IncidentMemory
from knowledge.records import IncidentRecord, Remediation, TemplateCount
from tools.actions import Principal
from tools.backends import Backends
from tools.clock import Clock
from tools.errors import TargetNotFoundError
from tools.proposals import Proposal, ProposalStatus
from tools.workflow import Outcome, RemediationWorkflow, Settled

__all__ = ["IncidentFlow", "Outcome"]

PLANNER = "medic:planner"


class IncidentFlow:
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
    ) -> None:
        self.incidents = incidents
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

    def intake(self, group: AlertGroup) -> list[tuple[Incident, bool]]:
        """Open (or attach to) an incident per firing alert. Every alert is checked before any is
        stored, so a bad one leaves nothing half-written."""
        targets = []
        for alert in (a for a in group.alerts if a.status == "firing"):
            service = alert.service
            if service is None:
                raise InputError(
                    f"alert {alert.name} has no service label (looked for service, app, "
                    "deployment, job)"
                )
            namespace = alert.labels.get("namespace") or self.default_namespace
            try:
                self.backends.cluster.get_deployment(namespace, service)
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

    def budget(self, stop: threading.Event | None = None) -> Budget:
        """A new investigation's time budget (``investigation.timeout_seconds`` from now), ended
        early when ``stop`` is set."""
        return self.investigator.budget(stop)

    def investigate(self, incident: Incident, budget: Budget | None = None) -> Investigation:
        """The investigation, with what changed in the service and corrected past incidents,
        within ``budget`` (by default a new one)."""
        budget = budget or self.budget()
        investigation = self.investigator.investigate(incident, budget)
        budget.check("reading what changed")
        return enrich(
            investigation,
            incident,
            self.backends.cluster,
            self.catalog,
            self.corrections,
            self.min_similarity,
        )

    def plan(self, incident: Incident, investigation: Investigation) -> Plan:
        """Every planner's proposals merged and ranked, and the runbooks' diagnostic steps run
        (read-only helpers, through the guard). Evidence a planner brings (the LLM's hypotheses)
        joins the investigation's hypotheses; what it dropped or could not do joins the
        investigation's notes, so every rendering of the thread shows it."""
        context = PlanningContext(
            incident_id=incident.id,
            namespace=incident.namespace,
            service=incident.service,
            summary=incident.summary,
            labels=incident.labels,
            annotations=incident.annotations,
            findings=investigation.findings,
            hypotheses=investigation.hypotheses,
            similar=investigation.similar,
            templates=investigation.templates.abnormal if investigation.templates else [],
            changes=investigation.changes,
            catalog=self.catalog,
            corrections=self._corrections(m.record.id for m in investigation.similar),
            min_similarity=self.min_similarity,
        )
        plan = self.planner.plan(context)
        plan.checked = [
            f"{self.workflow.read(action, PLANNER).summary} ({source})"
            for action, source in plan.checks
        ]
        if plan.evidence:
            investigation.hypotheses = add_evidence(
                investigation.hypotheses,
                plan.evidence,
                self.catalog,
                measured_metrics={s.metric for s in investigation.series if len(s)},
            )
        investigation.notes += plan.notes + [f"dropped: {d}" for d in plan.dropped]
        return plan

    def propose(
        self, incident: Incident, investigation: Investigation, plan: Plan | None = None
    ) -> list[Proposal]:
        """Plan (unless given the plan), and put every planned action through the guarded
        workflow: each is recorded as a proposal with its dry-run preview (refused ones too, with
        the rule that refused them; one that an auto-run rule covers has already run)."""
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

    def _corrections(self, incident_ids: Iterable[str]) -> dict[str, Correction]:
        return self.corrections.latest(incident_ids) if self.corrections else {}

    def approve(
        self, proposal_id: str, user: Principal | str, digest: str, groups: Iterable[str] = ()
    ) -> Outcome:
        """``user`` (a Slack user id with ``groups``, their Slack user groups; or a CLI user)
        approves exactly what was shown (``digest``); the guard checks the approver first and the
        action runs exactly once. A refusal's summary is addressed to ``user``."""
        return self.workflow.approve(proposal_id, user, digest, groups)

    def reject(
        self, proposal_id: str, user: Principal | str, groups: Iterable[str] = ()
    ) -> Outcome:
        return self.workflow.reject(proposal_id, user, groups)

    def settle_interrupted(self, after_seconds: float) -> list[Settled]:
        """Actions a stopped process left executing (or approved, not started): judged from
        their targets' state and recorded, never run twice (tools/reconcile.py)."""
        return self.workflow.settle_interrupted(after_seconds)

    def verify(self, incident: Incident, investigation: Investigation) -> Verification:
        return verify(
            self.metrics,
            self.clock,
            self.catalog,
            incident.namespace,
            incident.service,
            investigation.findings,
            self.verification,
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
        top = investigation.hypotheses[0] if investigation.hypotheses else None
        started = datetime.fromtimestamp(incident.starts_at, UTC).isoformat(timespec="seconds")
        done = "; ".join(p.outcome for p in executed)
        checks = "; ".join(c.text for c in verification.checks) or verification.note
        record = IncidentRecord(
            id=incident.id,
            title=f"{incident.summary}" + (f" - {top.title.lower()}" if top else ""),
            service=incident.service,
            namespace=incident.namespace,
            started_at=started,
            alert=incident.summary,
            symptoms=investigation.symptoms,
            abnormal_metrics=list(dict.fromkeys(f.metric for f in investigation.findings)),
            templates=investigation.abnormal_templates,
            template_counts=[
                TemplateCount(
                    template=t.template,
                    level=t.level,
                    baseline=t.baseline_count,
                    current=t.current_count,
                    change="new" if t.is_new else "surging",
                )
                for t in (investigation.templates.abnormal if investigation.templates else [])
            ],
            root_cause=top.text if top else "unknown",
            cause=top.cause if top else "unknown",
            remediation=[
                Remediation(tool=p.action.tool, params=p.recipe.get("params", {})) for p in executed
            ],
            outcome="resolved" if verification.recovered else "not_resolved",
            postmortem=f"Medic: {done}. Verification: {checks}.",
            source="medic",
        )
        record = corrected(record, self._corrections([incident.id]).get(incident.id))
        if verification.recovered:  # first: a memory that is down does not keep it open
            self.incidents.resolve(incident.id, self.clock.now())
        self.memory.add(record)
        return record
