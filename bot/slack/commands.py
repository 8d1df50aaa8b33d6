"""`/medic ...`: parsing (pure) and the answers. Parsing turns the command text into one typed
command or a problem to show next to the help; answering uses the incident threads."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import messages
from bot.config.clusters import CLUSTER_NAME_PATTERN
from bot.durations import WINDOW_PROBLEM, parse_duration, parse_window
from bot.errors import InputError
from bot.postmortems.drafting import PostmortemDrafter, drafter_of
from bot.slack import blocks
from bot.slack.decisions import SlackUser
from bot.slack.mrkdwn import Mrkdwn, escape, joined, link, markup
from bot.slack.search import Searcher
from bot.slack.threads import IncidentThreads
from bot.slack.watch_commands import WatchCommands

if TYPE_CHECKING:
    from knowledge.postmortems import PostmortemLibrary

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_INCIDENT = re.compile(r"^INC-\d+$", re.IGNORECASE)
MIN_SILENCE = 60
MAX_SILENCE = 7 * 86400
SEARCH_LIMIT = 5
MAX_SEARCH_TEXT = 1000  # characters of `/medic search` text searched for
MAX_ECHO = 200  # characters of a person's own text shown back to them


@dataclass(frozen=True)
class Help:
    problem: str = ""


@dataclass(frozen=True)
class Investigate:
    service: str
    namespace: str | None
    since: int | None = None  # seconds of suspect window asked for
    cluster: str | None = None  # a cluster of the clusters map; None: the default


@dataclass(frozen=True)
class Search:
    text: str


@dataclass(frozen=True)
class PostmortemDraft:
    incident: str | None


@dataclass(frozen=True)
class PostmortemPublish:
    incident: str | None


@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class Silence:
    seconds: int
    incident: str | None


@dataclass(frozen=True)
class Watch:
    verb: str  # list, add or remove
    service: str = ""
    namespace: str | None = None


Command = (
    Help | Investigate | Search | PostmortemDraft | PostmortemPublish | Status | Silence | Watch
)


def _incident_arg(args: list[str], usage: str) -> str | None:
    if not args:
        return None
    if len(args) == 1 and _INCIDENT.match(args[0]):
        return args[0].upper()
    raise InputError(
        f"expected an incident id like INC-0007 after `{usage}`, got `{' '.join(args)}`"
    )


def parse_command(text: str) -> Command:
    """The command in ``text``; a Help carrying the problem when it is unknown or malformed."""
    words = text.split()
    if not words or words[0].lower() == "help":
        return Help()
    verb, args = words[0].lower(), words[1:]
    try:
        return _parse(verb, args, text)
    except InputError as exc:
        return Help(str(exc))


def _investigate(args: list[str], _text: str) -> Command:
    usage = "usage: `/medic investigate SERVICE [NAMESPACE] [since 30m] [cluster NAME]`"
    since = cluster = None
    while len(args) >= 2 and args[-2].lower() in ("since", "cluster"):
        if args[-2].lower() == "since" and since is None:
            since = parse_window(args[-1])
            if since is None:
                raise InputError(f"`{args[-1][:40]}` {WINDOW_PROBLEM}: {usage}")
        elif args[-2].lower() == "cluster" and cluster is None:
            if not re.fullmatch(CLUSTER_NAME_PATTERN, args[-1]):
                raise InputError(f"`{args[-1][:63]}` is not a cluster name: {usage}")
            cluster = args[-1]
        else:
            raise InputError(usage)
        args = args[:-2]
    if not 1 <= len(args) <= 2:
        raise InputError(usage)
    for name in args:
        if not _NAME.match(name):
            raise InputError(f"`{name}` is not a Kubernetes name (lowercase, digits, -, .)")
    return Investigate(args[0], args[1] if len(args) > 1 else None, since, cluster)


def _search(args: list[str], text: str) -> Command:
    query = text.split(None, 1)[1].strip() if args else ""
    if not query:
        raise InputError("usage: `/medic search TEXT` - what should I look for?")
    return Search(query[:MAX_SEARCH_TEXT])


def _postmortem(args: list[str], _text: str) -> Command:
    verb = args[0].lower() if args else ""
    if verb == "draft":
        return PostmortemDraft(_incident_arg(args[1:], "postmortem draft"))
    if verb == "publish":
        return PostmortemPublish(_incident_arg(args[1:], "postmortem publish"))
    raise InputError("usage: `/medic postmortem draft|publish [INC-ID]`")


def _status(args: list[str], _text: str) -> Command:
    if args:
        raise InputError("`/medic status` takes no arguments")
    return Status()


def _silence(args: list[str], _text: str) -> Command:
    if not args:
        raise InputError("usage: `/medic silence DURATION [INC-ID]`, e.g. `/medic silence 2h`")
    seconds = parse_duration(args[0])
    if seconds is None:
        raise InputError(f"`{args[0]}` is not a duration: use e.g. `30m`, `2h`, `1d`")
    if not MIN_SILENCE <= seconds <= MAX_SILENCE:
        raise InputError("a silence lasts between 1 minute and 7 days")
    return Silence(seconds, _incident_arg(args[1:], "silence DURATION"))


_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # what the watch stores


def _watch(args: list[str], _text: str) -> Command:
    usage = "usage: `/medic watch list`, `/medic watch add|remove SERVICE [NAMESPACE]`"
    if not args or args[0].lower() not in ("list", "add", "remove"):
        raise InputError(usage)
    verb, names = args[0].lower(), args[1:]
    if verb == "list":
        if names:
            raise InputError("`/medic watch list` takes no arguments")
        return Watch("list")
    if not 1 <= len(names) <= 2:
        raise InputError(usage)
    for name in names:
        if not _LABEL.match(name):
            raise InputError(
                f"`{echo(name, 40)}` is not a Kubernetes name (lowercase letters, digits and -, "
                "at most 63)"
            )
    return Watch(verb, names[0], names[1] if len(names) > 1 else None)


PARSERS: dict[str, Callable[[list[str], str], Command]] = {
    "investigate": _investigate,
    "search": _search,
    "postmortem": _postmortem,
    "status": _status,
    "silence": _silence,
    "watch": _watch,
}


def _parse(verb: str, args: list[str], text: str) -> Command:
    parser = PARSERS.get(verb)
    if parser is None:
        raise InputError(f"unknown command `{verb}`")
    return parser(args, text)


def echo(text: str, limit: int = MAX_ECHO) -> str:
    """A person's own text, as much of it as is worth showing back to them."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def help_text(problem: str = "") -> Mrkdwn:
    if problem:
        return markup(
            messages.SLACK_COMMAND_PROBLEM,
            problem=echo(problem, 2 * MAX_ECHO),
            help=Mrkdwn(messages.SLACK_HELP),
        )
    return Mrkdwn(messages.SLACK_HELP)


