"""Citations: every rule id the reasoning cites must be one the teacher actually had. Adaptive traces may cite only
ids their tool calls returned; explicit traces only ids in their system prompt. A cited id the teacher never saw
is an invented ground for its decision, which the RL stage would then reward."""
from __future__ import annotations

from ..records import RULE_ID as CITATION
from ..records import GenerationRecord
from .base import Filter


def cited_ids(record: GenerationRecord) -> list[str]:
    return list(dict.fromkeys(i for t in record.turns for i in CITATION.findall(t.reasoning or "")))


def available_ids(record: GenerationRecord) -> set[str]:
    return set(record.rule_ids_given)


class CitationFilter(Filter):
    name, stage = "citations", "ungrounded_citation"

    def check(self, record: GenerationRecord) -> str | None:
        unknown = [i for i in cited_ids(record) if i not in available_ids(record)]
        if not unknown:
            return None
        return "cited_rule_not_retrieved" if record.request.mode == "adaptive" else "cited_rule_not_given"
