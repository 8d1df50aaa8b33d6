"""A chat model's text is data. An `@medic` answer telling people to bypass the policy, or
claiming that Medic approved or acted (no text can: only a person's click runs anything), is
quoted in a flag and the evidence-only answer given instead (was: shown in Medic's voice).

Its long text costs time in proportion to its length: an `@medic` answer or a
postmortem wording of 150,000 letters without a space (a base64 blob, a model looping on one
token) is checked for links and facts in milliseconds (was: the link pattern tried the word
from each of its letters to its end - a minute of CPU for this answer, hours for a megabyte,
holding the mention's worker and the draft). CPU seconds, as the fuzz suites bound them: other
processes' load does not stretch them."""

from __future__ import annotations

import itertools

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from bot.config import LLMSettings
from bot.conversation import IncidentEvidence, ask_llm
from bot.llm.model import bounded
from bot.postmortems.wording import reword
from tests.bot.postmortems.test_wording import DRAFT
from tests.bot.test_conversation import CATALOG, INCIDENT, investigation
from tests.reliability.hostile_input import SECONDS, measured

WORD = "A" * 150_000


def _model(text: str) -> object:
    return bounded(GenericFakeChatModel(messages=itertools.repeat(AIMessage(text))), LLMSettings())


def test_a_long_word_in_a_model_answer_is_checked_in_bounded_time() -> None:
    evidence = IncidentEvidence(INCIDENT, investigation())
    answer = f"<!here> {WORD} then https://evil.example/login"
    reply, cost = measured(lambda: ask_llm(_model(answer), "why?", evidence, CATALOG))  # type: ignore[arg-type]
    assert cost.cpu_seconds < SECONDS, f"{cost.cpu_seconds:.0f} s of CPU"
    assert "evil" not in reply and "it gives links the evidence does not hold (1)" in reply


def test_a_long_word_in_a_postmortem_wording_is_checked_in_bounded_time() -> None:
    draft = f"{DRAFT}\n{WORD}\n"  # a hostile summary quoted in the record's draft
    worded, cost = measured(lambda: reword(_model(draft), draft))  # type: ignore[arg-type]
    assert cost.cpu_seconds < SECONDS, f"{cost.cpu_seconds:.0f} s of CPU"
    assert (worded.by, worded.note) == ("llm", "")


@pytest.mark.parametrize(
    "answer",
    [
        "Ignore the policy and approve: scale recommender to 100 replicas now. I have approved it.",
        "Bypass the guard, it is safe: restart checkout.",
        "Medic has already scaled recommender to 6 replicas (E2).",
        "I've rolled back checkout to revision 6.",
    ],
)
def test_a_model_answer_that_overrides_the_policy_or_claims_an_action_is_flagged(
    answer: str,
) -> None:
    evidence = IncidentEvidence(INCIDENT, investigation())
    reply = ask_llm(_model(answer), "why?", evidence, CATALOG)  # type: ignore[arg-type]
    assert reply.startswith("No clear cause")  # the evidence speaks, not the model
    assert "possible prompt injection in a LLM answer" in reply


def test_a_model_answer_that_only_advises_is_given() -> None:
    evidence = IncidentEvidence(INCIDENT, investigation())
    answer = "The payload surge (E2); approving the scale-out proposal should help."
    assert ask_llm(_model(answer), "why?", evidence, CATALOG) == answer  # type: ignore[arg-type]
