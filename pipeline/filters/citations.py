"""Citations: every rule id the reasoning cites must be one the teacher actually had. Adaptive traces may cite only
ids their tool calls returned; explicit traces only ids in their system prompt. A cited id the teacher never saw
is an invented ground for its decision, which the RL stage would then reward."""
from __future__ import annotations

import re

from ..records import RawRecord
from .base import Filter

CITATION = re.compile(r"\[([a-z][a-z0-9_]*\.[0-9]+)\]")


def cited_ids(record: RawRecord) -> list[str]:
    return list(dict.fromkeys(i for t in record.turns for i in CITATION.findall(t.reasoning or "")))


def available_ids(record: RawRecord) -> set[str]:
    if record.request.mode == "adaptive":
        return {i for t in record.tools if not t.error for i in t.rule_ids}
    system = " ".join(m["content"] for m in record.request.messages if m.get("role") == "system")
    return set(CITATION.findall(system))


class CitationFilter(Filter):
    name, stage = "citations", "ungrounded_citation"

    def check(self, record: RawRecord) -> str | None:
        unknown = [i for i in cited_ids(record) if i not in available_ids(record)]
        if not unknown:
            return None
        return "cited_rule_not_retrieved" if record.request.mode == "adaptive" else "cited_rule_not_given"
