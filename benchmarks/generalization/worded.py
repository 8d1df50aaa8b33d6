"""A loghub system whose variables look like words: a second view of the dev systems.

Logs unlike the dev systems often spell a variable like a word (a user name, a host, a
program), which no mask catches and which Medic's miner before issue 13 always took for an event
word. The dev systems rarely have such variables, so they cannot tell a miner that relies on
"a plain word is never a variable" from one that does not. This view makes them: each line's
variables are located with its ground-truth template, and in half of the templates' variable
slots (a fixed hash of event id and slot, the same for every miner) every run of three or more
letters and digits that holds a digit becomes a pronounceable word derived from its value
("blk_-6330812" becomes "blk_-ravomi"); a number of one or two digits stays (a slot, a server
id, a day of the month is spelled in digits in any log). The same value always becomes the same
word, so how often values repeat is kept; the ground truth is unchanged, because only what its
``<*>`` covers changes.

It exaggerates (every id, pid and counter of a slot becomes a word, and a timestamp inside a
variable loses its shape), which is why it is a second view beside the unchanged systems, never a
replacement for them. A third view, *phrased*, spells each rewritten value that holds a digit as
one to three words instead: a variable of varying length, as free text has, which Drain (one
cluster per token count) cannot see vary. It was added after the choices, as a check. A
fourth, *headers*, is a check too (issue 13: "a different header layout, key=value payloads"):
each line gets a logfmt-style header (an ISO timestamp, a level, a host from a closed set of
five) and each variable is written as ``key=value``, its key a word fixed by event and slot, a
value with spaces in quotes. A fifth, *shapes*, is a check as well (issue 13: "paths and ids of
unusual shapes"): in half of the variable slots a value holding a digit is re-spelt as a path, a
UUID, bare hex, base64 or ``host:port``, one shape per slot. Two more checks came with the
third pass on headers, where headers became a choosing view: *syslog* (an RFC 5424 header before
the worded message) and *JSON lines* (``msg`` the template's constant text, each variable a field).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import re
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path

_DIGIT_RUN = re.compile(r"(?=[A-Za-z0-9]{3})[A-Za-z0-9]*\d[A-Za-z0-9]*")
_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def word_for(value: str) -> str:
    """A pronounceable lower-case word of 2-4 syllables, a fixed function of ``value``."""
    h = _digest(value)
    syllables = 2 + h % 3
    h //= 3
    out = []
    for _ in range(syllables):
        out.append(_CONSONANTS[h % len(_CONSONANTS)])
        h //= len(_CONSONANTS)
        out.append(_VOWELS[h % len(_VOWELS)])
        h //= len(_VOWELS)
    return "".join(out)


def _rewritten(slot: str) -> bool:
    return _digest(slot) % 2 == 1


def phrase_for(value: str) -> str:
    """One to three pronounceable words, a fixed function of ``value``."""
    return " ".join(word_for(f"{value}/{k}") for k in range(1 + _digest(value) % 3))


def as_words(value: str) -> str:
    """Every run of 3+ letters and digits holding a digit made a word."""
    return _DIGIT_RUN.sub(lambda run: word_for(run.group()), value)


def as_phrase(value: str) -> str:
    """A value holding a digit made a phrase of one to three words."""
    return phrase_for(value) if any(c.isdigit() for c in value) else value


def worded_line(
    content: str, event: str, template: str, rewrite: Callable[[str], str] = as_words
) -> str:
    """``content`` with half its variable slots rewritten: by default the digit-bearing runs
    made words."""
    parts = template.split("<*>")
    pattern = "^" + "(.*?)".join(re.escape(p) for p in parts) + "$"
    match = re.match(pattern, content, re.DOTALL)
    if match is None:
        return content
    out = [parts[0]]
    for i, value in enumerate(match.groups()):
        if _rewritten(f"{event}/{i}"):
            out.append(rewrite(value))
        else:
            out.append(value)
        out.append(parts[i + 1])
    return "".join(out)


def headered_line(content: str, event: str, template: str, number: int) -> str:
    """``content`` as a logfmt-style line: a header (timestamp, level, one of five hosts, all
    fixed functions of the line's ``number``), then the message with every variable written as
    ``key=value`` (the key a word fixed by event and slot; a value with a space in quotes)."""
    parts = template.split("<*>")
    pattern = "^" + "(.*?)".join(re.escape(p) for p in parts) + "$"
    match = re.match(pattern, content, re.DOTALL)
    body = content
    if match is not None:
        out = [parts[0]]
        for i, value in enumerate(match.groups()):
            shown = f'"{value}"' if " " in value else value
            out += [f"{word_for(f'{event}/{i}/key')}={shown}", parts[i + 1]]
        body = "".join(out)
    seed = zlib.crc32(f"{number}".encode())
    stamp = f"2026-12-07T{number // 3600 % 24:02d}:{number // 60 % 60:02d}:{number % 60:02d}"
    host = word_for(f"host/{seed % 5}")
    return f"ts={stamp}.{seed % 1000:03d}Z level=info host={host} {body}"


def _pattern_values(content: str, template: str) -> tuple[list[str], list[str]] | None:
    """The template's constant parts and the line's values in its ``<*>``; None when the line
    does not fit its template."""
    parts = template.split("<*>")
    pattern = "^" + "(.*?)".join(re.escape(p) for p in parts) + "$"
    match = re.match(pattern, content, re.DOTALL)
    return None if match is None else (parts, list(match.groups()))


def _stamp(number: int) -> tuple[int, str]:
    """A seed and an ISO timestamp, fixed functions of a line's ``number``."""
    seed = zlib.crc32(f"{number}".encode())
    clock = f"{number // 3600 % 24:02d}:{number // 60 % 60:02d}:{number % 60:02d}"
    return seed, f"2026-12-07T{clock}.{seed % 1000:03d}Z"


def syslog_line(content: str, event: str, template: str, number: int, app: str) -> str:
    """``content`` as an RFC 5424 syslog line: ``<134>1 <time> <host> <app> <pid> - -`` (a host
    among five and a pid among four, fixed functions of the line's ``number``), then the
    message with half its variable slots worded (``worded_line``)."""
    seed, stamp = _stamp(number)
    host = word_for(f"syslog-host/{seed % 5}")
    pid = 1000 + _digest(f"pid/{seed % 4}") % 30000
    return f"<134>1 {stamp} {host} {app} {pid} - - {worded_line(content, event, template)}"


_JSON_INT = re.compile(r"-?(?:0|[1-9]\d{0,15})")


def json_line(content: str, event: str, template: str, number: int) -> str:
    """``content`` as a JSON line of structured logging: ``ts``, ``level`` (``warn`` for one
    event in five, else ``info``), ``msg`` the template's constant text, then each variable a
    field (its key a word fixed by event and slot; a number a JSON number, anything else a
    string). A line that does not fit its template is its own ``msg``."""
    _, stamp = _stamp(number)
    level = "warn" if _digest(f"{event}/level") % 5 == 0 else "info"
    record: dict[str, object] = {"ts": stamp, "level": level}
    fitted = _pattern_values(content, template)
    if fitted is None:
        record["msg"] = content
    else:
        parts, values = fitted
        record["msg"] = " ".join(" ".join(parts).split())
        for i, value in enumerate(values):
            key = word_for(f"{event}/{i}/key")
            record[key] = int(value) if _JSON_INT.fullmatch(value) else value
    return json.dumps(record)


SHAPES = ("path", "uuid", "hex", "base64", "host:port")


def shaped_value(value: str, slot: str) -> str:
    """``value`` re-spelt in the shape fixed for ``slot`` (one of ``SHAPES``), derived from
    the value: the same value, the same spelling. A value without a digit stays."""
    if not any(c.isdigit() for c in value):
        return value
    shape = SHAPES[_digest(f"{slot}/shape") % len(SHAPES)]
    h = _digest(value)
    if shape == "path":
        return "/var/lib/" + "/".join(word_for(f"{value}/{k}") for k in range(3))
    if shape == "uuid":
        return str(uuid.UUID(bytes=hashlib.blake2b(value.encode(), digest_size=16).digest()))
    if shape == "hex":
        return hashlib.blake2b(value.encode(), digest_size=6).hexdigest()
    if shape == "base64":
        raw = hashlib.blake2b(value.encode(), digest_size=4 + h % 8).digest()
        return base64.b64encode(raw).decode()
    return f"{word_for(value)}-{h % 100}.{word_for(f'{value}/zone')}.internal:{1024 + h % 60000}"


def shaped_line(content: str, event: str, template: str) -> str:
    """``content`` with half its variable slots (a fixed hash of event and slot) re-spelt as
    paths, UUIDs, bare hex, base64 or ``host:port`` (``shaped_value``)."""
    parts = template.split("<*>")
    pattern = "^" + "(.*?)".join(re.escape(p) for p in parts) + "$"
    match = re.match(pattern, content, re.DOTALL)
    if match is None:
        return content
    out = [parts[0]]
    for i, value in enumerate(match.groups()):
        slot = f"{event}/{i}"
        out += [shaped_value(value, slot) if _rewritten(f"{slot}/shapes") else value, parts[i + 1]]
    return "".join(out)


def _read_view(
    path: Path, line: Callable[[str, str, str, int], str]
) -> tuple[list[str], list[str]]:
    """(contents, event ids) of one structured CSV, each content rewritten by ``line(content,
    event, template, row number)``: the one reader behind every rewritten view."""
    contents, events = [], []
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        for number, row in enumerate(csv.DictReader(fh)):
            if row.get("EventId") and row.get("Content") is not None:
                template = row.get("EventTemplate") or ""
                contents.append(line(row["Content"], row["EventId"], template, number))
                events.append(row["EventId"])
    return contents, events


def read_shaped(path: Path) -> tuple[list[str], list[str]]:
    """(contents, event ids) of one structured CSV in the shapes view."""
    return _read_view(
        path, lambda content, event, template, _n: shaped_line(content, event, template)
    )


def read_syslog(path: Path) -> tuple[list[str], list[str]]:
    """(contents, event ids) of one structured CSV in the syslog view (the app is the
    system's name, lower case)."""
    app = path.name.split("_")[0].lower()
    return _read_view(
        path, lambda content, event, template, n: syslog_line(content, event, template, n, app)
    )


def read_json(path: Path) -> tuple[list[str], list[str]]:
    """(contents, event ids) of one structured CSV in the JSON-lines view."""
    return _read_view(path, json_line)


def read_headered(path: Path) -> tuple[list[str], list[str]]:
    """(contents, event ids) of one structured CSV in the headers view."""
    return _read_view(path, headered_line)


def read_worded(path: Path, phrases: bool = False) -> tuple[list[str], list[str]]:
    """(contents, event ids) of one structured CSV, its variables worded, or with ``phrases``
    spelled as a phrase of one to three words (a variable of varying length, as free text
    has)."""
    rewrite = as_phrase if phrases else as_words
    contents, events = [], []
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("EventId") and row.get("Content") is not None:
                template = row.get("EventTemplate") or ""
                contents.append(worded_line(row["Content"], row["EventId"], template, rewrite))
                events.append(row["EventId"])
    return contents, events
