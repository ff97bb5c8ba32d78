"""The teacher interfaces every backend implements. Kept tiny so backends stay thin adapters.

Messages use one internal shape: assistant turns carry the raw completion text (and `tool_calls` when the turn
called the tool), tool results are {"role": "tool", "content", "tool_call_id"}. Each adapter converts them to
what its engine or endpoint accepts."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class TeacherError(Exception):
    """A request the teacher could not serve; recorded, never fatal to a build. `fatal` means the engine or
    endpoint itself is unusable (every later request would fail too): workers restart an engine, and the
    build stops early for an endpoint that rejects everything (bad key, unknown model)."""

    def __init__(self, message: str, fatal: bool = False, attempts: int = 1):
        super().__init__(message)
        self.fatal = fatal
        self.attempts = attempts


@dataclass
class Completion:
    text: str
    finish_reason: str          # stop | length | tool_calls
    prompt_tokens: int
    completion_tokens: int
    tool_calls: list[dict[str, Any]] | None = None   # native tool calls: [{"name", "arguments": str}]
    reasoning: str | None = None                     # a server-side reasoning field, when the endpoint has one
    latency_s: float = 0.0
    attempts: int = 1
    cached_prompt_tokens: int = 0       # prompt tokens served from the provider's prompt cache (cheaper where billed)
    mean_logprob: float | None = None   # the model's own mean log-probability of the tokens it wrote (raw, before
                                        # temperature and penalties), where the backend reports it


class Teacher(Protocol):
    """One contract for every backend (in-process vLLM, OpenAI-compatible endpoints, test doubles): a turn at a
    time, many conversations concurrently, each at its own pace; batching is the engine's or server's business."""

    def info(self) -> dict[str, Any]:
        """{"model", "revision", "engine", "engine_version"} for provenance."""

    async def complete(self, messages: list[dict[str, Any]], sampling: dict[str, Any], regex: str | None,
                       tools: list[dict[str, Any]] | None) -> Completion:
        """The next assistant turn. `regex` constrains the output (format guard); `tools` are offered natively
        where the backend supports it, else the text tool protocol is in the messages."""

    async def aclose(self) -> None:
        """Release connections; called once before the worker is stopped."""


def for_text_protocol(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages for a teacher that reads tool calls as text: the call is already in the assistant's text."""
    return [{k: v for k, v in m.items() if k != "tool_calls"} for m in messages]
