"""Drift of one model feature between two histograms: the training profile's and the live one.

The two rarely share bins: a training profile is logged over the training data's own bins, a
serving process exports Prometheus buckets (``le`` bounds, open at both ends). Both are read as
the CDF they imply - mass spread evenly inside a finite bin, at its finite edge inside an open one
- and compared there:

- over the edges both resolve: the reference's range cut at the coarser histogram's inner edges
  (re-binning fine onto coarse is near exact, coarse onto fine would invent a shape), plus an
  overflow bin below and above the training range: live mass there is exactly what the model
  has never seen, and it counts;
- PSI over those bins; KS, the largest gap between the two CDFs at those edges, with its
  asymptotic p-value from the counts when both have enough of them (counts that are rates, or a
  handful of requests, give no meaningful p-value: None).

Inputs are hostile (a registry artifact, an exporter): at most ``MAX_BINS`` bins each (finer ones
are merged), edges that must increase, counts that must be finite and non-negative; anything else
is a :class:`HistogramError` naming what was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detectors.drift import histogram_psi
from detectors.errors import DetectorError
from detectors.features import Histogram

MAX_BINS = 256  # per histogram: a finer one is merged down to this many
MIN_COUNT = 20.0  # each side's total for a KS p-value to mean anything
PSI_DRIFTED = 0.25  # the usual "significant shift"
KS_DRIFTED = 0.2


class HistogramError(DetectorError):
    """A histogram that cannot be compared (bad edges or counts); the message says which."""


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's live distribution against a reference (a version's training data)."""

    feature: str
    psi: float
    ks: float
    ks_pvalue: float | None  # None when the counts are too few (or not counts) to give one
    reference_total: float
    live_total: float
    outside: float  # share of live mass outside the reference's range, as far as both resolve

    @property
    def drifted(self) -> bool:
        return self.psi >= PSI_DRIFTED and self.ks >= KS_DRIFTED


def checked(histogram: Histogram, what: str, max_bins: int = MAX_BINS) -> Histogram:
    """``histogram`` validated and merged down to at most ``max_bins`` bins."""
    edges = np.asarray(histogram.edges, dtype=np.float64)
    counts = np.asarray(histogram.counts, dtype=np.float64)
    if counts.size == 0 or edges.size != counts.size + 1:
        raise HistogramError(
            f"{what}: {edges.size} edges for {counts.size} bins (needs one edge more than bins)"
        )
    if np.isnan(edges).any() or np.any(np.diff(edges) <= 0):
        raise HistogramError(f"{what}: bin edges must increase")
    if not np.isfinite(counts).all() or (counts < 0).any():
        raise HistogramError(f"{what}: counts must be finite and not negative")
    if counts.size > max_bins:
        groups = np.array_split(np.arange(counts.size), max_bins)
        counts = np.array([counts[g].sum() for g in groups])
        edges = np.array([edges[g[0]] for g in groups] + [edges[-1]])
    return Histogram(tuple(edges.tolist()), tuple(counts.tolist()))


def cdf(histogram: Histogram, points: np.ndarray) -> np.ndarray:
    """The share of ``histogram``'s mass at or below each point: spread evenly in a finite bin;
    in an open one (Prometheus's first and ``+Inf`` buckets) at or below its upper bound, or
    above its lower one - where exactly, the histogram does not say. One interpolation over the
    finite edges does all three: left of them nothing, right of them everything."""
    edges = np.asarray(histogram.edges, dtype=np.float64)
    counts = np.asarray(histogram.counts, dtype=np.float64)
    total = counts.sum()
    finite = np.isfinite(edges)
    if total <= 0 or not finite.any():
        return np.zeros(points.shape)
    below = np.concatenate([[0.0], np.cumsum(counts)]) / total
    return np.asarray(np.interp(points, edges[finite], below[finite], left=0.0, right=1.0))


def common_edges(reference: Histogram, live: Histogram) -> np.ndarray:
    """The edges both histograms resolve: the reference's range (its lowest and highest finite
    edges), narrowed to the live one's where that is open beyond it (a Prometheus histogram's
    ``+Inf`` bucket says nothing of where above its last bound a value was), cut at the inner
    edges of whichever of the two is coarser there. Re-binning the finer onto the coarser is
    near exact; the other way round would invent a shape inside each coarse bin."""
    ref = np.asarray([e for e in reference.edges if np.isfinite(e)], dtype=np.float64)
    now = np.asarray([e for e in live.edges if np.isfinite(e)], dtype=np.float64)
    if ref.size == 0:
        return ref
    lo, hi = ref[0], ref[-1]
    if now.size and np.isinf(live.edges[0]):
        lo = max(lo, now[0])
    if now.size and np.isinf(live.edges[-1]):
        hi = min(hi, now[-1])
    if hi <= lo:  # they share no resolved range: only below and above remain
        return np.asarray([lo])
    mine = ref[(ref > lo) & (ref < hi)]
    theirs = now[(now > lo) & (now < hi)]
    inner = theirs if theirs.size < mine.size else mine
    return np.unique(np.concatenate([[lo], inner, [hi]]))


def rebinned(histogram: Histogram, edges: np.ndarray) -> np.ndarray:
    """``histogram``'s counts over ``edges``' bins, with an overflow bin below and above."""
    shares = np.concatenate([[0.0], cdf(histogram, edges), [1.0]])
    return np.diff(shares) * sum(histogram.counts)


def feature_drift(feature: str, reference: Histogram, live: Histogram) -> FeatureDrift:
    """How far ``live`` moved from ``reference`` (both :func:`checked` first): PSI over their
    :func:`common_edges` with an overflow bin at either end, KS over the same edges."""
    reference = checked(reference, f"{feature} (training profile)")
    live = checked(live, f"{feature} (live)")
    ref_total, live_total = float(sum(reference.counts)), float(sum(live.counts))
    edges = common_edges(reference, live)
    expected = rebinned(reference, edges)
    actual = rebinned(live, edges)
    gaps = np.abs(cdf(reference, edges) - cdf(live, edges)) if edges.size else np.zeros(1)
    ks = float(gaps.max()) if ref_total > 0 and live_total > 0 else 0.0
    pvalue: float | None = None
    if min(ref_total, live_total) >= MIN_COUNT:
        n = ref_total * live_total / (ref_total + live_total)
        # imported here, not at the top: see detectors.drift.drift_finding
        from scipy.special import kolmogorov

        pvalue = float(kolmogorov(np.sqrt(n) * ks))
    outside = float((actual[0] + actual[-1]) / live_total) if live_total > 0 else 0.0
    return FeatureDrift(
        feature=feature,
        psi=round(histogram_psi(expected, actual), 4),
        ks=round(ks, 4),
        ks_pvalue=pvalue,
        reference_total=ref_total,
        live_total=live_total,
        outside=round(outside, 4),
    )
