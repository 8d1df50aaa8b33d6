"""The upgrade to per-model cooldowns (migration 0009_model_cooldowns) keeps what was done: a
promotion recorded before it still holds its model's cooldown after it, and another model on the
same service is free."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from tools.actions import Action
from tools.proposals import ProposalStore
from tools.schema import head, revision
from tools.schema.migrate import upgrade

MODEL = "recommender-ranker"


def test_a_promotion_before_the_upgrade_keeps_its_models_cooldown(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'medic.db'}")
    upgrade(engine, "0003_watch")
    row = {
        "id": "p1", "incident_id": "INC-1", "tool": "promote_model", "namespace": "shop",
        "name": "recommender", "params": json.dumps({"model": MODEL, "version": "2"}),
        "digest": "d", "status": "succeeded", "source": "cli", "requested_by": "cli:alice",
        "cluster": "sim:shop", "rationale": "", "preview": "", "recipe": "{}", "rank": 0,
        "created_at": 100.0, "expires_at": 1000.0, "started_at": 120.0, "finished_at": 121.0,
        "outcome": "moved", "claim": "", "expected": "{}",
    }  # fmt: skip
    proposals = sa.Table("proposals", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(proposals.insert().values(**row))
        conn.execute(proposals.insert().values(**{**row, "id": "p2", "tool": "scale"}))

    upgrade(engine)
    assert revision(engine) == head()
    store = ProposalStore(engine)
    promote = Action("promote_model", "shop", "recommender", {"model": MODEL})
    assert store.last_execution(promote, "sim:shop") == 120.0
    other = Action("promote_model", "shop", "recommender", {"model": "fraud-scorer"})
    assert store.last_execution(other, "sim:shop") is None
    scale = Action("scale", "shop", "recommender", {"replicas": 4})
    assert store.last_execution(scale, "sim:shop") == 120.0  # the target's, as before
