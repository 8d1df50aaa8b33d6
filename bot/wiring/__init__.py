"""Wiring: the one place that builds adapters from settings and knows which concrete one sits
behind each interface. Slack (`medic serve`) and every CLI command get theirs from a
:class:`Wiring` built once per process.

- :mod:`~bot.wiring.process` - :class:`Wiring`: the state database, Chroma, the embedding and
  chat models, the Slack client, the cluster's backends and sources, the incident flow; each
  built on first use, so a command pays only for what it touches.
- :mod:`~bot.wiring.sources` - what one cluster gives an investigation (simulated, or Kubernetes
  with Prometheus and pod logs).
- :mod:`~bot.wiring.backends` - the backends of actions (cluster, Redis, Alertmanager).
- :mod:`~bot.wiring.flow` - the flow, planner and remediation workflow put together from them.

Importing this package is cheap: the submodules that import the heavy parts load when used.
"""

from bot.wiring.process import Wiring, build_flow, build_sim_flow, embedding_model

__all__ = ["Wiring", "build_flow", "build_sim_flow", "embedding_model"]
