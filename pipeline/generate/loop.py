"""The conversation loop shared by both modes. Explicit traces take one turn; adaptive traces continue only
the conversations whose last turn called the tool, until they answer or hit max_tool_calls."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..records import RawRecord, Request, ToolExchange, Turn
from ..rules import RuleBook, consult_safety_rules
from ..util.hashing import sha256_obj
from .protocol import parse_turn
from .teachers.base import Completion, Teacher, TeacherError

ENGINE_DEAD = "engine died: "


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class _State:
    req: Request
    messages: list[dict[str, Any]]
    turns: list[Turn] = field(default_factory=list)
    tools: list[ToolExchange] = field(default_factory=list)
    error: str | None = None
    fatal: bool = False
    done: bool = False
    started_at: str = field(default_factory=_now)

    def regex(self) -> str | None:
        if not self.req.guard:
            return None
        calls_left = self.req.mode == "adaptive" and len(self.tools) < self.req.max_tool_calls
        return self.req.guard["tool_or_answer" if calls_left else "answer"]


def _chat(teacher: Teacher, states: list[_State]) -> list[Completion | TeacherError]:
    """Batch call; if the batch fails, retry one by one so only the bad requests fail."""
    args = ([s.messages for s in states], [s.req.sampling for s in states], [s.regex() for s in states])
    try:
        return list(teacher.chat(*args))
    except TeacherError as e:
        if e.fatal or len(states) == 1:
            return [e] * len(states)
    out: list[Completion | TeacherError] = []
    for s in states:
        try:
            out.extend(teacher.chat([s.messages], [s.req.sampling], [s.regex()]))
        except TeacherError as e:
            out.append(e)
            if e.fatal:   # the engine died mid-way: the rest cannot be served either
                out.extend([e] * (len(states) - len(out)))
                break
    return out


def _advance(state: _State, comp: Completion, book: RuleBook) -> None:
    turn = parse_turn(comp.text, comp.finish_reason, comp.prompt_tokens, comp.completion_tokens)
    state.turns.append(turn)
    state.messages.append({"role": "assistant", "content": comp.text})
    wants_tool = turn.tool_call is not None or turn.parse_error == "malformed_tool_call"
    req = state.req
    if not (req.mode == "adaptive" and wants_tool and comp.finish_reason != "length"
            and len(state.tools) < req.max_tool_calls):
        state.done = True
        return
    call_id = "call_" + sha256_obj([req.id, len(state.tools)])[:24]
    if turn.tool_call is None:   # a malformed call gets an error result the teacher can recover from
        name, args = "", None
        content, rule_ids, error = "Error: the tool call could not be parsed as JSON.", [], "malformed_tool_call"
    else:
        name, args = turn.tool_call["name"], turn.tool_call["arguments"]
        res = consult_safety_rules(book, name, args)
        content, rule_ids, error = res.content, res.rule_ids, res.error
    state.tools.append(ToolExchange(call_id=call_id, name=name, arguments=args, content=content,
                                    rule_ids=rule_ids, error=error))
    state.messages.append({"role": "tool", "content": content, "tool_call_id": call_id})


def run_requests(teacher: Teacher, requests: list[Request], book: RuleBook) -> list[RawRecord]:
    """Run every request to completion (or failure) and return one RawRecord each, in input order.
    A record that failed because the engine died has an error starting with ENGINE_DEAD."""
    states = [_State(req=r, messages=[dict(m) for m in r.messages]) for r in requests]
    info = teacher.info()
    while active := [s for s in states if not s.done]:
        for s, comp in zip(active, _chat(teacher, active)):
            if isinstance(comp, TeacherError):
                s.error, s.fatal, s.done = str(comp), comp.fatal, True
            else:
                _advance(s, comp, book)
    return [RawRecord(id=s.req.id, request=s.req, status="failed" if s.error else "ok",
                      error=(ENGINE_DEAD + s.error if s.fatal else s.error),
                      turns=s.turns, tools=s.tools, teacher_messages=s.messages, engine=info,
                      started_at=s.started_at, finished_at=_now()) for s in states]
