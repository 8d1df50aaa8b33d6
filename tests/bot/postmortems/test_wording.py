"""A chat model may reword the draft but add no fact: a made-up number, time, service or link
keeps the record's draft, and says why; a wording that only rephrases is used."""

from __future__ import annotations

import itertools

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from bot.config import LLMSettings
from bot.llm.model import bounded
from bot.postmortems.wording import reword, unsupported

DRAFT = """# Postmortem: INC-0001 - recommender p95 latency above 500 ms

## Summary

- **Alert:** RecommenderLatencyHigh on recommender (namespace shop), fired 2026-12-06 21:26:19 UTC
- **Most likely cause:** Input size increase: request payload size up 3.0x (2.1 KiB -> 6.1 KiB)
- **Fixed by:** `scale shop/recommender replicas=6`; `purge\\_cache shop/recommender`

## Timeline

| time (UTC) | what happened |
|---|---|
| 2026-12-06 21:22:00 | First deviation at the origin, recommender |
| 2026-12-06 21:42:19 | Approved by U0APPROVER: `scale shop/recommender replicas=6` |
"""

REWORDED = DRAFT.replace(
    "## Summary\n",
    "## Summary\n\nRequests to recommender grew larger until its p95 latency crossed 500 ms; "
    "scaling shop/recommender to 6 replicas and purging its cache fixed it.\n",
)


def model(answer: str) -> object:
    return bounded(
        GenericFakeChatModel(messages=itertools.repeat(AIMessage(answer))), LLMSettings()
    )


def test_a_wording_that_only_rephrases_the_record_is_used() -> None:
    worded = reword(model(REWORDED), DRAFT)  # type: ignore[arg-type]
    assert (worded.by, worded.note) == ("llm", "")
    assert "Requests to recommender grew larger" in worded.markdown


def test_a_made_up_fact_keeps_the_record_draft_and_says_which() -> None:
    made_up = REWORDED.replace(
        "fixed it.", "fixed it after the payments-db failover at 03:14 took 42 minutes."
    )
    worded = reword(model(made_up), DRAFT)  # type: ignore[arg-type]
    assert worded.by == "record" and worded.markdown == DRAFT
    assert "payments-db" in worded.note and "03:14" in worded.note


def test_each_kind_of_unsupported_fact_is_caught() -> None:
    assert unsupported("scaled to 7 replicas", DRAFT) == ["7"]
    assert unsupported("at 21:30:00 it recovered", DRAFT) == ["21:30:00"]
    assert unsupported("see https://runbooks.example/x", DRAFT) == ["https://runbooks.example/x"]
    assert unsupported("checkout-db was slow", DRAFT) == ["checkout-db"]
    assert unsupported("approved by @alice", DRAFT) == ["@alice"]
    # Facts of the record pass, whatever the escaping in the draft.
    assert unsupported("purge_cache ran on shop/recommender at 21:42:19 (3.0x)", DRAFT) == []
    assert unsupported("1. First, e.g. scale\n2. Then purge", DRAFT) == []


def test_markup_from_the_model_keeps_the_record_draft() -> None:
    for answer in (REWORDED + "\n<img src=x>", REWORDED + "\n[docs](#top)", ""):
        worded = reword(model(answer), DRAFT)  # type: ignore[arg-type]
        assert worded.by == "record" and worded.note


def test_a_model_that_fails_keeps_the_record_draft() -> None:
    class Broken(GenericFakeChatModel):
        def _generate(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            raise TimeoutError("model timed out")

    broken = bounded(Broken(messages=iter([])), LLMSettings())
    worded = reword(broken, DRAFT)
    assert worded.by == "record" and "not available" in worded.note
