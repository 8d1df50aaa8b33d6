"""Untrusted text: log lines, alert annotations, change causes and postmortems are written by
whoever can write a log line or an alert, not by the on-call team. They reach an LLM only
delimited and labelled as data, and text that reads like an instruction to Medic is flagged in
the thread, so nobody mistakes it for Medic's own reasoning."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Text that addresses Medic or the people reading it as an instruction: to drop its rules or
# policy, a new role, a destructive command - or a claim to have approved or acted, which no
# text can do (only a person's click runs anything, through the guard).
INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass|skip)\b.{0,30}\b(instructions?|prompts?|rules|"
    r"above|previous|prior|polic(y|ies)|guard(rails?)?|approvals?|restrictions?)\b|"
    r"\b(i|medic)\s*(have|has|had|'ve)\s+(already\s+)?(approved|executed|scaled|restarted|"
    r"rolled back|purged|silenced)\b|"
    r"\byou are now\b|\bnew instructions\b|\bsystem prompt\b|\bas an ai\b|"
    r"\bdeveloper mode\b|</?\s*data\b|^\s*(system|assistant|user)\s*:|"
    r"\b(scale|delete|drain|cordon|restart|roll ?back|purge|silence)\b[^.]{0,60}"
    r"(\bto 0\b|\bkube-system\b|--all\b|\ball namespaces\b)",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Flag:
    source: str  # where the text came from: "log template", "alert annotation", ...
    text: str

    def note(self) -> str:
        shown = self.text if len(self.text) <= 160 else self.text[:157] + "..."
        return (
            f"possible prompt injection in a {self.source}: {shown!r} reads like an instruction "
            "to Medic; it is treated as data and nothing it asks for is done"
        )


def looks_like_instruction(text: str) -> bool:
    return INSTRUCTION.search(text) is not None


def flag(items: Iterable[tuple[str, str]]) -> list[Flag]:
    """The (source, text) items that read like instructions, each once."""
    seen: set[str] = set()
    flags = []
    for source, text in items:
        if text not in seen and looks_like_instruction(text):
            seen.add(text)
            flags.append(Flag(source, text))
    return flags


# An address in text Slack or a Markdown viewer would show as a link: a scheme, "://" and what
# follows it, or "www.". The scheme is at most 32 characters (RFC 3986 sets no limit; the
# registered ones are shorter): unbounded, a long word with no "://" in it was tried from each of
# its letters to its end, quadratic - a model answering 100,000 letters held a CPU for a minute,
# a million for hours.
ADDRESS = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]{0,31}://|www\.)[^\s<>|)\]]+", re.IGNORECASE)

DATA_LIMIT = 1000  # characters of one untrusted item a model is shown


def one_line(text: str, limit: int) -> str:
    """``text`` on one line (every run of whitespace, line breaks included, becomes one space)
    of at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "\u2026"


def as_data(source: str, text: str, limit: int = DATA_LIMIT) -> str:
    """``text`` delimited and labelled as untrusted data, on one line (it cannot start a line of
    its own that reads like the prompt's) of at most ``limit`` characters; angle brackets inside
    are neutralised so the text cannot close its own delimiter."""
    safe = one_line(text, limit).replace("<", "\u2039").replace(">", "\u203a")
    return f'<data source="{source}" trust="untrusted">{safe}</data>'
