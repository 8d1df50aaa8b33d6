"""The watch: looks at chosen services on a schedule, before any alert fires, and posts what it
finds as low-severity heads-up threads that an alert of the service later continues in.

- :mod:`~bot.watch.checks` - the ``Check`` protocol and the checks (limit forecasts, symptoms,
  right-sizing, and ``DriftCheck``: the extension point for ML services' input drift);
- :mod:`~bot.watch.limits` - where the limits come from (shares, the cluster, Prometheus);
- :mod:`~bot.watch.runner` - one pass over the services; :mod:`~bot.watch.loop` - the schedule;
- :mod:`~bot.watch.gate`, :mod:`~bot.watch.publish` - findings into heads-ups (dedup, rate limit,
  quiet hours); :mod:`~bot.watch.store` - what it remembers; :mod:`~bot.watch.render` - wording.

Built in :mod:`bot.wiring.watch`; the Slack side is :mod:`bot.slack.headsups` and
:mod:`bot.slack.watch_commands`.
"""

from bot.watch.checks import (
    AnomalyCheck,
    Check,
    DriftCheck,
    DriftProbe,
    ForecastCheck,
    RightSizingCheck,
)
from bot.watch.findings import Concern, Limit, ServiceView, Target, WatchFinding, WatchPass
from bot.watch.runner import Watch

__all__ = [
    "AnomalyCheck",
    "Check",
    "Concern",
    "DriftCheck",
    "DriftProbe",
    "ForecastCheck",
    "Limit",
    "RightSizingCheck",
    "ServiceView",
    "Target",
    "Watch",
    "WatchFinding",
    "WatchPass",
]
