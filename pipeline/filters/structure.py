"""Structure: the trace is complete and well formed (the funnel counts truncation separately, first)."""
from __future__ import annotations

from ..records import RawRecord
from .base import Filter


def is_truncated(record: RawRecord) -> bool:
    return any(t.finish_reason == "length" for t in record.turns)


class StructureFilter(Filter):
    name, stage = "structure", "invalid_structure"

    def check(self, record: RawRecord) -> str | None:
        final = record.final
        if final is None:
            return "no_turns"
        if final.parse_error and final.parse_error != "malformed_tool_call":
            return final.parse_error
        if not final.reasoning:
            return "empty_reasoning"
        if final.tool_call is not None or final.parse_error == "malformed_tool_call":
            return "tool_call_in_explicit_mode" if record.request.mode == "explicit" else "tool_call_limit_exceeded"
        if not (final.answer or "").strip():
            return "empty_answer"
        if "<tool_call>" in final.answer or "</tool_call>" in final.answer:
            return "tool_call_after_answer"
        if any((t.answer or "").strip() for t in record.turns[:-1]):
            return "tool_call_after_answer"   # an earlier turn answered the user and then called the tool
        calls = [t for t in record.turns[:-1] if t.tool_call is not None or t.parse_error == "malformed_tool_call"]
        if len(calls) != len(record.tools):
            return "unanswered_tool_call"
        # A call that got an error result (bad JSON, unknown tool or category, missing arguments) is kept in the
        # trace and counted in the funnel; the trace is judged on what the teacher did after it.
        if any(not t.reasoning for t in record.turns):
            return "empty_reasoning"
        return None
