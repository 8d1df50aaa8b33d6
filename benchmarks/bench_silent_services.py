"""How long one call of each outbound client takes, with its default settings, against a server
that accepts the connection and never answers (``silent``) or answers a byte every 0.05 s
(``trickle``). Each case runs in a fresh process on the code at ``--code`` (default: this
checkout), so the code before a change is measured in the same run, on the same machine, by
pointing ``--baseline`` at a worktree of it:

  python benchmarks/bench_silent_services.py --baseline /tmp/old --cap 60

A case still waiting at ``--cap`` seconds is reported as such (it may never end). Prints one
line per case and a JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.services.silent_tcp import stalling_tcp  # noqa: E402
from tests.services.stalling import stalling_server  # noqa: E402

REDIS = (
    "from bot.config import load_settings\n"
    "from bot.wiring.backends import cache_backend\n"
    "client = cache_backend(load_settings(), None)\n",
    'client.purge("recommender:*", dry_run=True)',
)
ALERTMANAGER = (
    "from bot.config import load_settings\n"
    "from bot.wiring.backends import silence_backend\n"
    "from tools.backends import SilenceRequest\n"
    "client = silence_backend(load_settings(), None)\n"
    'request = SilenceRequest({"namespace": "shop", "service": "recommender"}, '
    '"2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "medic", "bench")\n',
    "client.silence(request, dry_run=True)",
)
SLACK = (
    "from bot.config import load_settings\n"
    "from bot.wiring.process import Wiring\n"
    "client = Wiring(load_settings()).slack_client\n",
    'client.chat_postMessage(channel="C0123", text="bench")',
)
CASES = (
    ("redis", "silent", REDIS, "MEDIC_REDIS_URL"),
    ("alertmanager", "silent", ALERTMANAGER, "MEDIC_ALERTMANAGER_URL"),
    ("alertmanager", "trickle", ALERTMANAGER, "MEDIC_ALERTMANAGER_URL"),
    ("slack", "trickle", SLACK, "MEDIC_SLACK_API_URL"),
)
# The call alone is timed, in the child, after its imports; its seconds are its first stdout line.
TIMED = """import time
{setup}
started = time.monotonic()
try:
    {call}
finally:
    print(f"{{time.monotonic() - started:.2f}}", flush=True)
"""


def one(code: Path, case: tuple[str, str], variable: str, url: str, cap: float) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code), variable: url, "SLACK_BOT_TOKEN": "xoxb-b"}
    script = TIMED.format(setup=case[0], call=case[1])
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            capture_output=True,
            text=True,
            timeout=cap,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"seconds": None, "ended": f"still waiting at {cap:g} s (imports included)"}
    lines = done.stderr.strip().splitlines()
    seconds = float(done.stdout.split()[0]) if done.stdout.split() else None
    return {"seconds": seconds, "ended": lines[-1] if lines else "ok"}


def run(code: Path, cap: float) -> list[dict[str, Any]]:
    rows = []
    for client, mode, case, variable in CASES:
        if mode == "silent" and client == "redis":
            with stalling_tcp("silent") as server:
                row = one(code, case, variable, f"redis://{server.url_host}/0", cap)
        else:
            with stalling_server(mode) as (url, _arrived):  # type: ignore[arg-type]
                row = one(code, case, variable, url, cap)
        rows.append({"client": client, "mode": mode, **row})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--baseline", type=Path, default=None, help="the code before, to compare")
    parser.add_argument("--cap", type=float, default=60.0)
    args = parser.parse_args()
    results: dict[str, Any] = {"load_average": os.getloadavg()[0]}
    for name, code in (("before", args.baseline), ("after", args.code)):
        if code is None:
            continue
        results[name] = run(code.resolve(), args.cap)
        for row in results[name]:
            took = "-" if row["seconds"] is None else f"{row['seconds']:.1f} s"
            print(f"{name:6} {row['client']:12} {row['mode']:7} {took:>8}  {row['ended'][:110]}")
    results["load_average_end"] = os.getloadavg()[0]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
