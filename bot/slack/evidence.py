"""The evidence behind each diagnosis posted in Slack - the investigation and its plan - kept for
what happens later in the thread (verification, remembering, the conversation). After a restart it
is rebuilt for the same window: investigated and planned again, never proposed again."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

from bot.diagnosis.investigation import Investigation
from bot.flow import IncidentFlow
from bot.incidents import Incident
from bot.planners.combine import Plan

CACHED = 256


class Diagnosed(NamedTuple):
    investigation: Investigation
    plan: Plan


class EvidenceCache:
    def __init__(self, flow: IncidentFlow, size: int = CACHED) -> None:
        self._flow = flow
        self._size = size
        self._lock = threading.Lock()
        self._rebuild = threading.Lock()
        self._kept: OrderedDict[str, Diagnosed] = OrderedDict()

    def keep(self, incident_id: str, investigation: Investigation, plan: Plan) -> Diagnosed:
        diagnosed = Diagnosed(investigation, plan)
        with self._lock:
            self._kept[incident_id] = diagnosed
            self._kept.move_to_end(incident_id)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return diagnosed

    def of(self, incident: Incident) -> Diagnosed:
        """The incident's investigation and plan; rebuilt (once, however many ask at the same
        time) when they are not kept, e.g. after a restart."""
        with self._lock:
            kept = self._kept.get(incident.id)
        if kept is not None:
            return kept
        with self._rebuild:
            with self._lock:
                kept = self._kept.get(incident.id)
            if kept is not None:
                return kept
            investigation = self._flow.investigate(incident)
            return self.keep(incident.id, investigation, self._flow.plan(incident, investigation))
