"""The suspect window starts where the trouble started (issue 14): a surge that began before the
alert's lead is judged from its onset, so the metrics that moved with it are seen; someone who
asks for a window (`--since`, `since 30m`, the ``medic_since`` annotation) gets that one; the
thread and the terminal say which window was judged and why."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bot.alerts import manual_alert
from bot.cli.app import app
from bot.config import InvestigationSettings, load_settings
from bot.diagnosis.window import Window, onset, suspect_window
from bot.durations import parse_window
from bot.flow import IncidentFlow
from bot.incidents import Incident
from bot.slack.blocks.diagnosis import diagnosis_head
from bot.slack.commands import Help, help_text, parse_command
from bot.wiring import build_sim_flow
from detectors import Direction, Finding, Series
from knowledge.embeddings import MiniLMEmbedding
from tests.conftest import START
from tools.clock import VirtualClock
from tools.sim import SCENARIOS, SimulatedCluster

LABELS = {"alertname": "RecommenderLatencyHigh", "service": "recommender", "namespace": "shop"}
SURGE_BEGAN = START - 20 * 60  # input-size-surge: payloads triple 20 min before the alert


def sim_flow(data_dir: Path, embedder: MiniLMEmbedding, **investigation: float) -> IncidentFlow:
    clock = VirtualClock(START)
    settings = load_settings(data_dir=data_dir, investigation=investigation)
    cluster = SimulatedCluster(SCENARIOS["input-size-surge"], clock)
    return build_sim_flow(settings, cluster, clock, embedder)


def incident(annotations: dict[str, str] | None = None) -> Incident:
    return Incident("INC-0001", "f", "g", "RecommenderLatencyHigh", "recommender", "shop", "open",
                    START, START, None, LABELS, annotations or {})  # fmt: skip


@pytest.mark.slow
def test_a_surge_that_began_before_the_lead_is_judged_from_its_onset(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    flow = sim_flow(tmp_path, embedder)
    inv = flow.investigate(incident())
    assert inv.window.why == "onset"
    assert abs(inv.window.split - SURGE_BEGAN) <= 15  # one sample
    assert inv.window.split - inv.window.baseline_start == 3600  # the baseline keeps its hour
    found = {f.metric for f in inv.findings}
    # With the fixed 15-minute lead the baseline held 5 minutes of the surge and these two
    # looked normal.
    assert {"cpu_utilization_pct", "cache_memory_bytes", "latency_p95_ms"} <= found
    _, blocks = diagnosis_head(incident(), inv, flow.catalog)
    said = json.dumps(blocks)
    assert "Suspect window" in said and "from the onset of p95 latency" in said


@pytest.mark.slow
def test_without_a_lookback_the_window_stays_at_the_lead(
    tmp_path: Path, embedder: MiniLMEmbedding
) -> None:
    inv = sim_flow(tmp_path, embedder, max_lookback_minutes=0).investigate(incident())
    assert inv.window.why == "alert" and inv.window.split == START - 15 * 60


@pytest.mark.slow
def test_a_window_asked_for_is_used_as_given(tmp_path: Path, embedder: MiniLMEmbedding) -> None:
    inv = sim_flow(tmp_path, embedder).investigate(incident({"medic_since": "45m"}))
    assert inv.window.why == "asked"
    assert inv.window.end - inv.window.split == 45 * 60
    assert "the last 45 min, as asked" in inv.window.describe()


SETTINGS = InvestigationSettings()


@pytest.mark.parametrize("asked", ["soon", "30s", "0m", "9" * 400 + "h", "<!channel>"])
def test_a_window_asked_for_in_a_form_that_is_not_a_duration_is_ignored_and_said(
    asked: str,
) -> None:
    window = suspect_window(START, {"medic_since": asked}, START, SETTINGS)
    assert window.why == "alert" and window.split == START - 15 * 60
    assert "ignored medic_since" in window.note and len(window.note) < 200


def test_a_window_asked_for_beyond_the_longest_is_cut_to_the_most_recent_part() -> None:
    window = suspect_window(START, {"medic_since": "30d"}, START, SETTINGS)
    assert window.end - window.baseline_start == 360 * 60  # max_window_minutes
    assert "longer than the longest window" in window.note


def test_the_longest_since_the_command_line_takes_is_cut_not_ignored() -> None:
    """`medic investigate SERVICE --since 99999999d` is a duration the command line accepts; the
    alert it makes carries it in seconds (13 digits), and the window read it as no duration."""
    asked = manual_alert("recommender", "shop", START, since=parse_window("99999999d"))
    window = suspect_window(START, asked["annotations"], START, SETTINGS)
    assert window.why == "asked"
    assert window.end - window.baseline_start == 360 * 60  # max_window_minutes
    assert "longer than the longest window" in window.note


def finding(start: float, end: float) -> Finding:
    return Finding(metric="latency_p95_ms", labels={}, start=start, end=end,
                   direction=Direction.UP, baseline=100.0, observed=300.0, magnitude=3.0,
                   confidence=0.9, detector="rarity")  # fmt: skip


def latency(levels: list[tuple[float, float]]) -> Series:
    """p95 latency every 15 s over the last two hours: ``levels`` are (since, value), in order."""
    t = np.arange(START - 7200, START, 15.0)
    values = np.full(t.shape, 100.0)
    for since, value in levels:
        values[t >= since] = value
    values += np.random.default_rng(7).normal(0, 2, t.size)
    return Series.of("latency_p95_ms", t, values)


WINDOW = Window(START - 75 * 60, START - 15 * 60, START)
EARLIEST = START - 75 * 60  # the probe's split: 60 minutes further back


def test_the_onset_is_where_the_level_of_now_began_not_an_odd_point_before_it() -> None:
    # a one-minute blip 50 minutes ago, then the surge 25 minutes ago: the detectors' finding
    # starts at the blip, but the trouble started with the surge
    series = latency([(START - 50 * 60, 400.0), (START - 49 * 60, 100.0), (START - 25 * 60, 300.0)])
    began = onset(WINDOW, EARLIEST, [finding(START - 50 * 60, START)], [series])
    assert began is not None and abs(began[0] - (START - 25 * 60)) <= 15


def test_a_blip_that_ended_before_the_window_or_a_change_inside_it_moves_nothing() -> None:
    blip = latency([(START - 50 * 60, 400.0), (START - 45 * 60, 100.0)])
    assert onset(WINDOW, EARLIEST, [finding(START - 50 * 60, START - 45 * 60)], [blip]) is None
    inside = latency([(START - 10 * 60, 300.0)])
    assert onset(WINDOW, EARLIEST, [finding(START - 10 * 60, START)], [inside]) is None


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--since", "3x"], "--since '3x' is not a duration of a minute or more"),
        (["--since", "30s"], "is not a duration of a minute or more"),
        (["--since", "9" * 5000 + "m"], "is not a duration of a minute or more"),
        (["--since", "<!channel>"], "is not a duration of a minute or more"),
        (["--since", "30m", "--alert", "alert.json"], "--since is for a SERVICE"),
    ],
)
def test_a_window_that_is_not_one_is_refused_in_one_line(argv: list[str], says: str) -> None:
    if "--alert" in argv:
        args = ["investigate", "--cluster", "sim", *argv]
    else:
        args = ["investigate", "recommender", "--cluster", "sim", *argv]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and len(result.stderr) < 300


def test_markup_in_a_slack_since_is_shown_as_text() -> None:
    parsed = parse_command("investigate recommender since <!channel><https://evil.example|x>")
    assert isinstance(parsed, Help)
    answer = help_text(parsed.problem)
    assert "<!channel>" not in answer and "<https://evil" not in answer
    assert "&lt;!channel&gt;" in answer
