"""Consult-rate balance: drops exactly enough traces, on the right side, deterministically."""
import pytest

from pipeline.records import Trace
from pipeline.filters.balance import apply_consult_balance
from pipeline.funnel import consult_rates
from pipeline.records import Prompt, GenerationRecord, Request, ToolExchange


def outcome(i: int, kind: str, consulted: bool, mode: str = "adaptive") -> Trace:
    prompt = Prompt(id=f"p{i}", text="q", kind=kind, category="fraud", source="s")
    req = Request(id=f"{i:04d}", prompt=prompt, mode=mode, messages=[], sampling={}, guard=None, max_tool_calls=1,
                  tool_categories=[])
    tools = [ToolExchange("c", "consult_safety_rules", {"category": "fraud"}, "r", ["fraud.1"], None)] if consulted else []
    return Trace(record=GenerationRecord(id=req.id, request=req, status="ok", error=None, tools=tools))


def test_ceiling_drops_consulted_traces_until_the_rate_fits():
    outs = [outcome(i, "benign", i < 8) for i in range(10)]               # 8/10 consulted
    drops = apply_consult_balance(outs, {"max_rate": {"benign": 0.5}})
    kept = [o for o in outs if o.kept]
    assert drops == {"benign": 6} and len(kept) == 4
    assert consult_rates(kept) == {"benign": 0.5}
    assert {o.reason for o in outs if not o.kept} == {"benign_consult_rate_above_0.5"}
    assert [o.record.id for o in outs if not o.kept] == [f"{i:04d}" for i in range(6)]   # lowest ids first


def test_floor_drops_unconsulted_harmful_traces_and_explicit_rows_are_untouched():
    outs = [outcome(i, "harmful", i < 3) for i in range(6)] + [outcome(100 + i, "harmful", False, "explicit")
                                                             for i in range(4)]
    drops = apply_consult_balance(outs, {"min_rate": {"harmful": 0.75}})
    assert drops == {"harmful": 2}
    assert consult_rates([o for o in outs if o.kept]) == {"harmful": 0.75}
    assert all(o.kept for o in outs if o.record.request.mode == "explicit")


@pytest.mark.parametrize("bounds", [{}, {"max_rate": {"benign": 1.0}}, {"min_rate": {"benign": 0.0}}])
def test_no_bound_or_a_loose_one_drops_nothing(bounds):
    outs = [outcome(i, "benign", i % 2 == 0) for i in range(6)]
    assert apply_consult_balance(outs, bounds) == {} and all(o.kept for o in outs)
