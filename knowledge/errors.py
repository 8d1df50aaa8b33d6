"""Errors of the knowledge package."""


class KnowledgeError(Exception):
    """The memory, the model or a log source could not do what was asked."""


class LogSourceError(KnowledgeError):
    """Logs could not be read; the investigation continues without them."""
