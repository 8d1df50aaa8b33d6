"""The drift chart in the thread shows the model at fault: frontend pages, its origin
recommender's inputs drifted away from its model's training data - the chart posted is that
model's drifted feature, titled with the service serving it; the alerting service's own model,
when it drifted, keeps its chart."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

from bot.diagnosis.assembly import Diagnosis
from bot.diagnosis.at_origin import OriginLook
from bot.diagnosis.model_look import ModelLook
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from bot.planners.combine import Plan
from bot.slack.investigations import InvestigationJobs
from tests.bot.test_model_diagnosis import MODEL, NOW
from tests.bot.test_model_views import drifted, investigation

FRONTEND = Incident(
    "INC-0016", "fp", "g", "FrontendLatencyHigh", "frontend", "shop", "open", NOW, NOW,
    None, {}, {"summary": "frontend p95 latency above 400 ms"},
)  # fmt: skip


class Uploads:
    def __init__(self) -> None:
        self.files: list[dict[str, Any]] = []

    def upload(self, key: str, channel: str, **file: Any) -> None:
        self.files.append(file)


def posted(own: ModelLook | None, origin: ModelLook | None) -> list[dict[str, Any]]:
    """The files the thread gets for a frontend investigation whose origin is recommender."""
    at_origin = OriginLook(
        service="recommender", findings=[], templates=None, similar=[], hypotheses=[],
        symptoms=[], measured=[], model=origin,
    )  # fmt: skip
    inv = dataclasses.replace(investigation(own), at_origin=at_origin)
    uploads = Uploads()
    jobs = InvestigationJobs(
        flow=SimpleNamespace(catalog=Glossary()),  # type: ignore[arg-type]
        store=None,  # type: ignore[arg-type]
        poster=uploads,  # type: ignore[arg-type]
        jobs=None,  # type: ignore[arg-type]
        metrics=None,  # type: ignore[arg-type]
        charts=True,
        wall_clock=lambda: NOW,
        lease_seconds=60.0,
        max_attempts=3,
    )
    jobs._post_charts("k", "C1", FRONTEND, Diagnosis(inv, Plan()))
    return uploads.files


def test_the_origins_drifted_model_is_charted_when_the_alerting_service_has_none() -> None:
    look = drifted()
    (chart,) = posted(None, look)
    assert chart["filename"] == "INC-0016-model-drift.png"
    assert chart["content"].startswith(b"\x89PNG")
    assert look.chart is not None
    feature = look.chart.feature
    assert chart["title"].startswith(f"recommender's model {MODEL} - {feature}: version 3")

    # the alerting service's own model drifted too: its chart, as before
    own = dataclasses.replace(look, service="frontend", model="frontend-ranker")
    (chart,) = posted(own, look)
    assert chart["title"].startswith(f"{feature}: version 3")
