"""Filter-stage throughput: records/s of the filter chain (structure, citations, refusal classifier, answer
check), consult balance and exact dedupe on synthetic records, against the cost of merely decoding the same
records from the cache's JSON in the same run (a floor every stage pays).

    .venv/bin/python bench/filter_throughput.py [--n 10000]
"""
from __future__ import annotations

import argparse
import json
import random
import time


def synthetic(n: int, seed: int = 0):
    from pipeline.generate.protocol import parse_turn
    from pipeline.records import Prompt, GenerationRecord, Request, ToolExchange

    rnd = random.Random(seed)
    system = {"role": "system", "content": "Rules:\n[general.1] Help.\n[weapons.1] No weapons.\n[weapons.2] Facts ok."}
    answers = {
        "harmful": ["I can't help with that. Building a weapon could hurt people.",
                    "I won't explain that, but I can tell you how safe storage laws work: keep firearms locked.",
                    "Sure, here is how: first you take the pipe and the powder and then ..."],
        "benign": ["To kill a stuck process, run ps to find its id and then kill -9 followed by the id.",
                   "I'm sorry, but I can't help with that."],
        "reasoning": ["She has 3 + 5 = 8 apples.\n#### 8", "That makes 9.\n#### 9"],
    }
    out = []
    for i in range(n):
        kind = rnd.choice(("harmful", "benign", "reasoning"))
        mode = rnd.choice(("explicit", "adaptive"))
        prompt = Prompt(id=f"p{i}", text=f"prompt number {i} about {kind} things", kind=kind, category="weapons",
                        source="bench", reference="8" if kind == "reasoning" else None)
        req = Request(id=f"{rnd.getrandbits(256):064x}", prompt=prompt, mode=mode,
                      messages=[system] if mode == "explicit" else [], sampling={}, guard=None, max_tool_calls=1,
                      tool_categories=[])
        cite = rnd.choice(["[weapons.1]", "[weapons.2]", "[drugs.1]", ""])
        final = f"<think>\nLet me think about this request {i}. {cite}\nDecision: comply\n</think>\n" + \
                rnd.choice(answers[kind]) + f" ({i})"
        turns, tools = [], []
        if mode == "adaptive" and rnd.random() < 0.6:
            turns.append(parse_turn('<think>\nCheck the rules.\n</think>\n<tool_call>{"name": "consult_safety_rules", '
                                    '"arguments": {"category": "weapons"}}</tool_call>', "stop", 100, 30))
            tools.append(ToolExchange("c", "consult_safety_rules", {"category": "weapons"}, "[weapons.1] ...",
                                      ["weapons.1", "weapons.2"], None))
        turns.append(parse_turn(final, "stop", 150, 60))
        out.append(GenerationRecord(id=req.id, request=req, status="ok", error=None, turns=turns, tools=tools))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    args = ap.parse_args()
    from pipeline.dedupe import exact_dedupe
    from pipeline.filters import apply_filters
    from pipeline.filters.chain import FILTER_NAMES, FilterSettings
    from pipeline.filters.labels import Labeller
    from pipeline.filters.balance import apply_consult_balance
    from pipeline.records import GenerationRecord

    records = synthetic(args.n)
    blobs = [json.dumps(r.to_dict()) for r in records]
    start = time.perf_counter()
    decoded = [GenerationRecord.from_dict(json.loads(b)) for b in blobs]
    t_decode = time.perf_counter() - start
    rule_only = FilterSettings(enabled={name: True for name in FILTER_NAMES},
                               consistency={"min_reasoning_relevance": 0, "min_answer_relevance": 0})
    start = time.perf_counter()
    outcomes = apply_filters(decoded, rule_only, Labeller("phrases"))
    t_filters = time.perf_counter() - start
    start = time.perf_counter()
    apply_consult_balance(outcomes, {"max_rate": {"benign": 0.3}, "min_rate": {"harmful": 0.7}})
    kept = [o.record for o in outcomes if o.kept]
    exact_dedupe(kept, key="prompt_response", enabled=True)
    t_rest = time.perf_counter() - start
    n = args.n
    print(f"{n} synthetic records; kept {len(kept)}")
    print("| step | s | records/s | ratio to decoding |")
    print("|---|---|---|---|")
    print(f"| decode from cache JSON (baseline) | {t_decode:.3f} | {n / t_decode:,.0f} | 1 |")
    print(f"| filter chain without models (phrase labels, no relevance) | {t_filters:.3f} | {n / t_filters:,.0f} | "
          f"{t_decode / t_filters:.2f} |")
    print(f"| consult balance + exact dedupe | {t_rest:.3f} | {n / t_rest:,.0f} | {t_decode / t_rest:.2f} |")


if __name__ == "__main__":
    main()
