"""`medic serve`: run the Slack bot and the Alertmanager webhook."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Annotated, NoReturn

import typer

from bot import messages
from bot.cli.errors import reports_errors
from bot.cli.options import DEFAULT_SCENARIO, ClusterOption, ScenarioOption
from bot.errors import ConfigError


class FastForwardClock:
    """Real time for the simulated cluster, except that waiting (verification's delay) is skipped:
    the simulation jumps ahead instead of keeping a Slack thread waiting for minutes."""

    def __init__(self) -> None:
        self._skipped = 0.0

    def now(self) -> float:
        return time.time() + self._skipped

    def sleep(self, seconds: float) -> None:
        self._skipped += max(0.0, seconds)


@reports_errors
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 3000,
    cluster: ClusterOption = None,
    scenario: ScenarioOption = DEFAULT_SCENARIO,
) -> None:
    """Run the bot: Slack (HTTP at POST /slack/events, or Socket Mode when SLACK_APP_TOKEN is
    set), the Alertmanager webhook at POST /alertmanager, GET /healthz and GET /metrics."""
    from bot.config import load_settings
    from bot.slack.service import MedicService, check_settings
    from bot.wiring import Wiring
    from bot.wiring.sources import simulated_cluster
    from tools.clock import Clock, SystemClock

    settings = load_settings(cluster=cluster)
    if settings.cluster is None and not settings.clusters:
        raise ConfigError(messages.CLUSTER_REQUIRED)
    check_settings(settings)
    clock: Clock = SystemClock()
    sim = None
    if settings.cluster == "sim":
        clock = FastForwardClock()
        sim = simulated_cluster(scenario, clock)
    elif any(c.kind == "sim" for c in settings.clusters.values()):
        clock = FastForwardClock()  # the clusters map's simulated shops (a demo, tests)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    wiring = Wiring(settings)
    MedicService(wiring, wiring.flow(clock, sim=sim)).serve(host, port)
    exit_now()


def exit_now() -> NoReturn:
    """End the process once `medic serve` has stopped. A normal exit would wait for every
    thread-pool worker still running (an investigation waiting on a source that ignores its
    timeout, a model call), for ever; the stop already gave them their grace, and what they
    leave unfinished is in the database (an interrupted investigation resumes at the next
    start)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
