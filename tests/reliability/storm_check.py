"""What Medic holds after a storm, read from its state database and the fake Slack, judged
against the notifications the replicas accepted (answered 200):

- lost: an accepted group without its thread or without its root posted in Slack, an accepted
  firing alert without an incident in its group's thread (unless a notification of the group is
  still in a replica's inbox: then it is late), an accepted notification an inbox gave up on;
- duplicates: more incidents for an alert than it had firing episodes, an alert open twice, an
  incident in no thread (left by an intake retried after a conflict), two investigations of one
  service in one thread, two root messages for one group;
- undone: a lead incident never investigated, a thread whose diagnosis never reached Slack, an
  alert left open after its group resolved it, a firing alert without an open incident, a
  refiring alert without a new investigation, a Slack post given up.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.bot.slack.fake_slack import FakeSlack
from tests.reliability.storm_plan import Notification, StormPlan


@dataclass(frozen=True)
class Link:
    thread: str
    lead: bool
    investigated: bool
    service: str


@dataclass
class HeldState:
    threads: set[str]
    roots: set[str]  # thread keys whose root message Slack took
    incidents: dict[str, list[tuple[int, str]]]  # fingerprint -> (seq, status), oldest first
    links: dict[int, Link]  # incident seq -> its place in a thread
    diagnosed: set[int]  # seqs whose diagnosis reached Slack
    root_items: dict[int, str]  # outbox item id of a root post -> thread key
    outbox_dead: int
    waiting: set[str] = field(default_factory=set)  # groups with a notification still in an inbox
    given_up: int = 0  # accepted notifications an inbox gave up on

    def read_inboxes(self, inboxes: list[Path]) -> None:
        """What the replicas' inboxes still hold (not taken in yet) and gave up on."""
        for path in inboxes:
            with closing(sqlite3.connect(path)) as db:
                for status, body in db.execute(
                    "SELECT status, body FROM alert_inbox WHERE status != 'done'"
                ):
                    if status == "failed":
                        self.given_up += 1
                    else:
                        self.waiting.add(str(json.loads(body).get("groupKey", "")))

    def open_count(self, fingerprint: str) -> int:
        return sum(status == "open" for _seq, status in self.incidents.get(fingerprint, []))


def read_state(url: str) -> HeldState:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            threads = set(conn.execute(text("SELECT key FROM slack_threads")).scalars())
            messages = conn.execute(text("SELECT thread_key, ref FROM slack_messages")).all()
            incidents: dict[str, list[tuple[int, str]]] = defaultdict(list)
            for seq, fingerprint, status in conn.execute(
                text("SELECT seq, fingerprint, status FROM incidents ORDER BY seq")
            ):
                incidents[fingerprint].append((int(seq), str(status)))
            links = {
                int(i.removeprefix("INC-")): Link(str(k), bool(lead), bool(inv), str(service))
                for i, k, lead, inv, service in conn.execute(text(
                    "SELECT incident_id, thread_key, lead, investigated, service "
                    "FROM slack_thread_incidents"
                ))
            }  # fmt: skip
            root_items = {
                int(i): str(k)
                for i, k in conn.execute(
                    text("SELECT id, thread_key FROM slack_outbox WHERE ref = 'root'")
                )
            }
            dead = conn.execute(
                text("SELECT count(*) FROM slack_outbox WHERE status = 'dead'")
            ).scalar_one()
    finally:
        engine.dispose()
    diagnosed = {
        int(ref.removeprefix("diagnosis:INC-"))
        for _key, ref in messages
        if ref.startswith("diagnosis:INC-")
    }
    return HeldState(
        threads=threads,
        roots={key for key, ref in messages if ref == "root"},
        incidents=dict(incidents),
        links=links,
        diagnosed=diagnosed,
        root_items=root_items,
        outbox_dead=int(dead),
    )


def roots_in_slack(slack: FakeSlack, channel: str, root_items: dict[int, str]) -> Counter[str]:
    """Root messages Slack shows per thread key, from the outbox item each one carries."""
    found: Counter[str] = Counter()
    for message in slack.roots(channel):
        mark = ((message.metadata or {}).get("event_payload") or {}).get("item", "")
        item = str(mark).partition("@")[0]
        if item.isdigit() and int(item) in root_items:
            found[root_items[int(item)]] += 1
    return found


@dataclass
class Verdict:
    lost: dict[str, int] = field(default_factory=dict)
    late: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    undone: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass
