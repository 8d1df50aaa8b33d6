"""Which registered model a service serves, for the MLOps remedies (promote_model, retrain) whose
``{model}`` parameter names it.

Read from the workload's pod template (its newest rollout's labels and annotations,
``medic.io/model``): what a real service declares, read by the same rule as the model-aware
investigation's (``bot.diagnosis.model.served_by``).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.diagnosis.model import served_by
from tools import ClusterBackend, ToolError

# (namespace, workload) -> the registered model's name, or None when it serves none (or unknown)
ServedModel = Callable[[str, str], str | None]


def from_pod_template(cluster: ClusterBackend) -> ServedModel:
    """The model named by the ``medic.io/model`` label (or annotation) of the workload's pod
    template; None when the workload declares none or cannot be read."""

    def served(namespace: str, name: str) -> str | None:
        try:
            rollouts = cluster.recent_rollouts(namespace, name, 1)
        except ToolError:
            return None
        served = served_by(rollouts)
        return served.model if served is not None else None

    return served
