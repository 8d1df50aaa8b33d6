"""The command line (``medic``): each command group in its own module, the terminal rendering of
a thread, and the y/N session that drives one incident from a terminal. Commands get their
adapters from :mod:`bot.wiring` and act only through the incident flow."""
