"""Prompt templates for the optional LLM planner and summaries, kept as files so they can be
reviewed and changed without touching code."""

from __future__ import annotations

from importlib import resources


def load_prompt(name: str) -> str:
    """The text of ``prompts/<name>.md``; raises FileNotFoundError naming the prompt if missing."""
    resource = resources.files(__package__).joinpath(f"{name}.md")
    if not resource.is_file():
        raise FileNotFoundError(f"no prompt named {name!r} in the prompts package")
    return resource.read_text()
