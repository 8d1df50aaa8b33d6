"""What the remote log sources (Loki, Elasticsearch/OpenSearch) share: one bounded HTTP request
(at most so many bytes, never past the caller's time left, a server that is down or answers an
error as one ``LogSourceError`` line), the window cut into slices, and a bounded line."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import httpx

from knowledge.errors import LogSourceError
from knowledge.logs import LogLine, TimeLeft

MAX_MESSAGE_CHARS = 4096  # one log line as Medic keeps it: longer ones are cut
MAX_LABEL_CHARS = 253  # a pod or service name longer than Kubernetes allows is cut


def request_json(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    what: str,
    max_bytes: int,
    time_left: TimeLeft | None,
    params: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
) -> Any:
    """The JSON answer to one request, read within the time left and at most ``max_bytes`` of
    it. Anything else - unreachable, an error status, a body too large, too slow or not JSON -
    is a ``LogSourceError`` saying which, with the server's own error cut to one short line."""
    timeout = client.timeout
    if time_left is not None:
        left = time_left()
        if left <= 0:
            raise LogSourceError(f"no time left to read {what}")
        timeout = httpx.Timeout(left if timeout.read is None else min(left, timeout.read))
    content = bytearray()
    try:
        with client.stream(method, path, params=params, json=body, timeout=timeout) as response:
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > max_bytes:
                    raise LogSourceError(
                        f"{what}: the answer is over {max_bytes:,} bytes "
                        "(logs.max_response_bytes); lower logs.page_lines or raise the bound"
                    )
                if time_left is not None and time_left() <= 0:
                    raise LogSourceError(f"no time left to read {what}")
    except httpx.HTTPError as exc:
        raise LogSourceError(
            f"{what}: {client.base_url} is unreachable ({type(exc).__name__}: {one_line(str(exc))})"
            "; check logs.url"
        ) from exc
    if response.status_code >= 400:
        raise LogSourceError(
            f"{what}: {response.status_code} {one_line(_error_text(bytes(content)))}"
        )
    try:
        return json.loads(content)
    except (ValueError, RecursionError) as exc:  # nested past the parser's depth: not an answer
        raise LogSourceError(f"{what}: the answer is not JSON") from exc


def _error_text(content: bytes) -> str:
    """The reason in an error body: Elasticsearch's ``error.reason`` (root cause first), Loki's
    plain-text message, or whatever the body says."""
    text = content.decode("utf-8", "replace")
    try:
        body = json.loads(text)
    except ValueError:
        return text
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            causes = error.get("root_cause")
            first = causes[0] if isinstance(causes, list) and causes else error
            if isinstance(first, dict):
                return f"{first.get('type', '')}: {first.get('reason', '')}".strip(": ")
        if isinstance(error, str):
            return error
        if isinstance(body.get("message"), str):
            return str(body["message"])
    return text


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line and at most ``limit`` characters: a note in the thread, not a dump."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def slices(start: float, end: float, count: int) -> list[tuple[float, float]]:
    """``[start, end)`` cut into ``count`` equal consecutive slices (fewer for a window shorter
    than ``count`` seconds)."""
    count = max(1, min(count, int(end - start) or 1))
    step = (end - start) / count
    edges = [start + k * step for k in range(count)] + [end]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def read_sliced(
    start: float,
    end: float,
    count: int,
    max_lines: int,
    read: Callable[[float, float, int], list[LogLine]],
    *,
    pool: Executor | None = None,
) -> list[LogLine]:
    """The lines of ``[start, end)`` read slice by slice (``read(a, b, share)``), each slice
    with an equal share of ``max_lines``: a loud minute cannot crowd out the rest of the window,
    which a single capped query, oldest or newest first, would. With a ``pool`` the slices are
    read at once (as many as its workers), in order all the same; the first that fails is the
    error, and the slices not yet started are not read."""
    parts = slices(start, end, count)
    share = max(1, max_lines // len(parts))
    if pool is None or len(parts) == 1:
        chunks = [read(a, b, share) for a, b in parts]
    else:
        futures = [pool.submit(read, a, b, share) for a, b in parts]
        try:
            chunks = [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()
    return [line for chunk in chunks for line in chunk if start <= line.timestamp < end]


def slice_pool(concurrent_reads: int, name: str) -> ThreadPoolExecutor | None:
    """The workers a remote source reads its slices on: ``concurrent_reads`` of them, shared by
    every fetch of the source, so reads of several services at once (the origin ranking) still
    keep at most that many requests in flight; None reads them one after another."""
    if concurrent_reads <= 1:
        return None
    return ThreadPoolExecutor(max_workers=concurrent_reads, thread_name_prefix=name)


class RequestCount:
    """How many requests a source's last fetch took (the benchmark reads it), counted from the
    slices' workers at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def reset(self) -> None:
        with self._lock:
            self.value = 0

    def add(self) -> None:
        with self._lock:
            self.value += 1


def bounded(text: Any, limit: int) -> str:
    """A value from a log store as text of at most ``limit`` characters."""
    value = text if isinstance(text, str) else "" if text is None else str(text)
    return value[:limit]
