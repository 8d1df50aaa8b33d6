"""Drain3 state in the data directory: saved after mining, reloaded on the next run, so template
identities stay stable across incidents. Beside it, each log source's chosen switches
(``MinerSettings.source_choice``): without them a source would choose again on the next
incident's lines, and lines masked under other switches are mined into other templates. A file
that cannot be read is never silently replaced: the error names the file and the command that
moves it aside.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from drain3.memory_buffer_persistence import MemoryBufferPersistence
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from knowledge.errors import KnowledgeError
from knowledge.templates import ConstantPrefix, TemplateMiner

STATE_FILE = "drain3_state.bin"
REPAIR_HINT = "move it aside with `medic knowledge repair`"
# A source name longer than this (a Kubernetes name is at most 253) is not saved: that source
# chooses again on each incident, and the file stays bounded (1,024 sources of at most 256
# characters, under ``CHOICES_BYTES``).
SOURCE_CHARS = 256
CHOICES_BYTES = 2 << 20


class _Switches(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    header_revisit: bool
    value_lists: bool
    json_fields: bool


class _Choices(BaseModel):
    """The choice file: which criterion and window made the choices, and each source's."""

    model_config = ConfigDict(extra="forbid", strict=True)

    version: Literal[1]
    criterion: str | None
    window: int
    sources: dict[Annotated[str, StringConstraints(max_length=SOURCE_CHARS)], _Switches] = Field(
        max_length=ConstantPrefix.SOURCES
    )


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


def choices_path(state: Path) -> Path:
    """Where the choices of the sources of the state at ``state`` are kept: beside it,
    ``drain3_state.choices.json``."""
    return state.with_suffix(".choices.json")


def load_miner(path: Path) -> TemplateMiner:
    """A miner restored from ``path`` and its sources' choices, or a fresh one for what does not
    exist yet (a state directory from before the choices were saved: its sources choose once)."""
    miner = TemplateMiner()
    if path.exists():
        _load_state(miner, path)
    choices = choices_path(path)
    if choices.exists():
        saved = load_choices(choices)
        settings = miner.settings
        if (saved.criterion, saved.window) == (settings.source_choice, settings.choice_window):
            miner.restore_choices(
                {
                    source: (s.header_revisit, s.value_lists, s.json_fields)
                    for source, s in saved.sources.items()
                }
            )
    return miner


def _load_state(miner: TemplateMiner, path: Path) -> None:
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


def load_choices(path: Path) -> _Choices:
    """The sources' choices saved at ``path``; a file that is not one Medic wrote (truncated,
    not JSON, another shape, too large) is an error naming it and the repair command."""
    try:
        with path.open("rb") as file:
            data = file.read(CHOICES_BYTES + 1)
    except OSError as exc:
        raise KnowledgeError(f"cannot read the template choices {path}: {exc.strerror}") from exc
    if len(data) > CHOICES_BYTES:
        raise KnowledgeError(
            f"the template choices {path} are larger than {CHOICES_BYTES >> 20} MiB; {REPAIR_HINT}"
        )
    try:
        document = json.loads(data)
    except ValueError as exc:  # JSON and UTF-8 errors alike
        raise KnowledgeError(
            f"the template choices {path} are corrupted ({type(exc).__name__}); {REPAIR_HINT}"
        ) from exc
    try:
        return _Choices.model_validate(document)
    except ValidationError as exc:
        raise KnowledgeError(
            f"the template choices {path} are not Medic's ({exc.error_count()} fields wrong);"
            f" {REPAIR_HINT}"
        ) from exc


def save_miner(miner: TemplateMiner, path: Path) -> None:
    """Write the sources' choices, then the state, each atomically: a crash mid-write leaves the
    previous file intact, and a crash between the two leaves choices made for clusters not
    saved yet (harmless), never clusters mined under choices that were not saved."""
    buffer = MemoryBufferPersistence()
    miner.drain3.persistence_handler = buffer
    try:
        miner.drain3.save_state("medic")
    finally:
        miner.drain3.persistence_handler = None
    assert buffer.state is not None
    choices = _Choices(
        version=1,
        criterion=miner.settings.source_choice,
        window=miner.settings.choice_window,
        sources={
            source: _Switches(header_revisit=r, value_lists=v, json_fields=j)
            for source, (r, v, j) in miner.choices().items()
            if len(source) <= SOURCE_CHARS
        },
    )
    _write(choices_path(path), choices.model_dump_json().encode(), "template choices")
    _write(path, buffer.state, "template state")


def _write(path: Path, data: bytes, what: str) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        raise KnowledgeError(f"cannot write the {what} {path}: {exc.strerror}") from exc
