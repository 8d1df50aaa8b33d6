"""The configured chat model (``llm.model``), bounded like any other dependency.

- The provider's client gets a timeout and a retry limit, so every HTTP request to the model ends
  by itself: the timeout of one attempt is ``llm.timeout_seconds / (llm.max_retries + 1)``, so one
  call with all its retries fits in the deadline. (Provider clients' own defaults are far longer:
  the OpenAI client waits 600 s and retries twice.)
- A conversation with the model (the planner's turns, an `@medic` answer) runs under
  ``llm.timeout_seconds`` and starts no new turn past it (:class:`bot.llm.calls.Deadline`).
- At most ``llm.max_in_flight`` conversations run at once in the process, abandoned ones
  included; past that a new one is refused at once, and Medic answers without the model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.config import LLMSettings
from bot.llm.calls import BoundedCalls, Deadline, describe_failure

log = logging.getLogger(__name__)

T = TypeVar("T")

# How each provider's LangChain class spells a request timeout and a retry limit (`timeout` is an
# alias of request_timeout / default_request_timeout where the field has another name).
_TIMEOUT_AND_RETRIES = frozenset(
    {
        "openai",
        "azure_openai",
        "anthropic",
        "google_genai",
        "google_vertexai",
        "mistralai",
        "groq",
        "fireworks",
        "together",
        "deepseek",
        "xai",
    }
)
# Model names that `init_chat_model` maps to a provider without a `provider:` prefix.
_INFERRED = (("gpt-", "openai"), ("o1", "openai"), ("o3", "openai"), ("claude", "anthropic"))


def provider_of(model: str) -> str:
    """The provider of ``provider:name``, or the one init_chat_model infers from the name."""
    prefix, sep, _ = model.partition(":")
    if sep:
        return prefix
    return next((p for start, p in _INFERRED if model.lower().startswith(start)), "")


def provider_limits(provider: str, timeout: float, retries: int) -> dict[str, Any]:
    """The keyword arguments that give ``provider``'s client a timeout and a retry limit."""
    if provider in _TIMEOUT_AND_RETRIES:
        return {"timeout": timeout, "max_retries": retries}
    if provider == "ollama":  # its client never retries; the timeout goes to its httpx client
        return {"client_kwargs": {"timeout": timeout}}
    return {}


@dataclass(frozen=True)
class ChatModel:
    """A LangChain chat model with the bounds it is called under."""

    model: Any
    timeout_seconds: float
    calls: BoundedCalls

    def run(self, conversation: Callable[[Deadline], T]) -> T:
        """``conversation(deadline)`` on a bounded slot under ``timeout_seconds``."""
        return self.calls.run_with_deadline(self.timeout_seconds, conversation)


def bounded(model: Any, settings: LLMSettings) -> ChatModel:
    """``model`` (already built) under the configured deadline and in-flight limit."""
    return ChatModel(model, settings.timeout_seconds, BoundedCalls(settings.max_in_flight))


def load_chat_model(settings: LLMSettings) -> tuple[ChatModel | None, str]:
    """The configured chat model, bounded; or None and why there is none."""
    if not settings.model:
        return None, "no model configured (llm.model)"
    provider = provider_of(settings.model)
    attempt = settings.timeout_seconds / (settings.max_retries + 1)
    limits = provider_limits(provider, attempt, settings.max_retries)
    if not limits:
        log.warning(
            "llm.model %s: Medic does not know how provider %r sets a request timeout; its "
            "calls are bounded by llm.timeout_seconds and llm.max_in_flight only",
            settings.model,
            provider,
        )
    try:
        from langchain.chat_models import init_chat_model

        model = init_chat_model(settings.model, temperature=settings.temperature, **limits)
    except Exception as exc:  # a missing provider package, key or unknown name: plan without
        return None, f"cannot use model {settings.model!r}: {describe_failure(exc)}"
    return bounded(model, settings), ""
