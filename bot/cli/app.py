"""The `medic` command line."""

from __future__ import annotations

import getpass
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot import messages
from bot.cli.act import act
from bot.cli.approve import approve
from bot.cli.audit import audit_app
from bot.cli.db import db_app
from bot.cli.errors import CommandGroup, reports_errors
from bot.cli.eval import eval_app, eval_nab
from bot.cli.knowledge import register as register_knowledge
from bot.cli.options import DEFAULT_SCENARIO, ClusterNameOption, ClusterOption, ScenarioOption
from bot.cli.output import console
from bot.cli.postmortem import postmortem_app
from bot.cli.scenarios import scenarios
from bot.cli.serve import serve
from bot.cli.sim import sim_app
from bot.cli.watch import watch
from bot.errors import ConfigError, InputError

if TYPE_CHECKING:
    from bot.config import Settings

app = typer.Typer(
    help="Medic: investigates alerts, proposes guarded remediation, remembers what worked.",
    no_args_is_help=True,
    cls=CommandGroup,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.add_typer(eval_app, name="eval")
eval_app.command("nab")(reports_errors(eval_nab))
eval_app.command()(reports_errors(scenarios))
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(postmortem_app, name="postmortem")
app.add_typer(sim_app, name="sim")
app.command()(reports_errors(act))
app.command()(approve)
register_knowledge(app)
app.command()(serve)
app.command()(watch)

YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Approve every allowed proposal.")]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print a JSON summary as the last line of output.")
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
def demo(
    scenario: ScenarioOption = DEFAULT_SCENARIO, yes: YesOption = False, as_json: JsonOption = False
) -> None:
    """Run the demo: a recommender latency spike caused by an input-size surge (or any scenario
    of the suite: --scenario slow-dependency), on the simulated cluster with embedded defaults.
    Asks before every action unless --yes."""
    from bot.config import load_settings
    from bot.demo import scenario_alert
    from tools.sim import SCENARIOS

    _run_session(
        load_settings(cluster="sim", clusters={}),  # the demo's own shop, whatever the map
        scenario,
        lambda _namespace, anchor: scenario_alert(SCENARIOS[scenario], anchor),
        yes=yes,
        as_json=as_json,
    )


@app.command()
@reports_errors
def investigate(
    service: Annotated[str | None, typer.Argument(help="Service to investigate now.")] = None,
    namespace: Annotated[
        str | None,
        typer.Argument(help="Namespace of the service (default: default_namespace)."),
    ] = None,
    alert: Annotated[
        Path | None,
        typer.Option("--alert", help="Alertmanager webhook JSON (a file, or - for stdin)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Suspect window: the last 30m, 2h, ... (default: from the symptoms' onset).",
        ),
    ] = None,
    cluster: ClusterOption = None,
    cluster_name: ClusterNameOption = None,
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    """Investigate an alert (--alert FILE) or a service by name, then propose remediation.
    With a clusters map, an alert's cluster label (or --cluster-name for a SERVICE) names its
    cluster."""
    from bot.alerts import manual_alert
    from bot.config import load_settings
    from bot.durations import WINDOW_PROBLEM, parse_window

    settings = load_settings(cluster=cluster)
    if settings.cluster is None and not settings.clusters:
        raise ConfigError(messages.CLUSTER_REQUIRED)
    if (alert is None) == (service is None):
        raise InputError("give either a SERVICE or --alert FILE")
    if cluster_name is not None and alert is not None:
        raise InputError("--cluster-name is for a SERVICE; an alert's cluster label names its own")
    seconds = None
    if since is not None:
        if alert is not None:
            raise InputError("--since is for a SERVICE; an alert file sets medic_since instead")
        seconds = parse_window(since)
        if seconds is None:
            raise InputError(f"--since {since[:40]!r} {WINDOW_PROBLEM}")
    if alert is not None:
        text = _read_alert(alert, settings.webhook.max_body_bytes)
        _run_session(settings, scenario, lambda _ns, _anchor: text, yes=yes, as_json=as_json)
    else:
        assert service is not None
        _run_session(
            settings,
            scenario,
            lambda default_ns, anchor: manual_alert(
                service, namespace or default_ns, anchor, since=seconds
            ),
            yes=yes,
            as_json=as_json,
            cluster_name=cluster_name,
        )


def _read_alert(path: Path, max_bytes: int) -> bytes:
    """The alert's bytes, refused beyond ``max_bytes`` (webhook.max_body_bytes, as the webhook)."""
    try:
        if str(path) == "-":
            text = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with path.open("rb") as file:
                text = file.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read alert file {path}: {exc.strerror}") from exc
    if len(text) > max_bytes:
        raise InputError(
            f"alert {path} is over {max_bytes:,} bytes (webhook.max_body_bytes): not an alert"
        )
    return text


def _run_session(
    settings: Settings,
    scenario_name: str,
    alert_for: Callable[[str, float], bytes | dict[str, Any]],
    *,
    yes: bool,
    as_json: bool,
    cluster_name: str | None = None,
) -> None:
    """One alert through the whole flow on the configured cluster. ``alert_for(namespace, now)``
    gives the alert (``namespace``: for a service named without one); with a clusters map, in
    ``cluster_name`` (None: the alert's cluster label, else default_cluster)."""
    started = time.perf_counter()
    from bot.alerts import parse_alerts
    from bot.cli.render import ThreadPrinter
    from bot.cli.session import handle_alert
    from bot.wiring import Wiring
    from bot.wiring.sources import default_namespace, simulated_cluster
    from tools.clock import Clock, SystemClock, VirtualClock

    clock: Clock = SystemClock()
    sim = None
    anchor = clock.now()
    if settings.clusters:
        if any(c.kind == "sim" for c in settings.clusters.values()):
            clock = VirtualClock(time.time())  # simulated shops anchored at this moment
        flow = Wiring(settings).flow(clock)
        labels = flow.cluster_labels(cluster_name)
        alert = alert_for(flow.namespace_in(cluster_name), clock.now())
        if isinstance(alert, dict) and labels:  # a service named on the command line
            alert["labels"] = {**alert["labels"], **labels}
        group = parse_alerts(alert, now=clock.now())
    else:
        if cluster_name is not None:
            raise InputError(messages.CLUSTER_NOT_CONFIGURED.format(cluster=cluster_name[:63]))
        if settings.cluster == "sim":
            clock = VirtualClock(time.time())
            sim = simulated_cluster(scenario_name, clock)
            anchor = sim.anchor
        # bad input fails before anything is written
        group = parse_alerts(alert_for(default_namespace(settings, sim), anchor), now=clock.now())
        flow = Wiring(settings).flow(clock, sim=sim)
    # Wide lines when writing to a file or pipe, so the thread reads well in CI logs too. With
    # --json the thread and the prompts go to stderr: stdout is the JSON's alone.
    width = None if _interactive() else 120
    printer = ThreadPrinter(console(as_json=as_json, width=width), flow.catalog)
    decide = _decider(yes, prompt_on_stderr=as_json)
    report = handle_alert(flow, group, decide, f"cli:{getpass.getuser()}", printer)
    report["seconds"] = round(time.perf_counter() - started, 3)
    if as_json:
        typer.echo(json.dumps(report))


def _interactive() -> bool:
    return sys.stdin.isatty()


def _decider(yes: bool, *, prompt_on_stderr: bool) -> Callable[[Any], bool | None]:
    if yes:
        return lambda _proposal: True
    if _interactive():
        return lambda proposal: typer.confirm(
            messages.APPROVE_PROMPT.format(preview=proposal.preview),
            default=False,
            err=prompt_on_stderr,
        )
    return lambda _proposal: None
