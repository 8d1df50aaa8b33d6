"""`medic eval nab`: score a detector on a directory in NAB's layout, exactly as NAB scores."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.errors import reports_errors
from bot.cli.eval import eval_app
from bot.errors import ConfigError, InputError


@eval_app.command("nab")
@reports_errors
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
    from detectors.errors import DetectorConfigError, NabCorpusError
    from detectors.evaluation import load_corpus
    from detectors.evaluation.runner import FileRun, run_detector, score_profiles
    from detectors.evaluation.runner import write_results as write_nab_results

    started = time.perf_counter()
    settings = load_settings()
    try:
        corpus = load_corpus(data)
        profiles = [corpus.profile(profile)] if profile else list(corpus.profiles)
        done = 0

        def report(run: FileRun) -> None:
            nonlocal done
            done += 1
            typer.echo(
                f"[{done}/{len(corpus)}] {run.name} ({run.scores.size} rows, {run.seconds:.1f} s)",
                err=True,
            )

        scores = run_detector(corpus, detector, settings.detectors.ensemble(), jobs, report)
    except NabCorpusError as exc:
        raise InputError(str(exc)) from exc
    except DetectorConfigError as exc:
        raise ConfigError(str(exc)) from exc
    results = score_profiles(corpus, scores)
    if write_results is not None:
        where = write_nab_results(write_results, detector, corpus, scores)
        typer.echo(f"results written to {where}", err=True)
    seconds = time.perf_counter() - started
    if not as_json:
        typer.echo(f"{detector} on {len(corpus)} files ({corpus.rows} rows) in {seconds:.1f} s")
        for p in profiles:
            r = results[p.name]
            typer.echo(
                f"  {p.name:20s} score {r.normalized:6.2f}  threshold {r.threshold:.4f}  "
                f"raw {r.raw:8.3f}  (null {r.null:g}, perfect {r.perfect:g})"
            )
    summary = {
        "detector": detector,
        "files": len(corpus),
        "scores": {p.name: round(results[p.name].normalized, 2) for p in profiles},
        "thresholds": {p.name: results[p.name].threshold for p in profiles},
        "seconds": round(seconds, 2),
    }
    typer.echo(json.dumps(summary))
