"""`medic eval scenarios`: the scenario suite in the simulated cluster, LLM off."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.eval import evaluation_run, mlflow_store, print_result
from bot.cli.options import MlflowOption, MlflowUriOption
from bot.errors import InputError


def scenarios(
    names: Annotated[
        list[str] | None, typer.Argument(help="Scenarios to run (default: the whole suite).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per scenario, then the summary.")
    ] = False,
    variants: Annotated[
        int,
        typer.Option(
            "--vary",
            min=0,
            max=20,
            help="Also run N varied copies of each scenario (strength, timing, noise).",
        ),
    ] = 0,
    mlflow: MlflowOption = False,
    mlflow_uri: MlflowUriOption = None,
) -> None:
    """Run the scenario suite through intake, investigation, planning and the guard; report how
    often the right remedy, the right cause and the service where the fault started come first
    (top-1) and in the first three."""
    from bot.config import load_settings
    from bot.evaluation.scenarios import run_suite, summarise
    from tools.sim import SCENARIOS

    suite = [s for s in SCENARIOS.values() if s.expected is not None]
    if names:
        unknown = [n for n in names if n not in SCENARIOS]
        if unknown:
            raise InputError(f"unknown scenario {unknown[0]!r} (known: {', '.join(SCENARIOS)})")
        suite = [SCENARIOS[n] for n in names]
    settings = load_settings()
    settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"model": None})})
    store = mlflow_store(mlflow, mlflow_uri, settings)
    results = run_suite(suite, settings, variants=variants)
    for r in results:
        if as_json:
            typer.echo(json.dumps(r.to_json()))
            continue
        top = r.proposals[0] if r.proposals else None
        shown = f"{top['tool']} {top['service']} ({top['source']})" if top else "nothing"
        cause = r.hypotheses[0]["cause"] if r.hypotheses else "no clear cause"
        origin = r.origins[0]["service"] if r.origins else "none ranked"
        typer.echo(
            f"{'ok ' if r.remediation_rank == 1 else 'MISS'} {r.name:38s} fix {r.fix or 'none':9s}"
            f" first {shown}; cause {'ok' if r.hypothesis_rank == 1 else 'MISS'} {cause}"
            f"; origin {'ok' if r.origin_rank == 1 else 'MISS'} {origin}"
            f"; planning {r.planning_ms:.1f} ms"
        )
    options = {"scenarios": [s.name for s in suite], "vary": variants}
    print_result(
        summarise(results),
        store,
        lambda: evaluation_run("scenarios", options, settings, scenario_data()),
    )


def scenario_data() -> list[Path]:
    """The scenario suite's data: the simulated shop and its scenarios (tools.sim) and the sample
    incidents every run's memory is seeded with."""
    import knowledge.samples
    import tools.sim

    return [Path(tools.sim.__file__).parent, Path(knowledge.samples.__file__).parent]
