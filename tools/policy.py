"""The remediation policy: what Medic may change, within which limits, and who may approve.
Loaded from YAML (``tools/default_policy.yaml`` is the shipped default); pure data, checked by the
guard."""

from __future__ import annotations

import fnmatch
import json
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tools.actions import Principal, Risk
from tools.catalog import MAX_REPLICAS, MAX_SILENCE_MINUTES, TOOLS, WRITE_TOOLS
from tools.errors import PolicyError
from tools.yaml_input import YamlInputError, load_yaml, read_bounded

GLOB_CHARS = set("*?[]\\")
# The alert labels that name a workload, in the order they are tried: an alert's service is the
# first one set (``bot.alerts``), and a silence must pin one of them to its target (the default of
# ``silence_workload_labels``).
SERVICE_LABELS = ("service", "app", "deployment", "job")


class ReplicaBounds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: int = Field(default=1, ge=0)
    max: int = Field(default=20, ge=1, le=MAX_REPLICAS)

    @model_validator(mode="after")
    def _ordered(self) -> ReplicaBounds:
        if self.min > self.max:
            raise ValueError(f"replicas.min ({self.min}) is above replicas.max ({self.max})")
        return self


CLUSTERS_FIELD = Field(
    default_factory=lambda: ["*"],
    min_length=1,
    description="The clusters (names of Medic's clusters map; * patterns allowed) the rule holds "
    "in; default: every cluster.",
)


def in_clusters(patterns: list[str], cluster: str) -> bool:
    """Whether ``cluster`` (a name from Medic's clusters map) is one ``patterns`` names."""
    return any(fnmatch.fnmatchcase(cluster, p) for p in patterns)


def _known_tools(tools: list[str]) -> list[str]:
    unknown = [t for t in tools if t != "*" and t not in WRITE_TOOLS]
    if unknown:
        raise ValueError(f"unknown tools {unknown} (known: {', '.join(WRITE_TOOLS)})")
    return tools


class Environment(BaseModel):
    """A group of namespaces with the same rules, e.g. production or staging."""

    model_config = ConfigDict(extra="forbid")
    namespaces: list[str] = Field(min_length=1)
    tools: list[str] = Field(default_factory=list)
    two_person_rule: bool = Field(
        default=False, description="The person who asked for an action may not approve it."
    )
    silence_scope: Literal["workload", "namespace"] = Field(
        default="workload",
        description="The widest silence allowed here: its matchers pin the target's namespace "
        "and workload (workload), or only its namespace (namespace, e.g. for a platform team).",
    )
    clusters: list[str] = CLUSTERS_FIELD

    _tools = field_validator("tools")(_known_tools)


class ApproverRule(BaseModel):
    """Who may approve which tools in which namespaces. Users are Slack user ids (or ``cli:NAME``
    for the command line; ``*`` patterns allowed); groups are Slack user group ids or handles."""

    model_config = ConfigDict(extra="forbid")
    tools: list[str] = Field(default_factory=lambda: ["*"])
    namespaces: list[str] = Field(default_factory=lambda: ["*"])
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    clusters: list[str] = CLUSTERS_FIELD

    _tools = field_validator("tools")(_known_tools)

    def covers(self, tool: str, namespace: str, cluster: str = "") -> bool:
        """Whether the rule is about ``tool`` in ``namespace`` of ``cluster`` (unnamed: any)."""
        return (
            ("*" in self.tools or tool in self.tools)
            and any(fnmatch.fnmatchcase(namespace, n) for n in self.namespaces)
            and (not cluster or in_clusters(self.clusters, cluster))
        )

    def admits(self, who: Principal) -> bool:
        # Slack user groups by id (S0123) or handle, with or without the leading @
        theirs = {g.lstrip("@") for g in who.groups}
        return any(fnmatch.fnmatchcase(who.id, u) for u in self.users) or bool(
            theirs & {g.lstrip("@") for g in self.groups}
        )


class AutoRunRule(BaseModel):
    """A low-risk tool that runs without a human approval in the named environments."""

    model_config = ConfigDict(extra="forbid")
    tool: str
    environments: list[str] = Field(min_length=1)
    clusters: list[str] = CLUSTERS_FIELD

    @field_validator("tool")
    @classmethod
    def _low_risk(cls, tool: str) -> str:
        spec = TOOLS.get(tool)
        if spec is None or spec.read_only:
            raise ValueError(f"auto_run names unknown tool {tool!r}")
        if spec.risk is not Risk.LOW:
            raise ValueError(f"auto_run may only name low-risk tools; {tool} is {spec.risk.value}")
        return tool


