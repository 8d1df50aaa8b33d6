"""The terminal Medic draws a person's output on: text from alerts, labels, log lines, the
model registry or a chat model is shown as the characters it is, never obeyed by the terminal."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.segment import Segment

from bot.cli.errors import terminal_safe


class TerminalConsole(Console):
    """A rich console that writes every character a terminal acts on - escape sequences,
    carriage returns, bell, bidirectional overrides, lone surrogates - as its escape
    (``\\x1b``, ``\\u202e``), in every text it draws, whichever renderable holds it. Rich
    itself strips only a few controls from a ``Text`` and passes ESC through, so an alert
    summary holding ``\\x1b[2J`` cleared the screen of whoever ran `medic investigate`.

    The escaping is done here, on the segments of text after layout and before rich adds its
    own styling codes, so no call site can forget it; a line holding an escape is drawn a few
    columns wider than its frame."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(terminal_safe(segment.text), segment.style)
            for segment in buffer
        )
