"""Settings of the front ends through which alerts and people reach Medic: Slack, the alert
webhook, and the receivers of other tools' alerts."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator


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
    team_id: Annotated[str, StringConstraints(pattern=r"^T[A-Z0-9]{1,31}$")] | None = Field(
        None,
        description="The workspace Medic answers (T...): signed requests from any other "
        "workspace of the app are refused (403). Unset: any workspace the app is installed in.",
    )
    enterprise_id: Annotated[str, StringConstraints(pattern=r"^E[A-Z0-9]{1,31}$")] | None = Field(
        None,
        description="The Enterprise Grid organisation Medic answers (E...): requests from "
        "outside it are refused (403). Unset: any.",
    )


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    token: SecretStr | None = Field(None, description="Bearer token Alertmanager must send.")
    max_body_bytes: int = Field(1_048_576, gt=0, description="Larger bodies get 413.")


# A path into a JSON document: "/a/b/0" (JSON Pointer, RFC 6901) or "a.b.0"; at most 8 steps.
FieldPath = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\s]*$")]
Secret = Annotated[SecretStr, Field(min_length=8)]


class SharedSecretReceiver(BaseModel):
    """A vendor webhook authenticated by a secret the vendor sends in a header of its own."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    enabled: bool = False
    secret: Secret | None = Field(
        None, description="Sent by the vendor in the X-Medic-Token header (or as a bearer token)."
    )

    @model_validator(mode="after")
    def _secret_when_enabled(self) -> SharedSecretReceiver:
        if self.enabled and self.secret is None:
            raise ValueError("an enabled receiver needs its secret (8 characters or more)")
        return self


class GrafanaReceiver(BaseModel):
    """Grafana's webhook contact point: its Authorization header (``Bearer <token>`` by default,
    the scheme is configurable there) or HTTP basic authentication."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    enabled: bool = False
    token: Secret | None = Field(None, description="Credentials of the Authorization header.")
    username: str | None = Field(None, max_length=200, description="Basic authentication.")
    password: Secret | None = None

    @model_validator(mode="after")
    def _credentials_when_enabled(self) -> GrafanaReceiver:
        if self.enabled and self.token is None and self.password is None:
            raise ValueError("an enabled Grafana receiver needs a token or username/password")
        if (self.username is None) != (self.password is None):
            raise ValueError("Grafana basic authentication needs both username and password")
        return self


class PagerDutyReceiver(BaseModel):
    """PagerDuty v3 webhook subscriptions (signed), and notes written back on its incidents."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    enabled: bool = False
    secrets: list[Secret] = Field(
        default_factory=list,
        max_length=4,
        description="Signing secrets of the webhook subscription(s); several while rotating.",
    )
    services: dict[str, str] = Field(
        default_factory=dict,
        max_length=1000,
        description="PagerDuty service name or id -> the Kubernetes service ('namespace/name' "
        "or 'name'); unmapped: the PagerDuty service's name, when it is a valid service name.",
    )
    api_token: SecretStr | None = Field(
        None, description="REST API token for notes on incidents (write-back); unset: no notes."
    )
    from_email: str | None = Field(
        None, max_length=254, description="The From header of the notes: a PagerDuty user's email."
    )
    api_url: str = Field("https://api.pagerduty.com", max_length=500)

    @model_validator(mode="after")
    def _secret_when_enabled(self) -> PagerDutyReceiver:
        if self.enabled and not self.secrets:
            raise ValueError("an enabled PagerDuty receiver needs its signing secret(s)")
        if self.api_token is not None and not self.from_email:
            raise ValueError("PagerDuty notes need from_email (a PagerDuty user's email)")
        return self


class OpsgenieReceiver(SharedSecretReceiver):
    """Opsgenie's outgoing webhook integration, and notes written back on its alerts."""

    api_key: SecretStr | None = Field(
        None, description="API integration key (GenieKey) for notes on alerts; unset: no notes."
    )
    api_url: str = Field("https://api.opsgenie.com", max_length=500)


class GenericMapping(SharedSecretReceiver):
    """Any JSON sender: where each field of an alert is in its documents."""

    enabled: bool = True
    alerts: FieldPath = Field(
        "", description="Path to a list of alerts; empty: the document is one alert."
    )
    alertname: FieldPath = ""
    service: FieldPath
    namespace: FieldPath = ""
    status: FieldPath = ""
    severity: FieldPath = ""
    starts_at: FieldPath = ""
    fingerprint: FieldPath = ""
    summary: FieldPath = ""
    link: FieldPath = ""
    resolved_values: list[Annotated[str, StringConstraints(max_length=40)]] = Field(
        default_factory=lambda: ["resolved", "ok", "closed", "recovered"], max_length=20
    )


GenericName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][-a-z0-9_]{0,39}$")]


class ReceiverSettings(BaseModel):
    """Alerts from other tools than Alertmanager (``POST /webhook/<source>``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    grafana: GrafanaReceiver = Field(default_factory=GrafanaReceiver)
    datadog: SharedSecretReceiver = Field(default_factory=SharedSecretReceiver)
    pagerduty: PagerDutyReceiver = Field(default_factory=PagerDutyReceiver)
    opsgenie: OpsgenieReceiver = Field(default_factory=OpsgenieReceiver)
    generic: dict[GenericName, GenericMapping] = Field(default_factory=dict, max_length=50)
    slack_url: str = Field(
        "https://slack.com",
        max_length=200,
        description="Your workspace's address (https://acme.slack.com): links to threads in notes.",
    )
    note_attempts: int = Field(4, ge=1, le=10, description="Tries of one write-back note.")
    note_max_wait_seconds: float = Field(
        30, gt=0, le=600, description="Longest pause between tries (a 429's Retry-After too)."
    )


def revealed(settings: BaseModel) -> dict[str, Any]:
    """``settings`` as plain data with its secrets in clear: for the front process of `medic
    serve`, which gets it on its stdin (never in argv or the environment) and validates it
    again."""

    def reveal(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        if isinstance(value, dict):
            return {k: reveal(v) for k, v in value.items()}
        if isinstance(value, list):
            return [reveal(v) for v in value]
        return value

    result: dict[str, Any] = reveal(settings.model_dump())
    return result
