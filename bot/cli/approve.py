"""`medic approve ID`: approve a proposal that waits for approval - one `medic watch --once`
printed (a heads-up's right-sizing), or any other - from the command line, through the same
guard as a click in Slack: the approver lists, the digest of what was shown, expiry, run once,
audit. A heads-up's change is then verified as in Slack (its replicas, and CPU under the
saturation threshold). Exit codes as `medic act`'s: 0 done, 2 bad input, 3 refused, 4 failed."""

from __future__ import annotations

import getpass
import re
import sys
import time
from typing import Annotated

import typer

from bot import messages
from bot.cli.act import _confirm, _finish
from bot.cli.errors import printable, reports_errors
from bot.cli.options import DEFAULT_SCENARIO, ClusterOption, ScenarioOption
from bot.errors import ConfigError, InputError

PROPOSAL_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


@reports_errors
def approve(
    proposal_id: Annotated[
        str, typer.Argument(help="The proposal's id, as `medic watch --once` prints it.")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve without asking.")] = False,
    cluster: ClusterOption = None,
    scenario: ScenarioOption = DEFAULT_SCENARIO,
) -> None:
    """Approve a waiting proposal by its id: it runs once, through the guard."""
    from bot.config import load_settings
    from bot.incidents import IncidentStore
    from bot.watch.proposals import from_watch
    from bot.watch.verify import verify_change
    from bot.wiring import Wiring
    from bot.wiring.sources import simulated_cluster
    from tools.clock import Clock, SystemClock, VirtualClock
    from tools.proposals import ProposalStatus

    if not PROPOSAL_ID.fullmatch(proposal_id):
        raise InputError(messages.APPROVE_NO_PROPOSAL.format(id=printable(proposal_id, 40)))
    settings = load_settings(cluster=cluster)
    if settings.cluster is None:
        raise ConfigError(messages.CLUSTER_REQUIRED)
    wiring = Wiring(settings)
    _ = wiring.engine  # a state database that fails is said first
    clock: Clock = SystemClock()
    sim = None
    if settings.cluster == "sim":
        clock = VirtualClock(time.time())
        sim = simulated_cluster(scenario, clock)
    sources = wiring.sources(clock, sim)
    workflow = wiring.workflow(sources.backends, clock)
    proposal = workflow.proposals.get(proposal_id)
    if proposal is None:
        raise InputError(messages.APPROVE_NO_PROPOSAL.format(id=proposal_id))
    if proposal.status is not ProposalStatus.PROPOSED:
        raise InputError(
            messages.APPROVE_NOT_PENDING.format(id=proposal.id, status=proposal.status.value)
        )
    typer.echo(f"proposal {proposal.id}: {printable(proposal.preview)}")
    if not (yes or (sys.stdin.isatty() and _confirm(printable(proposal.preview)))):
        typer.echo(messages.ACT_NOT_APPROVED.format(id=proposal.id))
        return
    user = f"cli:{getpass.getuser()}"
    _finish(workflow.approve(proposal.id, user, proposal.digest).result)
    incidents = IncidentStore(wiring.engine)
    incident = incidents.get(proposal.incident_id)
    done = workflow.proposals.get(proposal.id)
    if incident is None or not from_watch(incident) or done is None:
        return
    if done.status is not ProposalStatus.SUCCEEDED:
        return
    verified = verify_change(
        done, sources.backends.cluster, sources.metrics, clock, settings.verification
    )
    verdict = messages.RECOVERED if verified.recovered else messages.NOT_RECOVERED
    typer.echo(messages.VERIFICATION_OF.format(incident=incident.id, verdict=verdict))
    for check in verified.checks:
        typer.echo(f"- {printable(check.text)}")
    if verified.note:
        typer.echo(printable(verified.note))
    if verified.recovered:
        incidents.resolve(incident.id, clock.now())
