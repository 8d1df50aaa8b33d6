"""`medic audit`: read and verify the hash-chained audit log of every proposal and action."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.errors import CommandGroup, reports_errors

if TYPE_CHECKING:
    from tools.audit import AuditLog

MAX_LIMIT = 1_000_000  # entries one `medic audit list` prints; more is not a listing

audit_app = typer.Typer(
    help="The audit log: who asked for, approved and ran what, with the policy's decision.",
    no_args_is_help=True,
    cls=CommandGroup,
)


def _log() -> AuditLog:
    from bot.config import load_settings
    from bot.wiring import Wiring
    from tools.audit import AuditLog  # SQLAlchemy and Alembic: not for every medic command

    return AuditLog(Wiring(load_settings()).engine)


@audit_app.command("list")
@reports_errors
def list_entries(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=MAX_LIMIT, help="Show the latest N entries.")
    ] = 50,
) -> None:
    """The latest entries, oldest first."""
    for entry in _log().entries(limit):
        if as_json:
            typer.echo(json.dumps(entry.as_dict(), sort_keys=True))
            continue
        when = datetime.fromtimestamp(entry.at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        params = json.dumps(entry.params, sort_keys=True) if entry.params else ""
        where = f"{entry.cluster}:" if entry.cluster else ""  # several clusters: whose target
        typer.echo(
            f"{entry.seq:>5} {when} {entry.actor:<20} {entry.event:<16} {entry.tool} "
            f"{where}{entry.target} {params}  [{entry.decision}]"
            + (f" -> {entry.result}" if entry.result else "")
        )


@audit_app.command("verify")
@reports_errors
def verify() -> None:
    """Recompute the hash chain; exit 1 if any entry was edited, deleted or reordered."""
    report = _log().verify()
    if report.ok:
        typer.echo(f"audit log intact: {report.entries} entries, head {report.head}")
        return
    for problem in report.problems:
        typer.echo(f"medic: audit log tampered: {problem}", err=True)
    raise typer.Exit(1)
