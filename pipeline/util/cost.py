"""What generation costs: prices per million tokens (input, output, and cached input where a provider discounts
prompt-cache hits), the cost of finished records, a conservative estimate for requests not yet sent, and a
budget that generation, resampling and the judge draw on together (`limits.max_cost_usd`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Rough characters per token for the estimate of an unsent prompt; English text averages about four, so three
# over-estimates (the estimate decides whether a request may still be sent under the limit).
_CHARS_PER_TOKEN = 3


@dataclass(frozen=True)
class Price:
    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0
    cached_input_per_mtok: float | None = None   # None: cache hits cost the input price

    @classmethod
    def from_recipe(cls, block: dict[str, Any] | None) -> "Price | None":
        return cls(**block) if block else None

    def of(self, prompt_tokens: int, completion_tokens: int, cached_prompt_tokens: int = 0) -> float:
        cached = min(cached_prompt_tokens, prompt_tokens)
        cached_rate = self.input_per_mtok if self.cached_input_per_mtok is None else self.cached_input_per_mtok
        return ((prompt_tokens - cached) * self.input_per_mtok + cached * cached_rate
                + completion_tokens * self.output_per_mtok) / 1e6


def record_cost(record, price: Price | None) -> float:
    """Dollars the teacher calls of one record cost (every turn; retries are not billed twice by providers that
    fail them, and are not counted here)."""
    if price is None:
        return 0.0
    return sum(price.of(t.prompt_tokens, t.completion_tokens, t.cached_prompt_tokens) for t in record.turns)


def request_estimate(request, price: Price | None) -> float:
    """An upper-leaning estimate for a request not yet sent: every turn it may take (one plus its tool calls)
    re-sends the conversation and may write max_tokens."""
    if price is None:
        return 0.0
    turns = 1 + request.max_tool_calls
    prompt = sum(len(str(m.get("content") or "")) for m in request.messages) // _CHARS_PER_TOKEN
    out = int(request.sampling.get("max_tokens", 0))
    return sum(price.of(prompt + k * out, out) for k in range(turns))


class Budget:
    """Spending of one build run across generation, resampling and the judge. With a limit, a request is sent only
    while what was spent, plus the estimates of requests in flight, plus its own estimate stays under it."""

    def __init__(self, limit: float | None = None):
        self.limit = limit
        self.spent = 0.0
        self.reserved = 0.0

    def reserve(self, estimate: float) -> bool:
        if self.limit is not None and self.spent + self.reserved + estimate > self.limit:
            return False
        self.reserved += estimate
        return True

    def settle(self, estimate: float, actual: float) -> None:
        self.reserved = max(0.0, self.reserved - estimate)
        self.spent += actual
