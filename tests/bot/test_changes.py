"""What changed: consecutive revisions compared, and weighed by how close before the anomaly."""

from __future__ import annotations

from bot.diagnosis.changes import changes_from, weigh_changes
from bot.diagnosis.signals import Glossary
from tests.bot.test_diagnosis import finding
from tools.backends import Rollout

CATALOG = Glossary()


def rollout(revision: int, at: str, image: str = "r/app:1", **fields: object) -> Rollout:
    return Rollout(revision=revision, created_at=at, images=(image,), replicas=0, **fields)  # type: ignore[arg-type]


def test_each_revision_is_compared_with_the_one_before() -> None:
    history = [
        rollout(
            9,
            "2026-11-28T10:05:00+00:00",
            "r/app:2",
            labels={"model-version": "m2"},
            annotations={"checksum/config": "b"},
        ),
        rollout(8, "2026-11-28 10:00:00+00:00", "r/app:2", labels={"model-version": "m2"}),
        rollout(7, "2026-11-27T09:00:00Z", "r/app:2", labels={"model-version": "m1"}),
        rollout(6, "2026-11-20T09:00:00", "r/app:1", labels={"model-version": "m1"}),
    ]
    config, model, image = changes_from(history, "app")
    assert (config.revision, config.kind, config.live) == (9, "config", True)
    assert config.what == "checksum/config b (was -)"
    assert (model.kind, model.cause, model.live) == ("model", "model-change", False)
    assert model.what == "model-version m2 (was m1)"
    assert (image.kind, image.cause) == ("image", "bad-rollout")
    assert image.what == "image app:2 (was app:1)"
    assert model.at - image.at == 86400 + 3600
    assert changes_from(history[:1], "app") == []


def test_a_change_weighs_most_right_before_the_anomaly_and_less_when_load_explains_it() -> None:
    [change] = changes_from(
        [rollout(7, "1970-01-01T00:00:00Z"), rollout(8, "1970-01-01T00:15:00Z", "r/app:2")], "app"
    )
    latency = finding("latency_p95_ms", 1080.0)  # 3 min after the rollout
    [(_, near)] = weigh_changes([change], [latency], CATALOG)
    assert "3 min before p95 latency rose" in near.text and near.weight > 0.6
    [(_, with_load)] = weigh_changes([change], [latency, finding("request_rate", 1000.0)], CATALOG)
    assert with_load.weight < near.weight / 2 + 0.01 and "but load rose too" in with_load.text
    assert weigh_changes([change], [finding("latency_p95_ms", 900.0 + 7200)], CATALOG) == []
    assert weigh_changes([change], [finding("latency_p95_ms", 600.0)], CATALOG) == []  # after
    assert weigh_changes([change], [], CATALOG) == []
