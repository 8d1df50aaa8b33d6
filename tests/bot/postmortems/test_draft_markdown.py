"""The draft written from a hostile record: every field from an alert, a label, a person or a tool
stays text when the Markdown is rendered (no link, image, tag, heading or extra table cell), and
stays bounded. Rendered with markdown-it-py (CommonMark with tables and raw HTML on, as a wiki
that allows HTML would)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from markdown_it import MarkdownIt

from bot.database import state_engine
from bot.diagnosis.signals import Glossary
from bot.incidents import Incident
from bot.postmortems.draft import postmortem_markdown
from bot.postmortems.escape import md_plain, md_text
from bot.postmortems.record import IncidentFile
from bot.postmortems.store import PostmortemStore, VerificationEntry
from tools.actions import Action
from tools.proposals import Proposal, ProposalStatus

HOSTILE = (
    "<!channel> [click me](https://evil.example/x) ![p](http://evil.example/p.png) "
    '<img src=x onerror="alert(1)"> <script>alert(2)</script> **loud** `code` | cell | '
    "www.evil.example ~~gone~~ &amp; \n# Injected heading\n- injected item"
)
T0 = 1_800_000_000.0


def hostile_file() -> IncidentFile:
    incident = Incident(
        id="INC-0042",
        fingerprint="f" * 16,
        group_key="g",
        alertname="Latency" + HOSTILE,
        service="recommender",
        namespace="shop",
        status="resolved",
        starts_at=T0,
        created_at=T0 + 60,
        resolved_at=T0 + 900,
        labels={"alertname": "Latency", "team": HOSTILE, HOSTILE[:30]: "x" * 5000},
        annotations={"summary": HOSTILE + "y" * 5000},
    )
    proposal = Proposal(
        id="p1",
        incident_id="INC-0042",
        action=Action("scale", "shop", "recommender", {"replicas": 6}),
        digest="d",
        status=ProposalStatus.SUCCEEDED,
        source="runbook:" + HOSTILE,
        requested_by="medic",
        cluster="",
        rationale="",
        preview="scale",
        recipe={},
        created_at=T0 + 120,
        expires_at=T0 + 3600,
        decided_by="U1" + HOSTILE,
        decided_at=T0 + 180,
        started_at=T0 + 181,
        finished_at=T0 + 200,
        outcome="scaled " + HOSTILE,
    )
    return IncidentFile(
        incident=incident,
        investigation=None,
        plan=None,
        proposals=[proposal],
        verifications=[VerificationEntry(T0 + 800, True, [HOSTILE], "")],
    )


def test_a_hostile_record_renders_as_text_only() -> None:
    markdown = postmortem_markdown(hostile_file(), Glossary(), T0 + 1000)
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    assert "<a " not in rendered and "href" not in rendered
    assert "<img" not in rendered and "<script" not in rendered
    assert "<del>" not in rendered and "<s>" not in rendered
    assert "Injected heading" not in "".join(re.findall(r"<h\d>.*?</h\d>", rendered))
    # The hostile text is still there for a reader, as text.
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in rendered
    assert "**loud**" in rendered and "[click me]" in rendered
    # A `|` in a field never adds a table cell: every row has the two columns.
    rows = re.findall(r"<tr>(.*?)</tr>", rendered, re.DOTALL)
    assert len(rows) > 5
    assert all(len(re.findall(r"<t[dh]>", row)) == 2 for row in rows)
    # Nothing from the record starts a line of its own, and no field runs on.
    assert not any(line.startswith(("# Injected", "- injected")) for line in markdown.splitlines())
    assert max(len(line) for line in markdown.splitlines()) < 2500
    assert "y" * 500 not in markdown and "x" * 500 not in markdown


def test_the_draft_states_the_record_in_order() -> None:
    markdown = postmortem_markdown(hostile_file(), Glossary(), T0 + 1000)
    rows = [line for line in markdown.splitlines() if line.startswith("| 20")]
    kinds = [
        next(
            k
            for k in ("Alert", "Medic opened", "Proposed", "Approved", "Ran", "Verif", "INC")
            if k in row.split("|")[2]
        )
        for row in rows
    ]
    assert kinds == ["Alert", "Medic opened", "Proposed", "Approved", "Ran", "Verif", "INC"]
    assert "**Duration:** 15 min (alert to resolution)" in markdown
    assert "Approved by U1" in markdown


def test_escaping_round_trips_to_what_a_reader_sees() -> None:
    assert md_plain(md_text("a_b <c> [d](e) | f & g")) == "a_b <c> [d](e) | f & g"
    assert md_plain(md_text("see https://x.example/a and www.y.example")) == (
        "see https[:]//x.example/a and www[.]y.example"
    )
    assert md_text("z" * 50, limit=10) == "z" * 9 + "…"


def test_an_absurd_time_and_a_thousand_actions_still_make_a_bounded_draft() -> None:
    file = hostile_file()
    many = [replace(file.proposals[0], id=f"p{i}", created_at=T0 + i) for i in range(1000)]
    absurd = replace(file.incident, starts_at=1e300)
    markdown = postmortem_markdown(replace(file, incident=absurd, proposals=many), Glossary(), T0)
    assert "(time out of range)" in markdown
    assert "_and 992 more actions (see the timeline)_" in markdown
    assert "more events_" in markdown  # the timeline keeps its head and its tail
    assert len(markdown) < 200_000


def test_the_same_draft_saved_twice_at_once_keeps_one_whole(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    store = PostmortemStore(state_engine(tmp_path / "state"))
    texts = [f"# draft {i}\n" + "x" * 10_000 for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda t: store.save_draft("INC-0001", t, "record", "", T0), texts))
    saved = store.draft("INC-0001")
    assert saved is not None and saved.markdown in texts
