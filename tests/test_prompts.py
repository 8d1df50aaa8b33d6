import pytest

from prompts import load_prompt


def test_prompts_load_from_package_files() -> None:
    assert "untrusted data" in load_prompt("planner_system")
    with pytest.raises(FileNotFoundError, match="no_such_prompt"):
        load_prompt("no_such_prompt")
