"""Errors of the knowledge package."""


class KnowledgeError(Exception):
    """The memory, the model or a log source could not do what was asked."""


class LogSourceError(KnowledgeError):
    """Logs could not be read; the investigation continues without them."""


class CorpusError(KnowledgeError):
    """A benchmark corpus given to an evaluation is not one (missing, malformed or without
    bounds): the person's input, so the command line exits 2."""
