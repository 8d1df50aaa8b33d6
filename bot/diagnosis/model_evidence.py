"""The look at an ML service as evidence for the causes the rest of the diagnosis cannot see:
``input-drift`` (inputs drifted against every recent version's training data: the data changed,
retrain), ``model-regression`` (quality fell - or the outputs moved - after the alias moved to a
new version whose training data the inputs still match, or only the new version's: go back one
version) and ``model-change`` (the outputs moved while the inputs and the alias did not: the
model's serving changed). A model whose inputs match its training data, whose outputs match its
training predictions and whose quality is normal gets none: an overload keeps its own causes.

The outputs (prediction drift against the serving version's training predictions) are weighed
with the inputs: both moved says the data changed; the outputs alone say the model (or how it is
served) changed; inputs that moved while the outputs and the quality did not weigh less - the
drift does not reach the answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot import messages
from bot.diagnosis.hypotheses import Evidence
from bot.diagnosis.model_look import ModelLook, QualityProxy
from detectors.histogram_drift import FeatureDrift

DRIFT_WEIGHT = 0.8  # inputs drifted against every recent version's training data
REGRESSION_WEIGHT = 0.8  # quality fell after the alias moved; inputs as before
SUPPORT = 0.1  # the other sign agrees (quality fell with the drift, inputs moved with the move)
OUTPUTS_WEIGHT = 0.6  # the outputs moved, the inputs did not, quality not (yet) fallen
UNFELT = 0.3  # taken off input drift that neither the outputs nor the quality show
MODEL_CAUSES = ("input-drift", "model-regression", "model-change")


def _clock(ts: float) -> str:
    """A time as the evidence shows it; a registry's absurd one (year 10000) as its number."""
    try:
        return datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return f"{ts:.0f} (epoch seconds)"


def _features(drift: Sequence[FeatureDrift], most: int = 3) -> str:
    return ", ".join(f"{d.feature} (PSI {d.psi:.2f}, KS {d.ks:.2f})" for d in drift[:most])


def quality_text(q: QualityProxy) -> str:
    if q.fell:
        return messages.MODEL_QUALITY_FELL.format(
            metric=q.metric, observed=q.observed, baseline=q.baseline
        )
    return messages.MODEL_QUALITY_NORMAL.format(
        metric=q.metric, observed=q.observed, baseline=q.baseline
    )


def outputs_moved(look: ModelLook) -> bool:
    """The serving version's outputs drifted against its training predictions."""
    return look.predictions is not None and look.predictions.drifted


def model_evidence(look: ModelLook | None) -> list[tuple[str, Evidence, str]]:
    """Evidence for ``input-drift``, ``model-regression`` or ``model-change`` from the look;
    none when the model is fine (inputs and outputs match its training data, quality normal) or
    could not be judged."""
    if look is None or not look.version:
        return []
    if look.data_changed:
        return [_data_changed(look)]
    quality = look.quality
    fell = quality is not None and quality.fell
    move = look.alias_move
    outputs = outputs_moved(look) and look.compared > 0 and not look.drifted
    if move is not None and move.previous and (fell or outputs):
        return [_regression(look, move.previous, move.at)]
    if outputs:
        assert look.predictions is not None
        text = messages.MODEL_EVIDENCE_SERVING.format(
            version=look.version, psi=look.predictions.psi, ks=look.predictions.ks
        )
        if quality is not None and fell:
            text += messages.MODEL_EVIDENCE_QUALITY.format(quality=quality_text(quality))
        weight = OUTPUTS_WEIGHT + (SUPPORT if fell else 0.0)
        return [("model-change", Evidence("model", text, weight), text)]
    return []


def _data_changed(look: ModelLook) -> tuple[str, Evidence, str]:
    """Inputs drifted against every recent version: weighed up when the outputs moved with them
    or the quality fell, down when neither did."""
    quality = look.quality
    fell = quality is not None and quality.fell
    text = messages.MODEL_EVIDENCE_DRIFT.format(
        version=look.version, features=_features(look.drifted)
    )
    also = [v.version for v in look.against if v.compared]
    if also:
        text += messages.MODEL_EVIDENCE_DRIFT_ALL.format(versions=", ".join(also))
    weight = DRIFT_WEIGHT
    if look.predictions is not None:
        template = (
            messages.MODEL_EVIDENCE_OUTPUTS_MOVED
            if look.predictions.drifted
            else messages.MODEL_EVIDENCE_OUTPUTS_STILL
        )
        text += template.format(psi=look.predictions.psi, ks=look.predictions.ks)
        if look.predictions.drifted:
            weight += SUPPORT
        elif not fell:
            weight -= UNFELT
    if quality is not None and fell:
        text += messages.MODEL_EVIDENCE_QUALITY.format(quality=quality_text(quality))
        weight += SUPPORT
    return ("input-drift", Evidence("model", text, min(weight, 1.0)), text)


def _regression(look: ModelLook, previous: str, at: float) -> tuple[str, Evidence, str]:
    """The alias moved to the serving version and quality fell or its outputs moved."""
    quality = look.quality
    fell = quality is not None and quality.fell
    if look.drifted:
        inputs = messages.MODEL_EVIDENCE_INPUTS_NEW.format(
            version=look.version, features=_features(look.drifted), previous=previous
        )
    else:
        inputs = messages.MODEL_EVIDENCE_INPUTS_NORMAL.format(version=look.version)
    if quality is not None and fell:
        sign = quality_text(quality)
    else:
        assert look.predictions is not None
        sign = messages.MODEL_EVIDENCE_OUTPUTS_SIGN.format(
            psi=look.predictions.psi, ks=look.predictions.ks
        )
    text = messages.MODEL_EVIDENCE_REGRESSION.format(
        quality=sign,
        alias=look.alias,
        previous=previous,
        version=look.version,
        at=_clock(at),
        inputs=inputs,
    )
    if fell and outputs_moved(look) and not look.drifted:
        text += messages.MODEL_EVIDENCE_OUTPUTS_TOO.format(psi=look.predictions.psi)  # type: ignore[union-attr]
    weight = (REGRESSION_WEIGHT if fell else OUTPUTS_WEIGHT) + (SUPPORT if look.compared else 0.0)
    if fell and outputs_moved(look):
        weight += SUPPORT
    return ("model-regression", Evidence("model", text, min(weight, 1.0)), text)
