"""`medic watch --once`: one pass of the watch from the command line, findings printed (a JSON
summary as the last line with --json). It posts nothing: the heads-ups are `medic serve`'s. A
proposed change (right-sizing) is recorded as a proposal through the guard, as `medic serve`
records it, and its id printed: `medic approve ID` carries it out. A second pass finds the same
proposal while it waits, instead of asking again."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot import messages
from bot.cli.errors import reports_errors
from bot.cli.options import DEFAULT_SCENARIO, ClusterOption, ScenarioOption
from bot.cli.output import say
from bot.errors import ConfigError, InputError

if TYPE_CHECKING:
    from bot.watch.findings import Target, WatchPass
    from tools.proposals import Proposal

ServiceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--service",
        help="Watch this service too (NAMESPACE/SERVICE or SERVICE); may be repeated.",
    ),
]


@reports_errors
def watch(
    once: Annotated[
        bool, typer.Option("--once", help="Run one pass and print its findings.")
    ] = False,
    service: ServiceOption = None,
    cluster: ClusterOption = None,
    scenario: ScenarioOption = DEFAULT_SCENARIO,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary as the last line of output.")
    ] = False,
) -> None:
    """Look at the watched services now: limits about to be reached, metrics out of their band,
    replicas too many or too few - before any alert fires."""
    from pydantic import TypeAdapter, ValidationError

    from bot.config import load_settings
    from bot.config.watch import WatchedService
    from bot.incidents import IncidentStore
    from bot.watch.render import finding_line
    from bot.watch.store import WatchStore
    from bot.watch.targets import parse_target
    from bot.wiring import Wiring
    from bot.wiring.sources import simulated_cluster
    from bot.wiring.watch import (
        WatchParts,
        build_checks,
        build_watch,
        model_drift,
        rightsizing_of,
        watch_proposals,
        watch_targets,
    )
    from tools.clock import SystemClock

    if not once:
        raise InputError(messages.WATCH_ONCE_ONLY)
    settings = load_settings(cluster=cluster)
    if settings.cluster is None:
        raise ConfigError(messages.CLUSTER_REQUIRED)
    checked = TypeAdapter(WatchedService)
    for name in service or []:
        try:
            checked.validate_python(name)
        except ValidationError:
            raise InputError(
                f"--service {name[:80]!r} is not NAMESPACE/SERVICE or SERVICE (Kubernetes names)"
            ) from None
    clock = SystemClock()
    wiring = Wiring(settings)
    sim = simulated_cluster(scenario, clock) if settings.cluster == "sim" else None
    sources = wiring.sources(clock, sim)
    parts = WatchParts(
        sources.metrics,
        sources.backends.cluster,
        wiring.workflow(sources.backends, clock),
        clock,
        sources.default_namespace,
    )
    store = WatchStore(wiring.engine, 3600 * settings.watch.open_hours)
    drift = model_drift(settings, parts.cluster, sources.registry, sources.features)
    checks = build_checks(settings, drift)
    targets = watch_targets(settings, parts, store)
    targets += [parse_target(s, parts.default_namespace) for s in service or []]
    targets = list(dict.fromkeys(targets))
    if not targets:
        raise InputError(messages.WATCH_NO_TARGETS)
    result = build_watch(settings, parts, checks).run(targets, clock.now())
    rightsizing = rightsizing_of(checks)
    proposer = watch_proposals(settings, IncidentStore(wiring.engine), parts.workflow)
    proposed: dict[int, Proposal] = {}
    for finding in result.findings:
        say(f"- {finding_line(finding, rightsizing)}", as_json=as_json)
        made = proposer.propose(finding)
        if made is not None:
            proposed[id(finding)] = made.proposal
            say(
                "  "
                + messages.WATCH_PROPOSAL_LINE.format(
                    proposal=made.proposal.id, status=made.proposal.status.value
                ),
                as_json=as_json,
            )
    if not result.findings:
        say(messages.WATCH_NOTHING.format(count=result.services), as_json=as_json)
    for note in result.notes:
        say(f"note: {note}", as_json=as_json)
    wiring.close()
    if as_json:
        typer.echo(json.dumps(_summary(result, targets, proposed)))


def _summary(
    result: WatchPass, targets: list[Target], proposed: dict[int, Proposal]
) -> dict[str, Any]:
    """The JSON last line: the pass's findings, each with the proposal made of its change."""
    from bot.watch.render import shown

    return {
        "at": result.at,
        "services": [t.name for t in targets],
        "findings": [
            {
                "service": f.target.service,
                "namespace": f.target.namespace,
                "concern": f.concern.value,
                "subject": f.subject,
                "key": f.key,
                "level": f.level,
                "limit": f.limit.value if f.limit else None,
                "limit_origin": f.limit.origin if f.limit else None,
                "eta_seconds": f.eta_seconds,
                "eta_earliest_seconds": f.eta_earliest_seconds,
                # what takes a shared limit (a quota): the biggest, as the heads-up names them
                "consumers": [
                    {"service": shown(name), "amount": value} for name, value in f.consumers
                ],
                "consumers_more": f.consumers_more,
                "action": (
                    {"tool": f.action.tool, "params": f.action.params} if f.action else None
                ),
                "verdict": f.verdict or None,
                "proposal": (
                    {"id": p.id, "status": p.status.value, "incident": p.incident_id}
                    if (p := proposed.get(id(f)))
                    else None
                ),
            }
            for f in result.findings
        ],
        "notes": result.notes,
    }
