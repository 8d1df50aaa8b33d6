"""A real ``mlflow server`` on 127.0.0.1, run as users run it: a SQLite backend store in a
temporary directory, artifacts served through the server (``--serve-artifacts`` to a local
``--artifacts-destination``), one worker, an ephemeral port; ready before use, stopped after with
its workers (its own process group). One per test session (``mlflow_server`` in tests/conftest.py):
the server imports all of mlflow, which took 30 s on two busy cores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.services.binaries import free_port, require, wait_until

STARTUP_SECONDS = 180.0


@contextmanager
def running_mlflow(tmp: Path) -> Iterator[str]:
    """Start ``mlflow server`` with its stores under ``tmp``; yield its URL."""
    mlflow = require(str(Path(sys.executable).parent / "mlflow"), "pip install mlflow")
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / "mlflow.log"
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(tmp),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        # Its job runner (8 worker processes, ~2 GB) serves MLflow's GenAI jobs, not a registry.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                mlflow,
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--backend-store-uri",
                f"sqlite:///{tmp / 'mlflow.db'}",
                "--serve-artifacts",
                "--artifacts-destination",
                str(tmp / "artifacts"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp,
            start_new_session=True,  # its own process group: the workers stop with it
        )
        try:
            wait_until(
                lambda: httpx.get(f"{url}/health", timeout=1.0).status_code == 200,
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
