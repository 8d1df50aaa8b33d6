"""What an incident's timeline (the postmortem draft's raw material) says about its diagnosis:
where it started (at the origin's first deviation), the abnormal metrics from when they began, the
leading hypotheses, similar past incidents and every proposal as it was put to people."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.diagnosis.investigation import Investigation
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from bot.origin_views import origins_view
from bot.slack import blocks
from bot.slack.thread_store import ThreadStore
from tools.proposals import Proposal, ProposalStatus


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")


def record_diagnosis(
    store: ThreadStore,
    catalog: Glossary,
    incident: Incident,
    inv: Investigation,
    proposals: Sequence[Proposal],
    now: float,
) -> None:
    origins = origins_view(inv, catalog)
    if origins is not None:
        at = origins.origin.began if origins.origin.began is not None else now
        store.record(incident.id, "origin", origins.headline.plain(_utc), at)
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
