"""The conversation loop shared by both modes and all backends. Explicit traces take one turn; adaptive traces
continue only the conversations whose last turn called the tool, until they answer or hit max_tool_calls.

Every conversation runs as its own task against the teacher (an in-process vLLM engine or an HTTP endpoint), so
one slow conversation never holds up the others; the engine or server batches whatever is in flight."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..records import GenerationRecord, Request, ToolExchange, Turn
from ..rules import RuleBook, consult_safety_rules, tool_schema
from ..util.hashing import sha256_obj
from .protocol import THINK_CLOSE, THINK_OPEN, parse_turn
from .teachers.base import Completion, Teacher, TeacherError



def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class Conversation:
    """One conversation in flight: its messages so far, turns, tool exchanges and how it ended."""
    req: Request
    messages: list[dict[str, Any]]
    turns: list[Turn] = field(default_factory=list)
    tools: list[ToolExchange] = field(default_factory=list)
    error: str | None = None
    fatal: bool = False
    attempts: int = 1
    done: bool = False
    started_at: str = field(default_factory=_now)

    def calls_left(self) -> bool:
        return self.req.mode == "adaptive" and len(self.tools) < self.req.max_tool_calls

    def regex(self) -> str | None:
        if not self.req.guard:
            return None
        return self.req.guard["tool_or_answer" if self.calls_left() else "answer"]

    def fail(self, e: TeacherError) -> None:
        self.error, self.fatal, self.done = str(e), e.fatal, True
        self.attempts = max(self.attempts, e.attempts)

    def record(self, info: dict[str, Any]) -> GenerationRecord:
        return GenerationRecord(id=self.req.id, request=self.req, status="failed" if self.error else "ok",
                                error=self.error, fatal=bool(self.fatal and self.error),
                                turns=self.turns, tools=self.tools, teacher_messages=self.messages, engine=info,
                                attempts=self.attempts, started_at=self.started_at, finished_at=_now())


def to_turn(comp: Completion) -> Turn:
    """Parse a completion into a Turn; native tool calls (HTTP endpoints) are folded into the same shape."""
    text = comp.text or ""
    if comp.reasoning and THINK_CLOSE not in text:
        text = f"{THINK_OPEN}\n{comp.reasoning}\n{THINK_CLOSE}\n{text}"
    turn = parse_turn(text, comp.finish_reason, comp.prompt_tokens, comp.completion_tokens)
    turn.latency_s, turn.attempts, turn.mean_logprob = comp.latency_s, comp.attempts, comp.mean_logprob
    turn.cached_prompt_tokens = comp.cached_prompt_tokens
    if comp.tool_calls:
        call = comp.tool_calls[0]
        try:
            args = json.loads(call.get("arguments") or "{}")
        except json.JSONDecodeError:
            args = None
        if isinstance(args, dict) and isinstance(call.get("name"), str):
            turn.tool_call, turn.parse_error = {"name": call["name"], "arguments": args}, None
        else:
            turn.tool_call, turn.parse_error = None, "malformed_tool_call"
        if turn.parse_error == "no_reasoning" and turn.tool_call:
            turn.parse_error = None   # a native call needs no text protocol around it
    return turn


def advance(state: Conversation, comp: Completion, book: RuleBook) -> None:
    turn = to_turn(comp)
    state.turns.append(turn)
    state.attempts = max(state.attempts, comp.attempts)
    wants_tool = turn.tool_call is not None or turn.parse_error == "malformed_tool_call"
    assistant: dict[str, Any] = {"role": "assistant", "content": comp.text or ""}
    state.messages.append(assistant)
    if not (wants_tool and state.calls_left() and comp.finish_reason != "length"):
        state.done = True
        return
    req = state.req
    call_id = "call_" + sha256_obj([req.id, len(state.tools)])[:24]
    if turn.tool_call is None:   # a malformed call gets an error result the teacher can recover from
        name, args = "", None
        content, rule_ids, error = "Error: the tool call could not be parsed as JSON.", [], "malformed_tool_call"
    else:
        name, args = turn.tool_call["name"], turn.tool_call["arguments"]
        res = consult_safety_rules(book, name, args)
        content, rule_ids, error = res.content, res.rule_ids, res.error
    assistant["tool_calls"] = [{"id": call_id, "type": "function",
                                "function": {"name": name, "arguments": json.dumps(args if args is not None else {})}}]
    state.tools.append(ToolExchange(call_id=call_id, name=name, arguments=args, content=content,
                                    rule_ids=rule_ids, error=error))
    state.messages.append({"role": "tool", "content": content, "tool_call_id": call_id})


async def run_requests(teacher: Teacher, requests: list[Request], book: RuleBook,
                       native_tools: bool = False) -> list[GenerationRecord]:
    """Run every request to completion (or failure) as its own conversation, all concurrently; one GenerationRecord
    each, in input order. A record whose failure makes the teacher unusable (dead engine, rejected key) has
    `fatal` set."""
    tools = [tool_schema(book)] if native_tools else None

    async def converse(state: Conversation) -> None:
        while not state.done:
            offer = tools if state.calls_left() else None
            try:
                comp = await teacher.complete(state.messages, state.req.sampling, state.regex(), offer)
            except TeacherError as e:
                state.fail(e)
                return
            advance(state, comp, book)

    states = [Conversation(req=r, messages=[dict(m) for m in r.messages]) for r in requests]
    await asyncio.gather(*(converse(s) for s in states))
    info = teacher.info()
    return [s.record(info) for s in states]
