"""The targets of write-back notes, from the receivers' settings: PagerDuty when its REST API
token is set, Opsgenie when its API key is set (each with its own HTTP client and a deadline)."""

from __future__ import annotations

import httpx

from bot.config.front import ReceiverSettings
from bot.receivers.notes import NoteTarget, OpsgenieNotes, PagerDutyNotes, RetryPolicy

NOTE_TIMEOUT = 10.0  # seconds for one note request


def note_targets(settings: ReceiverSettings) -> dict[str, NoteTarget]:
    retry = RetryPolicy(attempts=settings.note_attempts, max_wait=settings.note_max_wait_seconds)
    targets: dict[str, NoteTarget] = {}
    pagerduty, opsgenie = settings.pagerduty, settings.opsgenie
    if pagerduty.api_token is not None and pagerduty.from_email:
        targets["pagerduty"] = PagerDutyNotes(
            httpx.Client(timeout=NOTE_TIMEOUT),
            token=pagerduty.api_token.get_secret_value(),
            from_email=pagerduty.from_email,
            api_url=pagerduty.api_url,
            retry=retry,
        )
    if opsgenie.api_key is not None:
        targets["opsgenie"] = OpsgenieNotes(
            httpx.Client(timeout=NOTE_TIMEOUT),
            key=opsgenie.api_key.get_secret_value(),
            api_url=opsgenie.api_url,
            retry=retry,
        )
    return targets
