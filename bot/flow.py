"""The incident flow: the one sequence every entry point (CLI, Slack, webhook) drives.

intake -> investigate -> propose (planner + guard) -> approve/reject -> execute -> verify
-> remember
"""

from __future__ import annotations

from collections.abc import Iterable
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
from tools.actions import Principal
from tools.backends import Backends
from tools.clock import Clock
from tools.errors import ToolError
from tools.proposals import Proposal, ProposalStatus
from tools.workflow import Outcome, RemediationWorkflow

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
        catalog: SignalCatalog,
        clock: Clock,
        verification: VerificationSettings,
        default_namespace: str,
    ) -> None:
        self.incidents = incidents
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
        """Plan, and put every planned action through the guarded workflow: each is recorded as a
        proposal with its dry-run preview (refused ones too, with the rule that refused them; one
        that an auto-run rule covers has already run)."""
        plans = self.planner.plan(
            namespace=incident.namespace,
            service=incident.service,
            labels=incident.labels,
            findings=investigation.findings,
            hypotheses=investigation.hypotheses,
            similar=investigation.similar,
        )
        return [
            self.workflow.propose(
                incident.id,
                plan.action,
                requested_by=PLANNER,
                source=", ".join(plan.sources),
                rationale="; ".join(plan.reasons),
                recipe=plan.recipe.model_dump(exclude={"why"}),
                rank=rank,
            ).proposal
            for rank, plan in enumerate(plans)
        ]

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
