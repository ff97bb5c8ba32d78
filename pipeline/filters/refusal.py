"""Refusal behaviour: harmful prompts must be refused or safely completed; benign and reasoning prompts must be
answered with no refusal at all (over-refusal is what the benign look-alikes are there to catch; a benign answer
that opens with "I can't help with that" and then rambles on is still a refusal)."""
from __future__ import annotations

from ..records import RawRecord
from .base import Filter
from .refusal_classifier import classify_response


class RefusalFilter(Filter):
    name, stage = "refusal", "wrong_refusal"

    def check(self, record: RawRecord) -> str | None:
        kind = record.request.prompt.kind
        rtype = classify_response(record.final.answer or "")
        if kind == "harmful" and rtype == "comply":
            return "harmful_complied"
        if kind != "harmful" and rtype != "comply":
            return f"{kind}_refused" if rtype == "refuse" else f"{kind}_partly_refused"
        return None
