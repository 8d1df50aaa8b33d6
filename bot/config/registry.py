"""Settings of the model registry: MLflow, embedded in the data directory unless a team's server
(or database) is named. Read once, like every section; the adapter gets them in its constructor."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

# MLflow's stores Medic talks to: its tracking server over HTTP(S), or a database it opens itself.
STORE_SCHEMES = ("http://", "https://", "sqlite:///", "postgresql://", "mysql://", "mssql://")


class RegistrySettings(BaseModel):
    """Where the model registry lives and how long Medic waits for it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    tracking_uri: str | None = Field(
        None,
        max_length=2000,
        description="MLflow tracking URI (http://mlflow.example:5000, or a database URL); unset: "
        "the embedded store sqlite:///<data_dir>/mlflow/mlflow.db with artifacts in "
        "<data_dir>/mlflow/artifacts.",
    )
    registry_uri: str | None = Field(
        None,
        max_length=2000,
        description="MLflow model registry URI, when it is not the tracking URI.",
    )
    timeout_seconds: float = Field(
        5,
        gt=0,
        le=120,
        description="How long one registry call may take (one attempt: MLflow's own retries "
        "would wait minutes for a server that is down).",
    )

    @field_validator("tracking_uri", "registry_uri")
    @classmethod
    def _a_store(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.isprintable() or not value.startswith(STORE_SCHEMES):
            raise ValueError(f"must start with one of {', '.join(STORE_SCHEMES)}")
        return value
