"""The thread's "Similar past incidents": a reader takes the list's order as confidence, so the
similarities shown fall from top to bottom, and a match listed for its text alone says so."""

from __future__ import annotations

import re

import pytest

from bot import messages
from tests.bot.slack.harness import Medic
from tests.bot.slack.test_mentions import alert_thread
from tools.clock import VirtualClock
from tools.sim import SimulatedCluster
from tools.sim.victims import VICTIMS


@pytest.fixture
def sim(clock: VirtualClock) -> SimulatedCluster:
    """A network delay on checkout; frontend, which calls it, pages. Its best match by text in
    the sample memory (a checkout latency incident) scores below others by service and
    evidence, so the text slot lists it among them."""
    return SimulatedCluster(next(s for s in VICTIMS if s.name == "slow-dependency"), clock)


def _similar_section(text: str) -> str:
    section = text.split(messages.HEADING_SIMILAR, 1)[1]
    return section.split("\n\n", 1)[0] if "\n\n" in section else section


def test_the_similar_incidents_are_listed_by_the_similarity_shown(medic: Medic) -> None:
    root = alert_thread(medic)
    section = _similar_section(medic.diagnosis(root).all_text())
    items = re.findall(r"\*(\S+)\* \((\d\.\d\d)\) ", section)
    assert len(items) == 3, section
    shown = [float(similarity) for _, similarity in items]
    assert shown == sorted(shown, reverse=True), section
    # the checkout latency incident is there for its text, and says so and what it displaced
    assert "listed for its text: described most like this incident of the rest, though " in section
    assert "is not listed" in section or "are not listed" in section
    assert "shown this high" not in section


def test_a_match_below_the_similarity_threshold_is_labelled_weak(medic: Medic) -> None:
    """The list shows the nearest incidents even when they are far: those under
    ``min_similarity`` (0.45), which the diagnosis ignores, say so; the others do not."""
    root = alert_thread(medic)
    section = _similar_section(medic.diagnosis(root).all_text())
    items = re.findall(r"\*(\S+)\* \((\d\.\d\d)\) (.*)", section)
    assert any(float(similarity) < 0.45 for _, similarity, _ in items), section
    for _, similarity, rest in items:
        assert rest.startswith(messages.SIMILAR_WEAK) == (float(similarity) < 0.45), section
