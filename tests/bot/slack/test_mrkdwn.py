"""The one escaping path: data becomes text, Medic's own markup stays markup, links are http(s)."""

from __future__ import annotations

import pytest

from bot import messages
from bot.slack.blocks import RootView, root_message, section, who
from bot.slack.limits import fit
from bot.slack.mrkdwn import Mrkdwn, escape, link, markup, plain, safe_url


def test_markup_escapes_data_and_keeps_medics_own_markup() -> None:
    text = markup("*{}* by {} - score {:.2f}", "<!channel> & co", who("U0APPROVER"), 0.456)
    assert text == "*&lt;!channel&gt; &amp; co* by <@U0APPROVER> - score 0.46"
    assert isinstance(text, Mrkdwn)
    assert escape(text) == text  # escaped once, never twice


def test_who_mentions_only_a_real_user_id() -> None:
    assert who("U0APPROVER") == "<@U0APPROVER>"
    assert who("U1> <!channel") == "U1&gt; &lt;!channel"
    assert who("medic:cli") == "medic:cli"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "<!channel>",
        "mailto:ceo@example.com",
        "data:text/html,hi",
        "//evil.example/x",
        "http://",
        "",
    ],
)
def test_a_link_is_only_made_to_an_http_url(url: str) -> None:
    assert safe_url(url) is None
    assert link(url, "Alertmanager <!here>") == "Alertmanager &lt;!here&gt;"


def test_a_link_cannot_be_ended_early_or_relabelled_by_its_url() -> None:
    made = link("https://am.example/a|<!channel>> b?x=1&y=2", "Alertmanager")
    assert made == "<https://am.example/a%7C%3C!channel%3E%3E%20b?x=1&amp;y=2|Alertmanager>"
    assert made.count("<") == 1 and made.count(">") == 1


def test_plain_text_never_carries_markup() -> None:
    assert plain("[FIRING:1] <!channel>") == "[FIRING:1] \u2039!channel\u203a"
    view = RootView(status="firing", alertname="<!channel>", summary="s")
    header = root_message(view).blocks[0]["text"]["text"]
    assert "<" not in header and "!channel" in header


def test_cutting_a_long_text_never_leaves_half_a_token_or_entity() -> None:
    token = Mrkdwn("<!date^1800000000^{time}|08:00 UTC>")
    text = markup("{}{}{}", "x" * 2940, token, "y" * 100)  # the cut falls inside the token
    fitted = fit([section(text)], text)
    assert fitted.blocks[0]["text"]["text"] == "x" * 2940 + messages.SLACK_MORE_IN_FILE
    entity = markup("{}", "x" * 2954 + "&" * 20)  # ... and here inside an "&amp;"
    cut = fit([section(entity)], entity).blocks[0]["text"]["text"]
    assert cut == "x" * 2954 + messages.SLACK_MORE_IN_FILE
