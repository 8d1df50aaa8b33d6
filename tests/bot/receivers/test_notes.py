"""Write-back notes against a local stand-in of PagerDuty's and Opsgenie's REST APIs that checks
the documented request shape: a 429 is waited out as its Retry-After says, a 5xx tried again a
bounded number of times, a 401 is final at once - and every failure is one line."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.receivers.notes import NoteError, OpsgenieNotes, PagerDutyNotes, RetryPolicy
from tests.bot.receivers.vendor_api import (
    GENIE_KEY,
    PD_FROM,
    PD_TOKEN,
    VendorApi,
    running_vendor_api,
)


@pytest.fixture
def api() -> Iterator[VendorApi]:
    with running_vendor_api() as running:
        yield running


class Pauses:
    """Records the pauses between tries instead of sleeping them."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


def pagerduty(api: VendorApi, pauses: Pauses, token: str = PD_TOKEN) -> PagerDutyNotes:
    return PagerDutyNotes(httpx.Client(timeout=5), token=token, from_email=PD_FROM,
                          api_url=api.url, retry=RetryPolicy(3, 20.0, pauses))  # fmt: skip


def opsgenie(api: VendorApi, pauses: Pauses) -> OpsgenieNotes:
    return OpsgenieNotes(httpx.Client(timeout=5), key=GENIE_KEY, api_url=api.url,
                         retry=RetryPolicy(3, 20.0, pauses))  # fmt: skip


def test_pagerduty_note_is_the_documented_request(api: VendorApi) -> None:
    pagerduty(api, Pauses()).add_note("PGR0VU2", "diagnosis: input size surge")
    (call,) = api.notes()
    assert call.path == "/incidents/PGR0VU2/notes"
    assert call.body == {"note": {"content": "diagnosis: input size surge"}}


def test_opsgenie_note_is_the_documented_request(api: VendorApi) -> None:
    opsgenie(api, Pauses()).add_note("052652ac-5d1c", "diagnosis")
    (call,) = api.notes()
    assert call.path == "/v2/alerts/052652ac-5d1c/notes"
    assert call.query == {"identifierType": ["id"]}
    assert call.body["note"] == "diagnosis" and call.body["source"] == "Medic"


def test_a_429_is_waited_out_as_retry_after_says(api: VendorApi) -> None:
    api.script = [(429, {"Retry-After": "7"}), (429, {"Retry-After": "3600"})]
    pauses = Pauses()
    pagerduty(api, pauses).add_note("P1", "text")
    assert pauses.taken == [7.0, 20.0]  # an hour asked for: capped at max_wait
    assert len(api.notes()) == 3


def test_5xx_is_tried_a_bounded_number_of_times_then_one_line(api: VendorApi) -> None:
    api.script = [(503, {}), (500, {}), (502, {}), (500, {})]
    pauses = Pauses()
    with pytest.raises(NoteError) as failed:
        opsgenie(api, pauses).add_note("A1", "text")
    assert len(api.notes()) == 3 and len(pauses.taken) == 2
    assert "Opsgenie alert A1: HTTP 502" in str(failed.value)
    assert "\n" not in str(failed.value)


def test_401_is_final_at_once(api: VendorApi) -> None:
    pauses = Pauses()
    with pytest.raises(NoteError, match="PagerDuty incident P1: HTTP 401"):
        pagerduty(api, pauses, token="wrong").add_note("P1", "text")
    assert len(api.calls) == 1 and pauses.taken == []


def test_a_vendor_that_is_down_is_one_line_after_the_tries() -> None:
    pauses = Pauses()
    notes = PagerDutyNotes(
        httpx.Client(timeout=1),
        token=PD_TOKEN,
        from_email=PD_FROM,
        api_url="http://127.0.0.1:9",
        retry=RetryPolicy(2, 1.0, pauses),
    )
    with pytest.raises(NoteError, match="PagerDuty incident P1: ConnectError"):
        notes.add_note("P1", "text")
    assert len(pauses.taken) == 1


def test_a_hostile_id_stays_inside_its_path_segment(api: VendorApi) -> None:
    pagerduty(api, Pauses()).add_note("../../users/P2?x=1", "text")
    (call,) = api.notes()
    assert call.path == "/incidents/..%2F..%2Fusers%2FP2%3Fx%3D1/notes"
