"""Charts for the thread: a metric over the investigation window with the anomaly shaded, as PNG.

Uses matplotlib's object API on an Agg canvas (no pyplot, no global state), so charts can be drawn
from worker threads.
"""

from __future__ import annotations

import io
import itertools
from datetime import UTC

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure

from bot import messages
from bot.diagnosis.model_look import DriftChart
from bot.diagnosis.signals import Glossary, format_value
from detectors import Finding, Series


def _dates(timestamps: list[float]) -> list[float]:
    """Matplotlib date numbers for Unix timestamps: days since its (default) 1970 epoch."""
    return [t / 86400.0 for t in timestamps]


def metric_chart(series: Series, finding: Finding, catalog: Glossary, title: str) -> bytes:
    """PNG of ``series`` with the finding's window shaded and its baseline level drawn."""
    signal = catalog.signal(finding.metric)
    unit = signal.unit if signal else "count"
    name = signal.description if signal else finding.metric
    figure = Figure(figsize=(8, 3), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.plot(_dates(series.timestamps.tolist()), series.values, color="#1f6feb", linewidth=1.4)
    start, end = _dates([finding.start, max(finding.end, finding.start + 1)])
    ax.axvspan(start, end, color="#d1242f", alpha=0.15, label="anomaly")
    ax.axhline(finding.baseline, color="#57606a", linestyle="--", linewidth=1, label="baseline")
    ax.set_title(
        f"{title}: {name} {format_value(finding.baseline, unit)} -> "
        f"{format_value(finding.observed, unit)}",
        fontsize=10,
        loc="left",
    )
    ax.xaxis.set_major_formatter(DateFormatter("%H:%M", tz=UTC))  # type: ignore[no-untyped-call]
    ax.set_xlabel("UTC", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def chart_findings(findings: list[Finding], catalog: Glossary, limit: int = 2) -> list[Finding]:
    """The findings worth a chart: the bad-direction symptoms first, then the strongest others."""
    bad = [f for f in findings if catalog.is_bad(f)]

    def rank(f: Finding) -> tuple[bool, float]:
        signal = catalog.signal(f.metric)
        return (not (signal is not None and signal.kind == "symptom"), -f.confidence)

    return sorted(bad, key=rank)[:limit]


def _literal(text: str, limit: int = 80) -> str:
    """A registry's or exporter's name as literal chart text: matplotlib reads ``$...$`` as
    math and would fail (or draw) on it."""
    text = " ".join(text.split())
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return text.replace("\\", "\\\\").replace("$", r"\$")


def drift_chart(chart: DriftChart) -> bytes:
    """PNG of the most drifted feature: the share of training and live inputs per training bin,
    with the live share below and above the training range at either end."""
    edges = list(chart.edges)
    labels = ["below"] + [f"{lo:.3g}-{hi:.3g}" for lo, hi in itertools.pairwise(edges)] + ["above"]
    x = list(range(len(labels)))
    width = 0.4
    figure = Figure(figsize=(8, 3), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.bar(
        [i - width / 2 for i in x],
        chart.training,
        width,
        color="#57606a",
        label=_literal(messages.MODEL_CHART_TRAINING.format(version=chart.version)),
    )
    ax.bar(
        [i + width / 2 for i in x],
        chart.live,
        width,
        color="#d1242f",
        label=messages.MODEL_CHART_LIVE,
    )
    ax.set_title(
        _literal(
            messages.MODEL_CHART_TITLE.format(feature=chart.feature, version=chart.version), 120
        ),
        fontsize=10,
        loc="left",
    )
    step = max(1, len(labels) // 12)  # at most a dozen tick labels
    ax.set_xticks(x[::step], labels[::step], fontsize=7, rotation=30)
    ax.set_ylabel("share", fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
