"""What `medic investigate` and `medic demo` draw on the terminal is shown, never obeyed: an alert
summary, a label, a log template or a model's text holding escape sequences, a carriage return or
a bidirectional override cannot clear the screen, retitle the window, recolour what follows or
reorder what a person reads (was: written raw - rich passes ESC through)."""

from __future__ import annotations

import io

import pytest
from rich.text import Text

from bot.alerts import parse_alerts
from bot.cli.output import console
from bot.cli.render import ThreadPrinter
from bot.cli.terminal import TerminalConsole
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident

HOSTILE = "p95 up \x1b[2J\x1b]0;owned\x1b\\ \u202eevil\u2066 \x9b31m"


def _alert_as_drawn(capsys: pytest.CaptureFixture[str]) -> str:
    group = parse_alerts(
        {
            "status": "firing",
            "labels": {"alertname": "Slow", "service": "recommender", "team": "x\x1b[31mred"},
            "annotations": {"summary": HOSTILE},
            "startsAt": "2026-12-07T10:00:00Z",
        }
    )
    alert = group.alerts[0]
    incident = Incident(
        "INC-0001", "f", "g", alert.name, "recommender", "shop", "open", 1.8e9, 1.8e9, None,
        dict(alert.labels), dict(alert.annotations),
    )  # fmt: skip
    ThreadPrinter(console(as_json=False, width=120), Glossary()).alert(group, incident, new=True)
    return capsys.readouterr().out


def test_an_alerts_escape_sequences_are_shown_not_obeyed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    drawn = _alert_as_drawn(capsys)
    assert not any(ch in drawn for ch in "\x1b\x9b\u202e\u2066")
    assert "p95 up \\x1b[2J\\x1b]0;owned\\x1b\\ \\u202eevil\\u2066 \\x9b31m" in drawn
    assert "team=x\\x1b[31mred" in drawn


def test_the_terminal_keeps_medics_own_colours_and_line_breaks() -> None:
    out = io.StringIO()  # a person at a colour terminal
    terminal = TerminalConsole(file=out, force_terminal=True, color_system="standard", width=60)
    terminal.no_color = False
    terminal.print(Text("FIRING", style="bold red"), Text("two\nlines \x1b[2J"))
    assert out.getvalue() == "\x1b[1;31mFIRING\x1b[0m two\nlines \\x1b[2J\n"
