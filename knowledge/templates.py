"""Log template mining with Drain3, and what changed between a baseline and an incident window.

Messages are masked first and the masked text is cached, so repeated messages cost a dictionary
lookup rather than a walk of Drain's tree: ingest cost grows with distinct messages, not lines.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from drain3 import TemplateMiner as Drain3Miner
from drain3.template_miner_config import TemplateMinerConfig

from knowledge.logs import LogLine
from knowledge.masking import masking_instructions

LEVEL_ORDER = {"FATAL": 0, "CRITICAL": 0, "ERROR": 1, "WARN": 2, "WARNING": 2}
_MASK = re.compile(r"<[A-Z]+>|<\*>")
_SPACES = re.compile(r"\s+")


def readable(template: str) -> str:
    """A template without its placeholders, for embedding: 'Request payload bytes exceeds ...'."""
    return _SPACES.sub(" ", _MASK.sub(" ", template)).strip()


@dataclass(frozen=True)
class TemplateStat:
    """How often one template occurred before and during the incident (counts, rates per minute)."""

    template: str
    level: str
    baseline_count: int
    current_count: int
    baseline_rate: float
    current_rate: float
    example: str

    @property
    def is_new(self) -> bool:
        return self.baseline_count == 0

    @property
    def change(self) -> str:
        """'new', or the growth of the rate: '12x'."""
        if self.is_new:
            return "new"
        return f"{self.current_rate / max(self.baseline_rate, 1e-9):.0f}x"


@dataclass(frozen=True)
class TemplateChanges:
    """Templates that appeared (new) or grew sharply (surging) in the incident window."""

    new: list[TemplateStat]
    surging: list[TemplateStat]
    total_templates: int

    @property
    def abnormal(self) -> list[TemplateStat]:
        return sorted(
            self.new + self.surging,
            key=lambda s: (LEVEL_ORDER.get(s.level, 3), -s.current_rate),
        )


def default_config() -> TemplateMinerConfig:
    config = TemplateMinerConfig()
    config.masking_instructions = masking_instructions()
    config.mask_prefix, config.mask_suffix = "<", ">"
    config.drain_sim_th = 0.4
    config.drain_depth = 4
    config.profiling_enabled = False
    return config


class TemplateMiner:
    def __init__(self, config: TemplateMinerConfig | None = None) -> None:
        self._miner = Drain3Miner(config=config or default_config())
        self._by_masked: dict[str, int] = {}

    def cluster_of(self, line: LogLine) -> int:
        """The Drain cluster id of a line (its level is part of the template)."""
        text = f"{line.level} {line.message}" if line.level else line.message
        masked = self._miner.masker.mask(text.strip())
        cluster_id = self._by_masked.get(masked)
        if cluster_id is None:
            cluster, _ = self._miner.drain.add_log_message(masked)
            cluster_id = cluster.cluster_id
            self._by_masked[masked] = cluster_id
        return cluster_id

    def template(self, cluster_id: int) -> str:
        cluster = self._miner.drain.id_to_cluster.get(cluster_id)
        return cluster.get_template() if cluster is not None else ""

    def templates(self, lines: Iterable[LogLine]) -> list[str]:
        """Distinct templates of ``lines``, in order of first appearance."""
        ids = list(dict.fromkeys(self.cluster_of(line) for line in lines))
        return [self.template(i) for i in ids]

    def compare(
        self,
        baseline: Sequence[LogLine],
        current: Sequence[LogLine],
        baseline_minutes: float,
        current_minutes: float,
        *,
        surge_ratio: float = 3.0,
        min_count: int = 3,
    ) -> TemplateChanges:
        """New and surging templates of ``current`` against ``baseline`` (rates per minute)."""
        before = Counter(self.cluster_of(line) for line in baseline)
        examples: dict[int, LogLine] = {}
        after: Counter[int] = Counter()
        for line in current:
            cid = self.cluster_of(line)
            after[cid] += 1
            examples.setdefault(cid, line)
        base_minutes = max(baseline_minutes, 1.0)
        cur_minutes = max(current_minutes, 1.0)
        new: list[TemplateStat] = []
        surging: list[TemplateStat] = []
        for cid, count in after.items():
            if count < min_count:
                continue
            stat = TemplateStat(
                template=self.template(cid),
                level=examples[cid].level.upper(),
                baseline_count=before[cid],
                current_count=count,
                baseline_rate=before[cid] / base_minutes,
                current_rate=count / cur_minutes,
                example=examples[cid].message,
            )
            # one occurrence of smoothing, so a template seen once before is not "infinite" growth
            if stat.is_new:
                new.append(stat)
            elif stat.current_rate >= surge_ratio * (before[cid] + 1) / base_minutes:
                surging.append(stat)
        return TemplateChanges(new, surging, total_templates=len(set(before) | set(after)))
