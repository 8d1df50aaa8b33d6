"""The drafter with a chat model, on a real state database: a wording that adds nothing is used
and says so at its end; one that adds a fact is not, and the saved draft says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from bot.alerts import parse_alerts
from bot.config import LLMSettings
from bot.database import state_engine
from bot.demo import scenario_alert
from bot.errors import InputError
from bot.incidents import IncidentStore
from bot.llm.model import bounded
from bot.postmortems.drafting import PostmortemDrafter
from bot.postmortems.store import PostmortemStore
from knowledge.embeddings import MiniLMEmbedding
from knowledge.postmortems import PostmortemLibrary
from knowledge.query_encoder import query_encoder
from knowledge.search import HybridSearch
from knowledge.search_index import open_index
from knowledge.store import open_chroma
from tools.clock import VirtualClock
from tools.proposals import ProposalStore
from tools.sim import SCENARIOS

T0 = 1_800_000_000.0


class Echo:
    """A chat model that returns the draft it was given with ``added`` after its summary."""

    def __init__(self, added: str) -> None:
        self.added = added

    def invoke(self, prompt: list[BaseMessage]) -> AIMessage:
        draft = str(prompt[-1].content)
        return AIMessage(draft.replace("## Impact", f"{self.added}\n\n## Impact", 1))


def drafter(tmp_path: Path, model: Any) -> tuple[PostmortemDrafter, PostmortemStore, str]:
    (tmp_path / "state").mkdir()
    engine = state_engine(tmp_path / "state")
    incidents = IncidentStore(engine)
    group = parse_alerts(scenario_alert(SCENARIOS["input-size-surge"], T0), now=T0)
    incident, _ = incidents.open_or_attach(
        group.alerts[0], service="recommender", namespace="shop", group_key="g", now=T0
    )
    postmortems = PostmortemStore(engine)
    made = PostmortemDrafter(
        incidents=incidents,
        proposals=ProposalStore(engine),
        postmortems=postmortems,
        clock=VirtualClock(T0 + 600),
        chat=bounded(model, LLMSettings()),
    )
    return made, postmortems, incident.id


def test_a_wording_without_new_facts_is_saved_as_the_models(tmp_path: Path) -> None:
    made, store, incident = drafter(tmp_path, Echo("The recommender alert fired and stayed open."))
    drafted = made.draft(incident)
    assert drafted.wording == "llm" and "stayed open" in drafted.markdown
    assert "Worded by the configured chat model" in drafted.markdown
    saved = store.draft(incident)
    assert saved is not None and (saved.markdown, saved.wording) == (drafted.markdown, "llm")


def test_a_made_up_fact_keeps_medics_draft_and_the_saved_draft_says_why(tmp_path: Path) -> None:
    made, store, incident = drafter(
        tmp_path, Echo("It began with a deploy of payments-db 2.4, see https://e.vil/**x**")
    )
    drafted = made.draft(incident)
    assert drafted.wording == "record" and "payments-db" not in drafted.markdown.split("_Medic")[0]
    assert "the model's wording was not used" in drafted.markdown
    assert "'https://e.vil/**x**'" in drafted.note and "'payments-db'" in drafted.note
    assert "https://e.vil" not in drafted.markdown  # the note quotes it, defanged
    assert "https[:]//e.vil/\\*\\*x\\*\\*" in drafted.markdown.replace("\\[:\\]", "[:]")
    saved = store.draft(incident)
    assert saved is not None and saved.wording == "record" and saved.wording_note == drafted.note


def test_an_incident_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    made, _store, _incident = drafter(tmp_path, Echo(""))
    with pytest.raises(InputError, match="no incident 'INC-0999'"):
        made.draft("INC-0999")


def test_publishing_again_replaces_the_earlier_text_in_search(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    made, store, incident = drafter(tmp_path, Echo(""))
    memory = PostmortemLibrary(open_chroma(tmp_path / "chroma"), embedder)
    first = "# Cache stampede\n\nThe recommender cache expired at once and the database melted."
    second = "# Cache stampede\n\nA bigger payload from clients doubled the recommender latency."
    made.publish(incident, first, lambda: memory)
    made.publish(incident, second, lambda: memory)

    search = HybridSearch([open_index(memory.collection, None)], query_encoder())
    (hit,) = search.search("recommender latency after bigger client payloads", 5)
    assert hit.id == f"medic-{incident}" and hit.title == "Cache stampede"
    assert hit.snippet == "A bigger payload from clients doubled the recommender latency."
    (hit,) = search.search("the database melted", 5)
    assert hit.keyword_rank is None  # the first wording is gone, not kept beside the second
    stored = store.draft(incident)
    assert stored is not None and stored.published == second
