"""`medic eval ...`: evaluation commands over benchmark data. Each prints one JSON object as its
last line. Commands live in their own modules and register on ``eval_app``."""

from __future__ import annotations

import typer

eval_app = typer.Typer(
    help="Evaluate Medic on benchmark data; the last line of output is one JSON object.",
    no_args_is_help=True,
)
