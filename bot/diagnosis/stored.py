"""Diagnoses kept: every one in the incidents table (as JSON), the recent ones also in memory with
their metric series. Verification, memory and the conversation in a thread read the diagnosis
that was posted, also after a restart, instead of investigating and planning (LLM included)
again; only an incident diagnosed before diagnoses were kept is diagnosed again, once."""

from __future__ import annotations

import dataclasses
import threading
import typing
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from bot.diagnosis.assembly import Diagnosis
from bot.diagnosis.investigation import Investigation
from bot.incidents import Incident, IncidentStore
from bot.planners.combine import Plan

CACHED = 256  # diagnoses kept in memory, most recent first

# The investigation as stored: every field but the series (numbers only charts need, posted
# with the diagnosis). Infinity (an unbounded forecast) is written as JSON's Infinity. A field
# with a default may be missing: a diagnosis kept by an earlier version (before the origins,
# issue 14) reads back with that default instead of being diagnosed again.
_STORED_CONFIG = ConfigDict(ser_json_inf_nan="constants")


def _stored_field(f: dataclasses.Field[Any]) -> tuple[Any, Any]:
    hint = typing.get_type_hints(Investigation)[f.name]
    if f.default is not dataclasses.MISSING:
        return hint, f.default
    if f.default_factory is not dataclasses.MISSING:
        return hint, Field(default_factory=f.default_factory)
    return hint, ...


_StoredInvestigation: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "StoredInvestigation",
    __config__=_STORED_CONFIG,
    **{f.name: _stored_field(f) for f in dataclasses.fields(Investigation) if f.name != "series"},
)


class _StoredDiagnosis(BaseModel):
    model_config = _STORED_CONFIG
    investigation: _StoredInvestigation
    plan: Plan


def to_json(diagnosis: Diagnosis) -> str:
    """The diagnosis as the incidents table keeps it."""
    fields = {
        f.name: getattr(diagnosis.investigation, f.name)
        for f in dataclasses.fields(Investigation)
        if f.name != "series"
    }
    stored = _StoredDiagnosis.model_construct(
        investigation=_StoredInvestigation.model_construct(**fields), plan=diagnosis.plan
    )
    return stored.model_dump_json()


def from_json(text: str) -> Diagnosis:
    """A kept diagnosis, without its series. ValueError when ``text`` is not one."""
    try:
        stored = _StoredDiagnosis.model_validate_json(text)
    except ValidationError as exc:
        raise ValueError(f"not a stored diagnosis: {exc}") from exc
    fields: dict[str, Any] = {
        name: getattr(stored.investigation, name)
        for name in type(stored.investigation).model_fields
    }
    return Diagnosis(Investigation(series=[], **fields), stored.plan)


class KeptDiagnoses:
    """The diagnoses of the incidents, kept where :meth:`of` finds them again."""

    def __init__(self, incidents: IncidentStore, size: int = CACHED) -> None:
        self._incidents = incidents
        self._size = size
        self._lock = threading.Lock()
        self._rebuild = threading.Lock()
        self._recent: OrderedDict[str, Diagnosis] = OrderedDict()

    def keep(self, diagnosis: Diagnosis) -> Diagnosis:
        """Store ``diagnosis`` with its incident and remember it in memory."""
        self._incidents.save_diagnosis(diagnosis.incident_id, to_json(diagnosis))
        self._remember(diagnosis)
        return diagnosis

    def of(self, incident: Incident, rebuild: Callable[[Incident], Diagnosis]) -> Diagnosis:
        """The incident's diagnosis: from memory, else from the incidents table, else made again
        by ``rebuild`` (once, however many ask at the same time) and kept."""
        kept = self._recent_one(incident.id)
        if kept is not None:
            return kept
        with self._rebuild:
            kept = self._recent_one(incident.id)
            if kept is not None:
                return kept
            stored = self._incidents.diagnosis(incident.id)
            if stored:
                try:
                    return self._remember(from_json(stored))
                except ValueError:
                    pass  # written by another version: diagnosed again below
            return self.keep(rebuild(incident))

    def _recent_one(self, incident_id: str) -> Diagnosis | None:
        with self._lock:
            return self._recent.get(incident_id)

    def _remember(self, diagnosis: Diagnosis) -> Diagnosis:
        with self._lock:
            self._recent[diagnosis.incident_id] = diagnosis
            self._recent.move_to_end(diagnosis.incident_id)
            while len(self._recent) > self._size:
                self._recent.popitem(last=False)
        return diagnosis
