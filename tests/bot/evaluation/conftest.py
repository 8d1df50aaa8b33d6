"""A real ``mlflow server`` on 127.0.0.1 for the tests of `--mlflow`, started as a team runs it:
a SQLite backend store and proxied artifacts (``--serve-artifacts``) in a temporary directory,
an ephemeral port, telemetry off; stopped with its workers at the end of the module."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.services.binaries import free_port, require, wait_until

STARTUP_SECONDS = 180.0  # the server imports all of mlflow; on two busy cores that took 30 s


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a running ``mlflow server``."""
    mlflow = require(str(Path(sys.executable).parent / "mlflow"), "pip install mlflow")
    tmp = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / "mlflow.log"
    env = os.environ | {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    with log.open("wb") as out:
        command = [
            mlflow, "server",
            "--host", "127.0.0.1",
            "--port", str(port),
            "--workers", "1",
            "--backend-store-uri", f"sqlite:///{tmp / 'mlflow.db'}",
            "--serve-artifacts",
            "--artifacts-destination", str(tmp / "artifacts"),
        ]  # fmt: skip
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: the workers stop with it
        )
        try:
            wait_until(
                lambda: httpx.get(f"{url}/health", timeout=2.0).status_code == 200,
                "mlflow server",
                process,
                timeout=STARTUP_SECONDS,
                log=log,
            )
            yield url
        finally:
            _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    except ProcessLookupError:
        pass
