"""The Bolt app: the `/medic` command, the Approve/Reject buttons, messages in watched channels
and `@medic` mentions. Every listener acknowledges at once and does its work in a lazy listener,
so Slack's 3-second rule holds whatever an investigation costs; Slack's retries never start work
twice."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse, Respond
from slack_sdk import WebClient

from bot import messages
from bot.alerts import parse_alerts
from bot.errors import MedicError
from bot.slack.blocks import APPROVE_ACTION, REJECT_ACTION, section
from bot.slack.commands import CommandAnswers, Help, immediate_reply, parse_command
from bot.slack.decisions import NOT_A_SLACK_USER, SLACK_USER_ID, SlackUser
from bot.slack.limits import fit
from bot.slack.mentions import SLACK_TS, Mention, Mentions
from bot.slack.mrkdwn import Mrkdwn, markup, safe_url
from bot.slack.outbox import PostedMessage
from bot.slack.threads import IncidentThreads
from bot.slack.usergroups import UserGroups
from bot.slack.watched import ServiceResolver, alert_from_message, posted_at
from bot.slack.workspace import Workspace
from tools.actions import ToolStatus
from tools.errors import StateUnavailableError

log = logging.getLogger(__name__)


def ephemeral(respond: Respond | None, text: Mrkdwn) -> None:
    """An answer only the person sees, through the request's response_url (a request without
    one, which Slack never sends, gets its answer in the log only)."""
    if respond is None or respond.response_url is None:
        log.warning("no response_url to answer on: %s", text[:200])
        return
    if safe_url(respond.response_url) is None:  # data from the request, like any link
        log.warning("response_url is not an http(s) URL; answer dropped: %s", text[:200])
        return
    fitted = fit([section(text)], text)
    try:
        respond(
            text=fitted.text,
            blocks=fitted.blocks,
            response_type="ephemeral",
            replace_original=False,
        )
    except (OSError, ValueError) as exc:  # it did not answer: nothing else to tell it by
        log.warning("answer not delivered to the response_url: %s", exc)


def ephemeral_ack(ack: Ack, text: Mrkdwn) -> None:
    """Acknowledge with an answer only the sender sees, within Block Kit's limits."""
    fitted = fit([section(text)], text)
    ack(response_type="ephemeral", text=fitted.text, blocks=fitted.blocks)


def not_recorded(respond: Respond, exc: StateUnavailableError, what: str) -> None:
    """Tell the person their click could not be (fully) recorded, and why, in plain words."""
    log.warning(
        "%s %s: %s (%s)",
        what,
        "not finished" if exc.recorded else "not recorded",
        exc.reason,
        exc.__cause__,
    )
    template = messages.SLACK_NOT_FINISHED if exc.recorded else messages.SLACK_NOT_RECORDED
    ephemeral(respond, markup(template, reason=exc.reason))


def is_slack_retry(request: BoltRequest) -> bool:
    return bool(request.headers.get("x-slack-retry-num"))