class _Expected:
    """What the accepted notifications ask for, group by group in the order they were sent."""

    episodes: Counter[str]  # fingerprint -> times it began firing
    final_firing: set[str]
    final_resolved: set[str]

    @classmethod
    def of(cls, notifications: list[Notification]) -> _Expected:
        by_group: dict[int, list[Notification]] = defaultdict(list)
        for n in sorted(notifications, key=lambda n: n.at):
            by_group[n.group].append(n)
        expected = cls(Counter(), set(), set())
        for sequence in by_group.values():
            firing: set[str] = set()
            for n in sequence:
                expected.episodes.update(f for f in n.firing if f not in firing)
                firing = set(n.firing)
            expected.final_firing |= set(sequence[-1].firing)
            expected.final_resolved |= set(sequence[-1].resolved)
        return expected


def judge(
    plan: StormPlan, accepted: list[Notification], held: HeldState, roots: Counter[str]
) -> Verdict:
    verdict = Verdict()
    expected = _Expected.of(accepted)
    keys = {plan.group_keys[n.group] for n in accepted}

    def thread_of(fingerprint: str) -> str:
        return plan.group_keys[plan.group_of[fingerprint]]

    def in_thread(seq: int, key: str) -> bool:
        link = held.links.get(seq)
        return link is not None and link.thread == key

    missing = {
        "group without thread": keys - held.threads,
        "thread without its root in Slack": (keys & held.threads) - held.roots,
        "alert without incident in its thread": {
            f for f in expected.episodes
            if not any(in_thread(seq, thread_of(f)) for seq, _s in held.incidents.get(f, []))
        },
    }  # fmt: skip
    # A group with a notification still in an inbox is late, not lost: it is taken in later.
    lost = {what: {i for i in items if (thread_of(i) if what.startswith("alert") else i)
                   not in held.waiting} for what, items in missing.items()}  # fmt: skip
    verdict.lost = {what.replace(" ", "_"): len(items) for what, items in lost.items()}
    verdict.lost["notifications_given_up"] = held.given_up
    verdict.late = {
        "groups_with_a_notification_still_in_an_inbox": len(keys & held.waiting),
        **{what.replace(" ", "_"): len(missing[what]) - len(lost[what]) for what in missing},
    }
    for what, items in lost.items():
        verdict.problems += [f"lost: {what}: {item}" for item in sorted(items)[:5]]

    ours = [seq for f in expected.episodes for seq, _s in held.incidents.get(f, [])]
    leads = Counter((link.thread, link.service) for link in held.links.values() if link.lead)
    verdict.duplicates = {
        "extra_incidents": sum(
            max(0, len(held.incidents.get(f, [])) - n) for f, n in expected.episodes.items()
        ),
        "alerts_open_twice": sum(1 for f in expected.episodes if held.open_count(f) > 1),
        "incidents_in_no_thread": sum(1 for seq in ours if seq not in held.links),
        "threads_investigating_a_service_twice": sum(
            1 for (key, _service), n in leads.items() if key in keys and n > 1
        ),
        "groups_with_two_roots_in_slack": sum(1 for key in keys if roots.get(key, 0) > 1),
    }

    refired = [
        seq
        for f, n in expected.episodes.items()
        if n > 1
        for seq, _status in held.incidents.get(f, [])[1:]
    ]
    diagnosed = {held.links[seq].thread for seq in held.diagnosed if seq in held.links}
    ours_leads = [link for link in held.links.values() if link.lead and link.thread in keys]
    verdict.undone = {
        "leads_not_investigated": sum(1 for link in ours_leads if not link.investigated),
        "threads_without_diagnosis_in_slack": len(keys - diagnosed),
        "alerts_open_after_their_group_resolved_them": sum(
            1 for f in expected.final_resolved if held.open_count(f)
        ),
        "firing_alerts_without_open_incident": sum(
            1 for f in expected.final_firing if not held.open_count(f)
        ),
        "refired_incidents_not_investigated": sum(
            1 for seq in refired if not (seq in held.links and held.links[seq].investigated)
        ),
        "slack_posts_given_up": held.outbox_dead,
    }
    verdict.counts = {
        "threads": len(keys & held.threads),
        "firing_episodes": sum(expected.episodes.values()),
        "incidents": len(ours),
        "investigated_leads": sum(1 for link in ours_leads if link.investigated),
        "slack_roots": sum(roots.get(key, 0) for key in keys),
    }
    return verdict
