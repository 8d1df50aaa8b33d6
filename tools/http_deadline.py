"""One HTTP request whose whole answer must arrive within a deadline.

httpx's timeouts are per operation: a server that sends its answer one byte at a time never trips
the read timeout, and the request never ends (slowloris in reverse). Reading the answer as it
streams in, and looking at the clock after every chunk, bounds the whole exchange (and the
memory it takes) whatever the server does.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

MAX_ANSWER_BYTES = 16 * 1024 * 1024  # an answer larger than this is cut off, not held


class TooSlowError(Exception):
    """The answer was still coming in when the deadline passed."""


class TooLargeError(Exception):
    """The answer was over ``max_bytes``."""


def request_within(
    client: httpx.Client,
    method: str,
    url: str,
    seconds: float,
    *,
    max_bytes: int = MAX_ANSWER_BYTES,
    **kwargs: Any,
) -> tuple[httpx.Response, bytes]:
    """The response (headers, status) and its whole body, read within ``seconds`` (each
    operation's own timeout at most that too); :class:`TooSlowError` past it, and
    :class:`TooLargeError` past ``max_bytes``. httpx's own errors propagate."""
    deadline = time.monotonic() + seconds
    content = bytearray()
    with client.stream(method, url, timeout=seconds, **kwargs) as response:
        for chunk in response.iter_bytes():
            content += chunk
            if time.monotonic() > deadline:
                raise TooSlowError(f"the answer was still coming in after {seconds:g} s")
            if len(content) > max_bytes:
                raise TooLargeError(f"the answer is over {max_bytes:,} bytes")
    return response, bytes(content)
