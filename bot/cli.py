"""The `medic` command line."""

from __future__ import annotations

import getpass
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from bot import messages
from bot.cli_act import act
from bot.cli_audit import audit_app
from bot.cli_errors import reports_errors
from bot.cli_eval import eval_app
from bot.cli_knowledge import register as register_knowledge
from bot.cli_scenarios import scenarios
from bot.cli_serve import serve
from bot.errors import ConfigError, InputError
from bot.eval_nab import eval_nab  # noqa: F401  (registers `medic eval nab`)

app = typer.Typer(
    help="Medic: investigates alerts, proposes guarded remediation, remembers what worked.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.add_typer(eval_app, name="eval")
eval_app.command()(reports_errors(scenarios))
app.add_typer(audit_app, name="audit")
app.command()(reports_errors(act))
register_knowledge(app)
app.command()(serve)

YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Approve every allowed proposal.")]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print a JSON summary as the last line of output.")
]
ScenarioOption = Annotated[
    str, typer.Option("--scenario", help="Scenario of the simulated cluster.")
]


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    if version:
        from importlib.metadata import version as dist_version

        typer.echo(f"medic {dist_version('medic')}")
        raise typer.Exit()


@app.command()
@reports_errors
def demo(yes: YesOption = False, as_json: JsonOption = False) -> None:
    """Run the demo: a recommender latency spike caused by an input-size surge, on the simulated
    cluster with embedded defaults. Asks before every action unless --yes."""
    from bot.demo import scenario_alert

    _run_session(
        "input-size-surge",
        scenario_alert,
        yes=yes,
        as_json=as_json,
    )


@app.command()
@reports_errors
def investigate(
    service: Annotated[str | None, typer.Argument(help="Service to investigate now.")] = None,
    namespace: Annotated[str | None, typer.Argument(help="Namespace of the service.")] = None,
    alert: Annotated[
        Path | None,
        typer.Option("--alert", help="Alertmanager webhook JSON (a file, or - for stdin)."),
    ] = None,
    cluster: Annotated[
        str | None, typer.Option("--cluster", help="sim or kube (default: MEDIC_CLUSTER).")
    ] = None,
    scenario: ScenarioOption = "input-size-surge",
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Investigate an alert (--alert FILE) or a service by name, then propose remediation."""
    from bot.alerts import manual_alert
    from bot.config import load_settings

    settings = load_settings(cluster=cluster)
    if settings.cluster is None:
        raise ConfigError(messages.CLUSTER_REQUIRED)
    if settings.cluster == "kube":
        raise ConfigError(messages.KUBE_NOT_AVAILABLE)
    if (alert is None) == (service is None):
        raise InputError("give either a SERVICE or --alert FILE")
    if alert is not None:
        text = _read_alert(alert)
        _run_session(scenario, lambda _s, _a: text, yes=yes, as_json=as_json)
    else:
        assert service is not None
        _run_session(
            scenario,
            lambda s, anchor: manual_alert(service, namespace or s.namespace, anchor),
            yes=yes,
            as_json=as_json,
        )


def _read_alert(path: Path) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read alert file {path}: {exc.strerror}") from exc


def _run_session(
    scenario_name: str,
    alert_for: Callable[[Any, float], bytes | dict[str, Any]],
    *,
    yes: bool,
    as_json: bool,
) -> None:
    started = time.perf_counter()
    from rich.console import Console

    from bot.alerts import parse_alerts
    from bot.config import load_settings
    from bot.render import ThreadPrinter
    from bot.runtime import build_sim_flow
    from bot.session import handle_alert
    from tools.clock import VirtualClock
    from tools.sim import SCENARIOS, SimulatedCluster

    scenario = SCENARIOS.get(scenario_name)
    if scenario is None:
        raise InputError(f"unknown scenario {scenario_name!r} (known: {', '.join(SCENARIOS)})")
    settings = load_settings()
    clock = VirtualClock(time.time())
    sim = SimulatedCluster(scenario, clock)
    group = parse_alerts(
        alert_for(scenario, sim.anchor)
    )  # bad input fails before anything is written
    flow = build_sim_flow(settings, sim, clock)
    # Wide lines when writing to a file or pipe, so the thread reads well in CI logs too.
    printer = ThreadPrinter(Console(width=None if _interactive() else 120), flow.catalog)
    report = handle_alert(flow, group, _decider(yes), f"cli:{getpass.getuser()}", printer)
    report["seconds"] = round(time.perf_counter() - started, 3)
    if as_json:
        typer.echo(json.dumps(report))


def _interactive() -> bool:
    return sys.stdin.isatty()


def _decider(yes: bool) -> Callable[[Any], bool | None]:
    if yes:
        return lambda _proposal: True
    if _interactive():
        return lambda proposal: typer.confirm(
            messages.APPROVE_PROMPT.format(preview=proposal.preview), default=False
        )
    return lambda _proposal: None
