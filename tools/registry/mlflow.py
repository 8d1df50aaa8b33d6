"""MLflow as Medic's model registry: the embedded SQLite store in the data directory (no server to
run), or a team's ``mlflow server``.

What MLflow does not keep, Medic writes as data MLflow does keep:
- a version's training input profile is the JSON artifact ``training_profile.json`` of the run
  that produced it (``log_training_profile``; read back bounded: a registry is hostile input);
- MLflow keeps no alias history, so ``set_alias`` tags the version it moves the alias to with
  ``medic.alias.<alias>.since`` = when (ISO 8601, UTC), and the investigation can say "alias
  moved from 3 to 4 at 12:03".

Every call is bounded: MLflow's HTTP client retries for minutes by default; here it makes one
attempt with a timeout of seconds, and every failure is one ``RegistryError`` line. MLflow's
telemetry is off. ``import mlflow`` costs ~2 s, so it happens on first use, not at import.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import update_wrapper
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from tools.clock import Clock, SystemClock
from tools.registry.base import (
    AliasMove,
    FeatureHistogram,
    ModelVersion,
    RegistryError,
    RegistryNotFoundError,
    RegistryUnavailableError,
    TrainingProfile,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

PROFILE_ARTIFACT = "training_profile.json"
EXPERIMENT = "medic-training"  # where Medic's own training runs (the simulated shop's) go
SINCE_TAG = "medic.alias.{alias}.since"

# Bounds on what the registry hands back (hostile input, like a log line or a label).
MAX_PROFILE_BYTES = 1_000_000
MAX_FEATURES = 200
MAX_BINS = 200
MAX_TEXT = 500  # characters kept of a description, a tag value or a name shown
MAX_TAGS = 50
MAX_METRICS = 50
MAX_VERSIONS = 100
MAX_CACHED = 1000  # runs and versions whose immutable parts are kept in memory

MAX_STUCK = 4  # calls left waiting on a server that never finishes its answer; then refuse at once
T = TypeVar("T")
P = ParamSpec("P")
K = TypeVar("K")
V = TypeVar("V")


def embedded_store(data_dir: Path) -> tuple[str, Path]:
    """The embedded store of a data directory: its tracking and registry URI
    (``sqlite:///<data_dir>/mlflow/mlflow.db``) and its artifact directory
    (``<data_dir>/mlflow/artifacts``). ``medic eval --mlflow`` logs to the same store."""
    root = data_dir.resolve() / "mlflow"
    return f"sqlite:///{root / 'mlflow.db'}", root / "artifacts"


def quiet_mlflow(timeout_seconds: float, retries: int = 0, backoff: int = 0) -> None:
    """MLflow's process-wide settings, made before it is imported: telemetry off, HTTP requests
    bounded (``1 + retries`` attempts of ``timeout_seconds`` each, ``backoff`` between them), no
    progress bars, no run URLs on stdout. MLflow reads these from the environment at each request
    and offers no per-client option, so this is the one place Medic writes the environment (the
    registry and the evaluations' logging both call it; it never reads settings from it)."""
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(retries)
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = str(backoff)
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(max(1, math.ceil(timeout_seconds)))
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "false"
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"  # `--json`'s stdout is ours


def _clip(text: object, limit: int = MAX_TEXT) -> str:
    value = str(text)
    return value if len(value) <= limit else value[: limit - 1] + "…"


# What MLflow's long transport errors come down to, in the words a person acts on.
_TRANSPORT = (
    ("Connection refused", "cannot reach the server (connection refused)"),
    ("Name or service not known", "cannot resolve the server's host name"),
    ("Read timed out", "the server did not answer in time"),
    ("ConnectTimeout", "the server did not accept the connection in time"),
)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    for marker, said in _TRANSPORT:
        if marker in text:
            return said
    return _clip(text or type(exc).__name__, 300)


def _unreachable(exc: BaseException) -> bool:
    """Whether MLflow failed to reach its server (the transport's error anywhere in the chain,
    or one of its words), rather than answered."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        kind = f"{type(cause).__module__}.{type(cause).__name__}"
        if isinstance(cause, ConnectionError | TimeoutError) or kind.startswith(
            ("requests.exceptions.", "urllib3.exceptions.")
        ):
            return True
        cause = cause.__cause__ or cause.__context__
    text = str(exc)
    return any(marker in text for marker, _ in _TRANSPORT)


def _failure(message: str, exc: BaseException, missing: bool = False) -> RegistryError:
    """MLflow's ``exc`` as one line, of the kind that says what to do: the registry down
    (a dependency), the thing asked about missing, or another refusal."""
    if _unreachable(exc):
        return RegistryUnavailableError(message)
    return (RegistryNotFoundError if missing else RegistryError)(message)


_inside = threading.local()  # set in a bounded call's thread: calls it makes are not bounded again


def bounded(
    calls: int,
) -> Callable[
    [Callable[Concatenate[MlflowRegistry, P], T]], Callable[Concatenate[MlflowRegistry, P], T]
]:
    """Run the method within ``calls`` x the timeout (+1 s) of real time, whatever the server
    does. MLflow's HTTP timeout bounds each read of the socket, not the answer: a server that
    sends a byte a second never times out. A server's call runs in a daemon thread that is
    abandoned at the deadline; with MAX_STUCK abandoned and still waiting, the next call is
    refused at once. The embedded store (no network) runs in the caller's thread."""

    def wrap(
        method: Callable[Concatenate[MlflowRegistry, P], T],
    ) -> Callable[Concatenate[MlflowRegistry, P], T]:
        def run(self: MlflowRegistry, /, *args: P.args, **kwargs: P.kwargs) -> T:
            if self.embedded_only or getattr(_inside, "active", False):
                return method(self, *args, **kwargs)
            self.client()  # importing MLflow (seconds, once) is not the server's time
            limit = calls * self.timeout_seconds + 1.0
            return self._within(limit, method.__name__, lambda: method(self, *args, **kwargs))

        update_wrapper(run, method)
        return run

    return wrap


class MlflowRegistry:
    """A ``ModelRegistry`` on MLflow's client. ``tracking_uri``: ``sqlite:///...`` (embedded) or
    ``http(s)://...`` (a server); ``registry_uri`` defaults to it. ``artifacts``: where an
    embedded store keeps artifacts (a server decides its own). ``clock`` stamps alias moves."""

    def __init__(
        self,
        tracking_uri: str,
        registry_uri: str | None = None,
        *,
        artifacts: Path | None = None,
        timeout_seconds: float = 5.0,
        clock: Clock | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri or tracking_uri
        self.artifacts = artifacts
        self.timeout_seconds = timeout_seconds
        self.clock: Clock = clock or SystemClock()
        self._client: MlflowClient | None = None
        # What never changes once written, kept so a warm investigation asks only what can:
        # a version's run, a finished run's metrics, its training profile.
        self._run_of: dict[tuple[str, str], str] = {}
        self._metrics_of: dict[str, dict[str, float]] = {}
        self._profile_of: dict[str, TrainingProfile | None] = {}
        self._stuck = 0
        self._stuck_lock = threading.Lock()

    @property
    def embedded_only(self) -> bool:
        """Whether both stores are local databases (no server to wait for)."""
        return self.tracking_uri.startswith("sqlite:") and self.registry_uri.startswith("sqlite:")

    def _within(self, limit: float, what: str, call: Callable[[], T]) -> T:
        if self._stuck >= MAX_STUCK:
            raise RegistryUnavailableError(
                f"{self.name}: {what}: {self._stuck} earlier calls are still waiting for the "
                "server's answer"
            )
        box: dict[str, Any] = {}
        abandoned = threading.Event()

        def work() -> None:
            _inside.active = True
            try:
                box["value"] = call()
            except BaseException as exc:  # handed to the caller's thread
                box["error"] = exc
            finally:
                if abandoned.is_set():
                    with self._stuck_lock:
                        self._stuck -= 1

        thread = threading.Thread(target=work, name="medic-registry-call", daemon=True)
        thread.start()
        thread.join(limit)
        if thread.is_alive():
            with self._stuck_lock:
                abandoned.set()
                self._stuck += 1
            raise RegistryUnavailableError(
                f"{self.name}: {what}: no complete answer within {limit:.0f} s"
            )
        if "error" in box:
            raise box["error"]
        return box["value"]  # type: ignore[no-any-return]

    @classmethod
    def embedded(cls, data_dir: Path, **kwargs: Any) -> MlflowRegistry:
        """The embedded store in ``data_dir`` (see ``embedded_store``)."""
        uri, artifacts = embedded_store(data_dir)
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        return cls(uri, artifacts=artifacts, **kwargs)

    @property
    def name(self) -> str:
        where = self.registry_uri
        if where.startswith("sqlite:///"):
            return f"mlflow (embedded, {where.removeprefix('sqlite:///')})"
        return f"mlflow at {_clip(where, 200)}"

    # --- the client ------------------------------------------------------------------------------
    def client(self) -> MlflowClient:
        """MLflow's client, imported and built on first use. An empty embedded store is migrated
        by MLflow on its first query (~2-3 s, once per data directory: later processes find the
        tables)."""
        if self._client is None:
            quiet_mlflow(self.timeout_seconds)
            import logging

            from mlflow import MlflowClient

            logging.getLogger("mlflow").setLevel(logging.WARNING)  # migrations chatter at INFO
            self._client = MlflowClient(
                tracking_uri=self.tracking_uri, registry_uri=self.registry_uri
            )
        return self._client

    @contextmanager
    def _answering(self, what: str) -> Iterator[None]:
        """Every failure of MLflow (unreachable, timed out, refused, not found) as one line."""
        try:
            yield
        except RegistryError:
            raise
        except Exception as exc:  # MlflowException, requests' errors, SQLAlchemy's: all one line
            message = f"{self.name}: {what}: {_one_line(exc)}"
            raise _failure(message, exc, self._missing(exc)) from exc

    def _call(self, what: str, call: Callable[[], T]) -> T:
        with self._answering(what):
            return call()

    def _missing(self, exc: Exception) -> bool:
        code = getattr(exc, "error_code", "")
        return code == "RESOURCE_DOES_NOT_EXIST" or "not found" in str(exc).lower()

    # --- reads -----------------------------------------------------------------------------------
    @bounded(2)
    def versions(self, model: str, limit: int = 20) -> list[ModelVersion]:
        limit = max(1, min(limit, MAX_VERSIONS))
        client = self.client()
        query = _name_filter(self.name, model)
        registered = self._registered(model)
        aliases = self._aliases_by_version(registered)
        found = self._call(
            f"versions of {_clip(model, 100)!r}",
            lambda: client.search_model_versions(
                query,
                max_results=limit,
                order_by=["version_number DESC"],
            ),
        )
        return [self._version(v, aliases) for v in list(found)[:limit]]

    @bounded(2)
    def alias(self, model: str, alias: str) -> ModelVersion | None:
        """One call when the alias is set (MLflow resolves it); when it is not, a second one
        tells an unset alias (None) from an unknown model (RegistryError)."""
        client = self.client()
        try:
            found = client.get_model_version_by_alias(model, alias)
        except Exception as exc:
            if not self._missing(exc):
                raise _failure(
                    f"{self.name}: alias {_clip(alias, 60)!r} of {_clip(model, 100)!r}: "
                    f"{_one_line(exc)}",
                    exc,
                ) from exc
            self._registered(model)  # raises if the model is the thing missing
            return None
        names = tuple(sorted(_clip(a, 100) for a in (found.aliases or ()))) or (_clip(alias, 100),)
        return self._version(found, {str(found.version): names})

    def alias_since(self, version: ModelVersion, alias: str) -> datetime | None:
        """When ``alias`` last moved to ``version`` (see the module function)."""
        return alias_since(version, alias)

    @bounded(3)
    def training_profile(self, model: str, version: str) -> TrainingProfile | None:
        run_id = self._run_of.get((model, version))
        if run_id is None:
            client = self.client()
            found = self._call(
                f"version {_clip(version, 40)} of {_clip(model, 100)!r}",
                lambda: client.get_model_version(model, version),
            )
            run_id = str(getattr(found, "run_id", None) or "")
            _keep(self._run_of, (model, version), run_id)
        if not run_id:
            return None
        if run_id in self._profile_of:
            return self._profile_of[run_id]
        profile = self._call(
            f"training profile of version {_clip(version, 40)}", lambda: self._profile(run_id)
        )
        if profile is not None:  # a run may log its profile later; a logged one stays
            _keep(self._profile_of, run_id, profile)
        return profile

    def _profile(self, run_id: str) -> TrainingProfile | None:
        client = self.client()
        listed = {f.path: f for f in client.list_artifacts(run_id)}
        info = listed.get(PROFILE_ARTIFACT)
        if info is None:
            return None
        if (info.file_size or 0) > MAX_PROFILE_BYTES:
            raise RegistryError(
                f"training profile of run {run_id} is {info.file_size} bytes "
                f"(at most {MAX_PROFILE_BYTES} are read)"
            )
        with tempfile.TemporaryDirectory(prefix="medic-profile-") as tmp:
            path = Path(client.download_artifacts(run_id, PROFILE_ARTIFACT, tmp))
            with path.open("rb") as handle:
                raw = handle.read(MAX_PROFILE_BYTES + 1)
        if len(raw) > MAX_PROFILE_BYTES:
            raise RegistryError(f"training profile of run {run_id} exceeds {MAX_PROFILE_BYTES} B")
        return parse_profile(raw)

    # --- writes ----------------------------------------------------------------------------------
    @bounded(3)
    def set_alias(
        self,
        model: str,
        alias: str,
        version: str,
        *,
        dry_run: bool = False,
        at: datetime | None = None,
    ) -> AliasMove:
        """Point ``alias`` at ``version`` and tag the version with when (``at``, default the
        clock's now). A dry run checks the model and version exist and changes nothing."""
        client = self.client()
        registered = self._registered(model)
        previous = dict(getattr(registered, "aliases", {}) or {}).get(alias)
        self._call(
            f"version {_clip(version, 40)} of {_clip(model, 100)!r}",
            lambda: client.get_model_version(model, version),
        )
        move = AliasMove(
            model=model,
            alias=alias,
            previous=str(previous) if previous is not None else None,
            version=str(version),
        )
        if dry_run:
            return move
        when = at or datetime.fromtimestamp(self.clock.now(), UTC)
        with self._answering(f"moving alias {_clip(alias, 60)!r} to version {version}"):
            client.set_registered_model_alias(model, alias, version)
            client.set_model_version_tag(
                model, version, SINCE_TAG.format(alias=alias), when.isoformat()
            )
        return move

    def log_training_run(
        self,
        model: str,
        *,
        params: dict[str, str],
        metrics: dict[str, float],
        profile: TrainingProfile,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        """One finished training run (params, offline metrics, the profile artifact) and the
        version it registers: what a training pipeline records when it ends."""
        run_id = self.start_run(model, params)
        return self.finish_run(
            model, run_id, metrics=metrics, profile=profile, description=description, tags=tags
        )

    @bounded(3)
    def start_run(
        self, model: str, params: dict[str, str], tags: dict[str, str] | None = None
    ) -> str:
        """A training run of ``model`` begins (in the ``medic-training`` experiment), tagged
        with ``tags`` too; its id."""
        client = self.client()
        with self._answering(f"starting a training run of {_clip(model, 100)!r}"):
            run = client.create_run(self._experiment(), tags={**(tags or {}), "medic.model": model})
            for key, value in params.items():
                client.log_param(run.info.run_id, key, value)
            return str(run.info.run_id)

    @bounded(2)
    def run_tagged(self, key: str, value: str) -> str | None:
        """The id of the newest run of the ``medic-training`` experiment tagged ``key`` =
        ``value``; None when there is none (or no such experiment yet)."""
        client = self.client()
        with self._answering(f"runs tagged {_clip(key, 60)}"):
            found = client.get_experiment_by_name(EXPERIMENT)
            if found is None:
                return None
            text = value.replace("\\", "").replace("'", "")
            runs = client.search_runs(
                [str(found.experiment_id)],
                filter_string=f"tags.`{key}` = '{text}'",
                max_results=1,
                order_by=["attributes.start_time DESC"],
            )
        return str(runs[0].info.run_id) if runs else None

    @bounded(6)
    def finish_run(
        self,
        model: str,
        run_id: str,
        *,
        metrics: dict[str, float],
        profile: TrainingProfile,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        """The run ends: its metrics and training profile are logged and it registers the next
        version of ``model`` (the registered model is created on its first version)."""
        client = self.client()
        with self._answering(f"registering a version of {_clip(model, 100)!r}"):
            for key, number in metrics.items():
                client.log_metric(run_id, key, number)
            client.log_text(run_id, profile_json(profile), PROFILE_ARTIFACT)
            client.set_terminated(run_id)
            if not self._exists(model):
                client.create_registered_model(model)
            created = client.create_model_version(
                model,
                f"runs:/{run_id}/model",
                run_id=run_id,
                description=description,
                tags=tags or {},
            )
        return self._version(created, {})

    def forget(self, model: str) -> None:
        """Drop what is remembered of ``model``'s versions: it was deleted and may be registered
        again with the same version numbers and other runs."""
        for key in [k for k in self._run_of if k[0] == model]:
            del self._run_of[key]

    def _experiment(self) -> str:
        client = self.client()
        found = client.get_experiment_by_name(EXPERIMENT)
        if found is not None:
            return str(found.experiment_id)
        location = self.artifacts.resolve().as_uri() if self.artifacts else None
        return str(client.create_experiment(EXPERIMENT, artifact_location=location))

    def _exists(self, model: str) -> bool:
        try:
            self.client().get_registered_model(model)
        except Exception as exc:
            if self._missing(exc):
                return False
            raise
        return True

    # --- conversions -----------------------------------------------------------------------------
    def _registered(self, model: str) -> Any:
        client = self.client()
        try:
            return client.get_registered_model(model)
        except Exception as exc:
            if self._missing(exc):
                raise RegistryNotFoundError(
                    f"{self.name}: model {_clip(model, 100)!r} is not registered"
                ) from exc
            reason = _one_line(exc)
            raise _failure(
                f"{self.name}: reading model {_clip(model, 100)!r}: {reason}", exc
            ) from exc

    @staticmethod
    def _aliases_by_version(registered: Any) -> dict[str, tuple[str, ...]]:
        by_version: dict[str, list[str]] = {}
        for alias, version in (getattr(registered, "aliases", {}) or {}).items():
            by_version.setdefault(str(version), []).append(_clip(alias, 100))
        return {v: tuple(sorted(a)) for v, a in by_version.items()}

    def _version(self, found: Any, aliases: dict[str, tuple[str, ...]]) -> ModelVersion:
        version = str(found.version)
        run_id = str(found.run_id or "")
        _keep(self._run_of, (str(found.name), version), run_id)
        return ModelVersion(
            model=_clip(found.name, 200),
            version=_clip(version, 40),
            created_at=datetime.fromtimestamp((found.creation_timestamp or 0) / 1000.0, UTC),
            run_id=_clip(run_id, 64),
            aliases=aliases.get(version, tuple(_clip(a, 100) for a in found.aliases or ())),
            metrics=self._metrics(run_id),
            description=_clip(found.description or ""),
            tags={_clip(k, 200): _clip(v) for k, v in list((found.tags or {}).items())[:MAX_TAGS]},
        )

    def _metrics(self, run_id: str) -> dict[str, float]:
        """The training run's offline metrics (none when the run is gone or was never logged)."""
        if not run_id:
            return {}
        if run_id in self._metrics_of:
            return dict(self._metrics_of[run_id])
        client = self.client()
        try:
            run = client.get_run(run_id)
        except Exception as exc:
            if self._missing(exc):
                return {}
            raise _failure(f"{self.name}: reading run {run_id}: {_one_line(exc)}", exc) from exc
        metrics = run.data.metrics or {}
        kept = {
            _clip(k, 100): float(v)
            for k, v in list(metrics.items())[:MAX_METRICS]
            if isinstance(v, int | float) and math.isfinite(v)
        }
        if run.info.status == "FINISHED":  # a running one may log more
            _keep(self._metrics_of, run_id, kept)
        return dict(kept)


def alias_since(version: ModelVersion, alias: str) -> datetime | None:
    """When ``alias`` last moved to ``version``: its ``medic.alias.<alias>.since`` tag, written
    when Medic moved it (or by a deploy pipeline that sets the same tag); None without one."""
    raw = version.tags.get(SINCE_TAG.format(alias=alias), "")
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _keep(cache: dict[K, V], key: K, value: V) -> None:
    """Remember ``value``; a full cache starts over (bounded memory, whatever the registry)."""
    if len(cache) >= MAX_CACHED:
        cache.clear()
    cache[key] = value


def _name_filter(where: str, model: str) -> str:
    """MLflow's filter for one model name. Its parser has no escape for a quote inside a string,
    so the name is quoted with the kind it does not contain; a name with both cannot be asked."""
    if '"' not in model:
        return f'name = "{model}"'
    if "'" not in model:
        return f"name = '{model}'"
    raise RegistryError(f"{where}: model name {_clip(model, 100)!r} holds both kinds of quote")


def profile_json(profile: TrainingProfile) -> str:
    """The artifact's JSON: ``{"features": [{"feature", "edges", "counts"}], "predictions"}``."""

    def one(h: FeatureHistogram) -> dict[str, Any]:
        return {"feature": h.feature, "edges": list(h.edges), "counts": list(h.counts)}

    return json.dumps(
        {
            "features": [one(f) for f in profile.features],
            "predictions": one(profile.predictions) if profile.predictions else None,
        }
    )


def parse_profile(raw: bytes) -> TrainingProfile:
    """A training profile from its artifact, checked: at most MAX_FEATURES features of at most
    MAX_BINS finite, increasing bins with non-negative counts; anything else is a RegistryError
    naming what was wrong."""
    if len(raw) > MAX_PROFILE_BYTES:
        raise RegistryError(f"training profile exceeds {MAX_PROFILE_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise RegistryError(f"training profile is not JSON: {_one_line(exc)}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise RegistryError("training profile has no list of features")
    features = data["features"]
    if len(features) > MAX_FEATURES:
        raise RegistryError(
            f"training profile has {len(features)} features (at most {MAX_FEATURES})"
        )
    hists = tuple(_histogram(f) for f in features)
    predictions = data.get("predictions")
    return TrainingProfile(
        features=hists, predictions=_histogram(predictions) if predictions is not None else None
    )


def _histogram(item: Any) -> FeatureHistogram:
    if not isinstance(item, dict):
        raise RegistryError("training profile: a histogram is not an object")
    name, edges, counts = item.get("feature"), item.get("edges"), item.get("counts")
    if not isinstance(name, str) or not name or len(name) > 200:
        raise RegistryError("training profile: a histogram has no usable feature name")
    if not isinstance(edges, list) or not isinstance(counts, list):
        raise RegistryError(f"training profile: {name[:60]!r} has no edges or counts")
    if not 1 <= len(counts) <= MAX_BINS or len(edges) != len(counts) + 1:
        raise RegistryError(
            f"training profile: {name[:60]!r} needs 1 to {MAX_BINS} bins and one edge more"
        )
    try:
        e = tuple(float(x) for x in edges)
        c = tuple(float(x) for x in counts)
    except (TypeError, ValueError) as exc:
        raise RegistryError(
            f"training profile: {name[:60]!r} has a value that is no number"
        ) from exc
    if not all(math.isfinite(x) for x in (*e, *c)) or any(x < 0 for x in c):
        raise RegistryError(f"training profile: {name[:60]!r} has an infinite or negative value")
    if any(b <= a for a, b in itertools.pairwise(e)):
        raise RegistryError(f"training profile: {name[:60]!r} has edges that do not increase")
    return FeatureHistogram(feature=name, edges=e, counts=c)
