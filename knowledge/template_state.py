"""Drain3 state in the data directory: saved after mining, reloaded on the next run, so template
identities stay stable across incidents. A state file that cannot be read is never silently
replaced: the error names the file and the command that moves it aside.
"""

from __future__ import annotations

from pathlib import Path

from drain3.memory_buffer_persistence import MemoryBufferPersistence

from knowledge.errors import KnowledgeError
from knowledge.templates import TemplateMiner

STATE_FILE = "drain3_state.bin"
REPAIR_HINT = "move it aside with `medic knowledge repair`"


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


def load_miner(path: Path) -> TemplateMiner:
    """A miner restored from ``path``, or a fresh one when the file does not exist yet."""
    miner = TemplateMiner()
    if not path.exists():
        return miner
    try:
        state = path.read_bytes()
    except OSError as exc:
        raise KnowledgeError(f"cannot read the template state {path}: {exc.strerror}") from exc
    buffer = MemoryBufferPersistence()
    buffer.state = state
    miner.drain3.persistence_handler = buffer
    try:
        miner.drain3.load_state()
    except Exception as exc:  # zlib, base64, json and jsonpickle each raise their own
        raise KnowledgeError(
            f"the template state {path} is corrupted ({type(exc).__name__}); {REPAIR_HINT}"
        ) from exc
    finally:
        miner.drain3.persistence_handler = None
    if not hasattr(miner.drain3.drain, "id_to_cluster"):
        raise KnowledgeError(f"the template state {path} is not Drain3 state; {REPAIR_HINT}")
    return miner


def save_miner(miner: TemplateMiner, path: Path) -> None:
    """Write the state atomically: a crash mid-write leaves the previous state intact."""
    buffer = MemoryBufferPersistence()
    miner.drain3.persistence_handler = buffer
    try:
        miner.drain3.save_state("medic")
    finally:
        miner.drain3.persistence_handler = None
    assert buffer.state is not None
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(buffer.state)
        tmp.replace(path)
    except OSError as exc:
        raise KnowledgeError(f"cannot write the template state {path}: {exc.strerror}") from exc
