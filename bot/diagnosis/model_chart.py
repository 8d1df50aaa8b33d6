"""Which model's drift chart an investigation's thread shows: the alerting service's own, or -
when the fault is the model of an origin elsewhere (a frontend paging because recommender's
inputs drifted) - that model's, titled with the service that serves it. The chart is the
evidence a reader checks first; the alerting service's model may have none to show."""

from __future__ import annotations

from dataclasses import dataclass

from bot import messages
from bot.diagnosis.at_origin import model_at_fault
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.model_look import DriftChart, ModelLook


@dataclass(frozen=True)
class ShownChart:
    """The drift chart to post, its title, and the service whose model it shows."""

    service: str
    title: str
    chart: DriftChart


def shown_chart(investigation: Investigation) -> ShownChart | None:
    """The alerting service's model's chart when that model is at fault (or no other model has
    one); else the origin's model's when that one is; None when no model's inputs drifted."""
    own = investigation.model
    origin = investigation.at_origin.model if investigation.at_origin is not None else None
    ranked = [
        look
        for look in (own, origin)
        if look is not None and look.chart is not None and model_at_fault(look)
    ]
    ranked += [look for look in (own, origin) if look is not None and look.chart is not None]
    if not ranked:
        return None
    return _shown(ranked[0], elsewhere=ranked[0] is not own)


def _shown(look: ModelLook, *, elsewhere: bool) -> ShownChart:
    chart = look.chart
    assert chart is not None
    title = messages.MODEL_CHART_TITLE.format(feature=chart.feature, version=chart.version)
    if elsewhere:
        title = messages.MODEL_CHART_TITLE_ELSEWHERE.format(
            service=look.service, model=look.model, title=title
        )
    return ShownChart(look.service, title, chart)
