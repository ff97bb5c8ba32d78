"""Correctness: a reasoning prompt's final answer must equal its reference answer. A build's reasoning prompts always
have one (the loader drops those without); traces given to `ascl audit` may not, and then there is nothing to check
against, so the stage does not apply."""
from __future__ import annotations

from ..records import GenerationRecord
from .base import Filter


class CorrectnessFilter(Filter):
    name, stage = "correctness", "wrong_answer"

    def __init__(self, facts):
        self.facts = facts   # record id -> TraceFacts; `correct` is computed once in the chain

    def applies(self, record: GenerationRecord) -> bool:
        return record.request.prompt.kind == "reasoning" and record.request.prompt.reference is not None

    def check(self, record: GenerationRecord) -> str | None:
        ok = self.facts[record.id].correct
        if ok is None:
            return "no_final_answer"
        return None if ok else "wrong_answer"
