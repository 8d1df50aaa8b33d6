"""A saved diagnosis is posted even when the process dies right after saving it: the post is queued
in the transaction that marks the incident investigated, so no replica investigates it again and
no thread is left without its diagnosis (kill -9 between the two once left one such thread in the
replicas' soak run)."""

from __future__ import annotations

import pytest

from bot.diagnosis.assembly import Diagnosis
from tests.bot.slack.harness import Medic


def test_a_diagnosis_saved_just_before_the_process_dies_still_reaches_the_thread(
    medic: Medic, monkeypatch: pytest.MonkeyPatch
) -> None:
    def dies(_diagnosis: Diagnosis) -> None:  # the first step after the save
        raise RuntimeError("the process died here")

    monkeypatch.setattr(medic.service.threads.flow, "keep", dies)
    assert medic.alert(medic.demo_alert()).status_code == 200
    medic.settle()

    diagnosis = medic.diagnosis(medic.root())
    assert "shop/recommender" in diagnosis.all_text()
