"""Configuration: one typed object, read once from the YAML file named by MEDIC_CONFIG and the
environment (which wins), then passed down. Nothing else reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError


class InvestigationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    baseline_minutes: float = Field(
        60, gt=0, description="Length of the normal window compared against."
    )
    lead_minutes: float = Field(
        15, ge=0, description="How long before the alert's start an anomaly may have begun."
    )
    similar_limit: int = Field(3, ge=1)
    min_similarity: float = Field(0.45, ge=0, le=1)


class VerificationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delay_seconds: float = Field(300, ge=0, description="Wait after acting before re-reading.")
    window_seconds: float = Field(180, gt=0, description="Recent window whose median is judged.")
    tolerance: float = Field(
        0.25, ge=0, description="Recovered if within this fraction of baseline."
    )


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str | None = Field(
        None,
        description="A LangChain chat model for init_chat_model, e.g. 'openai:gpt-4o-mini', "
        "'anthropic:claude-sonnet-4-5', 'ollama:llama3.1'; none: plan without an LLM.",
    )
    timeout_seconds: float = Field(30, gt=0, description="Give up on the model after this long.")
    max_steps: int = Field(3, ge=1, le=8, description="Model turns (read-only tool calls between).")
    temperature: float = Field(0.0, ge=0, le=2)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEDIC_", env_nested_delimiter="__", extra="forbid", populate_by_name=True
    )

    data_dir: Path = Path(".medic")
    cluster: Literal["kube", "sim"] | None = None
    config: Path | None = None
    alert_channel: str | None = None
    watched_channels: list[str] = Field(default_factory=list)
    slack_api_url: str | None = None
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    policy: Path | None = None
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the state database; default SQLite in data_dir."
    )
    kubeconfig: str | None = Field(
        None,
        validation_alias=AliasChoices("KUBECONFIG", "kubeconfig"),
        description="kubeconfig file(s) for cluster=kube outside a cluster (KUBECONFIG).",
    )
    kube_context: str | None = Field(None, description="kubeconfig context for cluster=kube.")
    redis_url: str | None = Field(None, description="Redis holding the caches purge_cache clears.")
    alertmanager_url: str | None = Field(None, description="Alertmanager base URL for silences.")
    runbooks_dir: Path | None = None
    investigation: InvestigationSettings = Field(default_factory=InvestigationSettings)
    verification: VerificationSettings = Field(default_factory=VerificationSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)


def load_settings(**overrides: Any) -> Settings:
    """Settings from MEDIC_CONFIG's YAML, overridden by the environment, overridden by ``overrides``
    (command-line options). Paths in the YAML are relative to the YAML file."""
    config_path = os.environ.get("MEDIC_CONFIG")
    from_file = _read_yaml(Path(config_path)) if config_path else {}
    try:
        from_env = Settings()
        merged = {**from_file, **from_env.model_dump(include=from_env.model_fields_set)}
        merged.update({k: v for k, v in overrides.items() if v is not None})
        return Settings.model_validate(merged)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "settings"
        raise ConfigError(f"invalid configuration: {where}: {problem['msg']}") from exc


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read MEDIC_CONFIG file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"MEDIC_CONFIG file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"MEDIC_CONFIG file {path} must hold a mapping of settings")
    for key in ("policy", "runbooks_dir", "data_dir"):
        if isinstance(data.get(key), str):
            data[key] = (path.parent / data[key]).resolve()
    data["config"] = path
    return data
