"""Parsing `/medic ...`: every command, and every way of getting one wrong, named."""

from __future__ import annotations

import pytest

from bot.slack.commands import (
    Command,
    Help,
    Investigate,
    PostmortemDraft,
    PostmortemPublish,
    Search,
    Silence,
    Status,
    duration_text,
    help_text,
    parse_command,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Help()),
        ("help", Help()),
        ("investigate recommender", Investigate("recommender", None)),
        ("investigate recommender shop", Investigate("recommender", "shop")),
        ("investigate recommender since 30m", Investigate("recommender", None, 1800)),
        ("investigate recommender shop SINCE 2h", Investigate("recommender", "shop", 7200)),
        ("investigate recommender cluster west", Investigate("recommender", None, None, "west")),
        (
            "investigate recommender shop since 2h cluster west",
            Investigate("recommender", "shop", 7200, "west"),
        ),
        (
            "investigate recommender cluster west since 30m",
            Investigate("recommender", None, 1800, "west"),
        ),
        ("search cache bloat after release", Search("cache bloat after release")),
        ("SEARCH  p95   latency ", Search("p95   latency")),
        ("postmortem draft", PostmortemDraft(None)),
        ("postmortem draft inc-0007", PostmortemDraft("INC-0007")),
        ("postmortem publish", PostmortemPublish(None)),
        ("postmortem PUBLISH inc-0007", PostmortemPublish("INC-0007")),
        ("status", Status()),
        ("silence 2h", Silence(7200, None)),
        ("silence 1h30m INC-0003", Silence(5400, "INC-0003")),
    ],
)
def test_commands(text: str, command: Command) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("reboot everything", "unknown command `reboot`"),
        (
            "investigate",
            "usage: `/medic investigate SERVICE [NAMESPACE] [since 30m] [cluster NAME]`",
        ),
        (
            "investigate a b c",
            "usage: `/medic investigate SERVICE [NAMESPACE] [since 30m] [cluster NAME]`",
        ),
        ("investigate a cluster <!here>", "`<!here>` is not a cluster name"),
        ("investigate a cluster b cluster c", "usage: `/medic investigate SERVICE"),
        ("investigate a since soon", "`soon` is not a duration of a minute or more"),
        ("investigate a since 30s", "`30s` is not a duration of a minute or more"),
        ("investigate Recommender!", "`Recommender!` is not a Kubernetes name"),
        ("search", "usage: `/medic search TEXT`"),
        ("postmortem", "usage: `/medic postmortem draft|publish [INC-ID]`"),
        ("postmortem archive", "usage: `/medic postmortem draft|publish [INC-ID]`"),
        ("postmortem publish <!channel>", "expected an incident id like INC-0007"),
        ("postmortem draft yesterday", "expected an incident id like INC-0007"),
        ("status now", "`/medic status` takes no arguments"),
        ("silence", "usage: `/medic silence DURATION [INC-ID]`"),
        ("silence forever", "`forever` is not a duration"),
        ("silence 30s", "between 1 minute and 7 days"),
        ("silence 8d", "between 1 minute and 7 days"),
    ],
)
def test_malformed_commands_get_help_naming_the_problem(text: str, problem: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, Help) and problem in parsed.problem
    answer = help_text(parsed.problem)
    assert answer.startswith(":warning:") and "/medic investigate SERVICE" in answer


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90m", 5400),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        ("2x", None),
        ("", None),
        ("9" * 40 + "s", None),  # no arithmetic on a number nobody means
    ],
)
def test_durations(text: str, seconds: int | None) -> None:
    assert parse_duration(text) == seconds


def test_durations_read_back() -> None:
    assert duration_text(5400) == "1h30m"
    assert duration_text(86400 + 60) == "1d1m"
