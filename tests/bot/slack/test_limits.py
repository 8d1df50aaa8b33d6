"""Block Kit limits: what Slack would refuse is found, and fitted so that Slack accepts it."""

from __future__ import annotations

import pytest

from bot import messages
from bot.slack.blocks import context, section
from bot.slack.limits import (
    MAX_BLOCKS,
    BlockKitLimitError,
    as_markdown,
    fit,
    violations,
)


def button(text: str = "Approve", value: str = "p1:abc") -> dict[str, object]:
    return {
        "type": "button",
        "action_id": "medic_approve",
        "text": {"type": "plain_text", "text": text},
        "value": value,
    }


@pytest.mark.parametrize(
    ("blocks", "problem"),
    [
        ([section("x")] * 51, "51 blocks (limit 50)"),
        ([section("x" * 3001)], "block 1 (section) text is 3001 characters (limit 3000)"),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            "block 1 (header) text is 151 characters (limit 150)",
        ),
        (
            [{"type": "actions", "elements": [button(text="A" * 76)]}],
            "block 1 (actions) button 1 text is 76 characters (limit 75)",
        ),
        (
            [{"type": "actions", "elements": [button(value="v" * 2001)]}],
            "block 1 element 1 value is 2001 characters (limit 2000)",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
            "block 1 (section) field 1 is 2001 characters (limit 2000)",
        ),
    ],
)
def test_each_limit_is_named(blocks: list[dict[str, object]], problem: str) -> None:
    assert violations(blocks) == [problem]


def test_a_message_within_limits_passes_unchanged() -> None:
    blocks = [section("hello"), {"type": "actions", "elements": [button()]}]
    fitted = fit(blocks, "hello")
    assert violations(blocks) == []
    assert fitted.blocks == blocks and not fitted.cut


def test_long_text_is_cut_with_a_pointer_to_the_full_text() -> None:
    long = "word " * 1000
    fitted = fit([section(long)], "fallback")
    text = fitted.blocks[0]["text"]["text"]
    assert len(text) == 3000 and text.endswith(messages.SLACK_MORE_IN_FILE)
    assert fitted.cut
    assert long.strip() in as_markdown([section(long)])


def test_too_many_blocks_drop_the_least_important_but_never_the_buttons() -> None:
    findings = [context(f"finding {i}") for i in range(60)]
    proposal = [
        section("scale it", block_id="proposal:p1"),
        {"type": "actions", "block_id": "actions:p1", "elements": [button()]},
    ]
    fitted = fit(findings + proposal, "t")
    assert len(fitted.blocks) == MAX_BLOCKS and fitted.cut
    assert fitted.blocks[-2:] == proposal
    assert messages.SLACK_MORE_IN_FILE in str(fitted.blocks[-3])
    assert violations(fitted.blocks) == []


def test_an_overlong_button_value_is_a_bug_not_content() -> None:
    with pytest.raises(BlockKitLimitError, match="value is 2001"):
        fit([{"type": "actions", "elements": [button(value="v" * 2001)]}], "t")


def test_buttons_do_not_appear_in_the_full_text_file() -> None:
    blocks = [section("the finding"), {"type": "actions", "elements": [button()]}]
    assert as_markdown(blocks) == "the finding\n"
