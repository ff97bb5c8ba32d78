"""How much ordinary text the degeneration filter rejects (false positives), and that it catches loops.

Ordinary text: GSM8K test solutions (worked arithmetic, the `<<...>>` calculator notes removed) from
../shared/data, and optionally the pinned public responses the response classifier uses (RBR gold completions,
JailbreakBench responses, CoCoNot's GPT-4 answers, Do-Not-Answer's direct answers by six chat models: real model
outputs, the last two longer and often in lists; `--phtest`: eleven chat models' answers to PHTest's prompts).
Loops: each ordinary text with one of its sentences said 3 to 6 more times, with its prompt's first sentence said 3
to 6 more times after it (an echo), and with a block of lines written again or two blocks taking turns. Each
count is given as the filter read text before (the text alone) and now (with its prompt, refrains removed, as it
reads an answer).

Long-form reasoning (`--long-form`, a checkout of matsuolab/llm_competition_2025_bridge_code, LONG_FORM below): a
model's step-by-step physics derivations for PHYBench problems (about 1,500 words each, LaTeX throughout),
OlympiadBench's written solutions (complete, ordinary reasoning where formulas are restated from step to step), and
an LLM judge's R1-style deliberations (about 300 words of English thinking each).

    .venv/bin/python bench/degeneration.py [--rbr CHECKOUT] [--jbb CHECKOUT] [--coconot CHECKOUT] [--dna CHECKOUT]
        [--phtest CHECKOUT] [--long-form CHECKOUT]
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


def echoed(text: str, prompt: str, rng: random.Random) -> str:
    """A loop made of the prompt: its first sentence of four words or more said 3 to 6 more times."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n+", prompt) if len(s.split()) >= 4] or [prompt]
    return text + "\n" + " ".join([sentences[0]] * rng.randint(3, 6))


def stanza_looped(text: str, rng: random.Random) -> str | None:
    """A loop of blocks: a block of two or more lines written again straight after itself, 1 to 3 more times, or
    the text's last two blocks taking turns 2 more times. None for a text without such a block."""
    blocks = [b for b in re.split(r"\n[ \t]*\n", text) if len(b.strip().splitlines()) >= 2]
    if not blocks:
        return None
    if len(blocks) >= 2 and rng.random() < 0.5:
        return text + ("\n\n" + blocks[-2] + "\n\n" + blocks[-1]) * 2
    return text + ("\n\n" + rng.choice(blocks)) * rng.randint(1, 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rbr", type=Path)
    ap.add_argument("--jbb", type=Path)
    ap.add_argument("--coconot", type=Path)
    ap.add_argument("--dna", type=Path)
    ap.add_argument("--phtest", type=Path, help="checkout of umd-huang-lab/FalseRefusal (eleven chat models' answers)")
    ap.add_argument("--long-form", type=Path, help="checkout of matsuolab/llm_competition_2025_bridge_code")
    args = ap.parse_args()
    # each set: (prompt or None, text) pairs
    gsm = [json.loads(line) for line in (ROOT.parent / "shared" / "data" / "gsm8k_test.jsonl").read_text().splitlines()]
    sets = {"GSM8K test solutions": [(r["question"], re.sub(r"<<.*?>>", "", r["answer"])) for r in gsm]}
    if args.rbr or args.jbb or args.coconot or args.dna or args.phtest:
        from scripts.train_response_classifier import (dedupe, load_coconot, load_dna, load_jbb, load_phtest,
                                                       load_rbr)
        pair = lambda r: (r.get("prompt") or None, r["text"])   # noqa: E731
        if args.rbr:
            rbr = load_rbr(args.rbr)
            sets["RBR gold completions"] = [pair(r) for r in rbr["train"] + rbr["heldout"] if r["source"] == "rbr-gold"]
        if args.jbb:
            jbb = load_jbb(args.jbb)[0]
            sets["JailbreakBench responses"] = [pair(r) for r in jbb["train"] + jbb["heldout"]]
        if args.coconot:
            cc = load_coconot(args.coconot)
            sets["CoCoNot GPT-4 answers"] = [pair(r) for r in dedupe(cc["train"] + cc["heldout"])
                                             if r["label"] == "comply"]
        if args.dna:
            dna = load_dna(args.dna, comply_actions=("5",))
            sets["Do-Not-Answer direct answers"] = [pair(r) for r in dedupe(dna["train"] + dna["heldout"])
                                                    if r["label"] == "comply"]
        if args.phtest:
            ph = load_phtest(args.phtest)["all"]
            sets["PHTest: Claude-2.1 / 3 / 3.5, GPT-3.5"] = [pair(r) for r in ph if r["model"] in PHTEST_STRONG]
            sets["PHTest: Llama-3-8B (+RR), Mistral-7B, Zephyr-7B (+R2D2)"] = [
                pair(r) for r in ph if r["model"] not in PHTEST_STRONG]
    if args.long_form:
        sets.update({name: [(None, t) for t in texts] for name, texts in load_long_form(args.long_form).items()})
    D = DEFAULT_DEGENERATION
    before = lambda prompt, t: degeneration_reason(t, D)   # noqa: E731  (no prompt, no refrain removal)
    now = lambda prompt, t: degeneration_reason(t, D, prompt=prompt, refrains=True)   # noqa: E731  (as for an answer)
    print("Each cell: before (the text alone) -> now (the prompt's phrases and a song's refrains not counted as "
          "repetition, as the filter reads an answer)")
    print("| set | texts | mean words | rejected (false positives) | sentence loops caught | prompt echoes caught "
          "| block loops caught |")
    print("|---|---|---|---|---|---|---|")
    for name, items in sets.items():
        rng = random.Random(0)
        loops = [(p, looped(t, rng)) for p, t in items]
        echoes = [(p, echoed(t, p, rng)) for p, t in items if p]
        blocks = [(p, b) for p, t in items if (b := stanza_looped(t, rng)) is not None]
        cells = []
        for group in (items, loops, echoes, blocks):
            if not group:
                cells.append("-")
                continue
            n = [sum(bool(f(p, t)) for p, t in group) for f in (before, now)]
            cells.append(f"{n[0]} -> {n[1]} / {len(group)} ({n[1] / len(group):.1%})")
        words = sum(len(t.split()) for _, t in items) / len(items)
        print(f"| {name} | {len(items)} | {words:.0f} | " + " | ".join(cells) + " |")
        reasons = Counter(now(p, t) for p, t in items)
        print("|  reasons now |  |  | " + ", ".join(f"{k} {v}" for k, v in reasons.most_common() if k) + " | | | |")


PHTEST_STRONG = {"claude-2.1", "claude-3-haiku", "claude-3-opus", "claude-3-sonnet", "claude-3.5-sonnet", "gpt-3.5"}


if __name__ == "__main__":
    main()
