"""Where it started, as the thread and the terminal show it: the origin named with its timing and
its place in the call path, the first candidates with their evidence cut at the same caps on both
surfaces, markup from the data shown as text, and nothing when no ranking ran."""

from __future__ import annotations

import dataclasses
import json

from rich.console import Console

from bot import messages
from bot.cli.render import ThreadPrinter
from bot.conversation import IncidentEvidence, answer
from bot.diagnosis.assembly import Diagnosis
from bot.diagnosis.candidates import Candidate
from bot.diagnosis.investigation import Investigation
from bot.diagnosis.origins import Origins
from bot.diagnosis.signals import Glossary
from bot.diagnosis.stored import from_json, to_json
from bot.diagnosis.window import Window
from bot.incidents import Incident
from bot.planners.combine import Plan
from bot.slack.blocks import diagnosis_head
from detectors import Direction, Finding
from knowledge.origins import Origin
from knowledge.ranking import RankedCause
from knowledge.templates import TemplateChanges
from tests.bot.slack.fake_slack import Message

T0 = 1_800_000_000.0  # 08:00 UTC
FRONTEND = Incident(
    "INC-0014", "fp", "g", "FrontendLatencyHigh", "frontend", "shop", "open", T0, T0, None, {},
    {"summary": "frontend p95 latency above 300 ms"},
)  # fmt: skip


def ranked(
    name: str,
    score: float,
    began: float | None,
    evidence: list[str],
    channels: dict[str, float],
    downstream_of: str | None = None,
) -> Origin:
    return Origin(RankedCause(name, score, evidence, began, channels), downstream_of)


def shop_origins(*extra: Origin, alerting: str = "frontend") -> Origins:
    """checkout (called by frontend) slow since 08:00; frontend downstream of it from 08:04."""
    found = [
        ranked("checkout", 6.8, T0, ["latency_p95_ms +51.7 robust z against the hour before"],
               {"latency": 6.4}),
        ranked("frontend", 14.5, T0 + 240, ["error_ratio +90.6 robust z against the hour before"],
               {"latency": 7.3, "errors": 3.8}, downstream_of="checkout"),
        ranked("recommender", 0.4, None, [], {}),
        *extra,
    ]  # fmt: skip
    relations = {
        alerting: Candidate(alerting, "alerting", 0),
        "checkout": Candidate("checkout", "calls", 1),
        "recommender": Candidate("recommender", "namespace", None),
        **{o.service: Candidate(o.service, "namespace", None) for o in extra},
    }
    return Origins(
        found, relations, frozenset({"frontend", "checkout"}), {"frontend": ["checkout"]}
    )


def investigation(origins: Origins | None = None) -> Investigation:
    p95 = Finding(
        metric="latency_p95_ms", labels={}, start=T0 + 240, end=T0 + 900, direction=Direction.UP,
        baseline=90.0, observed=650.0, magnitude=7.2, confidence=1.0, detector="robust",
    )  # fmt: skip
    return Investigation(
        incident_id=FRONTEND.id, window=Window(T0 - 3600, T0 - 600, T0 + 900), series=[],
        findings=[p95], templates=TemplateChanges([], [], 0), similar=[], hypotheses=[],
        symptoms=[], origins=origins or Origins([], {}, frozenset()),
    )  # fmt: skip


def terminal(inv: Investigation) -> str:
    console = Console(record=True, width=400)
    ThreadPrinter(console, Glossary()).investigation(inv, [])
    return console.export_text()


def slack(inv: Investigation) -> tuple[str, str]:
    """(what is sent, what a Slack reader sees with entities decoded)."""
    text, blocks = diagnosis_head(FRONTEND, inv, Glossary())
    return json.dumps([text, blocks]), Message("C1", "1.1", text, blocks, "1.0").all_text()


def test_the_thread_and_the_terminal_name_the_origin_its_onset_and_the_call_path() -> None:
    inv = investigation(shop_origins())
    _, seen = slack(inv)
    shown = {"slack": seen, "terminal": terminal(inv)}
    for surface, text in shown.items():
        assert messages.HEADING_ORIGIN in text, surface
        assert "Most likely origin: checkout (latency out of the ordinary since " in text, surface
        assert (
            "4 min before frontend's p95 latency rose); frontend calls it and is affected "
            "downstream." in text
        ), surface
        assert "frontend  score 14.50; the alerting service; downstream of checkout" in (
            text.replace("*", "").replace(" - score", "  score")
        ), surface
        assert "checkout  score 6.80; called by frontend; first deviated at " in (
            text.replace("*", "").replace(" - score", "  score")
        ), surface
        assert "recommender  score 0.40; same namespace as frontend, no known call; no timed " \
            "deviation; metrics read, logs not" in (
            text.replace("*", "").replace(" - score", "  score")
        ), surface  # fmt: skip
    assert "08:00 UTC, 4 min before" in shown["terminal"]
    assert "; likely origin: checkout" in seen.splitlines()[0]  # the notification


def test_when_the_alerting_service_is_the_origin_the_thread_says_so() -> None:
    own = Origins(
        [ranked("frontend", 11.6, T0 + 240, ["latency_p95_ms +81.7"], {"latency": 6.9}),
         ranked("checkout", 0.3, None, [], {"saturation": 0.3})],
        {"frontend": Candidate("frontend", "alerting", 0),
         "checkout": Candidate("checkout", "calls", 1)},
        frozenset({"frontend"}),
    )  # fmt: skip
    inv = investigation(own)
    for text in (slack(inv)[1], terminal(inv)):
        assert "Most likely origin: frontend itself (latency out of the ordinary since " in text
        assert "UTC); the 1 other service(s) looked at (checkout) show weaker evidence." in (
            text.replace("<!date^1800000240^{time}|08:04 UTC>", "08:04 UTC")
        )
        assert "; likely origin:" not in text  # the notification names no other service


