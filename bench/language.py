"""The language check (pipeline/filters/language.py) on English public text: how much it flags, and what.

    .venv/bin/python bench/language.py --rbr CHECKOUT --gptfuzz CHECKOUT --dna CHECKOUT --coconot CHECKOUT
        --phtest CHECKOUT [--show]

(the pinned checkouts of docs/response_classifier.md; `--dna` is the matsuolab checkout, which also gives the
Qwen3-32B answers and thinking blocks of bench/audit_public.py; GSM8K's test solutions from ../shared/data when
present). Every answer and thinking block, deduplicated per set, goes through `language_of`; a set is English
unless a row says otherwise, so what is flagged is either a false alarm or text in another language. `--show`
prints each flagged text's start, to read which."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from audit_public import load_safety_pairs, load_strong_answers, load_strong_traces  # noqa: E402
from pipeline.filters.language import READ, language_of  # noqa: E402
from train_response_classifier import load_coconot, load_dna, load_gptfuzz, load_phtest, load_rbr  # noqa: E402

GSM8K = ROOT.parent / "shared" / "data" / "gsm8k_test.jsonl"


def texts(rows) -> list[str]:
    return list(dict.fromkeys(r["text"] for r in rows if r["text"].strip()))


def main() -> None:
    ap = argparse.ArgumentParser()
    for name in ("rbr", "gptfuzz", "dna", "coconot", "phtest"):
        ap.add_argument(f"--{name}", type=Path, required=True)
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args()
    sets = {
        "RBR gold completions": texts(r for v in load_rbr(args.rbr).values() for r in v),
        "GPTFuzz answers (English rows)": texts(r for v in load_gptfuzz(args.gptfuzz).values() for r in v),
        "Do-Not-Answer answers (labelled)": texts(r for v in load_dna(args.dna).values() if isinstance(v, list)
                                                  for r in v),
        "CoCoNot answers": texts(r for v in load_coconot(args.coconot).values() for r in v),
        "PHTest answers, 11 models": texts(r for v in load_phtest(args.phtest, per_model=10**6).values() for r in v),
        "Qwen3-32B answers (Do-Not-Answer prompts)": texts(load_strong_answers(args.dna)),
        "Qwen3-32B thinking (WildJailbreak)": list(dict.fromkeys(
            r["response"].split("</think>")[0].replace("<think>", "") for r in load_strong_traces(args.dna))),
        "WildJailbreak safe answers": list(dict.fromkeys(
            r["response"].split("</think>")[-1] for r in load_strong_traces(args.dna))),
        "Qwen3-32B thinking, safe and planning": list(dict.fromkeys(
            r["reasoning"] for v in load_safety_pairs(args.dna).values() for r in v)),
    }
    if GSM8K.exists():
        sets["GSM8K test solutions"] = [json.loads(line)["answer"] for line in GSM8K.read_text().splitlines()]
    total = flagged_total = 0
    t0 = time.perf_counter()
    print("| set | texts | flagged as another language |\n|---|---|---|")
    for name, items in sets.items():
        flagged = [(t, lang) for t in items if (lang := language_of(t)) not in (None, READ)]
        total, flagged_total = total + len(items), flagged_total + len(flagged)
        print(f"| {name} | {len(items):,} | {len(flagged)} |")
        if args.show:
            for t, lang in flagged:
                print(f"    {lang}: {t[:100]!r}")
    print(f"| all | {total:,} | {flagged_total} |")
    print(f"\n{total / (time.perf_counter() - t0):,.0f} texts/s on this machine (one process)")


if __name__ == "__main__":
    main()
