"""Options shared by several commands, declared once so that their flags and help agree."""

from __future__ import annotations

from typing import Annotated

import typer

ClusterOption = Annotated[
    str | None, typer.Option("--cluster", help="sim or kube (default: MEDIC_CLUSTER).")
]
ScenarioOption = Annotated[
    str, typer.Option("--scenario", help="Scenario of the simulated cluster (sim only).")
]
DEFAULT_SCENARIO = "input-size-surge"
