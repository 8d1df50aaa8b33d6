"""NAB on the development split: the ensemble beside simple baselines, all scored in the same run.

Prints the three profile scores of each detector, the published detectors' scores restricted to
the same files (from NAB's per-file summary tables, at their full-corpus thresholds), a
leave-half-out estimate of how the one-threshold-per-corpus choice transfers to unseen files,
and the wall time (with ``--jobs`` worker processes), extrapolated to the full 365,558-row corpus.
Usage: python benchmarks/bench_nab.py [--data DIR] [--jobs N] [--detectors a,b] [--sensitivity]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from detectors import DEFAULT_ENSEMBLE, EnsembleConfig, Member
from detectors.evaluation import NabCorpus, NabFile, load_corpus, score_corpus
from detectors.evaluation.runner import run_detector, score_profiles
from detectors.evaluation.scorer import score_file
from detectors.series import FloatArray

FULL_CORPUS_ROWS = 365_558
REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = next(  # ../shared from the main checkout, ../../shared from a worktree
    (p / "shared" / "bench-data" / "nab" for p in (REPO.parent, REPO.parent.parent)
     if (p / "shared" / "bench-data" / "nab").is_dir()),
    REPO.parent / "shared" / "bench-data" / "nab",
)  # fmt: skip
PUBLISHED = [
    "ARTime",
    "numenta",
    "contextOSE",
    "knncad",
    "earthgeckoSkyline",
    "relativeEntropy",
    "randomCutForest",
    "twitterADVec",
    "windowedGaussian",
    "skyline",
    "bayesChangePt",
]


def published_on_split(corpus: NabCorpus) -> dict[str, dict[str, float]]:
    """Upstream per-file scores summed over our files, normalised with our null and perfect."""
    names = {f.name for f in corpus.files}
    out: dict[str, dict[str, float]] = {}
    for detector in PUBLISHED:
        scores = {}
        for p in corpus.profiles:
            table = corpus.root / "results" / "summary_scores" / f"{detector}_{p.name}_scores.csv"
            if not table.exists():
                break
            raw = sum(float(r["Score"]) for r in csv.DictReader(table.open()) if r["File"] in names)
            null = -p.fn_weight * corpus.window_count
            scores[p.name] = round(
                100 * (raw - null) / (p.tp_weight * corpus.window_count - null), 1
            )
        if scores:
            out[detector] = scores
    return out


def _subset(corpus: NabCorpus, files: list[NabFile]) -> NabCorpus:
    return replace(corpus, files=tuple(files), window_count=sum(len(f.windows) for f in files))


def leave_half_out(
    corpus: NabCorpus, scores: dict[str, FloatArray], draws: int = 40
) -> dict[str, float]:
    """Split every category's files in two at random; pick the threshold on one half, score the
    other half with it, and compare with the other half's own best threshold."""
    rng = np.random.default_rng(0)
    profile = corpus.profile("standard")
    transferred, own = [], []
    categories = sorted({f.category for f in corpus.files})
    for _ in range(draws):
        tune, test = [], []
        for c in categories:
            files = [f for f in corpus.files if f.category == c]
            order = rng.permutation(len(files))
            half = len(files) // 2 + int(len(files) % 2 and rng.random() < 0.5)
            tune += [files[i] for i in order[:half]]
            test += [files[i] for i in order[half:]]
        a, b = _subset(corpus, tune), _subset(corpus, test)
        threshold = score_corpus(a, {f.name: scores[f.name] for f in tune}, profile).threshold
        raw = sum(score_file(f, scores[f.name], profile, threshold).score for f in test)
        null = -profile.fn_weight * b.window_count
        transferred.append(100 * (raw - null) / (profile.tp_weight * b.window_count - null))
        own.append(score_corpus(b, {f.name: scores[f.name] for f in test}, profile).normalized)
    return {
        "transferred_mean": round(float(np.mean(transferred)), 1),
        "transferred_std": round(float(np.std(transferred)), 1),
        "own_threshold_mean": round(float(np.mean(own)), 1),
    }


def leave_category_out(corpus: NabCorpus, scores: dict[str, FloatArray]) -> float:
    """Each category scored with the threshold chosen on all the other categories (a harsher test
    of one threshold for heterogeneous series); the categories' totals normalised together."""
    profile = corpus.profile("standard")
    raw = 0.0
    for category in sorted({f.category for f in corpus.files}):
        others = [f for f in corpus.files if f.category != category]
        rest = _subset(corpus, others)
        threshold = score_corpus(rest, {f.name: scores[f.name] for f in others}, profile).threshold
        raw += sum(
            score_file(f, scores[f.name], profile, threshold).score
            for f in corpus.files
            if f.category == category
        )
    null = -profile.fn_weight * corpus.window_count
    return round(100 * (raw - null) / (profile.tp_weight * corpus.window_count - null), 1)


