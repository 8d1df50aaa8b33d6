"""The look at an ML service tells the three stories apart: the data changed (inputs drifted
against every recent version's training data: retrain), the new model is worse (quality fell after
the alias moved, inputs as before: go back one version), the system is overloaded (the model is
fine and not blamed). A service without the model label costs nothing; a registry that fails is
one note; the registry's text stays data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from bot.config import ModelSettings
from bot.diagnosis.assembly import with_context
from bot.diagnosis.hypotheses import diagnose
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.model import ModelInvestigator
from bot.diagnosis.model_look import ModelLook, since_tag
from bot.diagnosis.window import Window
from detectors import Direction, Finding, Series
from detectors.features import FeatureWindow, Histogram
from detectors.sources import TimeLeft
from tests.bot.test_conversation import CATALOG
from tools.backends import Rollout
from tools.registry.base import (
    ALIAS_LABEL,
    MODEL_LABEL,
    VERSION_LABEL,
    FeatureHistogram,
    ModelVersion,
    RegistryError,
    TrainingProfile,
)
from tools.registry.memory import MemoryRegistry

NOW = 1_800_000_000.0
WINDOW = (NOW - 3600.0, NOW - 900.0, NOW)
EDGES = tuple(float(e) for e in np.linspace(0.0, 100.0, 11))
MODEL = "recommender-ranker"
FEATURES = ("basket_value", "items_in_cart", "session_minutes")


def bell(centre: float, total: float = 10_000.0, edges: tuple[float, ...] = EDGES) -> list[float]:
    """Counts of a normal distribution around ``centre`` (sd 12) over ``edges``' bins."""
    mids = (np.asarray(edges[:-1]) + np.asarray(edges[1:])) / 2
    weights = np.exp(-0.5 * ((mids - centre) / 12.0) ** 2) + 1e-3
    return (total * weights / weights.sum()).tolist()


def profile(centre: float = 50.0) -> TrainingProfile:
    return TrainingProfile(
        tuple(FeatureHistogram(f, EDGES, tuple(bell(centre))) for f in FEATURES),
        predictions=FeatureHistogram("predictions", EDGES, tuple(bell(40.0))),
    )