def build_app(
    *,
    client: WebClient,
    signing_secret: str | None,
    threads: IncidentThreads,
    answers: CommandAnswers,
    groups: UserGroups,
    watched_channels: list[str],
    alert_pattern: str | None,
    resolve_service: ServiceResolver,
    listener_executor: Executor,
    mentions: Mentions,
    workspace: Workspace | None = None,
) -> App:
    """``workspace``: the one Slack workspace (organisation) whose requests may act; unset, any
    the app is installed in."""
    app = App(
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=signing_secret is not None,
        token_verification_enabled=False,  # start even while Slack is unreachable
        listener_executor=listener_executor,
        raise_error_for_unhandled_request=False,
    )

    @app.middleware
    def only_our_workspace(request: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        """A request signed by our app from another workspace of it acts on nothing (runs after
        Bolt's signature check, so only signed requests reach it)."""
        refusal = (workspace or Workspace()).refusal(
            request.context.team_id, request.context.enterprise_id
        )
        if refusal is not None:
            log.warning("%s", refusal)
            return BoltResponse(status=403, body="")
        return next()

    @app.middleware
    def skip_retries(request: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        """Slack retries an event it thinks we missed; the first delivery already started the
        work, so a retry is acknowledged and dropped."""
        if is_slack_retry(request):
            return BoltResponse(status=200, body="")
        return next()

    def user_of(user_id: str) -> SlackUser:
        if not SLACK_USER_ID.fullmatch(user_id):
            return SlackUser(NOT_A_SLACK_USER)
        membership = groups.of(user_id)
        return SlackUser(user_id, membership.groups, membership.unknown)

    _register_command(app, answers, user_of)
    _register_buttons(app, threads, user_of)
    pattern = re.compile(alert_pattern) if alert_pattern else None
    _register_watch(app, threads, set(watched_channels), pattern, resolve_service)
    _register_mentions(app, threads, mentions)
    return app


def _is_own(event: dict[str, Any], context: BoltContext) -> bool:
    return bool(
        (context.bot_id and event.get("bot_id") == context.bot_id)
        or (context.bot_user_id and event.get("user") == context.bot_user_id)
    )


def _first_delivery(threads: IncidentThreads, body: dict[str, Any], fallback: str) -> bool:
    """False for an event already handled (Slack redelivers without the retry header too)."""
    key = str(body.get("event_id") or fallback)
    return threads.store.first_time(f"event:{key}", threads.flow.clock.now())


def _ack(ack: Ack) -> None:
    ack()


def _register_command(
    app: App, answers: CommandAnswers, user_of: Callable[[str], SlackUser]
) -> None:
    """`/medic`: help and parse errors in the ack itself; everything else after it."""

    def ack_command(ack: Ack, command: dict[str, Any]) -> None:
        reply = immediate_reply(parse_command(str(command.get("text", ""))))
        if reply:
            ephemeral_ack(ack, reply)
        else:
            ack()

    def answer_command(command: dict[str, Any], respond: Respond) -> None:
        parsed = parse_command(str(command.get("text", "")))
        if isinstance(parsed, Help):
            return
        try:
            user, channel = str(command.get("user_id", "")), str(command.get("channel_id", ""))
            text = answers.answer(parsed, user_of(user), channel)
        except StateUnavailableError as exc:
            not_recorded(respond, exc, f"/medic {command.get('text', '')[:80]!r}")
            return
        if text:
            ephemeral(respond, text)

    app.command("/medic")(ack=ack_command, lazy=[answer_command])


def clicked_in(body: dict[str, Any]) -> PostedMessage | None:
    """The message whose button was clicked, as Slack says (its channel and ts); None when the
    click names none (then it cannot be a button on a message Medic posted)."""
    channel = (body.get("channel") or {}).get("id")
    ts = (body.get("container") or {}).get("message_ts") or (body.get("message") or {}).get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str):
        return None
    return PostedMessage(channel, ts)


def _register_buttons(
    app: App, threads: IncidentThreads, user_of: Callable[[str], SlackUser]
) -> None:
    """Approve and Reject: the message updates in place for everyone; a refusal is told only to
    the person who clicked."""

    def decide(body: dict[str, Any], respond: Respond, approve: bool) -> None:
        value = str(body["actions"][0].get("value", ""))
        proposal_id, _, digest = value.partition(":")
        user = user_of(str((body.get("user") or {}).get("id", "")))
        try:
            outcome = threads.decide(approve, proposal_id, user, digest, clicked_in(body))
        except StateUnavailableError as exc:
            verb = "approval" if approve else "rejection"
            not_recorded(respond, exc, f"{verb} of {proposal_id[:32]!r} by {user.id}")
            return
        if outcome is None:
            ephemeral(respond, markup(messages.SLACK_PROPOSAL_GONE))
        elif outcome.result.status is ToolStatus.REFUSED:
            ephemeral(respond, markup(messages.SLACK_REFUSED, reason=outcome.result.summary))

    def approve(body: dict[str, Any], respond: Respond) -> None:
        decide(body, respond, approve=True)

    def reject(body: dict[str, Any], respond: Respond) -> None:
        decide(body, respond, approve=False)

    app.action(APPROVE_ACTION)(ack=_ack, lazy=[approve])
    app.action(REJECT_ACTION)(ack=_ack, lazy=[reject])


def _register_watch(
    app: App,
    threads: IncidentThreads,
    watched: set[str],
    pattern: re.Pattern[str] | None,
    resolve_service: ServiceResolver,
) -> None:
    """Alert messages in watched channels get an investigation in their own thread."""

    def on_message(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        channel = str(event.get("channel", ""))
        ts = str(event.get("ts", ""))
        if channel not in watched or event.get("subtype") not in (None, "bot_message"):
            return
        if not SLACK_TS.fullmatch(ts):
            return  # not a message Slack posted: nothing to reply to
        if event.get("thread_ts") not in (None, ts):
            return  # a reply in a thread, not an alert
        if _is_own(event, context) or not _first_delivery(threads, body, f"{channel}:{ts}"):
            return
        alert = alert_from_message(event, pattern, resolve_service)
        if alert is None:
            return
        try:
            threads.receive(
                parse_alerts(alert.payload(posted_at(ts, threads.flow.clock.now()))),
                source="slack",
                channel=channel,
                thread_key=f"slack:{channel}:{alert.title}",
                root_ts=ts,
            )
        except MedicError as exc:
            log.warning("alert message in %s not handled: %s", channel, exc)

    app.event("message")(ack=_ack, lazy=[on_message])


def _register_mentions(app: App, threads: IncidentThreads, mentions: Mentions) -> None:
    """`@medic ...`: answered in its thread after the ack, once per event, never for Medic's own
    messages."""

    def on_mention(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        mention = Mention.of(event)
        if not mention.addressable():
            log.warning("app_mention without a valid channel and ts; not answered")
            return
        if _is_own(event, context) or not _first_delivery(
            threads, body, f"mention:{mention.channel}:{mention.ts}"
        ):
            return
        mentions.reply(mention)

    app.event("app_mention")(ack=_ack, lazy=[on_mention])