def sensitivity_variants() -> dict[str, EnsembleConfig]:
    def with_member(detector: str, **params: float) -> EnsembleConfig:
        members = tuple(
            replace(m, params={**m.params, **params}) if m.detector == detector else m
            for m in DEFAULT_ENSEMBLE.members
        )
        return replace(DEFAULT_ENSEMBLE, members=members)

    def with_weight(detector: str, weight: float) -> EnsembleConfig:
        members = tuple(
            replace(m, weight=weight) if m.detector == detector else m
            for m in DEFAULT_ENSEMBLE.members
        )
        return replace(DEFAULT_ENSEMBLE, members=members)

    return {
        "tail=0.03": replace(DEFAULT_ENSEMBLE, tail=0.03),
        "tail=0.08": replace(DEFAULT_ENSEMBLE, tail=0.08),
        "suppression=0.2": replace(DEFAULT_ENSEMBLE, suppression=0.2),
        "suppression=0.6": replace(DEFAULT_ENSEMBLE, suppression=0.6),
        "suppression=0.8": replace(DEFAULT_ENSEMBLE, suppression=0.8),
        "grouping=0 (none)": replace(DEFAULT_ENSEMBLE, grouping=0.0),
        "grouping=0.005": replace(DEFAULT_ENSEMBLE, grouping=0.005),
        "grouping=0.02": replace(DEFAULT_ENSEMBLE, grouping=0.02),
        "grouping=0.04": replace(DEFAULT_ENSEMBLE, grouping=0.04),
        "period_correction=0 (none)": replace(DEFAULT_ENSEMBLE, period_correction=0.0),
        "period_correction=0.5": replace(DEFAULT_ENSEMBLE, period_correction=0.5),
        "period_correction=1.5": replace(DEFAULT_ENSEMBLE, period_correction=1.5),
        "period_correction=2": replace(DEFAULT_ENSEMBLE, period_correction=2.0),
        "reference_points=100": replace(DEFAULT_ENSEMBLE, reference_points=100),
        "reference_points=10000": replace(DEFAULT_ENSEMBLE, reference_points=10000),
        "discord length=16": with_member("discord", length=16),
        "discord length=64": with_member("discord", length=64),
        "no seasonal explanation": replace(
            DEFAULT_ENSEMBLE,
            members=tuple(replace(m, explained_by=None) for m in DEFAULT_ENSEMBLE.members),
        ),
        "seasonal weight=0 (explains only)": with_weight("seasonal", 0.0),
        "seasonal weight=0.5": with_weight("seasonal", 0.5),
        "previous default (grouping 0, period_correction 0, seasonal 0)": replace(
            with_weight("seasonal", 0.0), grouping=0.0, period_correction=0.0
        ),
        "rarity + discord only": replace(
            DEFAULT_ENSEMBLE,
            members=(
                Member("rarity", explained_by="seasonal"),
                Member("discord"),
                Member("seasonal", weight=0.0),
            ),
        ),
    }


def _row(scores: dict[str, float]) -> str:
    return "  ".join(f"{p} {v:5.1f}" for p, v in scores.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--detectors", default="ensemble,windowed_gaussian,robust_z,holt,cusum,rarity,discord,null"
    )
    parser.add_argument("--sensitivity", action="store_true")
    args = parser.parse_args()
    corpus = load_corpus(args.data)
    print(
        f"corpus: {len(corpus)} files, {corpus.rows} rows, {corpus.window_count} windows; "
        f"cpus {os.cpu_count()}, jobs {args.jobs} (shared machine: timings are indicative)"
    )
    results: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    ensemble_scores: dict[str, FloatArray] = {}
    for detector in args.detectors.split(","):
        started = time.perf_counter()
        scores = run_detector(corpus, detector, DEFAULT_ENSEMBLE, args.jobs)
        seconds[detector] = time.perf_counter() - started
        profiles = score_profiles(corpus, scores)
        results[detector] = {p: round(r.normalized, 1) for p, r in profiles.items()}
        if detector == "ensemble":
            ensemble_scores = scores
        print(f"{detector:18s} {_row(results[detector])}   {seconds[detector]:6.1f} s")
    print("published detectors on the same files (their full-corpus thresholds):")
    published = published_on_split(corpus)
    for name, scores in published.items():
        print(f"  {name:18s} {_row(scores)}")
    summary: dict[str, object] = {
        "split_rows": corpus.rows,
        "scores": results,
        "published": published,
    }
    if ensemble_scores:
        halves = leave_half_out(corpus, ensemble_scores)
        print(
            "leave-half-out (standard): threshold chosen on one half of each category, scored "
            f"on the other: {halves['transferred_mean']} +- {halves['transferred_std']} "
            f"(the other half's own best threshold: {halves['own_threshold_mean']})"
        )
        halves["leave_category_out"] = leave_category_out(corpus, ensemble_scores)
        print(
            "leave-one-category-out (standard): each category at the threshold chosen on the "
            f"others: {halves['leave_category_out']}"
        )
        rate = corpus.rows / seconds["ensemble"]
        summary |= {
            "leave_half_out": halves,
            "ensemble_seconds": round(seconds["ensemble"], 1),
            "ensemble_rows_per_second": round(rate),
            "full_corpus_seconds_estimate": round(FULL_CORPUS_ROWS / rate, 1),
        }
        print(
            f"ensemble: {rate:,.0f} rows/s with {args.jobs} jobs -> full corpus "
            f"({FULL_CORPUS_ROWS:,} rows) ~{FULL_CORPUS_ROWS / rate:.0f} s (target <= 60 s)"
        )
    if args.sensitivity:
        moved = {}
        for name, config in sensitivity_variants().items():
            scores = run_detector(corpus, "ensemble", config, args.jobs)
            moved[name] = {
                p: round(r.normalized, 1) for p, r in score_profiles(corpus, scores).items()
            }
            moved[name]["leave_half_out"] = leave_half_out(corpus, scores)["transferred_mean"]
            print(f"  sensitivity {name:32s} {_row(moved[name])}", flush=True)
        summary["sensitivity"] = moved
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
