"""Correctness: a reasoning prompt's final answer must equal its reference answer."""
from __future__ import annotations

from ..records import RawRecord
from .answers import answers_match
from .base import Filter


class CorrectnessFilter(Filter):
    name, stage = "correctness", "wrong_answer"

    def applies(self, record: RawRecord) -> bool:
        return record.request.prompt.kind == "reasoning"

    def check(self, record: RawRecord) -> str | None:
        ok = answers_match(record.final.answer or "", record.request.prompt.reference or "")
        if ok is None:
            return "no_final_answer"
        return None if ok else "wrong_answer"
