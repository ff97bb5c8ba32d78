"""Raw record + verdicts -> training row (schemas/record.schema.json), and the row's explicit Arrow schema.

Reasoning lives in each assistant message's `reasoning_content`; `content` is only what the user sees.
Explicit rows keep user + assistant (the rules are distilled away); adaptive rows keep the whole
conversation with OpenAI-style tool_calls and tool messages."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..filters import FILTER_NAMES
from ..records import Trace
from ..rules import RuleBook, tool_schema
from ..util.hashing import canonical_json

_STR = pa.string()
MESSAGE = pa.struct([
    ("role", _STR), ("content", _STR), ("reasoning_content", _STR),
    ("tool_calls", pa.list_(pa.struct([("id", _STR), ("type", _STR),
                                       ("function", pa.struct([("name", _STR), ("arguments", _STR)]))]))),
    ("tool_call_id", _STR),
])
ROW_SCHEMA = pa.schema([
    ("id", _STR), ("messages", pa.list_(MESSAGE)), ("mode", _STR), ("prompt_kind", _STR), ("category", _STR),
    ("category_source", _STR), ("source", _STR), ("consulted_rules", pa.bool_()), ("num_tool_calls", pa.int32()),
    ("rule_ids", pa.list_(_STR)), ("tools", _STR), ("response_type", _STR), ("declared_decision", _STR),
    ("reference", _STR), ("correct", pa.bool_()), ("sample", pa.int32()),
    ("response_confidence", pa.float64()),
    ("verdicts", pa.struct([(name, _STR) for name in FILTER_NAMES])),
    ("judge", pa.struct([("safety", pa.int32()), ("rule_relevance", pa.int32()), ("reasoning", pa.int32()),
                         ("reply", _STR), ("attempts", pa.int32())])),
    ("dedupe_cluster", _STR),
    ("provenance", pa.struct([
        ("teacher_model", _STR), ("teacher_revision", _STR), ("engine", _STR), ("engine_version", _STR),
        ("sampling", _STR), ("template_hash", _STR), ("rulebook_hash", _STR), ("rulebook_version", _STR),
        ("recipe_hash", _STR), ("format_guard", pa.bool_()), ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()), ("finish_reason", _STR), ("attempts", pa.int32()),
        ("latency_s", pa.float64()), ("started_at", _STR), ("finished_at", _STR),
    ])),
])


@dataclass(frozen=True)
class BuildContext:
    book: RuleBook
    template_hash: str
    recipe_hash: str


def _msg(role: str, content: str, reasoning: str | None = None, tool_calls=None, tool_call_id=None) -> dict:
    return {"role": role, "content": content, "reasoning_content": reasoning, "tool_calls": tool_calls,
            "tool_call_id": tool_call_id}


def training_messages(outcome: Trace) -> list[dict[str, Any]]:
    rec = outcome.record
    msgs = [_msg("user", rec.request.prompt.text)]
    tools = iter(rec.tools)
    for turn in rec.turns[:-1]:   # earlier turns are tool calls (the loop only continues after a call)
        tool = next(tools)
        call = {"id": tool.call_id, "type": "function",
                "function": {"name": tool.name, "arguments": json.dumps(tool.arguments, ensure_ascii=False)}}
        msgs.append(_msg("assistant", "", turn.reasoning, [call]))
        msgs.append(_msg("tool", tool.content, tool_call_id=tool.call_id))
    final = rec.final
    msgs.append(_msg("assistant", (final.answer or "").strip(), final.reasoning))
    return msgs


def training_row(outcome: Trace, ctx: BuildContext) -> dict[str, Any]:
    rec = outcome.record
    req, prompt = rec.request, rec.request.prompt
    adaptive = req.mode == "adaptive"
    return {
        "id": rec.id,
        "messages": training_messages(outcome),
        "mode": req.mode, "prompt_kind": prompt.kind, "category": prompt.category,
        "category_source": prompt.category_source or ("source" if prompt.category else None), "source": prompt.source,
        "consulted_rules": rec.consulted, "num_tool_calls": len(rec.tools),
        "rule_ids": rec.rule_ids_given,
        "tools": canonical_json([tool_schema(ctx.book)]) if adaptive else None,
        "response_type": outcome.response_type, "response_confidence": outcome.confidence,
        "declared_decision": rec.final.decision,
        "reference": prompt.reference,
        "correct": outcome.correct,
        "sample": req.sample,
        "verdicts": {k: outcome.verdicts.get(k, "off") for k in FILTER_NAMES},
        "judge": outcome.judge,
        "dedupe_cluster": outcome.cluster,
        "provenance": {
            "teacher_model": rec.engine.get("model", ""), "teacher_revision": rec.engine.get("revision"),
            "engine": rec.engine.get("engine", ""), "engine_version": rec.engine.get("engine_version", ""),
            "sampling": canonical_json(req.sampling), "template_hash": ctx.template_hash,
            "rulebook_hash": ctx.book.sha256, "rulebook_version": ctx.book.version,
            "recipe_hash": ctx.recipe_hash, "format_guard": req.guard is not None,
            "prompt_tokens": sum(t.prompt_tokens for t in rec.turns),
            "completion_tokens": sum(t.completion_tokens for t in rec.turns),
            "finish_reason": rec.final.finish_reason, "attempts": max(rec.attempts, *(t.attempts for t in rec.turns)),
            "latency_s": round(sum(t.latency_s for t in rec.turns), 4),
            "started_at": rec.started_at, "finished_at": rec.finished_at,
        },
    }
