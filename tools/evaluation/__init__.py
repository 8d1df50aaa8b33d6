"""The tools package's evaluation: variants of the simulated scenarios for robustness checks.
``medic eval scenarios`` (``bot/evaluation``) runs the suite through the whole incident path; the
suite itself is ``tools.sim.SCENARIOS``."""

from tools.evaluation.variation import vary

__all__ = ["vary"]
