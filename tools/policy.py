"""The remediation policy: what Medic may change, within which limits. Loaded from YAML."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tools.errors import PolicyError


class ReplicaBounds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: int = Field(default=1, ge=0)
    max: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> ReplicaBounds:
        if self.min > self.max:
            raise ValueError(f"replicas.min ({self.min}) is above replicas.max ({self.max})")
        return self


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    namespaces: list[str] = Field(default_factory=list)
    tools: list[str] = Field(default_factory=list)
    replicas: ReplicaBounds = Field(default_factory=ReplicaBounds)
    max_scale_factor: float = Field(default=2.0, gt=1.0)
    cache_prefixes: list[str] = Field(default_factory=list)
    approval_ttl_seconds: int = Field(default=900, gt=0)


def load_policy(path: Path | None = None) -> Policy:
    """The policy at ``path``, or Medic's default policy when no path is given."""
    try:
        if path is None:
            text = resources.files("tools").joinpath("default_policy.yaml").read_text()
            source = "default policy"
        else:
            text = path.read_text()
            source = str(path)
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path or 'default'}: {exc}") from exc
    try:
        data = yaml.safe_load(text) or {}
        return Policy.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        first = str(exc).splitlines()
        raise PolicyError(f"invalid policy in {source}: {' '.join(first[:3])}") from exc
