"""`medic eval ...`: evaluation commands over benchmark data. Each prints one JSON object as its
last line. ``eval_app`` holds them; `medic eval nab` is here, the knowledge evaluations
(`rca`, `templates`) in :mod:`bot.cli.knowledge`, the scenario suite in
:mod:`bot.cli.scenarios`. The evaluations themselves are in :mod:`bot.evaluation` and
``knowledge.evaluation``: this module only reads options and prints. Every one of them takes
``--mlflow`` (:func:`mlflow_store` before it runs, :func:`print_result` at the end)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.errors import CommandGroup
from bot.cli.options import MlflowOption, MlflowUriOption

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.evaluation.tracking import EvaluationRun, TrackingStore

eval_app = typer.Typer(
    help="Evaluate Medic on benchmark data; the last line of output is one JSON object.",
    no_args_is_help=True,
    cls=CommandGroup,
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
    mlflow: MlflowOption = False,
    mlflow_uri: MlflowUriOption = None,
) -> None:
    """Run a detector over every file, pick one threshold per profile for the whole corpus, and
    normalise to null = 0, perfect = 100. Progress goes to stderr."""
    from bot.config import load_settings
    from bot.evaluation.nab import evaluate_nab

    settings = load_settings()
    store = mlflow_store(mlflow, mlflow_uri, settings)
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
    options = {"data": data, "detector": detector, "profile": profile, "jobs": jobs}
    print_result(result.summary(), store, lambda: evaluation_run("nab", options, settings, [data]))


def mlflow_store(mlflow: bool, uri: str | None, settings: Settings) -> TrackingStore | None:
    """Where ``--mlflow`` / ``--mlflow-uri`` log the run; None without them. Called before the
    evaluation runs, so a malformed URI fails at once (exit 2), not after an hour of scoring."""
    if not mlflow and uri is None:
        return None
    from bot.evaluation.tracking import tracking_store

    return tracking_store(uri, settings.data_dir)


def evaluation_run(
    command: str, options: Mapping[str, Any], settings: Settings, data: list[Path]
) -> EvaluationRun:
    """The run of ``command``: its options, the data it read and the detector and ranking
    configuration in force (``detectors`` and ``investigation`` of the settings)."""
    from bot.evaluation.tracking import EvaluationRun

    configuration = {
        "detectors": settings.detectors.model_dump(mode="json"),
        "investigation": settings.investigation.model_dump(mode="json"),
    }
    return EvaluationRun(command, options, configuration, data)


def print_result(
    result: dict[str, Any], store: TrackingStore | None, run: Callable[[], EvaluationRun]
) -> None:
    """Print ``result`` as the last line of output; with a store, log it first and add its
    ``mlflow_run_id``. A run that could not be logged still prints the result (with a null run
    id), then fails with one line on stderr and exit 4."""
    if store is None:
        typer.echo(json.dumps(result))
        return
    from bot.evaluation.tracking import TrackingError, log_evaluation

    try:
        result["mlflow_run_id"] = log_evaluation(run(), result, store)
    except TrackingError:
        result["mlflow_run_id"] = None
        typer.echo(json.dumps(result))
        raise
    typer.echo(json.dumps(result))
