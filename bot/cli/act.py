"""`medic act`: run one remediation tool from the command line, through the same guard, approval,
dry run and audit log as Slack. Exit codes: 0 done (or dry run shown), 2 bad input (including
something named that does not exist: "not done: version 9 of X does not exist"), 3 refused by
policy, 4 failed or not done (the cluster or the model registry could not be reached, the dry run
failed)."""

from __future__ import annotations

import getpass
import re
import sys
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot import messages
from bot.cli.errors import EXIT_FAILED, printable
from bot.cli.options import DEFAULT_SCENARIO, ClusterNameOption, ClusterOption, ScenarioOption
from bot.errors import ConfigError, InputError, MedicError
from tools.yaml_input import YamlInputError, load_yaml

if TYPE_CHECKING:
    from bot.config import Settings
    from tools.actions import ToolResult
    from tools.workflow import RemediationWorkflow

EXIT_REFUSED = 3
# Guard rules that mean the command line itself was wrong, not that policy said no.
BAD_INPUT_RULES = {"unknown_tool", "parameters", "target", "not_found"}
PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_PARAM_BYTES = 65_536  # one --param value (a silence's matchers and comment fit many times)


class PolicyRefusalError(MedicError):
    exit_code = EXIT_REFUSED


class ActionFailedError(MedicError):
    exit_code = EXIT_FAILED


def act(
    tool: Annotated[
        str,
        typer.Argument(
            help="scale, restart, rollback, purge_cache, silence, promote_model, retrain, "
            "or a read-only helper (deployment_status, ...)."
        ),
    ],
    target: Annotated[str, typer.Option("--target", help="NAMESPACE/NAME of the Deployment.")],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="key=value (YAML value), repeatable: --param replicas=6"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve without asking.")] = False,
    cluster: ClusterOption = None,
    cluster_name: ClusterNameOption = None,
    scenario: ScenarioOption = DEFAULT_SCENARIO,
) -> None:
    """Run one tool on one Deployment: guard, dry run, approval, execution, audit (with a
    clusters map, in the cluster --cluster-name names)."""
    from bot.config import load_settings
    from tools.actions import Action, ToolStatus
    from tools.catalog import TOOLS

    if tool not in TOOLS:
        raise InputError(f"unknown tool {tool!r} (known: {', '.join(TOOLS)})")
    namespace, _, name = target.partition("/")
    if not namespace or not name or "/" in name:
        raise InputError(f"--target must be NAMESPACE/NAME, got {target!r}")
    action = Action(tool, namespace, name, _params(param or []))
    settings = load_settings(cluster=cluster)
    workflow = _workflow(settings, scenario, TOOLS[tool].touches_cluster, cluster_name)
    user = f"cli:{getpass.getuser()}"
    _settle_interrupted(workflow, settings.reconcile.after_seconds)

    if dry_run or TOOLS[tool].read_only:
        run = workflow.read if TOOLS[tool].read_only else workflow.dry_run
        _finish(run(action, user))
        return
    outcome = workflow.propose("manual", action, requested_by=user, source="cli")
    result = outcome.result
    if result.status is ToolStatus.APPROVAL_REQUIRED:
        proposal = outcome.proposal
        typer.echo(f"proposal {proposal.id}: {printable(proposal.preview)}")
        if not (yes or (sys.stdin.isatty() and _confirm(printable(proposal.preview)))):
            typer.echo(messages.ACT_NOT_APPROVED.format(id=proposal.id))
            return
        result = workflow.approve(proposal.id, user, proposal.digest).result
    _finish(result)


def _settle_interrupted(workflow: RemediationWorkflow, after_seconds: float) -> None:
    """What an interrupted `medic act` or bot left executing is settled before anything new."""
    for done in workflow.settle_interrupted(after_seconds):
        action = done.proposal.action
        params = (f"{k}={v}" for k, v in sorted(action.params.items()))
        change = " ".join([action.tool, action.target, *params])
        typer.echo(
            messages.ACT_SETTLED.format(
                change=printable(change), status=done.proposal.status.value, finding=done.finding
            ),
            err=True,
        )


def _confirm(preview: str) -> bool:
    return typer.confirm(messages.APPROVE_PROMPT.format(preview=preview), default=False)


def _params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--param must be key=value, got {pair!r}")
        if not PARAM_NAME.fullmatch(key):
            raise InputError(f"--param {key!r} is not a parameter name (letters, digits, _)")
        try:
            params[key] = load_yaml(raw, f"--param {key}", max_bytes=MAX_PARAM_BYTES) if raw else ""
        except YamlInputError as exc:
            raise InputError(str(exc)) from exc
    return params


def _workflow(
    settings: Settings, scenario: str, needs_cluster: bool, cluster_name: str | None = None
) -> RemediationWorkflow:
    """The guarded workflow on the chosen cluster. On ``kube`` a tool that does not touch the
    cluster (a silence, a purge) needs no Kubernetes credentials. With a clusters map, the
    cluster must be named: an action is never sent to one chosen by default."""
    from bot.clusters import check_name
    from bot.wiring import Wiring
    from bot.wiring.clusters import ClusterWiring
    from bot.wiring.sources import simulated_cluster
    from tools.clock import Clock, SystemClock, VirtualClock

    if settings.clusters:
        known = ", ".join(settings.clusters)
        if cluster_name is None:
            raise InputError(messages.CLUSTERS_ACT_NEEDS_NAME.format(known=known))
        root = Wiring(settings)
        _ = root.engine
        wiring: Wiring = ClusterWiring(root, check_name(cluster_name, settings.clusters))
        scenario = settings.clusters[cluster_name].scenario or scenario
    elif cluster_name is not None:
        raise InputError(messages.CLUSTER_NOT_CONFIGURED.format(cluster=cluster_name[:63]))
    else:
        if settings.cluster is None:
            raise ConfigError(messages.CLUSTER_REQUIRED)
        wiring = Wiring(settings)
    _ = wiring.engine  # opened first, as ever: a state database that fails is said first
    clock: Clock = SystemClock()
    sim = None
    if wiring.settings.cluster == "sim":
        clock = VirtualClock(time.time())
        sim = simulated_cluster(scenario, clock)
    return wiring.workflow(wiring.backends(sim, cluster_required=needs_cluster), clock)


def _finish(result: ToolResult) -> None:
    """Print a success; raise the error whose exit code says what went wrong."""
    from tools.actions import ToolStatus

    if result.status in (ToolStatus.SUCCEEDED, ToolStatus.DRY_RUN):
        prefix = "dry run: " if result.status is ToolStatus.DRY_RUN else ""
        typer.echo(prefix + printable(result.summary))
        return
    from tools.actions import NOT_DONE_RULES

    rule = result.details.get("rule")
    if result.status is ToolStatus.REFUSED and rule in BAD_INPUT_RULES:
        raise InputError(result.summary)
    if result.status is ToolStatus.REFUSED and rule not in NOT_DONE_RULES:
        raise PolicyRefusalError(result.summary)
    raise ActionFailedError(result.summary)
