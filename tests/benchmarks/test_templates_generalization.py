"""The loghub part of the generalisation report: every claim is made per system fold, on loghub's
view, the worded view, both, and the phrased, headers and shapes checks, the third, fourth and
fifth passes on headers and the sixth (each source choosing), with Drain3 defaults measured in the
same run."""

from __future__ import annotations

import csv
from pathlib import Path

from benchmarks.generalization.templates import claims

USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]


def _system(root: Path, name: str, rows: list[tuple[str, str, str]]) -> None:
    folder = root / "loghub" / name
    folder.mkdir(parents=True)
    with (folder / f"{name}_2k.log_structured.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["LineId", "Content", "EventId", "EventTemplate"])
        for i, (content, event, template) in enumerate(rows, 1):
            writer.writerow([i, content, event, template])


def test_the_report_has_dev_beside_outer_for_every_view(tmp_path: Path) -> None:
    _system(
        tmp_path,
        "Apache",
        [
            (f"Found child {1000 + i} in slot {i % 7}", "E1", "Found child <*> in slot <*>")
            for i in range(30)
        ],
    )
    _system(
        tmp_path,
        "HDFS",
        [
            (f"Invalid user {u} from 10.0.0.{i}", "E1", "Invalid user <*> from <*>")
            for i, u in enumerate(USERS * 3)
        ],
    )
    _system(
        tmp_path,
        "Zookeeper",
        [
            (f"VM {s} (Lifecycle Event)", f"E{s}", f"VM {s} (Lifecycle Event)")
            for s in ["Paused", "Resumed"] * 15
        ],
    )
    found = claims(tmp_path)
    areas = {c.area for c in found}
    assert areas == {
        f"{view} {summary}"
        for view in (
            "loghub",
            "loghub worded",
            "loghub as is+worded",
            "loghub phrased",
            "loghub as is+worded+phrased",
            "loghub headers",
            "loghub shapes",
            "loghub as is+worded+phrased+headers",
            "loghub syslog",
            "loghub json",
        )
        for summary in ("grouping accuracy", "worst - Drain3")
    } | {
        f"loghub {view} {summary}, {which} pass"
        for which in ("fourth", "fifth", "sixth")
        for view in (
            "as is",
            "worded",
            "phrased",
            "headers",
            "syslog",
            "json",
            "shapes",
            "as is+worded+phrased+headers",
        )
        for summary in ("grouping accuracy", "worst - Drain3")
    }
    assert all(len(c.estimate.folds) == 3 for c in found)
    assert {c.area for c in found if c.baseline} == {a for a in areas if "accuracy" in a}
    defaults = next(
        c for c in found if c.area == "loghub grouping accuracy" and "defaults (" in c.what
    )
    assert defaults.estimate.outer_score == 1.0  # user names are one event, Paused/Resumed two
