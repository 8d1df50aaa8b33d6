"""`medic postmortem draft|publish`: an incident's postmortem from the terminal - the draft built
from its record and saved with it, and the finished text put into the memory for search."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot import messages
from bot.cli.errors import CommandGroup, reports_errors
from bot.cli.output import say
from bot.errors import InputError

if TYPE_CHECKING:
    from bot.wiring import Wiring

postmortem_app = typer.Typer(
    help="Postmortems: a draft from the incident's record; publish the finished one.",
    no_args_is_help=True,
    cls=CommandGroup,
)
IncidentArg = Annotated[str, typer.Argument(help="The incident, e.g. INC-0001.")]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print a JSON summary as the last line of output.")
]


def _wiring() -> Wiring:
    from bot.config import load_settings
    from bot.wiring import Wiring

    return Wiring(load_settings())


@postmortem_app.command("draft")
@reports_errors
def draft(
    incident: IncidentArg,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the Markdown here (default: stdout).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Draft the incident's postmortem in Markdown from its record (alert, diagnosis, proposals,
    decisions, actions, verification) and save it with the incident."""
    from tools.clock import SystemClock

    drafted = _wiring().postmortem_drafter(SystemClock()).draft(incident)
    if out is not None:
        try:
            out.write_text(drafted.markdown, encoding="utf-8")
        except OSError as exc:
            problem = messages.POSTMORTEM_UNREADABLE.format(file=out, why=exc.strerror)
            raise InputError(problem) from exc
    elif not as_json:
        typer.echo(drafted.markdown, nl=False)
    if drafted.note:
        typer.echo(f"note: {drafted.note}", err=True)
    if as_json:
        summary = {
            "incident_id": drafted.incident.id,
            "wording": drafted.wording,
            "note": drafted.note or None,
            "file": str(out) if out else None,
            "markdown": None if out else drafted.markdown,
            "seconds": round(drafted.seconds, 3),
        }
        typer.echo(json.dumps(summary))


@postmortem_app.command("publish")
@reports_errors
def publish(
    incident: IncidentArg,
    file: Annotated[
        Path | None,
        typer.Argument(help="The finished postmortem (Markdown); default: the saved draft."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Put the finished postmortem into the memory, where `medic search` and the next similar
    incident find it; publishing again replaces it."""
    from bot.postmortems.drafting import MAX_POSTMORTEM_BYTES
    from knowledge.postmortems import PostmortemLibrary
    from tools.clock import SystemClock

    wiring = _wiring()
    drafter = wiring.postmortem_drafter(SystemClock())
    if file is None:
        text = drafter.saved(incident)
        if text is None:
            raise InputError(messages.POSTMORTEM_NO_DRAFT.format(incident=incident[:40]))
    else:
        text = _read(file, MAX_POSTMORTEM_BYTES)
    documents, chunks = drafter.publish(
        incident, text, lambda: PostmortemLibrary(wiring.vector_store, wiring.embedder)
    )
    name = drafter.incident(incident).id
    say(messages.POSTMORTEM_PUBLISHED.format(incident=name, chunks=chunks), as_json=as_json)
    if as_json:
        typer.echo(json.dumps({"incident_id": name, "postmortems": documents, "chunks": chunks}))


def _read(file: Path, max_bytes: int) -> str:
    try:
        with file.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        problem = messages.POSTMORTEM_UNREADABLE.format(file=file, why=exc.strerror)
        raise InputError(problem) from exc
    if len(data) > max_bytes:
        raise InputError(messages.POSTMORTEM_FILE_TOO_LONG.format(file=file, limit=max_bytes))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(messages.POSTMORTEM_NOT_TEXT.format(file=file)) from None
