"""`@medic` questions about the model in an incident's thread - "which model is serving?", "did
the inputs drift?", "why not roll back the model?", "why not retrain?" - answered from the look at
the model the investigation kept (``Investigation.model``, and the origin's when the fault started
in another ML service), never from a chat model's guess: versions, PSI and KS are exact here, a
paraphrase would not be.

Pure: the caller passes the investigation and the plan. Everything in the answer that came from a
registry or a label is already bounded by the look; the answer itself is bounded in lines, and the
Slack front end escapes it as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot import messages
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.model_evidence import model_evidence, quality_text
from bot.diagnosis.model_look import ModelLook
from bot.planners.combine import Plan
from tools.registry.base import MODEL_LABEL

Question = Literal["serving", "drift", "why_not_rollback", "why_not_retrain"]

MAX_QUESTION = 500  # characters of the question read
MAX_LINES = 8  # lines of an answer
MAX_ANSWER = 3000  # characters of an answer (Slack's section holds 3000)

_WHY_NOT = r"\bwhy\s+(?:not|don'?t\s+(?:you|we)|didn'?t\s+you|no)\s+"
_ROLLBACK = re.compile(
    _WHY_NOT + r"(?:just\s+)?(?:roll(?:ing)?[\s-]*back|revert|go(?:ing)?\s+back|downgrade|"
    r"promote|switch\s+back)\b.{0,60}?\b(?:model|version)",
    re.IGNORECASE | re.DOTALL,
)
_RETRAIN = re.compile(_WHY_NOT + r"(?:just\s+)?re-?train", re.IGNORECASE)
_SERVING = re.compile(  # "what version was deployed?" asks what changed, not this
    r"\b(?:which|what)\s+model\b|\bmodel\s+version\b|\bserv(?:ing|es|ed)\b.{0,40}\bmodel"
    r"|\bmodel\b.{0,40}\bserv(?:ing|es|ed)\b|\b(?:which|what)\s+version\b.{0,40}\bserv",
    re.IGNORECASE | re.DOTALL,
)
_DRIFT = re.compile(
    r"\bdrift|\b(?:inputs?|features?|predictions?|outputs?)\b.{0,30}\b(?:mov|chang|shift)",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Looked:
    """One service's look at its model (None when it serves none that Medic can see)."""

    service: str
    look: ModelLook | None


def model_question(text: str) -> Question | None:
    """Which question about the model ``text`` asks; None when it asks none."""
    head = text[:MAX_QUESTION]
    if _ROLLBACK.search(head):
        return "why_not_rollback"
    if _RETRAIN.search(head):
        return "why_not_retrain"
    if _SERVING.search(head):
        return "serving"
    if _DRIFT.search(head):
        return "drift"
    return None


def answer_model_question(
    question: Question, text: str, service: str, inv: Investigation, plan: Plan | None
) -> str:
    """The answer to ``question`` from the looks ``inv`` kept: of the service the question names
    (the alerting one or the origin), else of the one whose model is at fault, else the alerting
    one's."""
    looked = _chosen(text, service, inv)
    if looked.look is None:
        return messages.MODEL_Q_NONE.format(service=looked.service, label=MODEL_LABEL)
    look = looked.look
    if question == "serving":
        lines = _serving(looked.service, look)
    elif question == "drift":
        lines = _drift(look)
    else:
        lines = _why_not(looked.service, look, question)
    if question.startswith("why_not") and plan is not None:
        proposed = [
            f"{p.action.tool} {p.action.target}"
            for p in plan.actions
            if p.action.tool in ("promote_model", "retrain")
        ]
        if proposed:
            lines.append(messages.MODEL_Q_PROPOSED.format(actions=", ".join(proposed)))
    answer = "\n".join(lines[:MAX_LINES])
    return answer if len(answer) <= MAX_ANSWER else answer[: MAX_ANSWER - 1] + "\u2026"


def _chosen(text: str, service: str, inv: Investigation) -> Looked:
    looks = [Looked(service, inv.model)]
    if inv.at_origin is not None:
        looks.append(Looked(inv.at_origin.service, inv.at_origin.model))
    words = set(re.findall(r"[a-z0-9][-a-z0-9_.]*", text[:MAX_QUESTION].lower()))
    named = [lk for lk in looks if lk.service.lower() in words]
    if named:
        return named[0]
    at_fault = [lk for lk in looks if lk.look is not None and model_evidence(lk.look)]
    with_model = [lk for lk in looks if lk.look is not None]
    return (at_fault or with_model or looks)[0]


