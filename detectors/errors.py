"""Errors of the detectors package: each says what was wrong and what to do next."""


class DetectorError(Exception):
    """Base of the detectors package's errors."""


class MetricSourceError(DetectorError):
    """A metric source could not answer (unreachable, bad query); investigations go on without."""


class NabCorpusError(DetectorError):
    """A directory in NAB's layout is missing a file or holds one that cannot be used."""


class DetectorConfigError(DetectorError):
    """An ensemble names an unknown detector or gives it an unusable weight or parameter."""
