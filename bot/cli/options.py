"""Options shared by several commands, declared once so that their flags and help agree."""

from __future__ import annotations

from typing import Annotated

import typer

ClusterOption = Annotated[
    str | None, typer.Option("--cluster", help="sim or kube (default: MEDIC_CLUSTER).")
]
ClusterNameOption = Annotated[
    str | None,
    typer.Option(
        "--cluster-name",
        metavar="NAME",
        help="The cluster of the clusters map (default: default_cluster).",
    ),
]
ScenarioOption = Annotated[
    str, typer.Option("--scenario", help="Scenario of the simulated cluster (sim only).")
]
DEFAULT_SCENARIO = "input-size-surge"
MlflowOption = Annotated[
    bool,
    typer.Option(
        "--mlflow",
        help="Log the run to MLflow (params, metrics, code version, data digest): the embedded "
        "store in the data directory, or --mlflow-uri's server.",
    ),
]
MlflowUriOption = Annotated[
    str | None,
    typer.Option(
        "--mlflow-uri",
        metavar="URI",
        help="An MLflow server to log the run to (http(s)://host:port); implies --mlflow.",
    ),
]