def immediate_reply(command: Command) -> Mrkdwn:
    """What the ack says at once, before any slow work."""
    if isinstance(command, Help):
        return help_text(command.problem)
    if isinstance(command, Investigate):
        return markup(
            messages.SLACK_INVESTIGATING,
            service=command.service,
            namespace=command.namespace or "the default namespace",
        )
    if isinstance(command, Search):
        return markup(messages.SLACK_SEARCHING, text=echo(command.text))
    return Mrkdwn("")


def duration_text(seconds: int) -> str:
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


class CommandAnswers:
    """The slow half of each command, run after the ack; returns the ephemeral answer."""

    def __init__(
        self,
        threads: IncidentThreads,
        searcher: Searcher,
        watch: WatchCommands | None = None,
        drafter: PostmortemDrafter | None = None,
        library: Callable[[], PostmortemLibrary] | None = None,
    ) -> None:
        self._threads = threads
        self._searcher = searcher
        self._watch = watch
        self._drafter_given = drafter
        self._library = library  # where `/medic postmortem publish` puts the saved draft

    def _drafter(self) -> PostmortemDrafter:
        return self._drafter_given or drafter_of(self._threads.flow)

    def answer(self, command: Command, user: SlackUser, channel: str) -> Mrkdwn:
        try:
            return self._answer(command, user, channel)
        except InputError as exc:
            return markup(":warning: {}", exc)

    def _answer(self, command: Command, user: SlackUser, channel: str) -> Mrkdwn:
        threads = self._threads
        if isinstance(command, Investigate):
            threads.investigate_service(
                command.service,
                command.namespace,
                user.id,
                channel,
                since=command.since,
                cluster=command.cluster,
            )
            return Mrkdwn("")
        if isinstance(command, Search):
            return self._search(command.text)
        if isinstance(command, Status):
            return self._status()
        if isinstance(command, Watch):
            return self._watch_answer(command, user)
        if isinstance(command, PostmortemDraft):
            link = threads.incident_in(channel, command.incident, "postmortem draft")
            leader = threads.store.leader_of(link.incident_id) or link
            thread = threads.store.timeline(link.incident_id)
            if leader.incident_id != link.incident_id:
                thread += threads.store.timeline(leader.incident_id)
            drafted = self._drafter().draft(
                link.incident_id, diagnosed_as=leader.incident_id, thread=thread
            )
            if drafted.repeated:  # asked twice at once: the thread gets one file
                return markup(messages.SLACK_DRAFT_ALREADY_POSTED, incident=drafted.incident.id)
            title = messages.SLACK_POSTMORTEM_TITLE.format(incident=drafted.incident.id)
            threads.post_file(link, drafted.filename, title, drafted.markdown)
            return markup(messages.SLACK_DRAFTING, incident=drafted.incident.id)
        if isinstance(command, PostmortemPublish):
            return self._publish(command, user, channel)
        if isinstance(command, Silence):
            link = threads.incident_in(channel, command.incident, "silence DURATION")
            incident = threads.flow.incident(link.incident_id)
            assert incident is not None
            result = threads.flow.silence(
                incident,
                command.seconds,
                user.principal,
                source="slack:/medic silence",
                where="Slack",
            )
            if not result.ok:  # a refusal already reading "not done: ..." says it once
                reason = result.summary.removeprefix("not done: ")
                return markup(messages.SLACK_REFUSED, reason=reason)
            text = markup(
                messages.SLACK_SILENCED,
                incident=incident.id,
                duration=duration_text(command.seconds),
                user=blocks.who(user.id),
                summary=result.summary,
            )
            threads.note(link, text, kind="action")
            return text
        return help_text()

    def _publish(self, command: PostmortemPublish, user: SlackUser, channel: str) -> Mrkdwn:
        """The incident's saved draft into the memory, the way `medic postmortem publish` puts
        it there (the same drafter); its thread is told who published it."""
        link = self._threads.incident_in(channel, command.incident, "postmortem publish")
        if self._library is None:
            raise InputError(messages.SLACK_PUBLISH_NO_MEMORY)
        drafter = self._drafter()
        text = drafter.saved(link.incident_id)
        if text is None:
            raise InputError(messages.SLACK_PUBLISH_NO_DRAFT.format(incident=link.incident_id))
        _documents, chunks = drafter.publish(link.incident_id, text, self._library)
        done = markup(
            messages.SLACK_PUBLISHED,
            incident=link.incident_id,
            chunks=chunks,
            user=blocks.who(user.id),
        )
        self._threads.note(link, done)
        return done

    def _watch_answer(self, command: Watch, user: SlackUser) -> Mrkdwn:
        if self._watch is None:
            return Mrkdwn(messages.WATCH_LIST_EMPTY)
        if command.verb == "add":
            return self._watch.add(user, command.service, command.namespace)
        if command.verb == "remove":
            return self._watch.remove(user, command.service, command.namespace)
        return self._watch.list()

    def _search(self, text: str) -> Mrkdwn:
        hits = self._searcher.search(text, SEARCH_LIMIT)
        if not hits:
            return markup(messages.SLACK_NO_SEARCH_RESULTS, text=echo(text))
        close = any(hit.relevant for hit in hits)
        lines = [
            markup(messages.SLACK_SEARCH_RESULTS, text=echo(text))
            if close
            else markup(messages.SLACK_SEARCH_NO_CLOSE_MATCH, text=echo(text))
        ]
        for hit in hits:
            name = link(hit.url, hit.title) if hit.url else escape(hit.title)
            # a postmortem's id is its canonical URL, already behind the title's link
            label = markup("*{}* ", hit.id) if hit.kind == "incident" else Mrkdwn("")
            nearest = not hit.relevant and close
            note = Mrkdwn(f" {messages.SLACK_SEARCH_NOT_CLOSE}" if nearest else "")
            lines.append(markup("• {}({}, {:.2f}) {}{}", label, hit.kind, hit.score, name, note))
            if hit.snippet:
                lines.append(markup("   {}", hit.snippet))
        return joined("\n", lines)

    def _status(self) -> Mrkdwn:
        open_ = self._threads.open_incidents()
        if not open_:
            return Mrkdwn(messages.SLACK_NOTHING_OPEN)
        lines = [markup(messages.SLACK_OPEN_INCIDENTS, count=len(open_))]
        for incident, pending in open_:
            lines.append(
                markup(
                    "• *{}* {} ({}, since {})",
                    incident.id,
                    incident.summary,
                    incident.service,
                    blocks.slack_time(incident.starts_at),
                )
            )
            lines += [
                markup("   - pending: {} (expires {})", p.preview, blocks.slack_time(p.expires_at))
                for p in pending
            ]
        return joined("\n", lines)
