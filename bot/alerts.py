"""Alerts in: the Alertmanager webhook (version 4) payload, validated.

An alert's times must be real ones: with a timezone, not before ``EARLIEST`` and, when the caller
says what time it is, not more than ``MAX_AHEAD`` ahead of it. Anything else (an unset time read as
1970 or year 1, seconds read as milliseconds, a broken template) is refused naming the field,
because an investigation from it would read decades of metrics. Times that are real but awkward
(an alert firing for days, a sender whose clock runs ahead) are accepted; the investigation
reads a bounded window and says so (``bot.diagnosis.investigation``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from bot import messages
from bot.errors import InputError
from bot.payloads import check_depth, load_json
from tools import SERVICE_LABELS

SINCE_ANNOTATION = "medic_since"  # an alert, or a manual investigation, asking for its window

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=365)
GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)  # Alertmanager's endsAt of a firing alert: no end


def _real_time(value: datetime, info: ValidationInfo) -> datetime:
    """``value`` if it can be an alert's time; otherwise a validation error saying why."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError("alert_time", messages.ALERT_TIME_WITHOUT_ZONE)
    if value < EARLIEST:
        raise PydanticCustomError(
            "alert_time", messages.ALERT_TIME_TOO_EARLY, {"value": value.isoformat()}
        )
    now = (info.context or {}).get("now")
    if now is not None and value > datetime.fromtimestamp(now, UTC) + MAX_AHEAD:
        raise PydanticCustomError(
            "alert_time", messages.ALERT_TIME_TOO_LATE, {"value": value.isoformat()}
        )
    return value


MAX_IDENTITY = 64  # characters of an alert's identity the incidents table keeps


class Alert(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(min_length=1)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(None, alias="endsAt")
    generator_url: str = Field("", alias="generatorURL")
    fingerprint: str = ""

    @field_validator("starts_at")
    @classmethod
    def _starts_at(cls, value: datetime, info: ValidationInfo) -> datetime:
        return _real_time(value, info)

    @field_validator("ends_at")
    @classmethod
    def _ends_at(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None or value == GO_ZERO_TIME:
            return None
        return _real_time(value, info)

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "alert")

    @property
    def changed_at(self) -> datetime:
        """When the alert last changed state: its end once resolved, else its start. Copies of
        one notification can arrive out of order (an Alertmanager HA pair, a lagging replica);
        these times say which is the newer."""
        if self.status == "resolved" and self.ends_at is not None:
            # never before its own start: a sender whose clock runs ahead starts alerts in the
            # future, and its resolved copy must still be newer than its firing one
            return max(self.ends_at, self.starts_at)
        return self.starts_at

    @property
    def service(self) -> str | None:
        return next((self.labels[k] for k in SERVICE_LABELS if self.labels.get(k)), None)

    @property
    def identity(self) -> str:
        """Alertmanager's fingerprint, or a stable hash of the label set when it is missing. A
        sender's fingerprint longer than ``MAX_IDENTITY`` is hashed (stably: its copies still
        match): the incidents table keeps 64 characters, and PostgreSQL refuses a longer value,
        which would lose the alert."""
        if len(self.fingerprint) > MAX_IDENTITY:
            return "h" + hashlib.sha256(self.fingerprint.encode()).hexdigest()[:40]
        if self.fingerprint:
            return self.fingerprint
        canonical = json.dumps(self.labels, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class SourceLink(BaseModel):
    """A link back to the alert in the tool that sent it (shown escaped, only if http(s))."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(max_length=60)
    url: str = Field(max_length=2000)


class AlertSource(BaseModel):
    """Which tool an alert came from besides Alertmanager, with that tool's own ids and links:
    shown in the thread, and the target of a note written back (PagerDuty, Opsgenie). Set only
    by Medic's receivers (:mod:`bot.receivers`); a copy inside an Alertmanager payload is
    dropped (:func:`trusted_source`)."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=40)
    ids: dict[str, str] = Field(default_factory=dict, max_length=8)
    links: list[SourceLink] = Field(default_factory=list, max_length=8)

    @field_validator("ids")
    @classmethod
    def _short_ids(cls, value: dict[str, str]) -> dict[str, str]:
        return {k[:40]: v[:200] for k, v in value.items()}


class AlertGroup(BaseModel):
    """One webhook notification: a group of alerts sharing ``groupKey``."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    version: str = "4"
    group_key: str = Field("", alias="groupKey")
    status: Literal["firing", "resolved"] = "firing"
    receiver: str = ""
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field("", alias="externalURL")
    alerts: list[Alert] = Field(min_length=1)
    source: AlertSource | None = Field(None, alias="medicSource")

    @property
    def changed_at(self) -> datetime:
        """The newest state change among the group's alerts (see :attr:`Alert.changed_at`)."""
        return max(a.changed_at for a in self.alerts)

    def ended_episodes(self) -> dict[str, float]:
        """Each resolved alert's identity and the start (Unix seconds) of the episode it ended. It
        ends the open incident of that start or an earlier one, never a later one: a late copy
        from before the alert fired again must leave the new incident open."""
        ended: dict[str, float] = {}
        for alert in self.alerts:
            if alert.status == "resolved":
                started = alert.starts_at.timestamp()
                ended[alert.identity] = max(started, ended.get(alert.identity, started))
        return ended


def parse_alerts(payload: bytes | str | dict[str, Any], now: float | None = None) -> AlertGroup:
    """Validate a webhook payload (or a single bare alert object, wrapped into a group); with
    ``now`` (Unix seconds, the receiver's clock), times too far ahead of it are refused as well."""
    if isinstance(payload, bytes | str):
        payload = load_json(payload, "malformed alert")
    else:  # data (a test, a YAML file): the same limits as a JSON text
        check_depth(payload, "malformed alert")
    if not isinstance(payload, dict):
        raise InputError("malformed alert: expected a JSON object")
    if "alerts" not in payload and "labels" in payload:
        payload = {"status": payload.get("status", "firing"), "alerts": [payload]}
    try:
        return AlertGroup.model_validate(payload, context={"now": now})
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise InputError(f"malformed alert: {where}: {problem['msg']}") from exc


def trusted_source(group: AlertGroup, receiver: str) -> AlertGroup:
    """``group`` with its source kept only when the receiver that took it in (the inbox's
    ``source``) is that source: an Alertmanager payload cannot pose as a PagerDuty incident and
    have Medic write notes on it."""
    if group.source is not None and group.source.kind != receiver:
        return group.model_copy(update={"source": None})
    return group


def manual_alert(
    service: str,
    namespace: str,
    starts_at: float,
    extra_labels: dict[str, str] | None = None,
    since: int | None = None,
) -> dict[str, Any]:
    """The alert of an investigation someone asked for by name (CLI or Slack); ``since``
    (seconds) asks for the suspect window to be that long, up to now (``medic_since``, also a
    label: a request for another window is another incident, not the open one of the service)."""
    annotations = {"summary": f"manual investigation of {service}"}
    asked = {SINCE_ANNOTATION: f"{since}s"} if since is not None else {}
    return {
        "status": "firing",
        "labels": {
            "alertname": "ManualInvestigation",
            "service": service,
            "namespace": namespace,
            **(extra_labels or {}),
            **asked,
        },
        "annotations": annotations | asked,
        "startsAt": datetime.fromtimestamp(starts_at, UTC).isoformat(),
    }
