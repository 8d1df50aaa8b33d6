"""Medic's one metric vocabulary: what metrics and log lines mean, read from ``vocabulary.yaml``.

Three parts of Medic speak about metrics and used to keep their own word lists: the diagnosis
(which metric is a symptom, a driver or a resource, which cause an abnormal one points to, which
log messages name a cause), the incident memory (which family a metric belongs to, so
``CpuUsageRate(%)`` and ``cpu_utilization`` match) and the root-cause ranking (which metrics feed
which kind of evidence). They now read one file, shipped with the code like the runbooks and the
policy, so a new metric or cause is one edit of data. It lives in ``knowledge`` because the memory
and the ranking need it and must not import ``bot``; the diagnosis in ``bot`` reads it from here.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

SignalKind = Literal["symptom", "driver", "resource"]
Unit = Literal["ms", "bytes", "pct", "rps", "ratio", "count"]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Signal(_Entry):
    """One of Medic's own metrics, by exact name: what it is and what an abnormal one means."""

    metric: str
    description: str
    kind: SignalKind
    unit: Unit
    bad_direction: Literal["up", "down"] = "up"  # compares equal to ``detectors.Direction``
    cause: str | None = None
    load: bool = False  # more work asked of the service (it explains changes that follow it)


class Cause(_Entry):
    key: str
    title: str
    description: str
    aliases: tuple[str, ...] = ()  # what people call it ("db pool"), for corrections


class LogSignature(_Entry):
    """A message that names its cause whatever the service: 'x509: certificate has expired'."""

    cause: str
    patterns: tuple[str, ...]  # alternatives: case-insensitive regular expressions over a template

    def matches(self, template: str) -> bool:
        return any(re.search(p, template, re.IGNORECASE) is not None for p in self.patterns)


class MetricFamily(_Entry):
    """What kind of quantity a metric measures, recognised by a pattern over its name."""

    name: str
    pattern: str


class Channel(_Entry):
    """A kind of evidence the root-cause ranking weighs, how it is said, and which metrics (by
    name pattern) feed it - none when it comes from logs or traces."""

    name: str
    says: str
    metrics: str | None = None


class VocabularyFile(_Entry):
    """The schema of ``vocabulary.yaml``."""

    families: tuple[MetricFamily, ...]
    channels: tuple[Channel, ...]
    signals: tuple[Signal, ...]
    causes: tuple[Cause, ...]
    log_signatures: tuple[LogSignature, ...]


@cache
def shipped_vocabulary() -> VocabularyFile:
    """The vocabulary shipped with Medic, parsed once per process. A plain safe load: the file is
    part of the code (tests read it), not input written at run time."""
    text = resources.files("knowledge").joinpath("vocabulary.yaml").read_text(encoding="utf-8")
    return VocabularyFile.model_validate(yaml.safe_load(text))


class Vocabulary:
    """Look-ups over the vocabulary: signals and causes by key, families and channels by metric
    name, causes named by a log template."""

    def __init__(self, source: VocabularyFile | None = None) -> None:
        data = source if source is not None else shipped_vocabulary()
        self._signals = {s.metric: s for s in data.signals}
        self._causes = {c.key: c for c in data.causes}
        self.log_signatures = data.log_signatures
        self._families = [(f.name, re.compile(f.pattern)) for f in data.families]
        self._channels = [(c.name, re.compile(c.metrics)) for c in data.channels if c.metrics]
        self.channel_words = {c.name: c.says for c in data.channels}

    @property
    def causes(self) -> list[Cause]:
        return list(self._causes.values())

    def signal(self, metric: str) -> Signal | None:
        return self._signals.get(metric)

    def cause(self, key: str) -> Cause:
        """The cause by key; an unknown key gets a title made from the key itself."""
        known = self._causes.get(key)
        if known is not None:
            return known
        title = key.replace("-", " ").capitalize()
        return Cause(key=key, title=title, description=title.lower())

    def signal_for_cause(self, key: str) -> Signal | None:
        return next((s for s in self._signals.values() if s.cause == key), None)

    def causes_named_by(self, template: str) -> list[str]:
        """The causes a log template names outright (usually none)."""
        return list(dict.fromkeys(s.cause for s in self.log_signatures if s.matches(template)))

    def family(self, metric: str) -> str:
        """``CpuUsageRate(%)`` and ``cpu_utilization`` are both ``cpu``; unknown names stay."""
        lowered = metric.lower()
        return next((name for name, pattern in self._families if pattern.search(lowered)), lowered)

    def channel(self, metric: str) -> str:
        """The ranking channel a metric feeds, from its name; ``other`` when none."""
        lowered = metric.lower()
        return next((name for name, pattern in self._channels if pattern.search(lowered)), "other")


@cache
def default_vocabulary() -> Vocabulary:
    """The shipped vocabulary, built once: what the memory and the ranking read."""
    return Vocabulary()
