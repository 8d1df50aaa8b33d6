"""Errors the bot reports to people: each says what was wrong and what to do next."""


class MedicError(Exception):
    """A problem to report in one line, without a traceback."""

    exit_code = 1


class InputError(MedicError):
    """Bad input from the user: a malformed alert, an unknown service, a bad option."""

    exit_code = 2


class ConfigError(MedicError):
    """Configuration or environment that Medic cannot work with."""

    exit_code = 2
