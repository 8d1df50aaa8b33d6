"""A simulated cluster for the demo and tests: scenario-driven metrics and logs, and state that
responds to actions (scaling out lowers latency; purging the cache frees memory).

It implements the same backend interfaces as the real Kubernetes and Redis adapters, so the guard
and the executor cannot tell the difference. It is only ever used when chosen explicitly.
"""

from tools.sim.cluster import STEP as SCRAPE_INTERVAL
from tools.sim.cluster import SimLogLine, SimSeries, SimulatedCluster
from tools.sim.scenarios import Scenario
from tools.sim.suite import SCENARIOS

__all__ = [
    "SCENARIOS",
    "SCRAPE_INTERVAL",
    "Scenario",
    "SimLogLine",
    "SimSeries",
    "SimulatedCluster",
]
