"""`medic watch --once` as an operator runs it: findings in plain words, a JSON last line, and one
line with exit 2 for what it cannot use."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bot.cli.app import app


def medic(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_one_pass_over_the_leaking_shop_prints_the_heads_up_and_json() -> None:
    code, out, err = medic(
        "watch", "--once", "--cluster", "sim", "--scenario", "memory-leak",
        "--service", "checkout", "--service", "shop/frontend", "--json",
    )  # fmt: skip
    assert code == 0, out
    summary = json.loads(out)  # --json: the JSON alone on stdout, the heads-ups on stderr
    assert summary["services"] == ["shop/checkout", "shop/frontend"]
    limits = [f for f in summary["findings"] if f["concern"] == "limit"]
    assert [(f["service"], f["subject"]) for f in limits] == [
        ("checkout", "memory_working_set_ratio")
    ]
    assert "Heads-up: checkout (shop) - memory_working_set_ratio is heading for its limit" in err
    assert all(f["service"] == "checkout" for f in summary["findings"])  # frontend is fine


def test_what_it_cannot_use_is_one_line_and_exit_2() -> None:
    code, _out, err = medic("watch", "--once", "--cluster", "sim", "--service", "<b>x</b>")
    assert code == 2 and err.count("\n") == 1 and "not NAMESPACE/SERVICE" in err
    code, _out, err = medic("watch", "--once", "--cluster", "sim", "--service", "a" * 5000)
    assert code == 2 and err.count("\n") == 1 and len(err) < 300
    code, _out, err = medic("watch", "--once", "--cluster", "sim")
    assert code == 2 and "Nothing to watch" in err
    code, _out, err = medic("watch", "--cluster", "sim")
    assert code == 2 and "--once" in err


def test_an_ml_service_whose_inputs_drifted_gets_a_heads_up_per_drifted_feature() -> None:
    """The drift check reads the served version's training profile from the registry and the
    live feature histograms, as the investigation does; a model that got worse on normal inputs
    (model-regression) is not input drift."""
    code, out, err = medic(
        "watch", "--once", "--cluster", "sim", "--scenario", "model-drift",
        "--service", "shop/recommender", "--json",
    )  # fmt: skip
    assert code == 0, out
    drifted = [f for f in json.loads(out.strip().splitlines()[-1])["findings"]]
    assert {f["subject"] for f in drifted if f["concern"] == "drift"} >= {"basket_value"}
    assert "hour_of_day" not in {f["subject"] for f in drifted}  # it did not move
    assert "moved away from its training data: basket_value (PSI" in err
    code, out, _err = medic(
        "watch", "--once", "--cluster", "sim", "--scenario", "model-regression",
        "--service", "shop/recommender", "--json",
    )  # fmt: skip
    assert code == 0, out
    findings = json.loads(out.strip().splitlines()[-1])["findings"]
    assert not [f for f in findings if f["concern"] == "drift"]
