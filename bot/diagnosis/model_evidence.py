"""The look at an ML service as evidence for the two causes the rest of the diagnosis cannot
see: ``input-drift`` (inputs drifted against every recent version's training data: the data
changed, retrain) and ``model-regression`` (quality fell after the alias moved to a new version
whose training data the inputs still match, or only the new version's: go back one version). A
model whose inputs match its training data and whose quality is normal gets none: an overload
keeps its own causes."""

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


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")


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


def model_evidence(look: ModelLook | None) -> list[tuple[str, Evidence, str]]:
    """Evidence for ``input-drift`` or ``model-regression`` from the look; none when the model
    is fine (inputs match its training data, quality normal) or could not be judged."""
    if look is None or not look.version:
        return []
    quality = look.quality
    fell = quality is not None and quality.fell
    move = look.alias_move
    if look.data_changed:
        text = messages.MODEL_EVIDENCE_DRIFT.format(
            version=look.version, features=_features(look.drifted)
        )
        also = [v.version for v in look.against if v.compared]
        if also:
            text += messages.MODEL_EVIDENCE_DRIFT_ALL.format(versions=", ".join(also))
        if quality is not None and fell:
            text += messages.MODEL_EVIDENCE_QUALITY.format(quality=quality_text(quality))
        weight = DRIFT_WEIGHT + (SUPPORT if fell else 0.0)
        return [("input-drift", Evidence("model", text, weight), text)]
    if move is not None and move.previous and quality is not None and fell:
        if look.drifted:
            inputs = messages.MODEL_EVIDENCE_INPUTS_NEW.format(
                version=look.version, features=_features(look.drifted), previous=move.previous
            )
        else:
            inputs = messages.MODEL_EVIDENCE_INPUTS_NORMAL.format(version=look.version)
        text = messages.MODEL_EVIDENCE_REGRESSION.format(
            quality=quality_text(quality),
            alias=look.alias,
            previous=move.previous,
            version=look.version,
            at=_clock(move.at),
            inputs=inputs,
        )
        weight = REGRESSION_WEIGHT + (SUPPORT if look.compared else 0.0)
        return [("model-regression", Evidence("model", text, weight), text)]
    return []
