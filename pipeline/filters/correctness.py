"""Correctness: a reasoning prompt's final answer must equal its reference answer."""
from __future__ import annotations

from ..records import GenerationRecord
from .base import Filter


class CorrectnessFilter(Filter):
    name, stage = "correctness", "wrong_answer"

    def __init__(self, facts):
        self.facts = facts   # record id -> TraceFacts; `correct` is computed once in the chain

    def applies(self, record: GenerationRecord) -> bool:
        return record.request.prompt.kind == "reasoning"

    def check(self, record: GenerationRecord) -> str | None:
        ok = self.facts[record.id].correct
        if ok is None:
            return "no_final_answer"
        return None if ok else "wrong_answer"
