"""`medic eval ...`: evaluation commands over benchmark data. Each prints one JSON object as its
last line. ``eval_app`` holds them; `medic eval nab` is here, the knowledge evaluations
(`rca`, `templates`) in :mod:`bot.cli.knowledge`, the scenario suite in
:mod:`bot.cli.scenarios`. The evaluations themselves are in :mod:`bot.evaluation` and
``knowledge.evaluation``: this module only reads options and prints."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

eval_app = typer.Typer(
    help="Evaluate Medic on benchmark data; the last line of output is one JSON object.",
    no_args_is_help=True,
)


def eval_nab(
    data: Annotated[
        Path, typer.Option("--data", help="Corpus root: data/, labels/combined_windows.json.")
    ],
    detector: Annotated[
        str, typer.Option("--detector", help="ensemble (configured), one detector, or a baseline.")
    ] = "ensemble",
    profile: Annotated[
        str | None, typer.Option("--profile", help="Report only this cost profile.")
    ] = None,
    write_results: Annotated[
        Path | None,
        typer.Option("--write-results", help="Also write NAB's results layout under this dir."),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", min=1, help="Files scored in parallel (default: 2 or fewer).")
    ] = min(2, os.cpu_count() or 1),
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON summary.")] = False,
) -> None:
    """Run a detector over every file, pick one threshold per profile for the whole corpus, and
    normalise to null = 0, perfect = 100. Progress goes to stderr."""
    from bot.config import load_settings
    from bot.evaluation.nab import evaluate_nab

    settings = load_settings()
    result = evaluate_nab(
        data,
        detector,
        settings.detectors.ensemble(),
        profile=profile,
        jobs=jobs,
        write_results=write_results,
        progress=lambda line: typer.echo(line, err=True),
    )
    if result.results_dir is not None:
        typer.echo(f"results written to {result.results_dir}", err=True)
    if not as_json:
        typer.echo(
            f"{detector} on {result.files} files ({result.rows} rows) in {result.seconds:.1f} s"
        )
        for r in result.scores:
            typer.echo(
                f"  {r.profile:20s} score {r.normalized:6.2f}  threshold {r.threshold:.4f}  "
                f"raw {r.raw:8.3f}  (null {r.null:g}, perfect {r.perfect:g})"
            )
    typer.echo(json.dumps(result.summary()))
