"""The Approve dialog is the last thing a person reads before a change runs: within Block Kit's
300 characters it must still say what runs - the tool, the target and every value - however long
a workload name or a parameter is, without half an entity or an unclosed bold."""

from __future__ import annotations

from bot.slack.blocks import proposal_blocks
from bot.slack.blocks.proposals import MAX_DIALOG_TEXT
from bot.slack.limits import violations
from tests.bot.slack.fake_slack import decode
from tests.bot.slack.test_blocks import proposal
from tools.actions import Action
from tools.proposals import ProposalStatus

NAMESPACE = "n" * 63  # Kubernetes' longest namespace
WORKLOAD = "recommender-" + "a" * 241  # and longest Deployment name: 253


def dialogs(action: Action, preview: str) -> tuple[str, str]:
    """The raw mrkdwn of the Approve and the Reject dialog of a pending ``action``."""
    blocks = proposal_blocks(proposal(ProposalStatus.PROPOSED, action=action, preview=preview))
    assert violations(blocks) == []
    approve, reject = blocks[1]["elements"]
    return approve["confirm"]["text"]["text"], reject["confirm"]["text"]["text"]


def test_the_longest_target_keeps_its_tool_and_its_values_in_the_dialog() -> None:
    action = Action("scale", NAMESPACE, WORKLOAD, {"replicas": 6})
    approve, reject = dialogs(action, f"scale deployment {NAMESPACE}/{WORKLOAD}: 3 -> 6 replicas")
    for text in (approve, reject):
        assert len(text) <= MAX_DIALOG_TEXT
        change = text.split("*")[1]  # the bold first part: the change, closed
        assert change.startswith(f"scale {NAMESPACE}/recommender-aaa")
        assert change.endswith("aaa replicas=6") and "…" in change
    assert reject.endswith("* will not run.")


def test_a_pattern_with_markup_is_shown_whole_and_escaped_and_the_dry_run_cut() -> None:
    pattern = "recommender:<user>&" + "k" * 150 + "*"
    action = Action("purge_cache", "shop", "recommender", {"pattern": pattern})
    approve, _ = dialogs(action, "would delete 12 keys: " + "x&y " * 100)
    assert len(approve) <= MAX_DIALOG_TEXT
    first, dry_run = decode(approve).split("\n")
    assert first == f"*purge_cache shop/recommender pattern={pattern}*"
    assert dry_run.startswith("Dry run: would delete 12 keys: x&y") and dry_run.endswith("…")
    assert approve.count("&") == approve.count("&amp;") + approve.count("&lt;") + approve.count(
        "&gt;"
    )  # every & starts a whole entity: none was cut in half