def _serving(service: str, look: ModelLook) -> list[str]:
    if not look.version:
        why = look.notes[0] if look.notes else ""
        head = messages.MODEL_Q_UNTOLD.format(service=service, model=look.model)
        return [f"{head}: {why}" if why else f"{head}."]
    head = messages.MODEL_Q_SERVING.format(service=service, model=look.model, version=look.version)
    if look.alias:
        head += messages.MODEL_Q_ALIAS.format(alias=look.alias)
    if look.since is not None:
        head += messages.MODEL_Q_SINCE.format(at=_utc(look.since))
    lines = [head + "."]
    if look.previous:
        lines.append(messages.MODEL_Q_PREVIOUS.format(previous=look.previous))
    if look.metrics:
        shown = ", ".join(f"{k} {v:.3g}" for k, v in look.metrics.items())
        lines.append(messages.MODEL_Q_METRICS.format(version=look.version, metrics=shown))
    return lines


def _drift(look: ModelLook) -> list[str]:
    if not look.compared:
        head = messages.MODEL_Q_NOT_JUDGED.format(model=look.model)
        return [f"{head}: {look.notes[0]}" if look.notes else f"{head}."]
    top = ", ".join(f"{d.feature} (PSI {d.psi:.2f}, KS {d.ks:.2f})" for d in look.drift[:3])
    if look.drifted:
        drifted = ", ".join(
            f"{d.feature} (PSI {d.psi:.2f}, KS {d.ks:.2f})" for d in look.drifted[:5]
        )
        lines = [
            messages.MODEL_Q_DRIFTED.format(
                version=look.version,
                count=len(look.drifted),
                compared=look.compared,
                features=drifted,
            )
        ]
    else:
        lines = [
            messages.MODEL_Q_NOT_DRIFTED.format(
                compared=look.compared, version=look.version, features=top
            )
        ]
    lines += [
        messages.MODEL_Q_EARLIER.format(
            version=v.version, drifted=len(v.drifted), compared=v.compared
        )
        for v in look.against[:3]
        if v.compared
    ]
    lines.append(_outputs(look))
    return lines


def _outputs(look: ModelLook) -> str:
    p = look.predictions
    if p is None:
        return messages.MODEL_Q_NO_OUTPUTS
    verdict = messages.MODEL_Q_OUTPUTS_MOVED if p.drifted else messages.MODEL_Q_OUTPUTS_SAME
    return messages.MODEL_Q_OUTPUTS.format(psi=p.psi, ks=p.ks, verdict=verdict)


def _why_not(
    service: str, look: ModelLook, question: Literal["why_not_rollback", "why_not_retrain"]
) -> list[str]:
    """Why Medic does (not) propose going back to an earlier version, or retraining."""
    remedy = "rollback" if question == "why_not_rollback" else "retrain"
    found = model_evidence(look)
    if not look.version or (not found and not look.compared and look.quality is None):
        why = look.notes[0] if look.notes else messages.MODEL_Q_FACT_NO_INPUTS
        return [messages.MODEL_Q_UNJUDGED.format(model=look.model, why=why)]
    if not found:
        facts = [
            messages.MODEL_Q_FACT_INPUTS.format(version=look.version)
            if look.compared
            else messages.MODEL_Q_FACT_NO_INPUTS
        ]
        if look.quality is not None:
            facts.append(quality_text(look.quality))
        what = (
            messages.MODEL_Q_ROLLBACK_WHAT
            if remedy == "rollback"
            else (messages.MODEL_Q_RETRAIN_WHAT)
        )
        return [messages.MODEL_Q_FINE.format(what=what, facts="; ".join(facts)), _outputs(look)]
    cause, _, evidence = found[0]
    if cause == "input-drift":
        if remedy == "retrain":
            return [messages.MODEL_Q_RETRAIN_DRIFT.format(evidence=evidence)]
        versions = ", ".join([look.version, *(v.version for v in look.against if v.compared)])
        return [messages.MODEL_Q_BACK_DRIFT.format(model=look.model, versions=versions)]
    if cause == "model-regression":
        if remedy == "rollback":
            return [messages.MODEL_Q_BACK_REGRESSION.format(evidence=evidence)]
        move = look.alias_move
        previous = move.previous if move is not None else look.previous
        return [messages.MODEL_Q_RETRAIN_REGRESSION.format(version=look.version, previous=previous)]
    return [messages.MODEL_Q_SERVING_CHANGED.format(evidence=evidence, service=service)]


def _utc(ts: float) -> str:
    """A time as the thread shows it; a registry's absurd one (year 10000) as its number."""
    try:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return f"{ts:.0f} (epoch seconds)"
