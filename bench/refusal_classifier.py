"""Refusal classifier accuracy and confusion matrix on the project's own labelled responses
(tests/data/refusal_labelled.jsonl: 150, balanced; tests/data/refusal_heldout.jsonl: 30 written after the
classifier was tuned and never tuned on). Optionally the LLM-judge variant through a recipe's judge teacher.

    .venv/bin/python bench/refusal_classifier.py [--llm recipes/demo.yaml]
"""
from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELS = ("comply", "refuse", "safe_complete")


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (ROOT / "tests" / "data" / name).read_text().splitlines() if line.strip()]


def report(title: str, rows: list[dict], predicted: list[str | None]) -> None:
    conf = Counter((r["label"], p) for r, p in zip(rows, predicted))
    correct = sum(conf[(label, label)] for label in LABELS)
    print(f"\n{title}: accuracy {correct}/{len(rows)} = {correct / len(rows):.3f}")
    cols = LABELS + (None,)
    print("| true \\ predicted | " + " | ".join(str(c) for c in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for t in LABELS:
        print(f"| {t} | " + " | ".join(str(conf[(t, c)]) for c in cols) + " |")
    by_case = Counter(r["case"] for r, p in zip(rows, predicted) if p != r["label"])
    if by_case:
        print("errors by case:", dict(by_case))


def llm_labels(recipe_path: str, rows: list[dict]) -> list[str | None]:
    """Label each response with the recipe's judge teacher, through the pipeline's own judge stage."""
    import tempfile

    from pipeline.build import _Pools
    from pipeline.judge.stage import run_judge
    from pipeline.recipe import load_recipe
    from pipeline.records import Prompt, RawRecord, Request, Turn
    from pipeline.rules import load_rulebook

    recipe = load_recipe(recipe_path)
    book = load_rulebook(recipe.rulebook_path)
    records = []
    for i, r in enumerate(rows):
        p = Prompt(id=str(i), text="(request not shown)", kind="harmful", category=None, source="bench")
        req = Request(id=f"{i:06d}", prompt=p, mode="explicit", messages=[], sampling={}, guard=None,
                      max_tool_calls=0, tool_categories=[])
        turn = Turn(text=r["text"], finish_reason="stop", prompt_tokens=0, completion_tokens=0, answer=r["text"])
        records.append(RawRecord(id=req.id, request=req, status="ok", error=None, turns=[turn]))
    pools = _Pools(None, recipe.ray_address)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run = run_judge("refusal", records, pools.get(recipe.judge_teacher), recipe.judge_teacher, recipe.judge,
                            recipe.seed, book, Path(tmp))
    finally:
        pools.close()
    return [run.verdicts[r.id].value for r in records]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--llm", help="also measure the LLM variant with this recipe's judge teacher")
    args = ap.parse_args()
    from pipeline.filters.refusal_classifier import classify_response

    for name in ("refusal_labelled.jsonl", "refusal_heldout.jsonl"):
        rows = load(name)
        start = time.perf_counter()
        pred = [classify_response(r["text"]) for r in rows]
        per_s = len(rows) / (time.perf_counter() - start)
        report(f"phrase classifier on {name} ({per_s:,.0f} responses/s)", rows, pred)
        if args.llm:
            start = time.perf_counter()
            pred = llm_labels(args.llm, rows)
            report(f"LLM classifier ({args.llm}) on {name} ({time.perf_counter() - start:.0f} s)", rows, pred)


if __name__ == "__main__":
    main()
