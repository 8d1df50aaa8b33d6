"""Approval cards of the MLOps remedies: the approver reads from which version to which the alias
moves, and how long a retraining takes and what it costs; a registry's model names and a
pipeline's words are shown as text, never as Slack markup."""

from __future__ import annotations

import json

from bot.slack.blocks import proposal_blocks
from bot.slack.limits import violations
from tests.bot.slack.fake_slack import decode
from tests.bot.slack.markup_check import DANGEROUS
from tests.bot.slack.test_blocks import proposal
from tools.actions import Action
from tools.backends import Backends
from tools.catalog import TOOLS, ToolContext
from tools.proposals import ProposalStatus
from tools.registry import MemoryRegistry, MemoryTraining
from tools.sim import SimulatedCluster

HOSTILE = "ranker <!channel> *urgent* <https://evil.example|approve>"


def previewed(sim: SimulatedCluster, tool: str, cost: str = "2 CPU-hours") -> tuple[Action, str]:
    registry = MemoryRegistry()
    for _ in range(3):
        registry.register(HOSTILE)
    registry.set_alias(HOSTILE, "champion", "3")
    training = MemoryTraining(registry, minutes=45, cost=cost)
    action = Action(tool, "shop", "recommender", {"model": HOSTILE})
    context = ToolContext(Backends(sim, sim, sim, registry, training), 0.0)
    return action, TOOLS[tool].run(context, action, True).summary


def card(action: Action, preview: str) -> tuple[str, str, list[object]]:
    blocks = proposal_blocks(
        proposal(ProposalStatus.PROPOSED, action=action, preview=preview, source="runbook:x")
    )
    section, buttons = blocks
    dialog = buttons["elements"][0]["confirm"]["text"]["text"]  # type: ignore[index]
    return section["text"]["text"], dialog, list(blocks)  # type: ignore[index]


def test_the_promotion_card_says_from_which_version_to_which(sim: SimulatedCluster) -> None:
    action, preview = previewed(sim, "promote_model")
    text, dialog, blocks = card(action, preview)
    assert "from version 3 to version 2" in decode(text)
    assert "from version 3 to version 2" in decode(dialog)
    assert HOSTILE in decode(text)  # shown as it is called, as text
    sent = json.dumps(blocks)
    assert not any(token in sent for token in DANGEROUS)
    assert violations(blocks) == []  # type: ignore[arg-type]


def test_the_retrain_card_says_how_long_and_what_it_costs(sim: SimulatedCluster) -> None:
    action, preview = previewed(sim, "retrain", cost="<!here> 8 GPU-hours")
    text, _dialog, blocks = card(action, preview)
    assert "(about 45 min, <!here> 8 GPU-hours)" in decode(text)
    assert not any(token in json.dumps(blocks) for token in DANGEROUS)
