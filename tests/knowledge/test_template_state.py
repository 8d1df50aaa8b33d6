"""Drain3 state persisted in the data directory: round trip, and a clear error when corrupted."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.errors import KnowledgeError
from knowledge.logs import LogLine
from knowledge.template_state import load_miner, save_miner
from knowledge.templates import MinerSettings, TemplateMiner

LINES = [LogLine(0, f"user u-{i} logged in from 10.0.0.{i}", "INFO") for i in range(20)]
LINES += [LogLine(0, f"payment {i} failed: card declined", "ERROR") for i in range(5)]


def test_templates_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.bin"
    first = load_miner(path)  # nothing saved yet: a fresh miner
    before = first.templates(LINES)
    save_miner(first, path)
    second = load_miner(path)
    assert second.cluster_count == first.cluster_count == 2
    assert second.templates(LINES) == before
    assert second.cluster_count == 2  # known lines made no new cluster


def test_corrupted_state_names_the_file_and_the_recovery_command(tmp_path: Path) -> None:
    path = tmp_path / "state.bin"
    path.write_bytes(b"\x00garbage, not drain3 state")
    with pytest.raises(KnowledgeError, match=r"state\.bin is corrupted.*medic knowledge repair"):
        load_miner(path)


METHODS, WORDS = ("GET", "POST", "PUT", "HEAD"), ("alpha", "beta", "gamma", "delta", "nu", "xi")


def _direct(i: int) -> LogLine:
    message = f"client 10.0.{i % 250}.7 {METHODS[i % 4]} path /v2/servers status 200 took"
    return LogLine(float(i), f"{message} {WORDS[i % 6]} {i}", "INFO", "proxy")


def _proxied(i: int, at: float) -> LogLine:
    message = f"client 10.1.{i}.9,10.0.{i}.7 GET path /v2/servers status 200 took zeta {i}"
    return LogLine(at, message, "INFO", "proxy")


def test_a_source_keeps_its_choice_and_templates_on_the_next_incident(tmp_path: Path) -> None:
    # The first incident's proxy lines hold client lists, so the source chose a list as one
    # variable: a proxied request is the same event as a direct one. The next incident's
    # first 1,000 lines of that source hold no list, so alone they would choose the switches
    # off, and its proxied requests would be masked apart, mined into a template of their
    # own and reported "new". Saved beside the Drain3 state, the choice is kept: same
    # template, nothing new (as an investigation loads, compares and saves).
    path = tmp_path / "drain3_state.bin"
    first = load_miner(path)
    before = [_direct(i) for i in range(12)]
    during = [_proxied(i, 100.0) for i in range(6)]
    first.compare(before, during, 10.0, 10.0)
    known = first.templates_of(during[:1])[0]
    assert first.chosen_switches("proxy") == (False, True, False)
    save_miner(first, path)

    before = [_direct(i) for i in range(1000)]
    during = [_direct(i) for i in range(1000, 1010)] + [_proxied(i, 2000.0) for i in range(6)]
    alone = TemplateMiner()
    assert alone.compare(before, during, 60.0, 1.0).new  # the premise: it would choose otherwise
    assert alone.chosen_switches("proxy") == (False, False, False)

    second = load_miner(path)
    changes = second.compare(before, during, 60.0, 1.0)
    assert second.chosen_switches("proxy") == (False, True, False)
    assert changes.new == [] and changes.surging == []
    assert set(second.templates_of(during)) == {known}


def test_an_old_state_without_choices_loads_and_its_sources_choose_once(tmp_path: Path) -> None:
    path = tmp_path / "drain3_state.bin"
    miner = TemplateMiner(settings=MinerSettings(source_choice=None))  # nothing chosen yet
    miner.templates(LINES)
    save_miner(miner, path)
    choices = path.with_suffix(".choices.json")
    choices.unlink()  # a data directory from before the choices were saved
    restarted = load_miner(path)
    assert restarted.chosen_switches() is None
    restarted.templates(LINES)
    assert restarted.chosen_switches() == (False, False, False)
    save_miner(restarted, path)
    assert load_miner(path).chosen_switches() == (False, False, False)


@pytest.mark.parametrize(
    "content",
    [b'{"version": 1, "criterion": "templ', b'{"sources": ["proxy"]}', b"\xff\xfe"],
    ids=["truncated", "foreign", "not-utf8"],
)
def test_a_broken_choice_file_names_itself_and_the_recovery_command(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "drain3_state.bin"
    save_miner(TemplateMiner(), path)
    path.with_suffix(".choices.json").write_bytes(content)
    with pytest.raises(
        KnowledgeError, match=r"drain3_state\.choices\.json are .*medic knowledge repair"
    ):
        load_miner(path)


def test_a_source_still_logging_keeps_its_choice_when_a_thousand_pods_came_and_went(
    tmp_path: Path,
) -> None:
    # The choices are saved across incidents, so pods that are gone pile up to the bound
    # (``ConstantPrefix.SOURCES``). Past it the pod unseen for longest forgets its choice, not
    # every source at once: the proxy, logging in every incident, keeps its lists as one
    # variable, so its proxied requests keep their template.
    path = tmp_path / "drain3_state.bin"
    miner = load_miner(path)
    proxy = [_direct(i) for i in range(12)] + [_proxied(i, 100.0) for i in range(6)]
    known = miner.templates_of(proxy)
    assert len(set(known)) == 1
    save_miner(miner, path)
    for incident, pods in enumerate((range(1023), range(1023, 1030))):
        miner = load_miner(path)
        gone = [LogLine(0.0, f"worker {i} started", "INFO", f"pod-{i}") for i in pods]
        miner.templates_of([_direct(incident), *gone])
        save_miner(miner, path)
    restarted = load_miner(path)
    assert restarted.chosen_switches("proxy") == (False, True, False)
    assert restarted.templates_of(proxy) == known
    assert restarted.chosen_switches("pod-0") is None  # the oldest pod forgot
    assert len(restarted.choices()) == 1024
