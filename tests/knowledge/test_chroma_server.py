"""Server mode: the incident memory and postmortem search against a real `chroma run`."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge.embeddings import MiniLMEmbedding
from knowledge.errors import KnowledgeError
from knowledge.memory import COLLECTION, IncidentMemory
from knowledge.records import IncidentRecord
from knowledge.store import connect_chroma, reindex
from tests.services.chroma import chroma_process, chroma_url

__all__ = ["chroma_url"]

pytestmark = pytest.mark.slow

RECORD = IncidentRecord(
    id="INC-7",
    title="checkout errors after the payment gateway certificate expired",
    service="checkout",
    namespace="shop",
    templates=["ERROR x509 certificate has expired for <*>", "ERROR payment call failed"],
    root_cause="expired TLS certificate",
    cause="cert-expiry",
)


def test_memory_round_trip_through_a_chroma_server(
    chroma_url: str, embedder: MiniLMEmbedding
) -> None:
    memory = IncidentMemory(connect_chroma(chroma_url), embedder)
    memory.add(RECORD)
    reopened = IncidentMemory(connect_chroma(chroma_url), embedder)  # a second bot replica
    [match] = reopened.similar(
        service="checkout",
        namespace="shop",
        title="checkout failing: certificate expired",
        symptoms=["error ratio up"],
        templates=["ERROR x509 certificate has expired for <*>"],
        limit=1,
    )
    assert match.record == RECORD
    assert "shares 1 of 1 error templates: ERROR x509 certificate" in match.explanation
    assert "same namespace (shop)" in match.explanation


def test_server_collection_of_another_model_is_refused_until_reindexed(
    chroma_url: str, embedder: MiniLMEmbedding
) -> None:
    client = connect_chroma(chroma_url)
    IncidentMemory(client, embedder).add(RECORD)
    client.get_collection(COLLECTION).modify(metadata={"embedding_model": "other-model@1"})
    with pytest.raises(KnowledgeError, match="medic knowledge reindex"):
        IncidentMemory(client, embedder)
    assert reindex(client, embedder) == {COLLECTION: 1}
    assert IncidentMemory(client, embedder).count() == 1


def test_malformed_server_url_is_a_clear_error(embedder: MiniLMEmbedding) -> None:
    with pytest.raises(KnowledgeError, match="not an http"):
        connect_chroma("127.0.0.1:8000")


def test_a_chroma_server_that_never_answers_costs_seconds_not_the_bot(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    """A frozen server (SIGSTOP: the kernel still accepts connections, nothing answers) - at
    connection and mid-way through a search - is a KnowledgeError after the client's timeout,
    which the investigation turns into a skipped source."""
    with chroma_process(tmp_path / "chroma") as (url, process):
        memory = IncidentMemory(connect_chroma(url, timeout_seconds=1), embedder)
        memory.add(RECORD)
        process.send_signal(signal.SIGSTOP)
        try:
            for attempt in (
                lambda: memory.similar(service="checkout", title="x", symptoms=[], templates=[]),
                lambda: connect_chroma(url, timeout_seconds=1),
            ):
                outcome = in_background(attempt)
                assert outcome.wait(10), "still waiting for the frozen Chroma server after 10 s"
                assert isinstance(outcome.error, KnowledgeError)
                assert "Timeout" in str(outcome.error)
        finally:
            process.send_signal(signal.SIGCONT)


class Outcome(threading.Event):
    error: BaseException | None = None


def in_background(call: Callable[[], object]) -> Outcome:
    """Run ``call`` on a daemon thread (a hang must fail the test, not freeze the suite)."""
    outcome = Outcome()

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # reported to the test
            outcome.error = exc
        outcome.set()

    threading.Thread(target=run, daemon=True).start()
    return outcome
