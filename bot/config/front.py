"""Settings of the front ends through which alerts and people reach Medic: Slack and the alert
webhook."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class SlackSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    alert_pattern: str | None = Field(
        None,
        description="Regex for alert messages in watched channels; named groups alertname, "
        "service, namespace, status.",
    )
    timeout_seconds: float = Field(
        10, gt=0, le=120, description="How long one Slack Web API call may take."
    )


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    token: SecretStr | None = Field(None, description="Bearer token Alertmanager must send.")
    max_body_bytes: int = Field(1_048_576, gt=0, description="Larger bodies get 413.")
