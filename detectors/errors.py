"""Errors of the detectors package: each says what was wrong and what to do next."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from detectors.series import Series


class DetectorError(Exception):
    """Base of the detectors package's errors."""


class MetricSourceError(DetectorError):
    """A metric source could not answer (unreachable, bad query); investigations go on without."""


class PartialMetricsError(MetricSourceError):
    """Some metrics could not be read and the others were: ``series`` holds what was read,
    ``failed`` says for each metric that was not why. A bad query costs only its own metric."""

    def __init__(self, series: list[Series], failed: Mapping[str, str]) -> None:
        super().__init__("; ".join(failed.values()))
        self.series = series
        self.failed = dict(failed)


class NabCorpusError(DetectorError):
    """A directory in NAB's layout is missing a file or holds one that cannot be used."""


class DetectorConfigError(DetectorError):
    """An ensemble names an unknown detector or gives it an unusable weight or parameter."""
