"""Fixtures: the fake Slack, and the bot running for real on loopback against it."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bot.config import load_settings
from bot.slack.service import FrontedServer, MedicService
from bot.wiring import Wiring, build_sim_flow
from knowledge.embeddings import MiniLMEmbedding
from tests.bot.slack.fake_slack import FakeSlack
from tests.bot.slack.harness import SECRET, Medic, serve_fronted, serve_in_thread, write_config
from tests.conftest import START
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def seeded_data_dir(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedding) -> Path:
    """A data directory whose incident memory is already seeded: copied for each bot, so each
    test does not embed the sample incidents again."""
    path = tmp_path_factory.mktemp("seeded") / "data"
    clock = VirtualClock(START)
    build_sim_flow(
        load_settings(data_dir=path), SimulatedCluster(SCENARIOS["input-size-surge"], clock), clock,
        embedder,
    )  # fmt: skip
    return path


@pytest.fixture
def medic_env(
    tmp_path: Path, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, seeded_data_dir: Path
) -> Path:
    """The variables an operator sets: tokens, the config file, and the Slack API URL."""
    data = tmp_path / "medic-data"
    shutil.copytree(seeded_data_dir, data)
    monkeypatch.setenv("MEDIC_DATA_DIR", str(data))
    config = write_config(tmp_path / "medic.yaml")
    monkeypatch.setenv("MEDIC_CONFIG", str(config))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("MEDIC_SLACK_API_URL", fake_slack.api_url)
    monkeypatch.setenv("MEDIC_CLUSTER", "sim")
    return config


@pytest.fixture
def start_medic(
    medic_env: Path,
    fake_slack: FakeSlack,
    sim: SimulatedCluster,
    clock: VirtualClock,
    embedder: MiniLMEmbedding,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., Medic]]:
    """Start the bot with extra environment variables (all stopped at the end of the test): in
    this one process, or ``fronted`` as `medic serve` runs it (the webhook in a front process)."""
    running: list[tuple[uvicorn.Server | FrontedServer, threading.Thread, MedicService,
                        httpx.Client]] = []  # fmt: skip

    def start(chat_model: Any = None, fronted: bool = False, **env: str) -> Medic:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        wiring = Wiring(load_settings(), embedder=embedder)
        service = MedicService(wiring, wiring.sim_flow(sim, clock), chat_model=chat_model)
        service.start()
        server: uvicorn.Server | FrontedServer
        server, thread, url = serve_fronted(service) if fronted else serve_in_thread(service.asgi)
        http = httpx.Client(timeout=30)
        running.append((server, thread, service, http))
        front = server.front if isinstance(server, FrontedServer) else None
        return Medic(service, url, fake_slack, sim, http, front)

    yield start
    for server, thread, service, http in running:
        http.close()
        if isinstance(server, FrontedServer):
            server.stop()
        else:
            server.should_exit = True
        thread.join(timeout=10)
        service.stop()


@pytest.fixture
def medic(start_medic: Callable[..., Medic]) -> Medic:
    return start_medic()
