"""Evaluation on the Numenta Anomaly Benchmark: its corpus layout and its scoring, re-implemented
from NAB's sweeper (see ``docs/benchmarks.md``)."""

from detectors.nab.corpus import NabCorpus, NabFile, load_corpus
from detectors.nab.profiles import DEFAULT_PROFILES, Profile
from detectors.nab.scorer import CorpusScore, score_corpus

__all__ = [
    "DEFAULT_PROFILES",
    "CorpusScore",
    "NabCorpus",
    "NabFile",
    "Profile",
    "load_corpus",
    "score_corpus",
]
