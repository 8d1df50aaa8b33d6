"""`medic eval ... --mlflow`: an evaluation's result logged as one MLflow run, so that Medic's
quality across code versions, data and configuration is one ``search_runs`` query away.

A run holds the command's options and the configuration in force as params (``option.*``,
``config.*``), every number of the command's JSON line as a metric (nested keys joined with
``.``), and as tags the code version (``medic.code_version``, ``medic.git_commit``,
``medic.git_dirty``), the data digest (``medic.data_digest``...), the embedding model's version
(``medic.embedding_model``) and the configuration's digest (``medic.config_digest``). The
configuration itself is the artifact ``configuration.json``, and the embedding model and the
configuration are versioned as registered models (:mod:`bot.evaluation.components`). Runs go to
one experiment per command, ``medic-eval-<command>``.

mlflow is imported only here and only when a run is logged: importing it costs about 2 s, which
an evaluation without ``--mlflow`` does not pay. Nothing reaches the network but the tracking
server named: MLflow's telemetry is off, and its HTTP retries (minutes by default) are bounded.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bot import messages
from bot.errors import InputError, MedicError
from bot.evaluation.components import DETECTOR_CONFIG, EMBEDDING_MODEL, register_components
from bot.evaluation.provenance import code_version, config_digest, data_digest
from bot.untrusted import one_line
from tools.registry import quiet_mlflow

EXPERIMENT_PREFIX = "medic-eval-"
MAX_METRICS = 500  # numbers of one JSON line logged; past them, the tag medic.metrics_dropped
MAX_PARAMS = 300  # options and configuration entries; past them, medic.params_dropped
MAX_PARAM_CHARS = 500  # of one param value (a path, a list of names): the rest is cut
MAX_KEY_CHARS = 250  # MLflow's limit for a metric or param name
# MLflow retries a failed request for minutes by default; a CI job wants an answer in seconds.
REQUEST_TIMEOUT_SECONDS = 10
REQUEST_RETRIES = 2
REQUEST_BACKOFF = 1
MAX_LOGGING_SECONDS = 120.0  # all of one run's logging, whatever the server does
_BATCH = 100  # params or tags per log_batch call (MLflow's limit); metrics go 900 at a time
_SYSTEM_ERROR = re.compile(r"\[Errno -?\d+\] ([^'\"()\[\]]{1,100})")
_KEY_CHARACTER = re.compile(r"[^A-Za-z0-9_\-. /]")  # what MLflow accepts in a name


class TrackingError(MedicError):
    """The evaluation ran, but its run could not be logged: a distinct exit code (4, as for an
    unreachable cluster: try again) so a CI job tells "worse" from "not recorded"."""

    exit_code = 4


@dataclass(frozen=True)
class EvaluationRun:
    """What one evaluation was asked and given: ``command`` ("nab", "scenarios"...),
    ``options`` as the user gave them, ``configuration`` the detector and ranking settings in
    force (plain JSON values), ``data`` the files or directories it read."""

    command: str
    options: Mapping[str, Any]
    configuration: Mapping[str, Any]
    data: Sequence[Path]


@dataclass(frozen=True)
class TrackingStore:
    """Where runs go: ``tracking_uri``; ``artifacts`` for a new experiment of the embedded store
    (None: the server decides); ``shown``: the URI without credentials, for messages."""

    tracking_uri: str
    artifacts: str | None
    shown: str

    def redact(self, text: str) -> str:
        """``text`` (an error from MLflow, which names the URL it called) without the URI's
        user and password."""
        userinfo = urlsplit(self.tracking_uri).netloc.rpartition("@")[0]
        return text.replace(userinfo + "@", "") if userinfo else text


def tracking_store(uri: str | None, data_dir: Path) -> TrackingStore:
    """The store named by ``--mlflow-uri`` (an http(s) URI: a team's ``mlflow server``), or
    with none the embedded one in the data directory, shared with the model registry:
    ``sqlite:///<data_dir>/mlflow/mlflow.db``, artifacts in ``<data_dir>/mlflow/artifacts``.
    Anything else is refused before the evaluation runs."""
    if uri is None:
        root = data_dir.resolve() / "mlflow"
        database = root / "mlflow.db"
        return TrackingStore(f"sqlite:///{database}", (root / "artifacts").as_uri(), str(database))
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(messages.MLFLOW_URI_INVALID.format(uri=one_line(uri, 200)))
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    shown = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return TrackingStore(uri, None, shown)


def metrics_of(result: Mapping[str, Any]) -> tuple[dict[str, float], int]:
    """Every finite number of the JSON line, nested keys and list positions joined with ``.``
    (``remediation.top1``); at most MAX_METRICS, in the line's order. Also how many there
    were. Booleans are not numbers here."""
    found = dict(_numbers(result, ""))
    kept = dict(list(found.items())[:MAX_METRICS])
    return kept, len(found)


def _numbers(value: Any, prefix: str) -> Iterator[tuple[str, float]]:
    if isinstance(value, Mapping):
        items: Iterator[tuple[Any, Any]] = iter(value.items())
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and math.isfinite(value) and prefix:
            yield prefix, float(value)
        return
    for key, item in items:
        yield from _numbers(item, f"{prefix}.{_key(str(key))}" if prefix else _key(str(key)))


def _key(text: str) -> str:
    return _KEY_CHARACTER.sub("_", text)[:MAX_KEY_CHARS]


def params_of(run: EvaluationRun) -> tuple[dict[str, str], int]:
    """The options (``option.<name>``) and configuration (``config.<path>``) as MLflow params:
    values on one line, bounded; None left out. At most MAX_PARAMS; also how many there were."""
    found: dict[str, str] = {}
    for name, value in run.options.items():
        if value is not None:
            found[_key(f"option.{name}")] = _param_value(value)
    for name, value in _leaves(run.configuration, "config"):
        found[_key(name)] = _param_value(value)
    return dict(list(found.items())[:MAX_PARAMS]), len(found)


def _leaves(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}")
    elif isinstance(value, list | tuple) and value and any(isinstance(v, Mapping) for v in value):
        for n, item in enumerate(value):
            yield from _leaves(item, f"{prefix}.{n}")
    else:
        yield prefix, value


def _param_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        text = ",".join(str(v) for v in value)
    elif isinstance(value, Mapping):
        text = json.dumps(value, sort_keys=True, default=str)
    else:
        text = str(value)
    shown = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text[:MAX_PARAM_CHARS])
    return one_line(shown, MAX_PARAM_CHARS)


def log_evaluation(
    run: EvaluationRun,
    result: Mapping[str, Any],
    store: TrackingStore,
    embedding_model: str | None = None,
) -> str:
    """Log ``run`` and its ``result`` (the command's JSON line) as one finished MLflow run;
    its run id. ``embedding_model``: the incident memory's model version (default: the one
    installed). Raises TrackingError, naming the store, when it cannot be logged (the store is
    down or refuses): the result itself is the caller's to print either way."""
    if embedding_model is None:
        from knowledge import model_version

        embedding_model = model_version()
    code = code_version()
    data = data_digest(run.data)
    metrics, metric_count = metrics_of(result)
    params, param_count = params_of(run)
    tags = {
        "medic.command": f"eval {run.command}",
        "medic.code_version": code.version,
        "medic.embedding_model": embedding_model,
        "medic.config_digest": config_digest(run.configuration),
        "medic.data_digest": data.sha256,
        "medic.data_files": str(data.files),
        "medic.data_bytes": str(data.bytes),
        "medic.data_digest_partial": str(data.partial).lower(),
    }
    if code.commit is not None:
        tags |= {"medic.git_commit": code.commit, "mlflow.source.git.commit": code.commit}
    if code.dirty is not None:
        tags["medic.git_dirty"] = str(code.dirty).lower()
    if metric_count > len(metrics):
        tags["medic.metrics_dropped"] = str(metric_count - len(metrics))
    if param_count > len(params):
        tags["medic.params_dropped"] = str(param_count - len(params))
    configuration = {
        "configuration": run.configuration,
        "config_digest": tags["medic.config_digest"],
        "embedding_model": embedding_model,
    }
    outcome: list[str | Exception] = []

    def write() -> None:
        try:
            outcome.append(_write(run.command, store, params, metrics, tags, configuration))
        except Exception as exc:  # MLflow, requests, SQLAlchemy, OSError: any failure to record
            outcome.append(exc)

    # A request timeout bounds each read, not an answer that trickles in for ever: the whole
    # logging has a deadline, past which the thread is left behind (a daemon: the CLI exits).
    worker = threading.Thread(target=write, name="mlflow-logging", daemon=True)
    worker.start()
    worker.join(MAX_LOGGING_SECONDS)
    if not outcome:
        reason = messages.MLFLOW_NO_ANSWER.format(seconds=MAX_LOGGING_SECONDS)
        raise TrackingError(messages.MLFLOW_NOT_LOGGED.format(store=store.shown, reason=reason))
    if isinstance(outcome[0], Exception):
        exc = outcome[0]
        reason = _reason(store.redact(str(exc) or type(exc).__name__))
        raise TrackingError(
            messages.MLFLOW_NOT_LOGGED.format(store=store.shown, reason=reason)
        ) from exc
    return outcome[0]


def _reason(error: str) -> str:
    """MLflow's error, or for a server that cannot be reached only the system's word for it:
    its message wraps that in a page of urllib3 retry details."""
    system = _SYSTEM_ERROR.search(error)
    if system is not None:
        return messages.MLFLOW_CANNOT_CONNECT.format(error=system.group(1).strip())
    return one_line(error, 300)


def _write(
    command: str,
    store: TrackingStore,
    params: Mapping[str, str],
    metrics: Mapping[str, float],
    tags: Mapping[str, str],
    configuration: Mapping[str, Any],
) -> str:
    client = _client(store)
    from mlflow.entities import Metric, Param

    name = EXPERIMENT_PREFIX + command
    experiment = client.get_experiment_by_name(name)
    experiment_id = (
        experiment.experiment_id
        if experiment is not None
        else client.create_experiment(name, artifact_location=_artifacts(store, command))
    )
    short = tags.get("medic.git_commit", tags["medic.code_version"])[:12]
    created = client.create_run(experiment_id, tags=dict(tags), run_name=f"{command}@{short}")
    run_id: str = created.info.run_id
    try:
        now = int(time.time() * 1000)
        items = list(params.items())
        for start in range(0, len(items), _BATCH):
            chunk = items[start : start + _BATCH]
            client.log_batch(run_id, params=[Param(k, v) for k, v in chunk], synchronous=True)
        numbers = list(metrics.items())
        for start in range(0, len(numbers), 900):
            chunk_m = [Metric(k, v, now, 0) for k, v in numbers[start : start + 900]]
            client.log_batch(run_id, metrics=chunk_m, synchronous=True)
        client.log_text(
            run_id,
            json.dumps(configuration, indent=2, sort_keys=True, default=str),
            "configuration.json",
        )
        digests = {
            EMBEDDING_MODEL: configuration["embedding_model"],
            DETECTOR_CONFIG: configuration["config_digest"],
        }
        for model, version in register_components(client, run_id, digests).items():
            client.set_tag(run_id, f"medic.version.{model}", version)
        client.set_terminated(run_id, "FINISHED")
    except Exception:
        # a half-logged run is marked as such, not left "running" forever; if the store is gone
        # by now, the first error is the news
        with contextlib.suppress(Exception):
            client.set_terminated(run_id, "FAILED")
        raise
    return run_id


def _artifacts(store: TrackingStore, command: str) -> str | None:
    return None if store.artifacts is None else f"{store.artifacts}/{EXPERIMENT_PREFIX}{command}"


def _client(store: TrackingStore) -> Any:
    """An MlflowClient on ``store``, with telemetry off, HTTP requests bounded and no "View run
    at <URL>" on stdout, where it would follow the JSON line (``quiet_mlflow``)."""
    quiet_mlflow(REQUEST_TIMEOUT_SECONDS, retries=REQUEST_RETRIES, backoff=REQUEST_BACKOFF)
    if store.artifacts is not None:
        Path(store.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    from mlflow import MlflowClient

    # after the import, which sets mlflow's own level: no "Creating initial MLflow database
    # tables" or "View run at" on stderr, where the one line that matters is Medic's
    for noisy in ("mlflow", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # urllib3 warns of every retry, naming the URL with its credentials
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    return MlflowClient(tracking_uri=store.tracking_uri, registry_uri=store.tracking_uri)
