"""`medic sim export`: the simulated shop as a Prometheus target, so a real Prometheus (and
Medic's real PromQL) can be tried without a cluster - its present scraped, its past backfilled."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from bot import messages
from bot.cli.errors import CommandGroup, reports_errors
from bot.cli.options import DEFAULT_SCENARIO, ScenarioOption
from bot.errors import InputError

MAX_HISTORY_SECONDS = 48 * 3600  # promtool's default block is 2 h; Prometheus keeps 15 d
sim_app = typer.Typer(
    help="The simulated shop outside Medic.", no_args_is_help=True, cls=CommandGroup
)


@sim_app.command("export")
@reports_errors
def export(
    port: Annotated[
        int | None,
        typer.Option("--port", min=0, max=65535, help="Serve /metrics on this port (scrapes)."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    openmetrics: Annotated[
        Path | None,
        typer.Option(
            "--openmetrics",
            help="Write the replayed history to FILE as OpenMetrics (promtool backfill) first.",
        ),
    ] = None,
    history: Annotated[
        str, typer.Option("--history", help="How much history to replay (counters start there).")
    ] = "3h",
    scenario: ScenarioOption = DEFAULT_SCENARIO,
) -> None:
    """Serve the simulated shop's metrics in Prometheus exposition format, under the names and
    labels Medic's default PromQL reads, and write its recent history for backfill."""
    from prometheus_client import CollectorRegistry, start_http_server

    from bot.durations import parse_duration
    from bot.wiring.sources import simulated_cluster
    from tools.clock import SystemClock
    from tools.sim.exposition import ShopCollector, history_start, write_history

    seconds = parse_duration(history)
    if seconds is None or not 60 <= seconds <= MAX_HISTORY_SECONDS:
        raise InputError(messages.SIM_EXPORT_HISTORY_PROBLEM.format(text=history[:40]))
    if port is None and openmetrics is None:
        raise InputError(messages.SIM_EXPORT_NOTHING)
    sim = simulated_cluster(scenario, SystemClock())
    collector = ShopCollector(sim, history_start(sim.clock.now(), seconds))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    if port is not None:  # bind first: a busy port fails before minutes of work
        try:
            server, _thread = start_http_server(port, host, registry)
        except OSError as exc:
            why = exc.strerror or str(exc)
            raise InputError(
                messages.SIM_EXPORT_PORT_PROBLEM.format(host=host, port=port, why=why)
            ) from exc
    if openmetrics is not None:
        try:
            size = write_history(collector, sim, openmetrics)
        except OSError as exc:
            why = exc.strerror or str(exc)
            problem = messages.POSTMORTEM_UNREADABLE.format(file=openmetrics, why=why)
            raise InputError(problem) from exc
        typer.echo(
            messages.SIM_EXPORT_HISTORY.format(
                history=history, scenario=scenario, file=openmetrics, size=size / 1e6
            )
        )
    if port is None:
        return
    shown = server.server_address[1]
    typer.echo(
        messages.SIM_EXPORT_SERVING.format(
            scenario=scenario, namespace=sim.scenario.namespace, host=host, port=shown
        )
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()
