"""Two Medic replicas on one PostgreSQL, in this process (each with its own data directory, inbox
and Slack delivery, sharing the fake Slack and the simulated cluster), and the instruments the
replica suite uses on them: notifications handed to both at the same instant, investigations
counted, a replica whose investigation dies as a killed process's does."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.diagnosis.budget import Budget
from bot.diagnosis.investigation import Investigation
from bot.incidents import Incident
from tests.bot.slack.fake_slack import FakeSlack, Message
from tests.bot.slack.harness import ALERTS, Medic


class Killed(BaseException):
    """Stands for the process dying mid-investigation: nothing below catches it, nothing is
    saved or released, the lease is no longer renewed."""


@dataclass
class Replicas:
    """Replicas ``a`` and ``b``, the investigations each ran, and the fake Slack they post to."""

    a: Medic
    b: Medic
    slack: FakeSlack
    investigated: list[tuple[str, str]] = field(default_factory=list)  # (replica, incident)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def both(self) -> tuple[Medic, Medic]:
        return self.a, self.b

    def deliver(self, payload: dict[str, Any]) -> None:
        """Post one notification to both replicas at once, as an Alertmanager HA pair does."""
        answers: list[httpx.Response] = []
        barrier = threading.Barrier(2)

        def post(medic: Medic) -> None:
            barrier.wait(timeout=10)
            answers.append(medic.alert(payload))

        senders = [threading.Thread(target=post, args=(m,)) for m in self.both]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=30)
        assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]

    def settle(self, timeout: float = 120) -> None:
        for medic in self.both:
            medic.settle(timeout)
        for medic in self.both:  # what one replica did may have woken the other
            medic.settle(timeout)

    def side_by_side(self) -> None:
        """Each notification's incidents are opened by both replicas at the same instant: the
        race an HA pair's duplicate deliveries run, every time instead of now and then."""
        barrier = threading.Barrier(2)
        for medic in self.both:
            incidents = medic.service.threads.flow.incidents
            open_or_attach = incidents.open_or_attach

            def together(*args: Any, _real: Callable[..., Any] = open_or_attach,
                         **kwargs: Any) -> Any:  # fmt: skip
                try:
                    barrier.wait(timeout=5)
                except threading.BrokenBarrierError:
                    barrier.reset()
                return _real(*args, **kwargs)

            incidents.open_or_attach = together  # type: ignore[method-assign]

    def count_investigations(self, die: Callable[[str, int], bool] = lambda _r, _n: False) -> None:
        """Record every investigation each replica starts; ``die(replica, n)`` True makes the
        replica's n-th one (from 1) die as a killed process's would."""
        for name, medic in zip("ab", self.both, strict=True):
            flow = medic.service.threads.flow
            investigate = flow.investigate

            def counted(
                incident: Incident,
                budget: Budget | None = None,
                *,
                _name: str = name,
                _real: Callable[..., Investigation] = investigate,
            ) -> Investigation:
                with self._lock:
                    self.investigated.append((_name, incident.id))
                    n = sum(1 for r, _ in self.investigated if r == _name)
                if die(_name, n):
                    raise Killed(f"replica {_name} killed mid-investigation")
                return _real(incident, budget)

            flow.investigate = counted  # type: ignore[method-assign]

    # --- what Slack shows ---------------------------------------------------------------------
    def roots(self) -> list[Message]:
        return self.slack.roots(ALERTS)

    def diagnoses(self, root: Message) -> list[Message]:
        return [m for m in self.slack.thread(root.ts) if "Medic investigated" in m.all_text()]

    def notes(self, root: Message, words: str) -> list[Message]:
        return [m for m in self.slack.thread(root.ts) if words in m.all_text()]


def second_data_dir(first: Path) -> Path:
    """A data directory of its own for replica b (its inbox, its embedded vector store), copied
    from replica a's seeded one."""
    second = first.with_name(first.name + "-b")
    shutil.copytree(first, second)
    return second
