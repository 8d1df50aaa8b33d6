"""CI must never silently skip a real-service test: with MEDIC_CI=1 a missing binary fails."""

from __future__ import annotations

import pytest

from tests.services.binaries import require


def test_missing_binary_fails_in_ci_and_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_CI", "1")
    with pytest.raises(pytest.fail.Exception, match="no-such-server not found"):
        require("no-such-server", "no-such-package")
    monkeypatch.delenv("MEDIC_CI")
    with pytest.raises(pytest.skip.Exception):
        require("no-such-server", "no-such-package")
