"""Settings of the optional language model: which one, and the bounds every call to it keeps
(deadline, retries, calls at once, turns)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LLMSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    model: str | None = Field(
        None,
        description="A LangChain chat model for init_chat_model, e.g. 'openai:gpt-4o-mini', "
        "'anthropic:claude-sonnet-4-5', 'ollama:llama3.1'; none: plan without an LLM.",
    )
    timeout_seconds: float = Field(
        30, gt=0, le=600, description="Give up on the model after this long (one conversation)."
    )
    max_retries: int = Field(
        1, ge=0, le=5, description="Retries of a failed request, within timeout_seconds."
    )
    max_in_flight: int = Field(
        2, ge=1, le=16, description="Conversations with the model at once in one process."
    )
    max_steps: int = Field(3, ge=1, le=8, description="Model turns (read-only tool calls between).")
    temperature: float = Field(0.0, ge=0, le=2)
