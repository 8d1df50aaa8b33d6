"""What an incident's timeline (the postmortem draft's raw material) says about its diagnosis:
the abnormal metrics from when they began, the leading hypotheses, similar past incidents and
every proposal as it was put to people."""

from __future__ import annotations

from collections.abc import Sequence

from bot.diagnosis.investigation import Investigation
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from bot.slack import blocks
from bot.slack.thread_store import ThreadStore
from tools.proposals import Proposal, ProposalStatus


def record_diagnosis(
    store: ThreadStore,
    catalog: Glossary,
    incident: Incident,
    inv: Investigation,
    proposals: Sequence[Proposal],
    now: float,
) -> None:
    for f in inv.findings:
        store.record(incident.id, "finding", catalog.describe(f), f.start)
    for h in inv.hypotheses[:3]:
        store.record(incident.id, "hypothesis", f"{h.text} (score {h.score:.2f})", now)
    for m in inv.similar:
        fixed = ", ".join(r.describe() for r in m.record.remediation) or "-"
        store.record(
            incident.id, "similar", f"{m.record.id} {m.record.title} (fixed by {fixed})", now
        )
    for p in proposals:
        text = p.preview if p.status is ProposalStatus.PROPOSED else p.refusal
        store.record(incident.id, "proposal", text or blocks.exact_change(p.action), now)
