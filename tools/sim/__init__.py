"""A simulated cluster for the demo and tests: scenario-driven metrics and logs, and state that
responds to actions (scaling out lowers latency; purging the cache frees memory).

It implements the same backend interfaces as the real Kubernetes and Redis adapters, so the guard
and the executor cannot tell the difference. It is only ever used when chosen explicitly.
"""

from tools.sim.cluster import STEP as SCRAPE_INTERVAL
from tools.sim.cluster import SimLogLine, SimSeries, SimulatedCluster
from tools.sim.model_suite import MODEL_SCENARIOS
from tools.sim.rightsizing import OVER_PROVISIONED
from tools.sim.scenarios import INPUT_SIZE_SURGE, Scenario
from tools.sim.suite import SUITE
from tools.sim.victims import VICTIMS

# Every scenario by name, as `medic demo --scenario`, `--cluster sim --scenario` and `medic eval
# scenarios` know them: the demo's, the suite's, and the ones where the alerting service is a
# victim of another, and the ML model's (named here, not in the suite's module, because they build
# on its services).
SCENARIOS: dict[str, Scenario] = {
    s.name: s for s in (INPUT_SIZE_SURGE, *SUITE, *VICTIMS, *MODEL_SCENARIOS, OVER_PROVISIONED)
}

__all__ = [
    "SCENARIOS",
    "SCRAPE_INTERVAL",
    "Scenario",
    "SimLogLine",
    "SimSeries",
    "SimulatedCluster",
]
