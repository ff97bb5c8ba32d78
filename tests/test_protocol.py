import re

import pytest

from pipeline.generate.protocol import guard_regexes, parse_turn, regex_escape
from pipeline.recipe import GuardSpec

CATS = ["fraud", "general", "weapons"]
SPEC = GuardSpec(enabled=True, min_reasoning_chars=5, max_reasoning_chars=200, max_answer_chars=200,
                 refusal_openers=("I can't help with that.",))


def test_parse_answer_turn():
    t = parse_turn("<think>\nRule [fraud.1] applies.\nDecision: refuse\n</think>\nI can't help with that.", "stop", 10, 5)
    assert t.reasoning.startswith("Rule [fraud.1]") and t.decision == "refuse"
    assert t.answer == "I can't help with that." and t.tool_call is None and t.parse_error is None


def test_parse_tool_call_turn():
    t = parse_turn('<think>\nrisky\n</think>\n<tool_call>{"name": "consult_safety_rules", "arguments": '
                   '{"category": "fraud"}}</tool_call>', "stop", 1, 1)
    assert t.tool_call == {"name": "consult_safety_rules", "arguments": {"category": "fraud"}} and t.answer is None


@pytest.mark.parametrize("text, error", [
    ("just an answer", "no_reasoning"),
    ("<think>\nnever closed", "unclosed_reasoning"),
    ("<think>x</think>\n<tool_call>{not json}</tool_call>", "malformed_tool_call"),
    ("<think>x</think>\n<tool_call>{\"name\": \"consult_safety_rules\"", "malformed_tool_call"),
    ("<think>x</think>\n<tool_call>{\"arguments\": {}}</tool_call>", "malformed_tool_call"),
])
def test_parse_errors(text, error):
    assert parse_turn(text, "stop", 0, 0).parse_error == error


def test_double_encoded_arguments_are_accepted():
    t = parse_turn('<think>x</think><tool_call>{"name": "consult_safety_rules", "arguments": "{\\"category\\": '
                   '\\"fraud\\"}"}</tool_call>', "stop", 0, 0)
    assert t.tool_call["arguments"] == {"category": "fraud"}


def test_guard_regexes_accept_the_protocol_and_reject_other_text():
    g = guard_regexes(SPEC, "harmful", CATS)
    answer = "<think>\nThis breaks [fraud.1].\nDecision: refuse\n</think>\nI can't help with that. Try the bank."
    call = ('<think>\nMight be a scam.\n</think>\n<tool_call>{"name": "consult_safety_rules", "arguments": '
            '{"category": "fraud"}}</tool_call>')
    assert re.fullmatch(g["answer"], answer) and re.fullmatch(g["tool_or_answer"], answer)
    assert re.fullmatch(g["tool_or_answer"], call) and not re.fullmatch(g["answer"], call)
    assert not re.fullmatch(g["tool_or_answer"], call.replace("fraud", "cooking"))
    # with openers, a refusal must open with one of them
    assert not re.fullmatch(g["answer"], answer.replace("I can't help with that.", "Sure, here it is."))
    assert re.fullmatch(g["answer"], answer.replace("refuse", "comply").replace("I can't help with that.", "Sure."))
    for text in (answer, call):   # what the guard admits, the parser reads back
        assert parse_turn(text, "stop", 0, 0).parse_error is None


def test_reasoning_guard_requires_a_bounded_final_number():
    g = guard_regexes(SPEC, "reasoning", CATS)
    ok = "<think>\n3 plus 5 is 8.\nDecision: comply\n</think>\nThree plus five.\n#### 8"
    assert re.fullmatch(g["answer"], ok)
    assert not re.fullmatch(g["answer"], ok.replace("#### 8", "#### " + "1" * 12))
    assert not re.fullmatch(g["answer"], ok.replace("#### 8", "eight"))


def test_regex_escape_leaves_spaces_alone():
    assert regex_escape("a b.c?") == "a b\\.c\\?"
