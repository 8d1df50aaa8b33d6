"""`medic db upgrade`: bring the state database and the alert inbox to this release's schema.

The same upgrade runs at every start (each engine Medic makes is upgraded first, under a lock), so
this command is for doing it on purpose: once per release before the replicas roll over, or to
see where a database stands. Running it again changes nothing.
"""

from __future__ import annotations

import typer

from bot.cli.errors import CommandGroup, reports_errors

db_app = typer.Typer(
    help="The state database's schema (Alembic migrations).",
    no_args_is_help=True,
    cls=CommandGroup,
)


@db_app.command("upgrade")
@reports_errors
def upgrade() -> None:
    """Upgrade the state database and the alert inbox to the newest schema (keeps every row)."""
    from bot.config import load_settings
    from bot.database import migrated, prepare_data_dir, sqlite_engine, state_engine
    from tools.schema import head, revision

    settings = load_settings()
    data_dir = prepare_data_dir(settings.data_dir)
    databases = {
        "state database": state_engine(
            data_dir, settings.database_url, settings.database, migrate=False
        ),
        "alert inbox": sqlite_engine(data_dir, "inbox.db", migrate=False),
    }
    for name, engine in databases.items():
        try:
            before = revision(engine)
            after = revision(migrated(engine))
        finally:
            engine.dispose()
        if before == after:
            typer.echo(f"{name}: at revision {after} (the newest, {head()}); nothing to do")
        else:
            typer.echo(f"{name}: upgraded from {before or 'no revision'} to {after}")
