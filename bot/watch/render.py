"""How a finding reads: one plain line for the terminal, a Block Kit heads-up for Slack (every
value through :func:`~bot.slack.mrkdwn.markup`, so a service, metric or feature name from a
label or a registry is never markup)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot import messages
from bot.slack.blocks import Message, context, section
from bot.slack.mrkdwn import Mrkdwn, markup
from bot.watch.checks import RightSizingCheck
from bot.watch.findings import Concern, WatchFinding


def amount(metric: str, value: float) -> str:
    """A value in the unit its metric name says: a share as a percentage, bytes in GiB/MiB."""
    if metric.endswith("_ratio"):
        return f"{100 * value:.0f}%"
    if metric.endswith("_bytes"):
        for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if abs(value) >= size:
                return f"{value / size:.1f} {unit}"
        return f"{value:.0f} B"
    if metric.endswith("_pct"):
        return f"{value:.0f}%"
    if 1000 <= abs(value) < 1e15:  # a count (a quota of pods): 10,000, never 1e+04
        return f"{value:,.0f}"
    return f"{value:.3g}"


MAX_SUBJECT = 120  # characters of a metric or feature name shown (a registry's names are data)


def shown(name: str) -> str:
    """A metric or feature name as it is shown: printable, and at most MAX_SUBJECT long."""
    text = name if name.isprintable() else repr(name)
    return text if len(text) <= MAX_SUBJECT else text[: MAX_SUBJECT - 1] + "\u2026"


def duration(seconds: float) -> str:
    minutes = max(0, round(seconds / 60))
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes / 60:.1f} h"


RANGE_FROM = 0.85  # a fast bound below this share of the trend's time is stated as a range


def eta_text(finding: WatchFinding) -> str:
    """When the limit comes: the trend's time, or - when the fast bound is well sooner, as it
    is in a trend's first minutes (its window still partly from before it began) - the range
    from the fast bound to it, so the sooner end is never hidden behind a late estimate."""
    eta = finding.eta_seconds or 0.0
    soonest = finding.eta_earliest_seconds
    if soonest is None or not soonest < RANGE_FROM * eta:
        return duration(eta)
    low, high = duration(soonest), duration(eta)
    if low.endswith(" min") and high.endswith(" min"):
        low = low.removesuffix(" min")
    elif low.endswith(" h") and high.endswith(" h"):
        low = low.removesuffix(" h")
    return messages.WATCH_ETA_RANGE.format(soonest=low, eta=high)


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")


def _fields(
    finding: WatchFinding, rightsizing: RightSizingCheck | None
) -> tuple[str, dict[str, Any]]:
    t = finding.target
    common: dict[str, Any] = {"service": t.service, "namespace": t.namespace}
    if finding.concern is Concern.LIMIT and finding.limit is not None:
        metric = shown(finding.subject)
        if finding.details.get("where"):
            metric += messages.WATCH_HEADSUP_WHERE.format(where=shown(finding.details["where"]))
        template = messages.WATCH_HEADSUP_LIMIT
        if finding.consumers:
            template = messages.WATCH_HEADSUP_LIMIT_TAKEN_BY
            common["consumers"] = ", ".join(
                f"{shown(name)} {amount(finding.subject, value)}"
                for name, value in finding.consumers
            )
            if finding.consumers_more:
                common["consumers"] = messages.WATCH_CONSUMERS_MORE.format(
                    consumers=common["consumers"], more=finding.consumers_more
                )
        return template, common | {
            "metric": metric,
            "level": amount(finding.subject, finding.level),
            "limit": amount(finding.subject, finding.limit.value),
            "origin": finding.limit.origin,
            "eta": eta_text(finding),
        }
    if finding.concern is Concern.ANOMALY:
        return messages.WATCH_HEADSUP_ANOMALY, common | {
            "metric": shown(finding.subject),
            "direction": finding.details.get("direction", "out of its band"),
            "since": _clock(finding.since or 0.0),
            "level": amount(finding.subject, finding.level),
            "baseline": amount(finding.subject, finding.baseline),
        }
    wanted = finding.action.params.get("replicas", 0) if finding.action else 0
    if finding.concern is Concern.SATURATED:
        return messages.WATCH_HEADSUP_SATURATED, common | {
            "level": f"{finding.level:.0f}",
            "replicas": int(finding.baseline),
            "wanted": wanted,
        }
    if finding.concern is Concern.OVER_PROVISIONED:
        hours = rightsizing.window / 3600 if rightsizing else 24
        return messages.WATCH_HEADSUP_OVER, common | {
            "level": f"{finding.level:.0f}",
            "replicas": int(finding.baseline),
            "wanted": wanted,
            "hours": f"{hours:g}",
        }
    return messages.WATCH_HEADSUP_DRIFT, common | {
        "subject": shown(finding.subject),
        "level": f"{finding.level:.3g}",
    }


def finding_line(finding: WatchFinding, rightsizing: RightSizingCheck | None = None) -> str:
    """The finding in plain words (the terminal); ``*`` of the Slack wording dropped."""
    template, values = _fields(finding, rightsizing)
    line = template.format(**values).replace(":eyes: ", "").replace("*", "")
    if finding.action is not None:
        line += " " + messages.WATCH_PROPOSED.format(
            action=_action(finding), verdict=finding.verdict or "not asked"
        )
    return line


def _action(finding: WatchFinding) -> str:
    action = finding.action
    assert action is not None
    params = ", ".join(f"{k}={v}" for k, v in sorted(action.params.items()))
    return f"{action.tool} {action.target} ({params})"


def headsup_message(
    finding: WatchFinding, rightsizing: RightSizingCheck | None = None, *, root: bool = True
) -> Message:
    """The heads-up as a thread root (``root``) or as a later finding replied in it."""
    template, values = _fields(finding, rightsizing)
    text = markup(template, **values)  # a template of bot.messages
    blocks = [section(text)]
    if finding.action is not None:
        proposed = markup(
            messages.WATCH_PROPOSED, action=_action(finding), verdict=finding.verdict or "not asked"
        )
        blocks.append(section(proposed))
    if root:
        blocks.append(
            context(markup(messages.WATCH_HEADSUP_FOOTER, service=finding.target.service))
        )
    return Message(Mrkdwn(text), blocks)