MAX_JOB_TEMPLATE_BYTES = 64 * 1024  # a Job spec is a page of YAML; more is a mistake or worse


class TrainingJob(BaseModel):
    """How ``retrain`` trains a model on a real cluster: a Kubernetes Job created from
    ``template`` (a batch/v1 Job's ``spec``) in ``namespace``."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    namespace: str = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    template: dict[str, Any] = Field(description="The Job's spec (what `kubectl` puts under spec).")
    minutes: float = Field(default=60, gt=0, le=7 * 24 * 60, description="How long a run takes.")
    cost: str = Field(default="", max_length=200, description="What a run costs, in words.")

    @field_validator("template")
    @classmethod
    def _bounded(cls, template: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(template, default=str))
        if size > MAX_JOB_TEMPLATE_BYTES:
            raise ValueError(
                f"the Job template is {size} bytes; at most {MAX_JOB_TEMPLATE_BYTES} are allowed"
            )
        if not isinstance(template.get("template"), dict):
            raise ValueError("the Job template needs template: (the pod template of the Job)")
        return template


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    environments: dict[str, Environment] = Field(default_factory=dict)
    workloads: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Per namespace, the only Deployments Medic may touch; unlisted: all.",
    )
    models: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Per namespace, the registered models promote_model and retrain may touch "
        "there; a model not listed (or a namespace not listed) is refused.",
    )
    training_jobs: dict[str, TrainingJob] = Field(
        default_factory=dict,
        description="Per registered model, the Kubernetes Job that retrains it (real clusters).",
    )
    replicas: ReplicaBounds = Field(default_factory=ReplicaBounds)
    max_scale_factor: float = Field(default=2.0, gt=1.0)
    cooldown_seconds: float = Field(default=600, ge=0)
    cache_prefixes: list[str] = Field(default_factory=list)
    silence_max_minutes: int = Field(default=240, ge=1, le=MAX_SILENCE_MINUTES)
    silence_workload_labels: list[str] = Field(
        default_factory=lambda: list(SERVICE_LABELS),
        min_length=1,
        description="Alert labels that name the workload; a silence pins one of them to it.",
    )
    approval_ttl_seconds: int = Field(default=900, gt=0)
    approvers: list[ApproverRule] = Field(default_factory=list)
    auto_run: list[AutoRunRule] = Field(default_factory=list)

    @field_validator("cache_prefixes")
    @classmethod
    def _literal_prefixes(cls, prefixes: list[str]) -> list[str]:
        for prefix in prefixes:
            if not prefix or GLOB_CHARS & set(prefix):
                raise ValueError(f"cache prefix {prefix!r} must be non-empty literal text")
        return prefixes

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        seen: dict[str, str] = {}
        for env_name, env in self.environments.items():
            for namespace in env.namespaces:
                if namespace in seen:
                    raise ValueError(
                        f"namespace {namespace} is in two environments ({seen[namespace]}, "
                        f"{env_name})"
                    )
                seen[namespace] = env_name
        for rule in self.auto_run:
            unknown = [e for e in rule.environments if e not in self.environments]
            if unknown:
                raise ValueError(f"auto_run names unknown environments {unknown}")
        return self

    def environment_of(self, namespace: str) -> tuple[str, Environment] | None:
        for name, env in self.environments.items():
            if namespace in env.namespaces:
                return name, env
        return None

    @property
    def namespaces(self) -> list[str]:
        return [n for env in self.environments.values() for n in env.namespaces]


def load_policy(path: Path | None = None) -> Policy:
    """The policy at ``path``, or Medic's default policy when no path is given."""
    source = "default policy" if path is None else f"policy {path}"
    try:
        if path is None:
            text = resources.files("tools").joinpath("default_policy.yaml").read_bytes()
        else:
            text = read_bounded(path, source)
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path or 'default'}: {exc}") from exc
    except YamlInputError as exc:
        raise PolicyError(f"{exc}; fix the file and retry") from exc
    try:
        data = load_yaml(text, source) or {}
        return Policy.model_validate(data)
    except YamlInputError as exc:
        raise PolicyError(f"{exc}; fix the file and retry") from exc
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "policy"
        raise PolicyError(
            f"invalid {source}: {where}: {problem['msg']}; fix the file and retry"
        ) from exc
