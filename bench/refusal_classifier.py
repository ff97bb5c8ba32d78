"""Response-type classifiers (phrase rules, the learned model, optionally the LLM judge): accuracy, binary
accuracy (full compliance vs full refusal) and confusion matrices on the project's own labelled responses and on
the untouched split of the pinned public data; then the learned model's throughput on one core.

    .venv/bin/python bench/refusal_classifier.py [--rbr CHECKOUT] [--jbb CHECKOUT] [--coconot CHECKOUT]
        [--refusal-direction CHECKOUT] [--gptfuzz CHECKOUT] [--dna CHECKOUT] [--phtest CHECKOUT]
        [--reuter CHECKOUT] [--wildjailbreak CHECKOUT] [--falseqa CHECKOUT] [--llm recipes/demo.yaml]
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
    by_case = Counter(r.get("case", r.get("model", "-")) for r, p in zip(rows, predicted) if p != r["label"])
    if by_case:
        print("errors by case or source model:", dict(by_case))


def llm_labels(recipe_path: str, rows: list[dict]) -> list[str | None]:
    """Label each response with the recipe's judge teacher, through the pipeline's own judge stage."""
    import tempfile

    from pipeline.build import EnginePools
    from pipeline.judge.task import run_judge
    from pipeline.recipe import load_recipe
    from pipeline.records import Prompt, GenerationRecord, Request, Turn
    from pipeline.rules import load_rulebook

    recipe = load_recipe(recipe_path)
    book = load_rulebook(recipe.rulebook_path)
    records = []
    for i, r in enumerate(rows):
        p = Prompt(id=str(i), text="(request not shown)", kind="harmful", category=None, source="bench")
        req = Request(id=f"{i:06d}", prompt=p, mode="explicit", messages=[], sampling={}, guard=None,
                      max_tool_calls=0, tool_categories=[])
        turn = Turn(text=r["text"], finish_reason="stop", prompt_tokens=0, completion_tokens=0, answer=r["text"])
        records.append(GenerationRecord(id=req.id, request=req, status="ok", error=None, turns=[turn]))
    pools = EnginePools(None, recipe.ray_address)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run = run_judge("refusal", records, pools.get(recipe.judge_teacher), recipe.judge_teacher, recipe.judge,
                            recipe.seed, book, Path(tmp))
    finally:
        pools.close()
    return [run.verdicts[r.id].value for r in records]


def external_sets(rbr: Path | None, jbb: Path | None, coconot: Path | None = None,
                  direction: Path | None = None, gptfuzz: Path | None = None,
                  dna: Path | None = None, phtest: Path | None = None,
                  reuter: Path | None = None, wildjailbreak: Path | None = None,
                  falseqa: Path | None = None) -> dict[str, list[dict]]:
    """The untouched split of the pinned public data (scripts/train_response_classifier.py): never trained or
    tuned on. Needs local checkouts of the pinned repositories."""
    import sys

    sys.path.insert(0, str(ROOT))
    from scripts.train_response_classifier import (HELD_OUT_MODEL, PHTEST, dedupe, load_coconot, load_dna,
                                                   load_falseqa, load_gptfuzz, load_jbb, load_phtest, load_rbr,
                                                   load_refusal_direction, load_reuter, load_wildjailbreak_heldout,
                                                   load_wildjailbreak_vanilla)

    out = {}
    if rbr:
        out["RBR gold test (human labels)"] = dedupe(load_rbr(rbr)["heldout"])
    if jbb:
        out[f"JailbreakBench {HELD_OUT_MODEL} (judge labels)"] = dedupe(load_jbb(jbb)[0]["heldout"])
    if coconot:
        out["CoCoNot contrast, GPT-4 compliance, held-out half"] = dedupe(load_coconot(coconot)["heldout"])
    if direction:
        out["refusal_direction Llama-3-8B-Instruct + Yi-6B-Chat (substring + Llama Guard 2 labels)"] = dedupe(
            load_refusal_direction(direction)["heldout"])
    if gptfuzz:
        out["GPTFuzz evaluate.csv, ChatGPT + Llama-2 + Vicuna (human labels)"] = dedupe(
            load_gptfuzz(gptfuzz)["heldout"])
    if dna:
        held = load_dna(dna)
        out["Do-Not-Answer, Llama-2-7B-chat + Vicuna-7B (human labels)"] = dedupe(held["heldout"])
        out["Do-Not-Answer, Llama-2-7B-chat + Vicuna-7B, attempts to answer with a disclaimer (human actions 2-3; "
            "comply)"] = dedupe(held["heldout_extra"])
    if phtest:
        # never trained on (docs/response_classifier.md, "PHTest"), so every answer of all eleven models counts
        out[f"PHTest, {len(PHTEST['files'])} chat models (LLM labels, XSTest's classes)"] = load_phtest(phtest)["all"]
    if reuter:
        # never trained on (docs/response_classifier.md, "Eleventh session"), so every answer counts
        out["Reuter, gpt-3.5-turbo answers to Quora and political questions (human labels)"] = dedupe(
            load_reuter(reuter)["all"])
    if wildjailbreak:
        # hand-labelled here, never trained on (docs/response_classifier.md, "Thirteenth session")
        out["WildJailbreak's safe answers to adversarial harmful prompts, random 104 (labelled here)"] = dedupe(
            load_wildjailbreak_heldout(wildjailbreak))
        # the benign contrast prompts in XSTest's categories, with a few harmful ones: hand-labelled here, never
        # trained on (docs/response_classifier.md, "Twenty-third session")
        out["WildJailbreak vanilla prompts (XSTest's categories), GPT answers, random 300 (labelled here)"] = dedupe(
            load_wildjailbreak_vanilla(wildjailbreak))
    if falseqa:
        # people's answers, never trained on (no licence stated): a rebuttal of a false premise is an answer
        held = load_falseqa(falseqa)
        out["FalseQA, rebuttals of false premises (people's answers; comply)"] = dedupe(held["false_premise"])
        out["FalseQA, answers to true-premise questions (people's answers; comply)"] = dedupe(held["true_premise"])
    return out


def binary(rows: list[dict], predicted: list[str | None]) -> str:
    pairs = [(r["label"] == "comply", p == "comply") for r, p in zip(rows, predicted) if r["label"] != "safe_complete"]
    return f"{sum(a == b for a, b in pairs) / len(pairs):.3f} on {len(pairs)}" if pairs else "-"


def gates(sets: dict[str, list[dict]]) -> None:
    """How many wrong behaviours pass the refusal filter's gates, by the label alone and with the defaults
    (recipe.model.DEFAULT_REFUSAL_CLASSIFIER: the probability thresholds, for benign prompts no decline sentence,
    for harmful prompts a sure label where no decline sentence is found), on the untouched sets."""
    from pipeline.filters.refusal_classifier import analyse
    from pipeline.filters.response_model import score_responses, strip_think
    from pipeline.recipe.model import DEFAULT_REFUSAL_CLASSIFIER as G

    print("\nrefusal gates (label alone -> with thresholds):")
    for name, rows in sets.items():
        if name.startswith("project"):
            continue
        texts = [strip_think(r["text"]) for r in rows]
        scored = [(*sc, bool(analyse(t).refusals)) for sc, t in zip(score_responses(texts), texts)]
        for gate in ("benign", "harmful"):
            def passes(sc, strict):
                label, confidence, p, declines = sc
                if gate == "benign":
                    return label == "comply" and (not strict or (p >= G["min_comply_probability"] and not (
                        G["reject_decline_sentences"] and declines)))
                return label != "comply" and (not strict or (p < G["max_harmful_comply_probability"] and not (
                    confidence < G["min_unseen_refusal_confidence"] and not declines)))
            for truth in ("comply", "not comply"):
                picked = [sc for sc, r in zip(scored, rows) if (r["label"] == "comply") == (truth == "comply")]
                if picked:
                    print(f"  {name}: {gate} gate, {truth} answers passing: "
                          f"{sum(passes(x, False) for x in picked)}/{len(picked)} -> "
                          f"{sum(passes(x, True) for x in picked)}/{len(picked)}")


def throughput(texts: list[str]) -> None:
    """Responses per second on one core, against the cost of the MiniLM embedding alone (the baseline)."""
    import torch

    from pipeline.embed.minilm import embed
    from pipeline.filters.response_model import classify_responses, load_model

    torch.set_num_threads(1)
    classify_responses(texts[:8])   # load the model once
    model = load_model()
    t0 = time.perf_counter()
    embed(texts, max_tokens=model.head_tokens, layers=model.head_layers, adapter=model.adapter)
    t_embed = time.perf_counter() - t0
    t0 = time.perf_counter()
    classify_responses(texts)
    t_model = time.perf_counter() - t0
    print(f"\nthroughput on one core ({len(texts)} responses, mean {sum(map(len, texts)) / len(texts):.0f} chars): "
          f"{len(texts) / t_model:,.0f} responses/s; embedding alone {len(texts) / t_embed:,.0f}/s "
          f"(classifier / embedding time = {t_model / t_embed:.2f})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--llm", help="also measure the LLM variant with this recipe's judge teacher")
    ap.add_argument("--rbr", type=Path, help="checkout of openai/safety-rbr-code-and-data (pinned commit)")
    ap.add_argument("--jbb", type=Path, help="checkout of JailbreakBench/artifacts (pinned commit)")
    ap.add_argument("--coconot", type=Path, help="checkout of allenai/noncompliance (pinned commit)")
    ap.add_argument("--refusal-direction", type=Path, help="checkout of andyrdt/refusal_direction (pinned commit)")
    ap.add_argument("--gptfuzz", type=Path, help="checkout of sherdencooper/GPTFuzz (pinned commit)")
    ap.add_argument("--dna", type=Path,
                    help="checkout of matsuolab/llm_competition_2025_bridge_code (pinned commit; Do-Not-Answer)")
    ap.add_argument("--phtest", type=Path, help="checkout of umd-huang-lab/FalseRefusal (pinned commit; PHTest)")
    ap.add_argument("--reuter", type=Path, help="checkout of maxwellreuter/chatgpt-refusals (pinned commit)")
    ap.add_argument("--wildjailbreak", type=Path,
                    help="checkout of matsuolab/llm_competition_2025_bridge_code (WildJailbreak answers, pinned)")
    ap.add_argument("--falseqa", type=Path, help="checkout of thunlp/FalseQA (pinned commit)")
    args = ap.parse_args()
    from pipeline.filters.refusal_classifier import classify_response
    from pipeline.filters.response_model import classify_responses, strip_think

    sets = {"project labelled (written here; in the model's training pool)": load("refusal_labelled.jsonl"),
            "project held-out (written here; never trained on)": load("refusal_heldout.jsonl"),
            **external_sets(args.rbr, args.jbb, args.coconot, args.refusal_direction, args.gptfuzz,
                           args.dna, args.phtest, args.reuter, args.wildjailbreak, args.falseqa)}
    gates(sets)
    for name, rows in sets.items():
        texts = [strip_think(r["text"]) for r in rows]
        for method, fn in (("phrases", lambda t: [classify_response(x) for x in t]),
                           ("model", lambda t: [lab for lab, _ in classify_responses(t)])):
            pred = fn(texts)
            report(f"{method} on {name}; binary {binary(rows, pred)}", rows, pred)
        if args.llm:
            start = time.perf_counter()
            pred = llm_labels(args.llm, rows)
            report(f"LLM classifier ({args.llm}) on {name} ({time.perf_counter() - start:.0f} s)", rows, pred)
    throughput([strip_think(r["text"]) for rows in sets.values() for r in rows][:600])


if __name__ == "__main__":
    main()
