"""Medic's sample memory of past incidents, written for this project."""

from __future__ import annotations

from importlib import resources

import yaml

from knowledge.records import IncidentRecord


def sample_incidents() -> list[IncidentRecord]:
    text = resources.files(__package__).joinpath("past_incidents.yaml").read_text()
    return [
        IncidentRecord.model_validate({**item, "source": "sample"}) for item in yaml.safe_load(text)
    ]
