"""The packages' public surfaces: ``bot`` imports ``detectors``, ``knowledge`` and ``tools`` through
their ``__all__``. Every listed name must resolve, and asking for a pure one must not drag in the
heavy clients (Chroma, sentence-transformers, Kubernetes, LangChain) that the CLI avoids loading."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["detectors", "knowledge", "tools"])
def test_every_public_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]
    assert missing == []


def test_an_unknown_name_is_an_attribute_error() -> None:
    import knowledge

    with pytest.raises(AttributeError, match="no attribute 'rank'"):
        _ = knowledge.rank  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        from tools import SearchHit  # type: ignore[attr-defined]  # noqa: F401


def test_pure_names_load_without_the_heavy_clients() -> None:
    code = (
        "import sys\n"
        "from knowledge import Vocabulary, metric_family, rank_components\n"
        "from tools import SERVICE_LABELS, Action, ToolStatus\n"
        "heavy = ('chromadb', 'sentence_transformers', 'kubernetes', 'langchain_core', 'redis')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