def test_a_weak_leader_is_not_called_the_origin() -> None:
    weak = Origins(
        [ranked("checkout", 0.6, T0, ["a template"], {"errors": 0.6}),
         ranked("frontend", 0.5, None, [], {"latency": 0.5})],
        {"frontend": Candidate("frontend", "alerting", 0),
         "checkout": Candidate("checkout", "calls", 1)},
        frozenset({"frontend"}),
    )  # fmt: skip
    for text in (slack(investigation(weak))[1], terminal(investigation(weak))):
        assert "No service stands out as the origin among the 2 looked at" in text
        assert "Most likely origin" not in text


def test_both_surfaces_show_the_first_three_candidates_and_three_pieces_of_evidence_each() -> None:
    long = "1 new or surging error templates: " + "WARN very long template <*> " * 20
    extra = [
        ranked(f"svc-{i}", 0.2 - i / 100, None, [long, "second", "third", "fourth"], {})
        for i in range(4)
    ]
    busy = shop_origins(*extra)
    busy.ranked[0].cause.evidence[:] = [long, "second", "third", "fourth"]
    inv = investigation(busy)
    for surface, text in {"slack": slack(inv)[1], "terminal": terminal(inv)}.items():
        assert "recommender" in text and "svc-0" not in text, surface
        assert messages.AND_MORE.format(count=4) in text, surface
        assert "third" in text and "fourth" not in text, surface
        assert long not in text and long[:200] in text, surface  # cut, not dropped


def test_markup_in_a_service_name_or_evidence_is_shown_as_text() -> None:
    hostile = "<!channel> [bold]pwn[/bold] *x* <https://evil.example|click>"
    origins = Origins(
        [ranked("checkout<@U0BOSS>", 6.8, T0, [hostile], {"latency": 6.4}),
         ranked("frontend", 1.0, T0 + 240, [], {"latency": 1.0})],
        {"frontend": Candidate("frontend", "alerting", 0),
         "checkout<@U0BOSS>": Candidate("checkout<@U0BOSS>", "calls", 1)},
        frozenset(),
    )  # fmt: skip
    inv = investigation(origins)
    sent, seen = slack(inv)
    assert "<!channel>" not in sent and "<@U0BOSS>" not in sent and "<https://" not in sent
    assert hostile in seen and "Most likely origin: checkout<@U0BOSS> (" in seen
    shown = terminal(inv)
    assert hostile in shown and "checkout<@U0BOSS>" in shown  # rich markup not read


def test_without_a_ranking_nothing_is_said_about_an_origin() -> None:
    inv = investigation()
    for text in (slack(inv)[1], terminal(inv)):
        assert messages.HEADING_ORIGIN not in text and "origin" not in text


def test_a_diagnosis_kept_before_origins_reads_back_and_renders() -> None:
    kept = json.loads(to_json(Diagnosis(investigation(shop_origins()), Plan())))
    assert kept["investigation"]["origins"]["ranked"][0]["cause"]["component"] == "checkout"
    del kept["investigation"]["origins"]  # as a version before issue 14 wrote it
    old = from_json(json.dumps(kept))
    assert old.investigation == dataclasses.replace(investigation(), series=[])
    assert "Medic investigated INC-0014" in slack(old.investigation)[1]
    assert messages.HEADING_ORIGIN not in terminal(old.investigation)
    again = from_json(to_json(Diagnosis(investigation(shop_origins()), Plan())))
    assert again.investigation.origins == shop_origins()  # kept across a restart


def test_an_origin_two_calls_away_is_placed_on_the_path() -> None:
    # The ranking led with payments on its own evidence: the call path marked nobody downstream,
    # and the known calls among the services looked at say who calls whom.
    cascade = Origins(
        [ranked("payments", 2.6, T0, ["pod_restarts_per_min +1109.2"], {"saturation": 2.3}),
         ranked("checkout", 0.7, T0 + 60, ["ERROR payments Charge failed"], {"errors": 0.3}),
         ranked("frontend", 0.7, T0, [], {"errors": 0.5})],
        {"frontend": Candidate("frontend", "alerting", 0),
         "checkout": Candidate("checkout", "calls", 1),
         "payments": Candidate("payments", "calls", 2)},
        frozenset({"frontend", "checkout", "payments"}),
        {"frontend": ["checkout"], "checkout": ["payments"]},
    )  # fmt: skip
    inv = investigation(cascade)
    for text in (slack(inv)[1], terminal(inv)):
        assert "Most likely origin: payments (cpu saturation out of the ordinary since " in text
        assert "frontend calls it through 1 other service(s) and is affected downstream." in text
        assert "called by frontend through 1 other service(s)" in text

    def why_not(name: str) -> str:
        return answer(f"why not {name}?", IncidentEvidence(FRONTEND, inv), Glossary()).text

    assert "checkout calls payments and is affected downstream: checkout turned abnormal at " \
        "08:01 UTC, 1 min after payments did (08:00 UTC)." in why_not("checkout")  # fmt: skip
    assert "checkout's evidence is weak" in why_not("checkout")
    frontend = why_not("frontend")
    assert "frontend calls payments through 1 other service(s) and is affected downstream: " \
        "frontend turned abnormal at 08:04 UTC, 4 min after payments" in frontend  # fmt: skip
    assert "weak" not in why_not("frontend")  # it paged: its own symptoms are in the thread
