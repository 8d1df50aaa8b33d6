"""The model as the thread, the terminal and `medic investigate --json` show it: which version
serves since when, the alias's move, the features that moved most with PSI and KS, the quality
proxy; registry text (model names, feature names, descriptions) shown as text, never markup; the
look kept with the diagnosis, and diagnoses kept before it read back without one."""

from __future__ import annotations

import dataclasses
import json

from rich.console import Console

from bot import messages
from bot.cli.render import ThreadPrinter
from bot.cli.session import _model
from bot.diagnosis.assembly import Diagnosis
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.model_look import ModelLook
from bot.diagnosis.signals import Glossary
from bot.diagnosis.stored import from_json, to_json
from bot.diagnosis.window import Window
from bot.incidents import Incident
from bot.planners.combine import Plan
from bot.slack.blocks import diagnosis_head
from bot.slack.charts import drift_chart
from tests.bot.slack.fake_slack import Message
from tests.bot.test_model_diagnosis import (
    FEATURES,
    MODEL,
    NOW,
    WINDOW,
    LiveFeatures,
    look_at,
    shop_registry,
)
from tools.backends import Rollout
from tools.registry.base import ALIAS_LABEL, MODEL_LABEL

HOSTILE = "<!channel> *now* <https://evil.example|click> $x^2$ & `code`"
RECOMMENDER = Incident(
    "INC-0015", "fp", "g", "RecommenderClickThroughLow", "recommender", "shop", "open", NOW, NOW,
    None, {}, {"summary": "recommender click-through rate below 2.5%"},
)  # fmt: skip


def investigation(look: ModelLook | None) -> Investigation:
    return Investigation(
        incident_id=RECOMMENDER.id, window=Window(*WINDOW), series=[], findings=[],
        templates=None, similar=[], hypotheses=[], symptoms=[], model=look,
    )  # fmt: skip


def terminal(inv: Investigation) -> str:
    console = Console(record=True, width=400)
    ThreadPrinter(console, Glossary()).investigation(inv, [])
    return console.export_text()


def slack(inv: Investigation) -> tuple[str, str]:
    """(what is sent, what a Slack reader sees with entities decoded)."""
    text, blocks = diagnosis_head(RECOMMENDER, inv, Glossary())
    return json.dumps([text, blocks]), Message("C1", "1.1", text, blocks, "1.0").all_text()


def drifted() -> ModelLook:
    live = LiveFeatures({"basket_value": 85.0, "items_in_cart": 50.0, "session_minutes": 51.0})
    look = look_at(shop_registry(moved_at=WINDOW[1] - 600.0), live, fell=True)
    assert look is not None
    return look


def test_the_thread_and_the_terminal_show_the_version_the_move_and_what_moved() -> None:
    inv = investigation(drifted())
    _, seen = slack(inv)
    for surface, text in {"slack": seen, "terminal": terminal(inv)}.items():
        assert messages.HEADING_MODEL in text, surface
        assert f"Serving version 3 of {MODEL} since " in text, surface
        assert "alias champion moved from version 2 to 3 at " in text, surface
        assert "Inputs against version 3's training data, most moved first:" in text, surface
        assert "basket_value: PSI " in text and "outside the training range" in text, surface
        assert "items_in_cart: PSI" not in text, surface  # within the training data: not listed
        assert "against version 2's training data: 1 of 3 feature(s) drifted" in text, surface
        assert "click_through_rate fell to 0.018 from 0.03" in text, surface


def test_a_model_within_its_training_data_and_quality_is_cleared() -> None:
    live = LiveFeatures(dict.fromkeys(FEATURES, 50.0))
    look = look_at(shop_registry(moved_at=NOW - 86400.0), live, fell=False)
    text = terminal(investigation(look))
    assert "Live inputs match version 3's training data (3 feature(s) compared)." in text
    assert "The model is not the cause: inputs match its training data" in text


def test_registry_and_label_text_is_shown_as_text() -> None:
    registry = shop_registry(moved_at=WINDOW[1] - 600.0)
    live = LiveFeatures({HOSTILE: 90.0})
    # the hostile feature is in the live data and the profile; the model name is a label's
    for version in ("1", "2", "3"):
        profile = registry.training_profile(MODEL, version)
        assert profile is not None
        hostile = dataclasses.replace(profile.features[0], feature=HOSTILE)
        registry._profiles[(MODEL, version)] = dataclasses.replace(
            profile, features=(hostile, *profile.features)
        )
    look = look_at(registry, live, fell=True)
    assert look is not None and look.drift[0].feature == HOSTILE
    label = [Rollout(4, "2026-01-01T00:00:00+00:00", ("r:1",), 3, labels={
        MODEL_LABEL: HOSTILE, ALIAS_LABEL: "champion"})]  # fmt: skip
    unknown = look_at(registry, live, fell=True, rollouts=label)
    assert unknown is not None and HOSTILE in unknown.notes[0]
    for shown in (look, unknown):
        inv = dataclasses.replace(investigation(shown), notes=shown.notes)
        sent, seen = slack(inv)
        assert "<!channel>" not in sent and "<https://evil" not in sent
        assert HOSTILE in seen  # the reader sees the text as it was
        assert HOSTILE in terminal(inv)
    assert look.chart is not None
    assert drift_chart(look.chart).startswith(b"\x89PNG")  # `$x^2$` drawn as text, not math


def test_the_look_is_kept_with_the_diagnosis_and_old_ones_read_back_without_it() -> None:
    look = drifted()
    back = from_json(to_json(Diagnosis(investigation(look), Plan())))
    assert back.investigation.model == look
    kept = json.loads(to_json(Diagnosis(investigation(look), Plan())))
    del kept["investigation"]["model"]  # as a version before issue 15 wrote it
    old = from_json(json.dumps(kept))
    assert old.investigation.model is None
    assert messages.HEADING_MODEL not in terminal(old.investigation)


def test_investigate_json_reports_the_model() -> None:
    report = _model(drifted())
    assert report is not None
    assert (report["model"], report["version"], report["previous_version"]) == (MODEL, "3", "2")
    assert report["drift"][0]["feature"] == "basket_value" and report["drift"][0]["drifted"]
    assert report["quality"]["fell"] is True and report["blamed"] == "input-drift"
    assert _model(None) is None
