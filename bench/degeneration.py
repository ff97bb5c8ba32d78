"""How much ordinary text the degeneration filter rejects (false positives), and that it catches loops.

Ordinary text: GSM8K test solutions (worked arithmetic, the `<<...>>` calculator notes removed) from
../shared/data, and optionally the pinned public responses the response classifier uses (RBR gold completions,
JailbreakBench responses, CoCoNot's GPT-4 answers, Do-Not-Answer's direct answers by six chat models: real model
outputs, the last two longer and often in lists). Loops: each ordinary text with one of its sentences repeated 3 to
6 times, inserted at a seeded position.

    .venv/bin/python bench/degeneration.py [--rbr CHECKOUT] [--jbb CHECKOUT] [--coconot CHECKOUT] [--dna CHECKOUT]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.filters.degeneration import DEFAULT_DEGENERATION, degeneration_reason  # noqa: E402


def looped(text: str, rng: random.Random) -> str:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 4]
    s = rng.choice(sentences) if sentences else text
    return text + " " + " ".join([s] * rng.randint(3, 6))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rbr", type=Path)
    ap.add_argument("--jbb", type=Path)
    ap.add_argument("--coconot", type=Path)
    ap.add_argument("--dna", type=Path)
    args = ap.parse_args()
    sets = {"GSM8K test solutions": [re.sub(r"<<.*?>>", "", json.loads(line)["answer"]) for line in
                                     (ROOT.parent / "shared" / "data" / "gsm8k_test.jsonl").read_text().splitlines()]}
    if args.rbr or args.jbb or args.coconot or args.dna:
        from scripts.train_response_classifier import dedupe, load_coconot, load_dna, load_jbb, load_rbr
        if args.rbr:
            rbr = load_rbr(args.rbr)
            sets["RBR gold completions"] = [r["text"] for r in rbr["train"] + rbr["heldout"]
                                            if r["source"] == "rbr-gold"]
        if args.jbb:
            jbb = load_jbb(args.jbb)[0]
            sets["JailbreakBench responses"] = [r["text"] for r in jbb["train"] + jbb["heldout"]]
        if args.coconot:
            cc = load_coconot(args.coconot)
            sets["CoCoNot GPT-4 answers"] = [r["text"] for r in dedupe(cc["train"] + cc["heldout"])
                                             if r["label"] == "comply"]
        if args.dna:
            dna = load_dna(args.dna, comply_actions=("5",))
            sets["Do-Not-Answer direct answers"] = [r["text"] for r in dedupe(dna["train"] + dna["heldout"])
                                                    if r["label"] == "comply"]
    rng = random.Random(0)
    print("| set | texts | mean words | rejected (false positives) | loops caught |")
    print("|---|---|---|---|---|")
    for name, texts in sets.items():
        fp = Counter(degeneration_reason(t, DEFAULT_DEGENERATION) for t in texts)
        caught = sum(bool(degeneration_reason(looped(t, rng), DEFAULT_DEGENERATION)) for t in texts)
        words = sum(len(t.split()) for t in texts) / len(texts)
        rejected = len(texts) - fp[None]
        print(f"| {name} | {len(texts)} | {words:.0f} | {rejected} ({rejected / len(texts):.1%}) | "
              f"{caught}/{len(texts)} ({caught / len(texts):.1%}) |")
        print("|  reasons |  |  | " + ", ".join(f"{k} {v}" for k, v in fp.most_common() if k) + " | |")


if __name__ == "__main__":
    main()
