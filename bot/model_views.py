"""The model, as the thread shows it (issue 15): the view of ``Investigation.model`` - which
version serves and since when, what changed in the registry, the version's offline metrics, the
features that moved most against its training data (PSI, KS), the earlier versions, prediction
drift, the quality proxy against its history, and whether the model is to blame at all. Part of
the one view model (``bot.views.DiagnosisView.model``): Slack, the terminal and
`medic investigate --json` read it with the same caps.

Sentences are :class:`~bot.origin_views.Phrase` values: the model's name, its versions, feature
names and descriptions come from a label or the registry and are data, escaped by each renderer.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import messages
from bot.diagnosis.model_evidence import model_evidence, quality_text
from bot.diagnosis.model_look import DriftChart, ModelLook
from bot.origin_views import At, Phrase

MAX_FEATURES_SHOWN = 5  # features listed with PSI and KS; the chart shows the first drifted one


@dataclass(frozen=True)
class FeatureDriftView:
    feature: str
    psi: float
    ks: float
    ks_pvalue: float | None
    outside: float  # share of live inputs outside the training range
    drifted: bool
    sentence: Phrase


@dataclass(frozen=True)
class ModelView:
    """Everything the thread shows of the model an ML service serves."""

    model: str
    version: str
    alias: str
    headline: Phrase  # 'Serving version 3 of recommender-ranker since 12:00'
    facts: tuple[Phrase, ...]  # registry changes, offline metrics
    drift_head: Phrase | None  # None when no feature was compared
    features: tuple[FeatureDriftView, ...]
    earlier: tuple[Phrase, ...]  # against earlier versions' training data
    predictions: Phrase | None
    quality: Phrase | None
    verdict: Phrase | None  # 'the model is not the cause', when the look clears it
    chart: DriftChart | None


def _feature(d_feature: str, psi: float, ks: float, p: float | None, outside: float) -> Phrase:
    pvalue = Phrase.of(messages.MODEL_DRIFT_PVALUE, pvalue=p) if p is not None else ""
    return Phrase.of(
        messages.MODEL_DRIFT_LINE, feature=d_feature, psi=psi, ks=ks, pvalue=pvalue, outside=outside
    )


def _headline(look: ModelLook) -> Phrase:
    if not look.version:
        return Phrase.of(messages.MODEL_SERVING_UNKNOWN, model=look.model)
    since: Phrase | str = ""
    if look.since is not None:
        template = (
            messages.MODEL_SINCE if look.since_from == "alias" else messages.MODEL_SINCE_ROLLOUT
        )
        since = Phrase.of(template, since=At(look.since))
    return Phrase.of(messages.MODEL_SERVING, version=look.version, model=look.model, since=since)


def _facts(look: ModelLook) -> tuple[Phrase, ...]:
    facts = []
    for c in look.changes:
        if c.kind == "alias" and c.previous:
            facts.append(
                Phrase.of(
                    messages.MODEL_ALIAS_MOVED,
                    alias=look.alias,
                    previous=c.previous,
                    version=c.version,
                    at=At(c.at),
                )
            )
        elif c.kind == "alias":
            facts.append(
                Phrase.of(
                    messages.MODEL_ALIAS_SET, alias=look.alias, version=c.version, at=At(c.at)
                )
            )
        else:
            facts.append(Phrase.of(messages.MODEL_NEW_VERSION, version=c.version, at=At(c.at)))
    if look.metrics:
        shown = ", ".join(f"{k} {v:.3g}" for k, v in look.metrics.items())
        facts.append(Phrase.of(messages.MODEL_OFFLINE_METRICS, version=look.version, metrics=shown))
    return tuple(facts)


def model_view(look: ModelLook | None, *, at_origin: bool = False) -> ModelView | None:
    """The view of ``look``; None for a service that serves no model."""
    if look is None:
        return None
    features = tuple(
        FeatureDriftView(
            d.feature,
            d.psi,
            d.ks,
            d.ks_pvalue,
            d.outside,
            d.drifted,
            _feature(d.feature, d.psi, d.ks, d.ks_pvalue, d.outside),
        )
        for d in look.drift[:MAX_FEATURES_SHOWN]
    )
    head: Phrase | None = None
    if look.compared:
        template = messages.MODEL_DRIFT_HEAD if look.drifted else messages.MODEL_NO_DRIFT
        head = Phrase.of(template, version=look.version, count=look.compared)
    quality = Phrase.of("{text}", text=quality_text(look.quality)) if look.quality else None
    fine = (
        look.version
        and look.compared
        and not look.drifted
        and look.quality is not None
        and not look.quality.fell
        and not model_evidence(look)
    )
    verdict = (
        Phrase.of(messages.MODEL_VERDICT_FINE, quality=quality_text(look.quality))
        if fine and look.quality is not None
        else None
    )
    return ModelView(
        model=look.model,
        version=look.version,
        alias=look.alias,
        headline=Phrase.of(messages.MODEL_AT_ORIGIN, service=look.service, headline=_headline(look))
        if at_origin
        else _headline(look),
        facts=_facts(look),
        drift_head=head,
        features=features,
        earlier=tuple(
            Phrase.of(
                messages.MODEL_DRIFT_PREVIOUS,
                version=v.version,
                drifted=len(v.drifted),
                count=v.compared,
            )
            for v in look.against
        ),
        predictions=None
        if look.predictions is None
        else Phrase.of(
            messages.MODEL_PREDICTIONS, psi=look.predictions.psi, ks=look.predictions.ks
        ),
        quality=quality,
        verdict=verdict,
        chart=look.chart,
    )


def model_lines(view: ModelView) -> list[tuple[int, Phrase]]:
    """The section's sentences in the order shown, each with its depth (0: a fact, 1: under
    the one before): what Slack and the terminal lay out."""
    lines: list[tuple[int, Phrase]] = [(0, view.headline)]
    lines += [(1, f) for f in view.facts]
    if view.drift_head is not None:
        lines.append((0, view.drift_head))
        # the features that drifted; when none did, those compared (the evidence they are fine)
        drifted = [f for f in view.features if f.drifted]
        lines += [(1, f.sentence) for f in drifted or view.features]
    lines += [(1, e) for e in view.earlier]
    lines += [(0, p) for p in (view.predictions, view.quality, view.verdict) if p is not None]
    return lines
