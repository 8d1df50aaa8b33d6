"""Loading the settings: MEDIC_CONFIG's YAML, overridden by the environment, overridden by
command-line options, merged key by key; a bad value is one ConfigError naming the setting and
where it came from. Nothing else reads the environment."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, ValidationError
from pydantic_settings import SettingsError

from bot import messages
from bot.config.settings import Settings
from bot.errors import ConfigError
from tools.yaml_input import YamlInputError, load_yaml, read_bounded


def load_settings(**overrides: Any) -> Settings:
    """Settings from MEDIC_CONFIG's YAML, overridden by the environment, overridden by ``overrides``
    (command-line options). Paths in the YAML are relative to the YAML file. A bad value is a
    ``ConfigError`` naming the setting and where it came from (file, variable or option)."""
    config_path = os.environ.get("MEDIC_CONFIG")
    from_file = _read_yaml(Path(config_path)) if config_path else {}
    from_env = _from_environment()
    given = {k: v for k, v in overrides.items() if v is not None}
    merged = {**_merged(from_file, from_env), **given}
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        loc = tuple(str(p) for p in exc.errors()[0]["loc"])
        if loc[:1] and loc[0] in given:
            origin = messages.CONFIG_FROM_OPTION.format(option=loc[0].replace("_", "-"))
        elif loc and _holds(from_env, loc):  # () is the settings as a whole: no one variable
            origin = messages.CONFIG_FROM_VARIABLE.format(variable=_variable(loc))
        elif config_path:
            origin = messages.CONFIG_FROM_FILE.format(path=config_path)
        else:
            origin = messages.CONFIG_FROM_VARIABLE.format(variable="the environment")
        raise ConfigError(_invalid(exc, origin)) from exc


def _from_environment() -> dict[str, Any]:
    """The settings the environment sets (MEDIC_*, SLACK_*, KUBECONFIG), and only those."""
    try:
        return Settings().model_dump(exclude_unset=True)
    except ValidationError as exc:
        loc = tuple(str(p) for p in exc.errors()[0]["loc"])
        origin = messages.CONFIG_FROM_VARIABLE.format(variable=_variable(loc))
        raise ConfigError(_invalid(exc, origin)) from exc
    except (SettingsError, RecursionError) as exc:  # a list or section that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        variable = _variable((field.group(1),)) if field else "a MEDIC_* variable"
        raise ConfigError(messages.CONFIG_VARIABLE_NOT_JSON.format(variable=variable)) from exc


def _invalid(exc: ValidationError, origin: str) -> str:
    problem = exc.errors()[0]
    where = ".".join(str(p) for p in problem["loc"]) or "settings"
    return messages.CONFIG_INVALID.format(where=where, origin=origin, problem=problem["msg"])


def _variable(loc: tuple[str, ...]) -> str:
    """The environment variable of the setting at ``loc`` (the first two levels name it)."""
    field = Settings.model_fields.get(loc[0]) if loc else None
    alias = field.validation_alias if field is not None else None
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return "MEDIC_" + "__".join(loc[:2]).upper()


def _holds(data: dict[str, Any], loc: tuple[str, ...]) -> bool:
    """Whether ``data`` sets the setting at ``loc`` (or the section above it)."""
    below: Any = data
    for key in loc:
        if not isinstance(below, dict) or key not in below:
            return False
        below = below[key]
        if not isinstance(below, dict):
            return True
    return True


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, key by key at every depth: one variable such as
    MEDIC_METRICS__PROMETHEUS_URL replaces that setting, not the file's whole ``metrics``."""
    merged = dict(base)
    for key, value in override.items():
        below = merged.get(key)
        if isinstance(below, dict) and isinstance(value, dict):
            merged[key] = _merged(below, value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    shown = str(path) if str(path).isprintable() else repr(str(path))  # a path is text too
    source = f"MEDIC_CONFIG file {shown}"
    try:
        data = load_yaml(read_bounded(path, source), source) or {}
    except OSError as exc:
        reason = exc.strerror
        raise ConfigError(messages.CONFIG_UNREADABLE.format(path=shown, reason=reason)) from exc
    except YamlInputError as exc:
        raise ConfigError(str(exc)) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"MEDIC_CONFIG file {shown} must hold a mapping of settings")
    for key in ("policy", "runbooks_dir", "data_dir"):
        if isinstance(data.get(key), str):
            data[key] = (path.parent / data[key]).resolve()
    data["config"] = path
    return data
