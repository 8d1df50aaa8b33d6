"""NAB's cost profiles: how much a detected window, a false alarm and a missed window weigh."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from detectors.errors import NabCorpusError


@dataclass(frozen=True)
class Profile:
    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


# NAB's config/profiles.json; used when a corpus directory has no config of its own.
DEFAULT_PROFILES: tuple[Profile, ...] = (
    Profile("standard", 1.0, 0.11, 1.0),
    Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
)


def load_profiles(path: Path) -> tuple[Profile, ...]:
    """Profiles from a file shaped like NAB's ``config/profiles.json``."""
    try:
        data = json.loads(path.read_text())
        return tuple(
            Profile(
                name,
                float(entry["CostMatrix"]["tpWeight"]),
                float(entry["CostMatrix"]["fpWeight"]),
                float(entry["CostMatrix"]["fnWeight"]),
            )
            for name, entry in data.items()
        )
    except OSError as exc:
        raise NabCorpusError(f"cannot read profiles file {path}: {exc.strerror}") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NabCorpusError(
            f"profiles file {path} must map each profile name to "
            f'{{"CostMatrix": {{"tpWeight", "fpWeight", "fnWeight"}}}} ({exc!r})'
        ) from exc
