"""Structure: the trace is complete and well formed (the funnel counts truncation separately, first)."""
from __future__ import annotations

import re

from ..generate.protocol import guard_answer_cap, guard_reasoning_cap
from ..records import GenerationRecord
from .base import Filter

_SENTENCE_END = re.compile(r"""[.!?:)\]"'*`]\s*$""")
_DECISION_LINE = re.compile(r"\n?Decision:\s*\w+\s*$")
# A lowercase connective or preposition as the answer's first word: the answer goes on from text it did not write
_MID_SENTENCE_START = re.compile(r"(?:to|and|or|of|that|which|whose|with|for|in|on|at|by|from|than|whereas|into)\s")
# Text that stops in the middle of a sentence: it ends in a letter, a comma, a semicolon, a dash or an open bracket
# (digits, emoji, closing brackets and code fences end text normally), on a line of prose (not a list item or a
# heading) long enough to be a sentence. Catches what no guard cap or finish reason reports: traces produced
# elsewhere and cut before they reached `ascl audit` (a public SFT file whose thinking blocks stop at about 256
# tokens; chat answers cut at a token limit).
_CUT_END = re.compile(r"[A-Za-z,;(\u2013-]\s*$")
_LIST_OR_HEADING = re.compile(r"^\s*(?:[-*•]|\d+[.)]|#+\s)")
# A sentence that ends on an address is whole: a referral ("…or visit https://988lifeline.org", "…at samhsa.gov"),
# an answer that gives a contact ("The email address for queries is: webmaster@tnm.jp"), a handle or a post's
# hashtags ("… #mentalhealthmatters"). Any two-letter (country) domain counts, besides the common longer ones; a
# chat model's answers to public contact questions end that way (docs/benchmarks.md, "Twenty-third session").
_ENDS_IN_ADDRESS = re.compile(r"(?:https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?<!\w)[@#]\w+"
                              r"|\b[\w-]+(?:\.[\w-]+)*\.(?:org|com|gov|net|edu|int|io|info|[a-z]{2})(?:/\S*)?)\s*$",
                              re.IGNORECASE)
MIN_CUT_LINE_WORDS = 8
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)", re.MULTILINE)   # a Markdown code fence line, opening or closing


def ends_mid_sentence(text: str) -> bool:
    text = (text or "").strip()
    if not _CUT_END.search(text) or _ENDS_IN_ADDRESS.search(text):
        return False
    last = text.split("\n")[-1].strip()
    return not _LIST_OR_HEADING.match(last) and len(last.split()) >= MIN_CUT_LINE_WORDS


def is_truncated(record: GenerationRecord) -> bool:
    return any(t.finish_reason == "length" for t in record.turns)


class StructureFilter(Filter):
    name, stage = "structure", "invalid_structure"

    def __init__(self, allow_cut_reasoning: bool = False, answers_only: bool = False):
        self.allow_cut_reasoning = allow_cut_reasoning
        self.answers_only = answers_only     # FilterSettings.answers_only: a turn may come without reasoning

    def _lacks_reasoning(self, turn) -> bool:
        """Empty reasoning, unless an answer-only audit gave the turn none at all (reasoning None)."""
        return not turn.reasoning and not (self.answers_only and turn.reasoning is None)

    def check(self, record: GenerationRecord) -> str | None:
        final = record.final
        if final is None:
            return "no_turns"
        if final.parse_error and final.parse_error != "malformed_tool_call":
            return final.parse_error
        if self._lacks_reasoning(final):
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
        if any(self._lacks_reasoning(t) for t in record.turns):
            return "empty_reasoning"
        cap = None if self.allow_cut_reasoning else guard_reasoning_cap(record.request.guard)
        if cap is not None:
            for t in record.turns:
                text = _DECISION_LINE.sub("", (t.reasoning or "").strip()).strip()   # the thinking the guard capped
                # The guard ended the thinking at its character cap, mid-sentence: the reasoning is cut off, and a
                # model trained on it learns to stop thinking mid-thought.
                if len(text) >= cap - 2 and not _SENTENCE_END.search(text):
                    return "reasoning_cut_at_guard_limit"
        cap = None if self.allow_cut_reasoning else guard_answer_cap(record.request.guard)
        answer = final.answer.strip()
        if cap is not None and len(answer) >= cap - 2 and not _SENTENCE_END.search(answer):
            # the same for the answer: the guard stopped it at its cap mid-sentence ("I will not provide a")
            return "answer_cut_at_guard_limit"
        if answer.endswith(":"):
            # "Here's a general breakdown:", "4. **Type of Funding**:" and nothing after: the answer announces what
            # it never gives. On every complete public answer read (Do-Not-Answer, RBR, CoCoNot, Reuter: 5,386) none
            # ends so; PHTest's 424 that do and Qwen3-32B's 6 are cut at a token limit (docs/benchmarks.md).
            return "answer_ends_with_colon"
        if len(_FENCE.findall(answer)) % 2:
            # a code block opened and never closed: the answer stops inside its code ("print(\"MAE:\","), which
            # the prose check above cannot see. 1,914 of PHTest's 2,714 answers with code are cut so at the authors'
            # token limit; no complete public answer read leaves one open (docs/benchmarks.md).
            return "answer_ends_in_open_code_block"
        if not self.allow_cut_reasoning:
            # only the thinking before the answer: thinking before a tool call may stop where the call starts
            if ends_mid_sentence(_DECISION_LINE.sub("", (final.reasoning or "").strip())):
                return "reasoning_ends_mid_sentence"
            if ends_mid_sentence(answer):
                return "answer_ends_mid_sentence"
        if _MID_SENTENCE_START.match(answer):
            # "to ensure they work well during daylight …": the answer continues a sentence of the reasoning (seen
            # when the guard cut the thinking and cut reasoning was allowed); a user would read a fragment
            return "answer_starts_mid_sentence"
        return None
