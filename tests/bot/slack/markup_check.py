"""Finds Slack markup Medic did not write in everything sent to the fake Slack.

Slack reads ``<...>`` as a control sequence (``<!channel>``, ``<@U1>``, ``<#C1>``,
``<!subteam^S1>``, ``<https://x|label>``) in every text it renders as mrkdwn. Medic writes only a
few of its own: a time (``<!date^...>``), a mention of the Slack user who clicked or asked, and
links to the alert's source labelled by Medic ("Alertmanager", "PagerDuty incident", ...). Every
other ``<`` in any string of any call - text, blocks, fallback, file titles and comments,
ephemeral replies - is alert, user or model text that escaped the escaping. Written
independently of Medic's renderer.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from tests.bot.slack.fake_slack import FakeSlack

DANGEROUS = ("<!channel>", "<!here>", "<!everyone>", "<@U", "<#C", "<!subteam^", "<http")


def own_markup(users: Iterable[str], labels: Iterable[str] = ()) -> re.Pattern[str]:
    """The tokens Medic itself writes; ``users`` are the Slack users who really asked, ``labels``
    link labels from the configuration (a generic sender's name labels its link)."""
    people = "|".join(re.escape(u) for u in users) or "(?!)"
    configured = "".join(f"|{re.escape(label)}" for label in labels)
    return re.compile(
        r"<!date\^\d+\^\{time\}\|\d\d:\d\d UTC>"
        rf"|<@(?:{people})>"
        r"|<https?://[^\s<>|]+\|(?:Alertmanager|Grafana rule|dashboard|panel|silence|Grafana"
        rf"|Datadog event|PagerDuty incident|PagerDuty service{configured})>"
    )


def strings(value: Any) -> Iterator[str]:
    """Every string inside ``value``; a string holding JSON (blocks, files) is walked too."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, str):
            yield item
            if item[:1] in "[{":
                with contextlib.suppress(ValueError):
                    stack.append(json.loads(item))


def sent(slack: FakeSlack) -> list[tuple[str, Any]]:
    """Everything Medic sent to Slack, as (where, what): the calls' arguments and the
    response_url posts."""
    with slack._lock:
        calls = [(c.method, c.args) for c in slack.calls]
        return calls + [("response_url", r) for r in slack.responses]


def foreign_markup(
    texts: Iterable[str], users: Iterable[str], labels: Iterable[str] = ()
) -> list[str]:
    """Each ``<...`` in ``texts`` that is not one of Medic's own tokens, with its surroundings."""
    own = own_markup(users, labels)
    found = []
    for text in texts:
        for at in (m.start() for m in re.finditer("<", text)):
            if not own.match(text, at):
                found.append(text[max(0, at - 40) : at + 60])
    return found


def unescaped(slack: FakeSlack, users: Iterable[str] = (), labels: Iterable[str] = ()) -> list[str]:
    """Markup in what Medic sent to ``slack`` that Medic did not write, each with where it was
    (``labels``: link labels the configuration gives, see :func:`own_markup`)."""
    return [
        f"{where}: {found}"
        for where, args in sent(slack)
        for found in foreign_markup(strings(args), users, labels)
    ]
