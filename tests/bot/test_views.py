"""The diagnosis reads the same in Slack and on the terminal: the same items, cut at the same
caps, each surface escaping what it shows."""

from __future__ import annotations

from rich.console import Console

from bot import messages
from bot.cli.render import ThreadPrinter
from bot.diagnosis.hypotheses import Evidence, Hypothesis
from bot.diagnosis.investigation import Investigation, Window
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from bot.slack.blocks import diagnosis_head
from detectors import Direction, Finding
from knowledge.templates import TemplateChanges, TemplateStat
from tests.bot.slack.fake_slack import Message

T0 = 1_800_000_000.0
METRICS = [f"custom_metric_{i:02d}" for i in range(11)]  # not in the catalog: shown by key
INCIDENT = Incident(
    "INC-0042", "fp", "g", "Errors", "shop", "default", "open", T0, T0, None, {}, {}
)
TITLE = "Cause {} [bold]<!channel>[/bold]"  # rich markup and a Slack mention, from the data


def finding(metric: str) -> Finding:
    return Finding(
        metric=metric, labels={}, start=T0, end=T0 + 600, direction=Direction.UP,
        baseline=10.0, observed=40.0, magnitude=4.0, confidence=0.9, detector="robust",
    )  # fmt: skip


def template(i: int) -> TemplateStat:
    """The ``i``-th busiest is the fastest; the six fastest are shown."""
    return TemplateStat(f"worker {i} failed <*>", "ERROR", 0, 5 + i, 0.0, 1.0 + i, "")


def hypothesis(i: int) -> Hypothesis:
    evidence = [Evidence("metric", f"evidence {i}.{j}", 0.5) for j in range(6)]
    return Hypothesis(f"cause-{i}", TITLE.format(i), score=0.9 - i / 10, evidence=evidence)


def investigation() -> Investigation:
    templates = TemplateChanges(new=[template(i) for i in range(8)], surging=[], total_templates=8)
    return Investigation(
        incident_id="INC-0042", window=Window(0.0, 1.0, 2.0), series=[],
        findings=[finding(m) for m in METRICS], templates=templates, similar=[],
        hypotheses=[hypothesis(i) for i in range(6)], symptoms=[],
    )  # fmt: skip


def terminal(inv: Investigation) -> str:
    console = Console(record=True, width=300)
    ThreadPrinter(console, Glossary()).investigation(inv, [])
    return console.export_text()


def slack(inv: Investigation) -> str:
    """What a Slack reader sees (entities decoded)."""
    text, blocks = diagnosis_head(INCIDENT, inv, Glossary())
    return Message("C1", "1.1", text, blocks, "1.0").all_text()


def test_both_surfaces_show_the_same_items_cut_at_the_same_caps() -> None:
    shown = {"terminal": terminal(investigation()), "slack": slack(investigation())}
    for surface, text in shown.items():
        assert [m for m in METRICS if m in text] == METRICS[:8], surface
        assert messages.AND_MORE.format(count=3) in text, surface
        assert [i for i in range(8) if f"worker {i} failed" in text] == [2, 3, 4, 5, 6, 7], surface
        assert [i for i in range(6) if f"Cause {i}" in text] == [0, 1, 2, 3], surface
        assert [j for j in range(6) if f"evidence 0.{j}" in text] == [0, 1, 2, 3], surface


def test_each_surface_shows_markup_from_the_data_as_written() -> None:
    title = TITLE.format(0)
    assert title in terminal(investigation())  # rich markup in the data is not read
    assert title in slack(investigation())  # decoded as the reader sees it
    sent = diagnosis_head(INCIDENT, investigation(), Glossary())
    assert "<!channel>" not in str(sent)  # escaped in what is sent
