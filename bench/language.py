"""The language check (pipeline/filters/language.py) on English public text: how much it flags, and what.

    .venv/bin/python bench/language.py --rbr CHECKOUT --gptfuzz CHECKOUT --dna CHECKOUT --coconot CHECKOUT
        --phtest CHECKOUT [--show]

(the pinned checkouts of docs/response_classifier.md; `--dna` is the matsuolab checkout, which also gives the
Qwen3-32B answers and thinking blocks of bench/audit_public.py; GSM8K's test solutions from ../shared/data when
present). Every answer and thinking block, deduplicated per set, goes through `language_of`, and through
`switched_line` (a line in another script inside a text that reads as English: the teacher switched language
part-way); a set is English unless a row says otherwise, so what is flagged is either a false alarm or text in another
language. `--show` prints each flagged text's start (and the switched line), to read which. `--refusal-direction
CHECKOUT` adds the completions of refusal_direction's five chat models (pinned as in the training script), where
Qwen-1.8B-chat closes English answers with lines of Chinese: a set where the line check is meant to fire."""
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
from pipeline.filters.language import READ, language_of, switched_line  # noqa: E402
from train_response_classifier import (REFUSAL_DIRECTION, git_file, load_coconot, load_dna, load_gptfuzz,  # noqa: E402
                                       load_phtest, load_rbr)

GSM8K = ROOT.parent / "shared" / "data" / "gsm8k_test.jsonl"


def texts(rows) -> list[str]:
    return list(dict.fromkeys(r["text"] for r in rows if r["text"].strip()))


def main() -> None:
    ap = argparse.ArgumentParser()
    for name in ("rbr", "gptfuzz", "dna", "coconot", "phtest"):
        ap.add_argument(f"--{name}", type=Path, required=True)
    ap.add_argument("--refusal-direction", type=Path)
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
    if args.refusal_direction:
        for model in REFUSAL_DIRECTION["models"]:
            sets[f"refusal_direction completions, {model}"] = list(dict.fromkeys(
                c["response"] for run in REFUSAL_DIRECTION["runs"] for c in json.loads(git_file(
                    args.refusal_direction, REFUSAL_DIRECTION["commit"],
                    f"pipeline/runs/{model}/completions/{run}_evaluations.json"))["completions"]
                if c["response"].strip()))
    if GSM8K.exists():
        sets["GSM8K test solutions"] = [json.loads(line)["answer"] for line in GSM8K.read_text().splitlines()]
    total = flagged_total = 0
    t0 = time.perf_counter()
    switched_total = 0
    print("| set | texts | flagged as another language | English, with a line in another script |\n|---|---|---|---|")
    for name, items in sets.items():
        flagged = [(t, lang) for t in items if (lang := language_of(t)) not in (None, READ)]
        read = {t for t, _ in flagged}
        switched = [(t, line) for t in items if t not in read and (line := switched_line(t))]
        total, flagged_total = total + len(items), flagged_total + len(flagged)
        switched_total += len(switched)
        print(f"| {name} | {len(items):,} | {len(flagged)} | {len(switched)} |")
        if args.show:
            for t, lang in flagged:
                print(f"    {lang}: {t[:100]!r}")
            for t, line in switched:
                print(f"    line {line[:60]!r} in: {t[:100]!r}")
    print(f"| all | {total:,} | {flagged_total} | {switched_total} |")
    print(f"\n{total / (time.perf_counter() - t0):,.0f} texts/s on this machine (one process)")


if __name__ == "__main__":
    main()