class TaggedRegistry(MemoryRegistry):
    """The in-memory registry, writing the alias's ``since`` tag as the MLflow adapter does."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[tuple[str, str], dict[str, str]] = {}
        self.calls = 0

    def move(self, alias: str, version: str, at: float) -> None:
        self.set_alias(MODEL, alias, version)
        self.tags.setdefault((MODEL, version), {})[since_tag(alias)] = str(at)

    def versions(self, model: str, limit: int = 20) -> list[ModelVersion]:
        self.calls += 1
        return [
            replace(v, tags=self.tags.get((model, v.version), {}))
            for v in super().versions(model, limit)
        ]

    def alias(self, model: str, alias: str) -> ModelVersion | None:
        self.calls += 1
        found = super().alias(model, alias)
        return replace(found, tags=self.tags.get((model, found.version), {})) if found else None

    def training_profile(self, model: str, version: str) -> TrainingProfile | None:
        self.calls += 1
        return super().training_profile(model, version)


class LiveFeatures:
    """Live histograms held in memory; counts the reads."""

    def __init__(self, centres: dict[str, float], predictions: float = 40.0) -> None:
        self.window = FeatureWindow(
            {f: Histogram(EDGES, tuple(bell(c, 3000.0))) for f, c in centres.items()},
            Histogram(EDGES, tuple(bell(predictions, 3000.0))),
        )
        self.reads = 0

    def feature_histograms(
        self,
        namespace: str,
        service: str,
        start: float,
        end: float,
        *,
        time_left: TimeLeft | None = None,
    ) -> FeatureWindow:
        self.reads += 1
        return self.window


def shop_registry(
    moved_at: float, profiles: tuple[float, float, float] = (50, 50, 50)
) -> TaggedRegistry:
    registry = TaggedRegistry()
    for i, centre in enumerate(profiles):
        registry.register(
            MODEL,
            metrics={"ndcg_at_10": 0.41 + 0.01 * i, "auc": 0.8},
            profile=profile(centre),
            created_at=datetime.fromtimestamp(NOW - 86400.0 * (3 - i), UTC),
            description=f"trained on week {i + 1}",
        )
    registry.move("champion", "1", NOW - 3 * 86400.0)
    registry.move("champion", "2", NOW - 2 * 86400.0)
    registry.move("champion", "3", moved_at)
    registry.calls = 0  # what the look reads, counted from here
    return registry


def rollout(labels: dict[str, str]) -> Rollout:
    return Rollout(4, "2026-01-01T00:00:00+00:00", ("recommender:1.4",), 3, labels=labels)


ML = [rollout({MODEL_LABEL: MODEL, ALIAS_LABEL: "champion"})]


def ctr(fell: bool) -> tuple[list[Series], list[Finding]]:
    t = np.arange(WINDOW[0], WINDOW[2], 15.0)
    values = np.where((t >= WINDOW[1]) & fell, 0.018, 0.03)
    series = [Series.of("click_through_rate", t, values, {})]
    if not fell:
        return series, []
    return series, [
        Finding(
            "click_through_rate",
            {},
            WINDOW[1] + 30,
            NOW,
            Direction.DOWN,
            0.03,
            0.018,
            0.6,
            0.9,
            "x",
        )
    ]


def look_at(
    registry: TaggedRegistry | None,
    features: LiveFeatures | None,
    *,
    fell: bool,
    rollouts: list[Rollout] = ML,
) -> ModelLook | None:
    series, findings = ctr(fell)
    return ModelInvestigator(registry, features, ModelSettings()).look(
        "shop", "recommender", rollouts, WINDOW, series, findings, lambda: 10.0
    )


def hypotheses(findings: list[Finding], look: ModelLook | None) -> list[str]:
    measured = {"click_through_rate", "request_payload_bytes", "latency_p95_ms"}
    found = diagnose(findings, [], [], CATALOG, measured_metrics=measured)
    inv = Investigation("INC-1", Window(*WINDOW), [], findings, None, [], found, [], [])
    weighed = with_context(
        inv,
        changes=[],
        change_note="",
        corrections={},
        catalog=CATALOG,
        min_similarity=0.45,
        model=look,
    )
    assert weighed.model is look
    return [h.cause for h in weighed.hypotheses if h.score >= 0.35]


def test_inputs_drifted_against_every_recent_version_is_the_data_changed() -> None:
    registry = shop_registry(moved_at=NOW - 86400.0)  # the alias moved a day ago
    live = LiveFeatures({"basket_value": 85.0, "items_in_cart": 50.0, "session_minutes": 51.0})
    look = look_at(registry, live, fell=True)
    assert look is not None and look.version == "3" and look.data_changed
    assert [d.feature for d in look.drifted] == ["basket_value"]
    assert [(v.version, v.drifted) for v in look.against] == [
        ("2", ("basket_value",)),
        ("1", ("basket_value",)),
    ]
    assert look.chart is not None and look.chart.feature == "basket_value"
    causes = hypotheses(ctr(True)[1], look)
    assert causes[0] == "input-drift" and "model-regression" not in causes
    weighed = with_context(
        Investigation("I", Window(*WINDOW), [], ctr(True)[1], None, [], [], [], []),
        changes=[],
        change_note="",
        corrections={},
        catalog=CATALOG,
        min_similarity=0.45,
        model=look,
    )
    text = weighed.hypotheses[0].evidence[0].text
    assert "version 3's training data: basket_value (PSI" in text
    assert "also against version(s) 2, 1" in text


def test_quality_fell_after_the_alias_moved_with_inputs_as_trained_is_the_new_model_worse() -> None:
    registry = shop_registry(moved_at=WINDOW[1] - 600.0)
    live = LiveFeatures(dict.fromkeys(FEATURES, 50.0))
    look = look_at(registry, live, fell=True)
    assert look is not None and look.drifted == [] and look.compared == 3
    move = look.alias_move
    assert move is not None and (move.previous, move.version) == ("2", "3")
    assert look.since == WINDOW[1] - 600.0 and look.since_from == "alias"
    causes = hypotheses(ctr(True)[1], look)
    assert causes[0] == "model-regression" and "input-drift" not in causes
    weighed = with_context(
        Investigation("I", Window(*WINDOW), [], ctr(True)[1], None, [], [], [], []),
        changes=[],
        change_note="",
        corrections={},
        catalog=CATALOG,
        min_similarity=0.45,
        model=look,
    )
    assert weighed.hypotheses[0].summary.endswith("go back to version 2")
    assert "inputs within version 3's training data" in weighed.hypotheses[0].summary


def test_inputs_outside_only_the_new_versions_training_data_is_the_new_model_too() -> None:
    registry = shop_registry(moved_at=WINDOW[1] - 600.0, profiles=(50, 50, 20))
    look = look_at(registry, LiveFeatures(dict.fromkeys(FEATURES, 50.0)), fell=True)
    assert look is not None and look.drifted and not look.data_changed
    assert hypotheses(ctr(True)[1], look)[0] == "model-regression"


def test_an_overload_is_not_blamed_on_a_model_whose_inputs_match_its_training_data() -> None:
    registry = shop_registry(moved_at=WINDOW[1] - 600.0)  # even just after a move
    look = look_at(registry, LiveFeatures(dict.fromkeys(FEATURES, 50.0)), fell=False)
    assert look is not None and look.quality is not None and not look.quality.fell
    surge = [
        Finding("request_payload_bytes", {}, WINDOW[1], NOW, Direction.UP, 2e3, 8e3, 4.0, 0.9, "x"),
        Finding("latency_p95_ms", {}, WINDOW[1] + 60, NOW, Direction.UP, 150, 900, 6.0, 0.9, "x"),
    ]
    causes = hypotheses(surge, look)
    assert causes[0] == "input-size-surge"
    assert "input-drift" not in causes and "model-regression" not in causes


def test_a_service_without_the_model_label_reads_nothing() -> None:
    registry, live = shop_registry(NOW), LiveFeatures({"basket_value": 90.0})
    plain = [rollout({"app": "checkout", "model-version": "recsys-7"})]
    assert look_at(registry, live, fell=True, rollouts=plain) is None
    assert look_at(registry, live, fell=True, rollouts=[]) is None
    assert registry.calls == 0 and live.reads == 0


class DownRegistry(TaggedRegistry):
    def versions(self, model: str, limit: int = 20) -> list[ModelVersion]:
        raise RegistryError("mlflow at http://127.0.0.1:1 is unreachable (ConnectError)")


def test_a_registry_that_fails_is_one_note_and_the_look_goes_on() -> None:
    look = look_at(DownRegistry(), LiveFeatures({"basket_value": 90.0}), fell=True)
    assert look is not None and look.version == ""
    assert look.quality is not None and look.quality.fell  # what it could read, it kept
    [note] = look.notes
    assert "in-memory registry" in note and "unreachable" in note and MODEL in note
    assert hypotheses(ctr(True)[1], look) == []  # nothing blamed on what was not read
    missing = look_at(TaggedRegistry(), None, fell=True)  # the model is not registered
    assert missing is not None and "is not registered" in missing.notes[0]


def test_no_registry_configured_is_said() -> None:
    look = look_at(None, None, fell=True)
    assert look is not None and "no model registry is configured" in look.notes[0]


def test_oversized_and_malformed_profiles_are_bounded_or_refused_per_feature() -> None:
    fine = np.linspace(0.0, 100.0, 20_001)
    huge = FeatureHistogram("basket_value", tuple(fine.tolist()), tuple([1.0] * 20_000))
    bad = FeatureHistogram("items_in_cart", EDGES, tuple([float("nan")] * 10))
    registry = TaggedRegistry()
    registry.register(MODEL, profile=TrainingProfile((huge, bad)))
    registry.move("champion", "1", NOW - 86400.0)
    live = LiveFeatures({"basket_value": 50.0, "items_in_cart": 50.0})
    look = look_at(registry, live, fell=False)
    assert look is not None and look.compared == 1
    assert "1 feature(s) not compared" in look.notes[-1] and "finite" in look.notes[-1]
    many = LiveFeatures({f"f{i}": 50.0 for i in range(80)})
    wide = TaggedRegistry()
    wide.register(
        MODEL,
        profile=TrainingProfile(
            tuple(FeatureHistogram(f"f{i}", EDGES, tuple(bell(50.0))) for i in range(80))
        ),
    )
    wide.move("champion", "1", NOW - 86400.0)
    capped = look_at(wide, many, fell=False)
    assert capped is not None and capped.compared == 50
    assert any("50 feature(s) compared of 80" in n for n in capped.notes)


@pytest.mark.parametrize("label", ["x" * 300, ""])
def test_a_model_label_that_is_no_name_is_said_not_followed(label: str) -> None:
    registry = shop_registry(NOW)
    look = look_at(registry, None, fell=True, rollouts=[rollout({MODEL_LABEL: label})])
    if not label:
        assert look is None
    else:
        assert look is not None and "not a model name" in look.notes[0]
        assert registry.calls == 0


def test_no_time_left_reads_no_registry_and_says_so() -> None:
    registry, live = shop_registry(NOW), LiveFeatures({"basket_value": 90.0})
    series, findings = ctr(True)
    look = ModelInvestigator(registry, live, ModelSettings()).look(
        "shop", "recommender", ML, WINDOW, series, findings, lambda: 0.0
    )
    assert look is not None and look.quality is not None and look.quality.fell
    assert registry.calls == 0 and live.reads == 0
    assert look.notes == ["No time left in the investigation's budget to read the model registry."]


def test_a_pinned_version_serves_since_its_rollout_and_an_unknown_one_is_said() -> None:
    registry = shop_registry(NOW - 86400.0)
    pinned = [rollout({MODEL_LABEL: MODEL, VERSION_LABEL: "2"})]
    look = look_at(
        registry, LiveFeatures(dict.fromkeys(FEATURES, 50.0)), fell=False, rollouts=pinned
    )
    assert look is not None and (look.version, look.alias, look.since_from) == ("2", "", "rollout")
    assert look.since == datetime(2026, 1, 1, tzinfo=UTC).timestamp() and look.previous == "1"
    assert look.compared == 3 and [v.version for v in look.against] == ["1"]
    gone = [rollout({MODEL_LABEL: MODEL, VERSION_LABEL: "9"})]
    unknown = look_at(registry, None, fell=False, rollouts=gone)
    assert unknown is not None and unknown.version == "9" and unknown.compared == 0
    assert "Version 9 of recommender-ranker" in unknown.notes[0]
    assert "not among its 3 newest versions" in unknown.notes[0]


def test_an_ml_service_without_its_quality_metric_is_told_where_to_add_it() -> None:
    look = ModelInvestigator(shop_registry(NOW), None, ModelSettings()).look(
        "shop", "recommender", ML, WINDOW, [], [], lambda: 10.0
    )
    assert look is not None and look.quality is None
    assert "quality proxy click_through_rate was not measured" in look.notes[0]
    settings = ModelSettings(quality={"recommender": "search_success_ratio"})
    other = ModelInvestigator(shop_registry(NOW), None, settings).look(
        "shop", "recommender", ML, WINDOW, *ctr(True), lambda: 10.0
    )
    assert other is not None and other.quality is None
    assert "search_success_ratio" in other.notes[0]
