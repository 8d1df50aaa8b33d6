"""Delivers the outbox to Slack: one worker thread, in order per thread, retrying while Slack is
down or rate-limiting (honouring Retry-After), and falling back to plain text when Slack refuses
a message's blocks.

A post that timed out (or met a 5xx) may have reached Slack all the same. Every post carries its
outbox item in the message's metadata, and before a post is sent again Medic looks for it in the
channel or thread: a message Slack did take is recorded, not posted twice. Updates replace the
whole message, so sending one again is harmless; before an upload is sent again Medic looks in
the thread for a file of its name, title and size shared since it was queued.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import messages
from bot.slack.metrics import BotMetrics
from bot.slack.outbox import ROOT, Outbox, OutboxItem
from bot.slack.worker import Worker

log = logging.getLogger(__name__)

MARK = "medic_outbox_item"  # the metadata event type of every message Medic posts
LOOKUP_PAGES = 5  # pages of 200 messages searched for an earlier attempt's post
SKEW = 300.0  # seconds Slack's clock may be behind Medic's when looking for that post
CANNOT_LOOK = {"missing_scope", "not_in_channel", "channel_not_found", "not_allowed_token_type"}
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                    "request_timeout"}  # fmt: skip
BLOCK_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long"}
MAX_BACKOFF = 300.0
DEFAULT_RETRY_AFTER = 30.0
POSTING_WAIT = 1.0  # seconds a reply or update waits for its message's post, again and again

# Called after a message was posted: (item, ts).
OnPosted = Callable[[OutboxItem, str], None]


class RetryLaterError(Exception):
    def __init__(self, after: float, reason: str) -> None:
        super().__init__(reason)
        self.after = after


class SlackDelivery(Worker):
    name = "slack-delivery"

    def __init__(
        self,
        outbox: Outbox,
        client: WebClient,
        metrics: BotMetrics,
        on_posted: OnPosted | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self._outbox = outbox
        self._client = client
        self._metrics = metrics
        self._on_posted = on_posted
        self._clock = clock

    # --- running ---------------------------------------------------------------------------------
    def work(self) -> bool:
        return self.deliver_due() > 0

    def settled(self) -> bool:
        """Nothing is due (tests and benchmarks)."""
        return not self._outbox.due(self._clock(), limit=1)

    def pause(self) -> float:
        """Until the next retry is due, at most 5 s (a replica's new items wake it sooner)."""
        next_at = self._outbox.next_due()
        return 5.0 if next_at is None else min(5.0, max(0.05, next_at - self._clock()))

    def deliver_due(self) -> int:
        """Deliver every item whose time has come; returns how many were attempted."""
        items = self._outbox.due(self._clock())
        for item in items:
            claimed = self._outbox.claim(item.id)
            if claimed is not None:
                self._deliver(claimed)
        counts = self._outbox.counts()
        self._metrics.outbox_pending.set(counts.get("pending", 0))
        return len(items)

    # --- one item --------------------------------------------------------------------------------
    def _deliver(self, item: OutboxItem) -> None:
        try:
            ts = self._call(item)
        except RetryLaterError as exc:
            wait = exc.after if exc.after > 0 else self._backoff(item.attempts)
            log.warning(
                "slack %s for %s: %s; retrying in %.0f s", item.op, item.thread_key, exc, wait
            )
            self._metrics.slack_calls.labels(item.op, "retry").inc()
            self._outbox.retry_at(item.id, self._clock() + wait, str(exc))
            return
        except RefusedError as exc:
            if exc.blocks_refused and "blocks" in item.payload:
                log.error("slack refused the blocks of %s (%s); sending text", item.thread_key, exc)
                self._metrics.slack_calls.labels(item.op, "blocks_refused").inc()
                payload = {"text": item.payload.get("text", "") + messages.SLACK_BLOCKS_REFUSED}
                self._outbox.retry_at(item.id, self._clock(), str(exc), payload)
                return
            log.error("slack %s for %s failed for good: %s", item.op, item.thread_key, exc)
            self._metrics.slack_calls.labels(item.op, "dead").inc()
            self._outbox.dead(item.id, str(exc))
            return
        self._metrics.slack_calls.labels(item.op, "ok").inc()
        if ts and item.ref and item.op == "post":
            self._outbox.remember_message(item.thread_key, item.ref, item.channel, ts)
        self._outbox.sent(item.id)
        if ts and self._on_posted is not None:
            self._on_posted(item, ts)

    def _backoff(self, attempts: int) -> float:
        return min(MAX_BACKOFF, 2.0 ** max(0, attempts - 1)) * random.uniform(0.5, 1.0)

    def _call(self, item: OutboxItem) -> str:
        thread_ts = None
        if item.in_thread and item.op != "update":
            root = self._outbox.message(item.thread_key, ROOT)
            if root is None:
                raise self._not_posted(item, ROOT, "the thread's root message was never posted")
            thread_ts = root.ts
        try:
            if item.op == "post":
                return self._post(item, thread_ts)
            if item.op == "update":
                target = self._outbox.message(item.thread_key, item.ref)
                if target is None:
                    raise self._not_posted(
                        item, item.ref, f"no posted message {item.ref} to update"
                    )
                self._client.chat_update(
                    channel=target.channel, ts=target.ts, **self._message(item.payload)
                )
                return target.ts
            if item.attempts > 1 and self._earlier(item, thread_ts, _is_upload_of(item)):
                return ""  # an earlier attempt's upload reached the thread: not twice
            self._client.files_upload_v2(
                channel=item.channel,
                thread_ts=thread_ts,
                content=item.file_content(),
                filename=item.payload["filename"],
                title=item.payload["title"],
                initial_comment=item.payload["initial_comment"],
            )
            return ""
        except SlackApiError as exc:
            raise _classify(exc) from exc
        except (SlackClientError, OSError) as exc:  # connection refused, timeouts, upload failures
            raise RetryLaterError(0, f"{type(exc).__name__}: {exc}") from exc

    def _not_posted(self, item: OutboxItem, ref: str, reason: str) -> Exception:
        """The message ``item`` replies to or updates is not in Slack: while its post is on its
        way (another replica may be sending it right now, out of the thread's order) the item
        waits for it; a post that will never come makes it fail for good."""
        if self._outbox.posting(item.thread_key, ref):
            return RetryLaterError(POSTING_WAIT, f"message {ref} is still being posted")
        return RefusedError(reason)

    def _post(self, item: OutboxItem, thread_ts: str | None) -> str:
        if item.attempts > 1:  # an earlier attempt's answer may have been lost
            earlier = self._posted_before(item, thread_ts)
            if earlier:
                return earlier
        response = self._client.chat_postMessage(
            channel=item.channel,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            metadata={"event_type": MARK, "event_payload": {"item": _mark(item)}},
            **self._message(item.payload),
        )
        return str(response.get("ts", ""))

    def _posted_before(self, item: OutboxItem, thread_ts: str | None) -> str | None:
        """The ts of the message an earlier attempt posted for ``item``, if Slack has it. Without
        the permission to read the channel, None: the post is sent again (at least once)."""

        def posted(message: dict[str, Any]) -> bool:
            meta = message.get("metadata") or {}
            return meta.get("event_type") == MARK and (
                (meta.get("event_payload") or {}).get("item") == _mark(item)
            )

        return self._earlier(item, thread_ts, posted)

    def _earlier(
        self, item: OutboxItem, thread_ts: str | None, match: Callable[[dict[str, Any]], bool]
    ) -> str | None:
        """The ts of a message of the channel or thread, since ``item`` was queued, that
        ``match``es; None when there is none or Slack does not let Medic look."""
        look: dict[str, Any] = {"channel": item.channel, "oldest": f"{item.created_at - SKEW:.6f}",
                                "limit": 200, "include_all_metadata": True}  # fmt: skip
        cursor = None
        try:
            for _ in range(LOOKUP_PAGES):
                page = (
                    self._client.conversations_replies(ts=thread_ts, cursor=cursor, **look)
                    if thread_ts
                    else self._client.conversations_history(cursor=cursor, **look)
                )
                for message in page.get("messages") or []:
                    if match(message):
                        return str(message.get("ts", ""))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return None
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            if data.get("error") in CANNOT_LOOK:
                log.warning("cannot look for an earlier post of %s: %s", item.thread_key, exc)
                return None
            raise
        return None

    @staticmethod
    def _message(payload: dict[str, Any]) -> dict[str, Any]:
        return {k: payload[k] for k in ("text", "blocks") if k in payload}


class RefusedError(Exception):
    def __init__(self, reason: str, blocks_refused: bool = False) -> None:
        super().__init__(reason)
        self.blocks_refused = blocks_refused


def _is_upload_of(item: OutboxItem) -> Callable[[dict[str, Any]], bool]:
    """Whether a message shares ``item``'s file: a file of its name, title and size (uploads
    carry no metadata to name their outbox item; a file of the thread that is all three, shared
    since the item was queued, is taken for it)."""
    size = len(item.file_content())
    name, title = item.payload["filename"], item.payload["title"]

    def shares(message: dict[str, Any]) -> bool:
        return any(
            f.get("name") == name and f.get("title") == title and f.get("size") == size
            for f in message.get("files") or []
            if isinstance(f, dict)
        )

    return shares


def _mark(item: OutboxItem) -> str:
    """Names one outbox item for ever (the id alone is reused by a new data directory)."""
    return f"{item.id}@{item.created_at:.6f}"


def _classify(exc: SlackApiError) -> Exception:
    response = exc.response
    status = response.status_code
    data = response.data if isinstance(response.data, dict) else {}
    error = str(data.get("error", "")) or f"HTTP {status}"
    if status == 429 or error == "ratelimited":
        header = response.headers.get("Retry-After") or response.headers.get("retry-after")
        try:
            after = float(header) if header is not None else DEFAULT_RETRY_AFTER
        except ValueError:
            after = DEFAULT_RETRY_AFTER
        return RetryLaterError(after, f"rate limited ({error})")
    if status >= 500 or error in TRANSIENT_ERRORS:
        return RetryLaterError(0, f"Slack unavailable ({error})")
    return RefusedError(error, blocks_refused=error in BLOCK_ERRORS)
