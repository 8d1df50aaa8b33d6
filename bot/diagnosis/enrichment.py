"""Evidence gathered around the investigation: what changed in the service (recent rollouts) and
what people said about similar past incidents (their corrections). Both join the hypotheses."""

from __future__ import annotations

from bot.diagnosis.changes import read_changes, weigh_changes
from bot.diagnosis.corrections import CorrectionStore, corrected
from bot.diagnosis.hypotheses import add_evidence, replace_memory_evidence
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from tools.backends import ClusterBackend


def enrich(
    investigation: Investigation,
    incident: Incident,
    cluster: ClusterBackend,
    catalog: Glossary,
    corrections: CorrectionStore | None,
    min_similarity: float,
) -> Investigation:
    """Add recent changes and corrected past incidents to ``investigation`` (in place)."""
    measured = {s.metric for s in investigation.series if len(s)}
    if corrections is not None:
        latest = corrections.latest(m.record.id for m in investigation.similar)
        if latest:
            investigation.similar = [
                m.model_copy(update={"record": corrected(m.record, latest.get(m.record.id))})
                for m in investigation.similar
            ]
            investigation.hypotheses = replace_memory_evidence(
                investigation.hypotheses,
                investigation.similar,
                catalog,
                measured_metrics=measured,
                min_similarity=min_similarity,
            )
    changes, note = read_changes(cluster, incident.namespace, incident.service)
    investigation.changes = changes
    if note:
        investigation.notes.append(note)
    weighed = weigh_changes(changes, investigation.findings, catalog)
    if weighed:
        investigation.hypotheses = add_evidence(
            investigation.hypotheses,
            [(change.cause, evidence, evidence.text) for change, evidence in weighed],
            catalog,
            measured_metrics=measured,
        )
    return investigation
