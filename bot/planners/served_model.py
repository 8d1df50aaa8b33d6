"""Which registered model a service serves, for the MLOps remedies (promote_model, retrain) whose
``{model}`` parameter names it.

Read from the workload's pod template (its newest rollout's labels and annotations,
``medic.io/model``): what a real service declares. This is the one place that answers it, so the
planner can be pointed at the investigation's own answer (the registry-aware one) instead.
"""

from __future__ import annotations

from collections.abc import Callable

from tools import ClusterBackend, ToolError
from tools.registry.base import MODEL_LABEL

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
        if not rollouts:
            return None
        newest = rollouts[0]
        return newest.labels.get(MODEL_LABEL) or newest.annotations.get(MODEL_LABEL) or None

    return served
