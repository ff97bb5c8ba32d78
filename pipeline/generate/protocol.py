"""The text protocol of a teacher turn, the format-guard regexes that enforce it, and its parser.

A turn is either an answer:

    <think>
    ...reasoning, citing rule ids like [violence.1]...
    Decision: refuse | safe_complete | comply
    </think>
    answer text

or (adaptive mode) a tool call:

    <think>
    ...reasoning...
    </think>
    <tool_call>{"name": "consult_safety_rules", "arguments": {"category": "weapons"}}</tool_call>

In-process engines have no tool-call parser of ours to rely on, so tool calls are parsed here (Hermes-style
<tool_call> tags, which many open models already emit).
"""
from __future__ import annotations

import json
import re

from ..recipe import GuardSpec
from ..records import Turn
from ..rules import TOOL_NAME

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
CALL_OPEN, CALL_CLOSE = "<tool_call>", "</tool_call>"
_DECISION = re.compile(r"(?:^|\n)\s*Decision:\s*(refuse|safe_complete|comply)\s*\.?\s*$", re.IGNORECASE)
_SPECIAL = set(".^$*+?{}[]\\|()/")


def regex_escape(text: str) -> str:
    """Escape only regex metacharacters (Python's re.escape also escapes spaces, which some grammar
    compilers reject)."""
    return "".join("\\" + c if c in _SPECIAL else c for c in text)


_BOUNDED_SPAN = re.compile(r"\[\^<>\]\{\d+,(\d+)\}")


def guard_reasoning_cap(guard: dict[str, str] | None) -> int | None:
    """The most reasoning characters a request's format guard allowed (None without a guard): the first bounded
    span of the 'answer' regex that guard_regexes below writes."""
    m = _BOUNDED_SPAN.search(guard["answer"]) if guard else None
    return int(m.group(1)) if m else None


def guard_answer_cap(guard: dict[str, str] | None) -> int | None:
    """The most answer characters a request's format guard allowed (None without a guard, and for reasoning prompts,
    whose answer ends in a checked number): the bounded span after the reasoning's in the 'answer' regex."""
    spans = _BOUNDED_SPAN.findall(guard["answer"]) if guard else []
    return int(spans[1]) if len(spans) > 1 else None


def guard_regexes(spec: GuardSpec, kind: str, categories: list[str]) -> dict[str, str]:
    """Regexes for the two turn shapes: 'answer' (answer only) and 'tool_or_answer' (adaptive, calls left)."""
    text = f"[^<>]{{{spec.min_reasoning_chars},{spec.max_reasoning_chars}}}"
    if kind == "reasoning":
        # GSM8K-style final line so the answer can be checked; the number itself is the teacher's choice.
        # The number is bounded too: an unbounded digit run lets a weak model loop until max_tokens.
        body = f"[^<>#]{{0,{spec.max_answer_chars}}}#### -?[0-9]{{1,9}}(\\.[0-9]{{1,4}})?"
    else:
        body = f"[^<>]{{1,{spec.max_answer_chars}}}"
    if spec.refusal_openers and kind != "reasoning":
        openers = "|".join(regex_escape(o) for o in spec.refusal_openers)
        decided = (f"(Decision: refuse\\n{THINK_CLOSE}\\n({openers})[^<>]{{0,{spec.max_answer_chars}}}"
                   f"|Decision: (safe_complete|comply)\\n{THINK_CLOSE}\\n{body})")
    else:
        decided = f"Decision: (refuse|safe_complete|comply)\\n{THINK_CLOSE}\\n{body}"
    answer = f"{THINK_OPEN}\\n{text}\\n{decided}"
    cats = "|".join(regex_escape(c) for c in categories)
    # Arguments: a category, a short query, or both (the tool's schema allows all three).
    category, query = f'"category": "({cats})"', '"query": "[^"\\\\<>\\n]{3,120}"'
    args = f"({category}|{query}|{category}, {query})"
    call = f'{THINK_CLOSE}\\n{CALL_OPEN}\\{{"name": "{TOOL_NAME}", "arguments": \\{{{args}\\}}\\}}{CALL_CLOSE}'

    tool_or_answer = f"{THINK_OPEN}\\n{text}\\n({decided}|{call})"
    return {"answer": answer, "tool_or_answer": tool_or_answer}


def parse_turn(text: str, finish_reason: str, prompt_tokens: int, completion_tokens: int) -> Turn:
    """Split a completion into reasoning, decision, answer or tool call. Never raises: problems are recorded
    in `parse_error` for the structure filter to count."""
    turn = Turn(text=text, finish_reason=finish_reason, prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens)
    body = text.strip()
    close = body.find(THINK_CLOSE)
    if close < 0:
        turn.parse_error = "unclosed_reasoning" if body.startswith(THINK_OPEN) else "no_reasoning"
        return turn
    reasoning = body[:close]
    if reasoning.startswith(THINK_OPEN):
        reasoning = reasoning[len(THINK_OPEN):]
    turn.reasoning = reasoning.strip()
    m = _DECISION.search(turn.reasoning)
    if m:
        turn.decision = m.group(1).lower()
    rest = body[close + len(THINK_CLOSE):].strip()
    if CALL_OPEN in rest:
        lead = rest[:rest.index(CALL_OPEN)].strip()   # answer text before a call: the call came after an answer
        start = rest.index(CALL_OPEN) + len(CALL_OPEN)
        end = rest.find(CALL_CLOSE, start)
        if end < 0:
            turn.parse_error = "malformed_tool_call"
            return turn
        turn.tool_call = _parse_call(rest[start:end])
        if turn.tool_call is None:
            turn.parse_error = "malformed_tool_call"
        trailing = rest[end + len(CALL_CLOSE):].strip()
        if lead or trailing:
            turn.answer = "\n".join(t for t in (lead, trailing) if t)  # kept so the structure filter sees it
        return turn
    turn.answer = rest
    return turn


def unthought_answer(turn: Turn) -> str | None:
    """The whole text of a completion that has no thinking block and no tool call (`no_reasoning`): what its reader
    was shown. None for any other turn. The labeller labels it (a build still rejects the trace), and `ascl audit
    --answers-only` judges it as an answer without reasoning."""
    if turn.parse_error == "no_reasoning" and CALL_OPEN not in turn.text:
        return turn.text.strip()
    return None


def _parse_call(payload: str) -> dict | None:
    try:
        obj = json.loads(payload)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        return None
    args = obj.get("arguments", {})
    if isinstance(args, str):  # some models double-encode arguments
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            return None
    if not isinstance(args, dict):
        return None
    return {"name": obj["name"], "arguments": args}

