"""Interrupted executions, settled from what their target shows - never run again.

A process that dies between ``approved -> executing`` and ``finish`` (kill -9, OOM, a node lost)
leaves its proposal ``executing``. Once it has been executing longer than any execution can take
(the tools' retries end well before ``reconcile.after_seconds``), the target is asked what it
shows now, and the proposal is marked succeeded, failed or unknown, with the finding:

- scale: the Deployment's replica count is the one asked for;
- restart: the pod template carries the execution's restart stamp;
- rollback: the pod template is the one the rollback was putting back;
- purge_cache: no (or far fewer) keys match the pattern any more;
- silence: Alertmanager holds a silence marked with the proposal;
- promote_model: the registry's alias names the version the promotion was moving it to;
- retrain: a version newer than the one before the run is registered (the run finished), or the
  pipeline holds the run this proposal started (finished, still running, or failed); neither
  means the run was never started.

The action itself is never sent again. A target that cannot be asked right now (a transient
error) is asked again on the next pass. An approval that never started (the process died right
after it) is carried out through the executor - guard, cooldown and exactly-once included - while
the approval is still valid, and refused once it has expired.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tools.backends import Backends
from tools.catalog import silence_marker
from tools.errors import ToolError, TransientError
from tools.model_tools import SERVING_ALIAS, one_line, registry_errors
from tools.proposals import Proposal, ProposalStatus

SIM = "sim:"  # the name prefix of simulated clusters: each lives and dies with its process


@dataclass(frozen=True)
class Observed:
    """What the target shows about an interrupted execution, and the verdict it supports."""

    status: ProposalStatus
    text: str


Check = Callable[[Backends, Proposal], Observed]


def _ok(text: str) -> Observed:
    return Observed(ProposalStatus.SUCCEEDED, text)


def _not_done(text: str) -> Observed:
    return Observed(ProposalStatus.FAILED, text)


def _unknown(text: str) -> Observed:
    return Observed(ProposalStatus.UNKNOWN, text)


def _scale(backends: Backends, p: Proposal) -> Observed:
    want = int(p.action.params["replicas"])
    have = backends.cluster.get_deployment(p.action.namespace, p.action.name).replicas
    if have == want:
        return _ok(f"{p.action.target} has {have} replicas, as the scale set")
    return _not_done(f"{p.action.target} has {have} replicas, not {want}: the scale did not happen")


def _restart(backends: Backends, p: Proposal) -> Observed:
    stamp = str(p.expected.get("restarted_at") or "")
    have = backends.cluster.get_deployment(p.action.namespace, p.action.name).restarted_at
    if not stamp:
        return _unknown("the execution's restart stamp was not recorded")
    if have == stamp:
        return _ok(f"the pod template of {p.action.target} carries the restart stamp {stamp}")
    try:
        later = have is not None and _time(have) > _time(stamp)
    except ValueError:
        return _unknown(f"the pod template's restart stamp {have!r} cannot be read")
    if later:
        return _unknown(f"{p.action.target} was restarted again since (stamp {have})")
    return _not_done(
        f"the pod template's restart stamp is {have or 'absent'}, not {stamp}: "
        "the restart did not happen"
    )


def _rollback(backends: Backends, p: Proposal) -> Observed:
    want = str(p.expected.get("template") or "")
    info = backends.cluster.get_deployment(p.action.namespace, p.action.name)
    if want and info.template == want:
        return _ok(
            f"{p.action.target} runs the pod template of revision {p.expected.get('to')} again"
        )
    if info.revision == p.expected.get("from"):
        return _not_done(f"{p.action.target} is still at revision {info.revision}")
    return _unknown(f"{p.action.target} is at revision {info.revision}, changed by someone else")


def _purge(backends: Backends, p: Proposal) -> Observed:
    pattern = str(p.action.params["pattern"])
    before = int(p.expected.get("keys") or 0)
    now = backends.cache.purge(pattern, dry_run=True).keys
    found = f"{now} keys match {pattern} now, {before} did before the purge"
    if now == 0 or now * 10 <= before:
        return _ok(found)
    return _unknown(f"{found}: the purge may not have finished, or the cache refilled")


def _silence(backends: Backends, p: Proposal) -> Observed:
    silence_id = backends.silences.find(silence_marker(p.id))
    if silence_id:
        return _ok(f"silence {silence_id} of this proposal is in Alertmanager")
    return _not_done("Alertmanager holds no silence of this proposal: it was not created")


def _promote(backends: Backends, p: Proposal) -> Observed:
    model, alias = str(p.action.params["model"]), str(p.action.params.get("alias", "champion"))
    want = str(p.action.params.get("version") or p.expected.get("to") or "")
    with registry_errors():
        current = backends.registry.alias(model, alias)
    have = current.version if current else None
    if want and have == want:
        return _ok(f"alias {alias} of {one_line(model)} names version {want}, as promoted")
    if have is not None and have == p.expected.get("from"):
        return _not_done(f"alias {alias} of {one_line(model)} still names version {have}")
    return _unknown(
        f"alias {alias} of {one_line(model)} names {f'version {have}' if have else 'no version'}, "
        "changed by someone else"
    )


def _retrain(backends: Backends, p: Proposal) -> Observed:
    """Did the interrupted retrain start its run? A newer version says it finished; else the
    pipeline's run for this proposal says how far it got; neither, that it never started."""
    model = str(p.action.params["model"])
    name = one_line(model)
    before = str(p.expected.get("newest") or "")
    with registry_errors():
        versions = backends.registry.versions(model, limit=1)
        newest = versions[0] if versions else None
        if newest is not None and newest.version != before and _newer(newest.version, before):
            champion = backends.registry.alias(model, SERVING_ALIAS)
            serving = (
                f"{SERVING_ALIAS} names it"
                if champion is not None and champion.version == newest.version
                else f"{SERVING_ALIAS} names "
                + (f"version {champion.version}" if champion else "no version")
            )
            return _ok(
                f"version {newest.version} of {name} was registered after the run started "
                f"(the newest before it: {before or 'none'}); {serving}"
            )
        run = backends.training.run_for(model, p.id)
    was = f"version {before}" if before else "no version"
    if run is None:
        return _not_done(
            f"no training run of {name} was started for this proposal and the newest version "
            f"is still {was}: the retrain did not happen"
        )
    run_id = one_line(run.run_id)
    if run.status == "failed":
        return _not_done(f"training run {run_id} of {name} failed; the newest version is {was}")
    if run.status == "finished":
        return _ok(f"training run {run_id} of {name} finished (version {run.version or '?'})")
    if run.status == "started":
        return _ok(
            f"training run {run_id} of {name} was started and is still running; its version "
            "is checked when the incident is verified"
        )
    return _unknown(f"training run {run_id} of {name} was started; its state is {run.status!r}")


def _newer(version: str, than: str) -> bool:
    """Registries number versions; anything else differing from ``than`` counts as newer."""
    if not than:
        return True
    if version.isdigit() and than.isdigit():
        return int(version) > int(than)
    return True


CHECKS: dict[str, Check] = {
    "scale": _scale,
    "restart": _restart,
    "rollback": _rollback,
    "purge_cache": _purge,
    "silence": _silence,
    "promote_model": _promote,
    "retrain": _retrain,
}


def observe(backends: Backends, proposal: Proposal) -> Observed | None:
    """What the target of an interrupted execution shows; None when it cannot be asked now."""
    if proposal.cluster != backends.cluster.name:
        if proposal.cluster.startswith(SIM):
            return _unknown("it ran on a simulated cluster that ended with the process running it")
        return None  # another cluster's proposal: settled by a Medic that works on that one
    check = CHECKS.get(proposal.action.tool)
    if check is None:
        return _unknown(f"Medic cannot check {proposal.action.tool} afterwards")
    try:
        return check(backends, proposal)
    except TransientError:
        return None
    except ToolError as exc:
        return _unknown(f"the target could not be checked: {exc}")


def _time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
