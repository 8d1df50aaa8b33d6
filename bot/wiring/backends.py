"""The backends of actions and reads on a cluster: the simulated cluster or Kubernetes, the
Redis and Alertmanager that purge_cache and silence use when their URLs are set, and on Kubernetes
the policy's training Jobs that retrain starts. A real service
named in the settings is never ignored; a missing one is refused at its dry run, saying what to
set."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.errors import ConfigError
from tools.backends import (
    NO_TRAINING,
    Backends,
    CacheBackend,
    ClusterBackend,
    NoCluster,
    NotConfigured,
    SilenceBackend,
)
from tools.errors import BackendUnavailableError
from tools.policy import Policy
from tools.sim import SimulatedCluster

if TYPE_CHECKING:
    from kubernetes.client import ApiClient


def sim_backends(settings: Settings, sim: SimulatedCluster) -> Backends:
    """The simulated cluster for deployments and actions on them; for purge_cache and silence a
    configured Redis and Alertmanager (a real service named in the settings is never ignored),
    else the simulation's own."""
    return Backends(
        cluster=sim, cache=cache_backend(settings, sim), silences=silence_backend(settings, sim)
    )


def cache_backend(settings: Settings, otherwise: CacheBackend) -> CacheBackend:
    """Redis at ``redis_url`` when it is set, else ``otherwise``."""
    from tools.redis_cache import RedisCache

    if not settings.redis_url:
        return otherwise
    return RedisCache.from_url(settings.redis_url, timeout=settings.redis_timeout_seconds)


def silence_backend(settings: Settings, otherwise: SilenceBackend) -> SilenceBackend:
    """Alertmanager at ``alertmanager_url`` when it is set, else ``otherwise``."""
    from tools.alertmanager import AlertmanagerSilences

    if settings.alertmanager_url:
        return AlertmanagerSilences.from_url(
            settings.alertmanager_url, timeout=settings.alertmanager_timeout_seconds
        )
    return otherwise


def kube_api_client(settings: Settings) -> ApiClient:
    """The Kubernetes API client: in-cluster service account, else kubeconfig (KUBECONFIG,
    ``kube_context``). Only reads the credentials; nothing is sent yet."""
    from tools.kube import load_api_client

    try:
        return load_api_client(settings.kubeconfig, settings.kube_context, settings.kube_in_cluster)
    except BackendUnavailableError as exc:
        raise ConfigError(str(exc)) from exc


def kube_backends(settings: Settings, cluster: ClusterBackend) -> Backends:
    """The real thing: ``cluster`` (Kubernetes), Redis and Alertmanager from their URLs (a tool
    whose backend is not configured is refused at its dry run, saying what to set)."""
    return Backends(
        cluster=cluster,
        cache=cache_backend(settings, NotConfigured("Redis", "MEDIC_REDIS_URL")),
        silences=silence_backend(settings, NotConfigured("Alertmanager", "MEDIC_ALERTMANAGER_URL")),
    )


def kube_cluster(
    settings: Settings, api: ApiClient | None = None, *, required: bool = True
) -> ClusterBackend:
    """Kubernetes from kubeconfig or the in-cluster service account. Without credentials: a
    configuration error, or - when the caller's tool does not touch the cluster (``required``
    false: a silence, a purge) - a stand-in named ``kube`` that says why at every use."""
    from tools.kube import KubernetesCluster

    if api is None:
        try:
            api = kube_api_client(settings)
        except ConfigError as exc:
            if required:
                raise
            return NoCluster("kube", str(exc))
    return KubernetesCluster(api, name=f"kube:{api.configuration.host}")


def with_training_jobs(settings: Settings, backends: Backends, policy: Policy) -> Backends:
    """On Kubernetes, ``retrain`` creates the policy's ``training_jobs`` Jobs, unless another
    pipeline was wired (a simulated or MLflow one). Without cluster credentials (a silence from
    the CLI) there is nothing to create Jobs with, and retrain says what to set."""
    from tools.registry.kube_job import KubeJobPipeline

    if (
        settings.cluster != "kube"
        or not policy.training_jobs
        or backends.training is not NO_TRAINING
        or isinstance(backends.cluster, NoCluster)
    ):
        return backends
    pipeline = KubeJobPipeline(kube_api_client(settings), policy.training_jobs)
    return replace(backends, training=pipeline)
