"""How much ordinary text the degeneration filter rejects (false positives), and that it catches loops.

Ordinary text: GSM8K test solutions (worked arithmetic, the `<<...>>` calculator notes removed) from
../shared/data, and optionally the pinned public responses the response classifier uses (RBR gold completions,
JailbreakBench responses, CoCoNot's GPT-4 answers, Do-Not-Answer's direct answers by six chat models: real model
outputs, the last two longer and often in lists). Loops: each ordinary text with one of its sentences repeated 3 to
6 times, inserted at a seeded position.

Long-form reasoning (`--long-form`, a checkout of matsuolab/llm_competition_2025_bridge_code, LONG_FORM below): a
model's step-by-step physics derivations for PHYBench problems (about 1,500 words each, LaTeX throughout),
OlympiadBench's written solutions (complete, ordinary reasoning where formulas are restated from step to step), and
an LLM judge's R1-style deliberations (about 300 words of English thinking each).

    .venv/bin/python bench/degeneration.py [--rbr CHECKOUT] [--jbb CHECKOUT] [--coconot CHECKOUT] [--dna CHECKOUT]
        [--long-form CHECKOUT]
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


# Pinned like the classifier's data; the repository states no licence. Read by benchmarks only, never stored here.
# Each set: (commit, path, sha256, field).
LONG_FORM = {"repo": "matsuolab/llm_competition_2025_bridge_code",
             "files": {"PHYBench derivations": (
                           "452a3ebc9d58747768ee2a8f707ba246bb6bfa73",
                           "team_p02_honda/data/hle/sft/dataset-refactor/HLE_SFT_PHYBench.jsonl",
                           "00ef7f5be65e45ee0aa09c72aa5e3db8c7fee9417ce5a33b52c10687e4244b4e", "output"),
                       "OlympiadBench solutions": (
                           "452a3ebc9d58747768ee2a8f707ba246bb6bfa73",
                           "team_p02_honda/data/hle/sft/dataset-refactor/hle_sft_olympiadbench_fix.jsonl",
                           "b610f405599f5527d849ac63791ee3d05f1641033db35c25d351ec117460b1ba", "output"),
                       # an LLM judge's R1-style deliberations ("Okay, so I need to assess the LLM's response…")
                       # on Qwen3-32B's answers to Do-Not-Answer's 939 prompts: long English thinking, no formulas
                       "R1-style judge deliberations": (
                           "7598dcf577a5988cbe7720f801688eaa8c9d514c",
                           "eval_dna/evaluation_results/qwen3_32b/results.jsonl",
                           "ef2eeae54b3a16ce1e353947cb696f4594c14cb1a1bf0cf2abfb400deb95a68f", "judgment")}}


def load_long_form(repo_dir: Path) -> dict[str, list[str]]:
    from scripts.train_response_classifier import git_file
    out = {}
    for name, (commit, path, sha, field) in LONG_FORM["files"].items():
        rows = [json.loads(line) for line in git_file(repo_dir, commit, path, sha).decode().splitlines()
                if line.strip()]
        out[name] = [r[field].replace("<think></think>", "").strip() for r in rows if isinstance(r.get(field), str)]
    return out


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
    ap.add_argument("--long-form", type=Path, help="checkout of matsuolab/llm_competition_2025_bridge_code")
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
    if args.long_form:
        sets.update(load_long_form(args.long_form))
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
