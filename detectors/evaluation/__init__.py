"""The detectors' evaluation, on the Numenta Anomaly Benchmark: its corpus layout and its scoring,
re-implemented from NAB's sweeper (see ``docs/benchmarks.md``). ``medic eval nab`` runs it through
the ensemble as the investigation uses it (``bot/evaluation``)."""

from detectors.evaluation.corpus import NabCorpus, NabFile, load_corpus
from detectors.evaluation.profiles import DEFAULT_PROFILES, Profile
from detectors.evaluation.scorer import CorpusScore, score_corpus

__all__ = [
    "DEFAULT_PROFILES",
    "CorpusScore",
    "NabCorpus",
    "NabFile",
    "Profile",
    "load_corpus",
    "score_corpus",
]
