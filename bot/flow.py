"""The incident flow: the one sequence every entry point (CLI, Slack, webhook) drives.

intake -> investigate -> propose (planner + guard) -> approve/reject -> execute -> verify
-> remember
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.alerts import AlertGroup
from bot.config import VerificationSettings
from bot.errors import InputError
from bot.incidents import Incident, IncidentStore
from bot.investigation import Investigation, Investigator
from bot.planner import Planner
from bot.signals import SignalCatalog
from bot.verification import Verification, verify
from detectors import MetricSource
from knowledge.memory import IncidentMemory
from knowledge.records import IncidentRecord, Remediation, TemplateCount
from tools.actions import ToolResult, ToolStatus
from tools.backends import Backends
from tools.catalog import TOOLS
from tools.clock import Clock
from tools.errors import ToolError
from tools.executor import Executor
from tools.guard import Guard
from tools.proposals import Proposal, ProposalStatus, ProposalStore


@dataclass(frozen=True)
class Outcome:
    """What happened when someone decided on a proposal."""

    proposal: Proposal
    result: ToolResult


class IncidentFlow:
    def __init__(
        self,
        *,
        incidents: IncidentStore,
        proposals: ProposalStore,
        investigator: Investigator,
        planner: Planner,
        guard: Guard,
        executor: Executor,
        backends: Backends,
        memory: IncidentMemory,
        metrics: MetricSource,
        catalog: SignalCatalog,
        clock: Clock,
        verification: VerificationSettings,
        default_namespace: str,
    ) -> None:
        self.incidents = incidents
        self.proposals = proposals
        self.investigator = investigator
        self.planner = planner
        self.guard = guard
        self.executor = executor
        self.backends = backends
        self.memory = memory
        self.metrics = metrics
        self.catalog = catalog
        self.clock = clock
        self.verification = verification
        self.default_namespace = default_namespace

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
            except ToolError as exc:
                raise InputError(f"unknown service: {exc}") from exc
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

    def investigate(self, incident: Incident) -> Investigation:
        return self.investigator.investigate(incident)

    def propose(self, incident: Incident, investigation: Investigation) -> list[Proposal]:
        """Plan, ask the guard about every planned action, and record each as a proposal (refused
        ones too, with the rule that refused them)."""
        plans = self.planner.plan(
            namespace=incident.namespace,
            service=incident.service,
            labels=incident.labels,
            findings=investigation.findings,
            hypotheses=investigation.hypotheses,
            similar=investigation.similar,
        )
        created = []
        ttl = self.guard.policy.approval_ttl_seconds
        for rank, plan in enumerate(plans):
            decision = self.guard.check(plan.action)
            preview = (
                TOOLS[plan.action.tool].preview(self.backends, plan.action)
                if decision.allowed
                else ""
            )
            created.append(
                self.proposals.create(
                    incident.id,
                    plan.action,
                    source=", ".join(plan.sources),
                    rationale="; ".join(plan.reasons),
                    preview=preview,
                    recipe=plan.recipe.model_dump(exclude={"why"}),
                    now=self.clock.now(),
                    ttl_seconds=ttl,
                    rank=rank,
                    refused_because=None
                    if decision.allowed
                    else f"{decision.rule}: {decision.reason}",
                )
            )
        return created

    def approve(self, proposal_id: str, user: str, digest: str) -> Outcome:
        """Approve exactly what was shown (``digest``) and execute it once."""
        transition = self.proposals.approve(proposal_id, user, digest, self.clock.now())
        if not transition.ok:
            return Outcome(transition.proposal, ToolResult(ToolStatus.REFUSED, transition.reason))
        result = self.executor.execute(proposal_id)
        proposal = self.proposals.get(proposal_id)
        assert proposal is not None
        return Outcome(proposal, result)

    def reject(self, proposal_id: str, user: str) -> Outcome:
        transition = self.proposals.reject(proposal_id, user, self.clock.now())
        status = ToolStatus.REFUSED if not transition.ok else ToolStatus.SUCCEEDED
        summary = transition.reason or f"rejected by {user}"
        return Outcome(transition.proposal, ToolResult(status, summary))

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
        self.memory.add(record)
        if verification.recovered:
            self.incidents.resolve(incident.id, self.clock.now())
        return record
