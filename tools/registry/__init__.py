"""The model registry seam: which versions of a model exist, which one an alias names, what each was
trained on, and the two changes Medic may make (move an alias, start a training run).

MLflow is the registry Medic ships with (``tools.registry.mlflow``: an embedded SQLite store in the
data directory, or a team's ``mlflow server``); SageMaker, Vertex AI or Azure ML registries plug in
by implementing ``ModelRegistry`` and ``TrainingPipeline`` (``tools.registry.base``). The in-memory
implementation (``tools.registry.memory``) serves unit tests.
"""

from tools.registry.base import (
    AliasMove,
    FeatureHistogram,
    ModelRegistry,
    ModelVersion,
    RegistryError,
    RegistryNotFoundError,
    RegistryUnavailableError,
    ServedModel,
    TrainingPipeline,
    TrainingProfile,
    TrainingRun,
)
from tools.registry.memory import MemoryRegistry, MemoryTraining
from tools.registry.mlflow import (
    SINCE_TAG,
    MlflowRegistry,
    alias_since,
    embedded_store,
    quiet_mlflow,
)

__all__ = [
    "SINCE_TAG",
    "AliasMove",
    "FeatureHistogram",
    "MemoryRegistry",
    "MemoryTraining",
    "MlflowRegistry",
    "ModelRegistry",
    "ModelVersion",
    "RegistryError",
    "RegistryNotFoundError",
    "RegistryUnavailableError",
    "ServedModel",
    "TrainingPipeline",
    "TrainingProfile",
    "TrainingRun",
    "alias_since",
    "embedded_store",
    "quiet_mlflow",
]
