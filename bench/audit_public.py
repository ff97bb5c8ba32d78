"""The whole filter chain (`ascl audit`, default settings, no judge) on human-labelled public responses given the
wrong kind: how many wrong behaviours it rejects, end to end, not just the classifier's label.

    .venv/bin/python bench/audit_public.py --rbr CHECKOUT [--gptfuzz CHECKOUT] [--dna CHECKOUT] [--reuter CHECKOUT]
        [--cai CHECKOUT] [--guard-sets CHECKOUT] [--strong-traces CHECKOUT]

RBR gold test.jsonl (held out from the classifier's training; human propositions mapped as in
scripts/train_response_classifier.py): its compliant answers given as `harmful` (each must be rejected), its
refusals and partial refusals given as `benign` (each must be rejected: over-refusal), and the same refusals given
as `sensitive` (any response type may pass; what is left is the other checks' false rejections), and its full
refusals given as `harmful` (each should be kept: a refusal is the right answer there). RBR ships no
reasoning, so each trace gets a neutral one that restates the prompt ("The user asks: …").

GPTFuzz evaluate.csv (human labels, ChatGPT / Llama-2 / Vicuna answers to jailbreak templates; labelled as in the
training script, never trained on): its jailbroken answers given as `harmful`, its refusals given as `benign` (to
be rejected) and as `harmful` (to be kept); and the jailbroken answers moved into the reasoning of a plain refusal,
given as `harmful` (to be rejected: the reasoning is trained on too). Do-Not-Answer's answers marked harmful are
run the same way.

Do-Not-Answer data_en.csv (human labels; the answers of its two held-out models, Llama-2-7B-chat and Vicuna-7B, to
risky instructions): the refusals (action 0) given as `benign` (to be rejected) and as `harmful` (to be kept); every
answer the annotators marked harmful given as
`harmful`; the direct answers the annotators marked harmless given as `sensitive` (a safe answer to a risky
request: each should be kept by the refusal gate, so what is rejected is the other checks' false rejections).

Reuter & Schulze's hand-labelled gpt-3.5-turbo answers (`--reuter`; never trained on): real users' Quora
questions, some insincere, and questions about political figures. Refusals given as `benign` (to be
rejected: over-refusal) and compliant answers given as `benign` (to be kept: many open with "As an AI language
model, I don't have personal opinions, but…" and then answer).

Cai et al.'s hand-labelled jailbreak answers (`--cai`, CAI below; never trained or tuned on): Llama-2-7B-chat's and
gpt-3.5-turbo's answers to GCG, generation-exploitation and PAIR attacks on AdvBench behaviours, each labelled by a
person for a safeguard violation under the model provider's usage policy. Given as `harmful` with the behaviour as
the prompt: every violation must be rejected; the answers that violate nothing are mostly refusals (to be kept) and
off-topic or harmless text (to be rejected, not being refusals).

Response-harmfulness test sets (`--guard-sets`, GUARD_SETS below; never trained or tuned on): HarmBench's
human-labelled validation answers, and Alpaca-7B's answers to red-team prompts from BeaverTails and PKU-SafeRLHF, each
labelled harmful or not. All given as `harmful`: an answer labelled harmful must be rejected; of those labelled
unharmful, the refusals are kept. The kept answers labelled harmful are what a weak teacher's harmful content looks
like when it passes for a refusal.

Strong-teacher traces (`--strong-traces`, the same checkout as `--dna`, STRONG_TRACES below): 500 WildJailbreak
adversarial-harmful prompts with WildJailbreak's safe answers and a Qwen3-32B `<think>` block written to lead to
each answer. Given as `sensitive` each should be kept (a careful reasoning teacher's refusal or safe completion);
given as `harmful`, refusals should be kept and safe completions go to the judge (none here: rejected). The file has
no labels, but 120 of its answers were read and labelled in this project (WILDJAILBREAK_HELDOUT in
scripts/train_response_classifier.py; never trained on): the run as `harmful` also says how many of the 93 read as
full refusals are kept, and why the others are not. The rest is read, not scored. The file cuts every thinking
block at about 256 tokens, mostly mid-sentence (the file's doing, not the teacher's): the default chain rejects
those (`reasoning_ends_mid_sentence`), so the set is also run with cut thinking allowed, to measure the other
checks. The same checkout also gives Qwen3-32B's answers (without thinking) to Do-Not-Answer's 939 risky prompts
(STRONG_ANSWERS below), given as `sensitive`: a strong model's careful answers, each of which should be kept unless
cut at the authors' token limit. Then the same checkout's pairs of Qwen3-32B thinking on harmful prompts
(SAFETY_PAIRS below): thinking on why not to answer, and thinking prompted to plan the harm, each followed by a
plain refusal. Finally WildJailbreak's vanilla prompts in XSTest's categories with the dataset's GPT answers, 300 of
them labelled in this project (WILDJAILBREAK_VANILLA in scripts/train_response_classifier.py; never trained or
tuned on): the compliant answers given as `benign` (to be kept), the refusals and partial refusals given as
`benign` (to be rejected: over-refusal of the benign contrast prompts an over-refusal evaluation asks)."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from pipeline.audit.run import audit_file  # noqa: E402
from train_response_classifier import (WILDJAILBREAK_HELDOUT, _answer, _hand_labelled, dedupe, git_file,  # noqa: E402
                                      load_dna, load_gptfuzz, load_rbr, load_reuter, load_wildjailbreak_vanilla)

# Pinned like the classifier's data (scripts/train_response_classifier.py). The repository states no licence; the
# prompts and answers are WildJailbreak's (allenai, ODC-BY 1.0 per its dataset card), the reasoning Qwen3-32B's.
# Read by this benchmark only: never trained or tuned on, not stored in this repository.
STRONG_TRACES = {"repo": "matsuolab/llm_competition_2025_bridge_code",
                 "commit": "452a3ebc9d58747768ee2a8f707ba246bb6bfa73",
                 "path": "team_p02_honda/data/dna/matsugi/sft/cleaning/adversarial_harmful_train_part_03_00000_qwen3-32B.json",
                 "sha256": "fa71021c1d17902f978bd0475c93e9dbf910e96a9827611267fddd6ea84e8980"}


# Qwen3-32B's answers to Do-Not-Answer's 939 risky prompts, from the same repository's evaluation results (the
# `prediction` field; about a fifth are thinking-mode outputs cut inside their `<think>` block, left out here). No
# reasoning: each trace gets the neutral one. Given as `sensitive`, a strong model's careful answers to risky requests.
STRONG_ANSWERS = {"repo": "matsuolab/llm_competition_2025_bridge_code",
                  "commit": "7598dcf577a5988cbe7720f801688eaa8c9d514c",
                  "path": "eval_dna/evaluation_results/qwen3_32b/results.jsonl",
                  "sha256": "ef2eeae54b3a16ce1e353947cb696f4594c14cb1a1bf0cf2abfb400deb95a68f"}


# Qwen3-32B's thinking on 100 harmful prompts, written twice per prompt by the same repository's DPO script:
# once asked to explain why the request should not be answered (`preffered_output`), once asked to reason as an
# unaligned assistant that plans how to fulfil it (`non_preffered_output`); both end in the same safe answer. The
# thinking is cut at about 256 tokens, like STRONG_TRACES. Here each thinking block is paired with a plain refusal, so
# that only the reasoning checks decide: the safe thinking should be kept, the unsafe thinking is read (its prompt
# asked for harm, but some of it is mild). Same repository, no licence stated; read by this benchmark only.
SAFETY_PAIRS = {"repo": "matsuolab/llm_competition_2025_bridge_code",
                "commit": "452a3ebc9d58747768ee2a8f707ba246bb6bfa73",
                "path": "team_p02_honda/data/dna/matsugi/stats/classified_adversarial_vanilla_train.head.jsonl",
                "sha256": "a90163ad933a5f7ab9df6226d041147f7b8c9824faa408dad12cf99640f6b972"}
PLAIN_REFUSAL = "I'm sorry, but I can't help with that."

# Cai, Arunasalam, Lin, Bianchi, Celik, "Rethinking How to Evaluate Language Model Jailbreak" (AISec 2025):
# 300 answers with a person's labels (safeguard violation, informativeness, relative truthfulness; Labellin_Guide.md
# in the repository). Apache-2.0 (LICENSE.txt). Read by this benchmark only.
CAI = {"repo": "purseclab/jailbreak-evaluation", "commit": "473c58c74ae40d496581ba3a9020e289184dcd5b",
       "path": "raw-data/manual_data.csv",
       "sha256": "93d21030803ba55b53046513fb984a240a99c12573f23685d261c563804a98d5"}


# Three response-harmfulness test sets with their own labels, as gathered (unchanged, one JSON list each) by the
# GuardReasoner authors (Liu et al. 2025) for their benchmark: HarmBench's classifier validation set (Mazeika et al.
# 2024; answers of many chat models to HarmBench behaviours, often under attack; labelled by people; MIT), a
# BeaverTails test split (Ji et al. 2023; Alpaca-7B's answers to red-team prompts; per-answer safety labels from its
# annotators; CC BY-NC 4.0) and a PKU-SafeRLHF test split (Alpaca-7B family answers; the dataset's safety labels;
# CC BY-NC 4.0). The copying repository states no licence. No refusal labels: each answer is `harmful` or
# `unharmful`, so they measure the harmful gate only. Read by this benchmark only: never trained or tuned on. The
# same folder's XSTest response sets are reserved for independent evaluation and never read.
GUARD_SETS = {"repo": "yueliu1999/GuardReasoner", "commit": "bb7e686dc0535884d6994de5f950a072772e7fe2",
              "files": {"HarmBench classifier validation (human labels)": (
                            "data/benchmark/0_5_harmbench_response.json",
                            "a54573438606b19e7d4183e71c303412bc0f0143b704c393e0ffa3b9ab75d972"),
                        "BeaverTails test (annotators' labels)": (
                            "data/benchmark/0_A_beaver_tails.json",
                            "34f1e315cfeb348c63b6082dea93db67a8fd67e4fded8ccd2087cabe0a81169b"),
                        "PKU-SafeRLHF test (dataset labels)": (
                            "data/benchmark/0_9_safe_rlhf.json",
                            "c57b79bbe3c38f6b48a8d776bd86c3b0c0ced7072ad4e19859c17cb5880ea47e")}}


def load_guard_sets(repo_dir: Path) -> dict[str, list[dict]]:
    """{set name: rows with `prompt`, `text` and `harmful` (the set's label of the answer)}, exact (prompt, answer)
    duplicates dropped. Each item's input is "Human user:\n<prompt>\n\nAI assistant:\n<answer>"; its output ends in
    the label ("harmful" or "unharmful")."""
    out = {}
    for name, (path, sha256) in GUARD_SETS["files"].items():
        seen, rows = set(), []
        for item in json.loads(git_file(repo_dir, GUARD_SETS["commit"], path, sha256)):
            prompt, answer = item["input"].removeprefix("Human user:\n").split("\n\nAI assistant:\n", 1)
            label = item["output"].strip().rsplit(None, 1)[-1]
            if label not in ("harmful", "unharmful"):
                raise SystemExit(f"{path}: unknown label {item['output']!r}")
            key = (" ".join(prompt.split()), " ".join(answer.split()))
            if answer.strip() and key not in seen:
                seen.add(key)
                rows.append({"prompt": prompt.strip(), "text": answer.strip(), "harmful": label == "harmful"})
        out[name] = rows
    return out


def load_safety_pairs(repo_dir: Path) -> dict[str, list[dict]]:
    """{"safe": …, "unsafe": …}: each prompt's thinking block (without its tags) with PLAIN_REFUSAL as the answer."""
    data = git_file(repo_dir, SAFETY_PAIRS["commit"], SAFETY_PAIRS["path"], SAFETY_PAIRS["sha256"])
    rows = [json.loads(line) for line in data.decode().splitlines() if line.strip()]

    def thinking(text: str) -> str:
        return text.split("<think>", 1)[-1].split("</think>", 1)[0].strip()

    return {side: [{"prompt": r["question"], "reasoning": thinking(r[field]), "text": PLAIN_REFUSAL} for r in rows]
            for side, field in (("safe", "preffered_output"), ("unsafe", "non_preffered_output"))}


def load_cai(repo_dir: Path) -> list[dict]:
    """CAI's answers: the behaviour as `prompt`, the answer as `text`, `violation` (the person's label)."""
    import csv
    import io

    data = git_file(repo_dir, CAI["commit"], CAI["path"], CAI["sha256"]).decode("utf-8")
    return [{"prompt": r["intent"], "text": r["response"], "violation": r["manual_safeguard_violation_label"] == "True"}
            for r in csv.DictReader(io.StringIO(data)) if r["response"].strip()]


def load_strong_answers(repo_dir: Path) -> list[dict]:
    data = git_file(repo_dir, STRONG_ANSWERS["commit"], STRONG_ANSWERS["path"], STRONG_ANSWERS["sha256"])
    rows = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
    return [{"prompt": r["question"], "text": r["prediction"]} for r in rows
            if isinstance(r["prediction"], str) and r["prediction"].strip() and "<think>" not in r["prediction"]]


def load_strong_traces(repo_dir: Path) -> list[dict]:
    data = git_file(repo_dir, STRONG_TRACES["commit"], STRONG_TRACES["path"], STRONG_TRACES["sha256"])
    return [{"prompt": r["question"], "response": r["output"]} for r in json.loads(data)]


def neutral_reasoning(prompt: str) -> str:
    """"The user asks: " and the prompt's first 300 characters, closed with "…" where they do not end a sentence, so
    that a cut prompt does not read as thinking that stops mid-sentence (`reasoning_ends_mid_sentence`)."""
    text = "The user asks: " + prompt[:300].strip()
    return text if text.endswith((".", "!", "?", "…")) else text + "…"


def as_reasoning(rows: list[dict]) -> list[dict]:
    """Each harmful answer moved into the reasoning, layout kept, with a plain refusal as the answer: thinking that
    writes the harmful content while the answer refuses (the reasoning is trained on too), each to be rejected."""
    return [{**r, "reasoning": r["text"].strip(), "text": "I'm sorry, but I can't help with that."} for r in rows]


def run(name: str, rows: list[dict], kind: str, allow_cut: bool = False) -> list[dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for r in rows:
            trace = {"response": r["response"]} if "response" in r else {
                "reasoning": r.get("reasoning") or neutral_reasoning(r["prompt"]), "answer": r["text"]}
            f.write(json.dumps({"prompt": r["prompt"], "kind": kind, **trace}) + "\n")
    verdicts, counts = audit_file(f.name, allow_cut=allow_cut)
    Path(f.name).unlink()
    kept = sum(v["kept"] for v in verdicts)
    print(f"\n{name} as {kind}: {len(rows)} traces, {kept} kept, {len(rows) - kept} rejected")
    for reason, n in Counter(counts).most_common():
        print(f"  {reason}: {n}")
    return verdicts


def read_refusals(traces: list[dict]) -> list[int]:
    """Indices of the strong traces whose answers were read as full refusals (WILDJAILBREAK_HELDOUT's labels, the
    same file, checked against the answers' hashes by the training script's loader)."""
    answers = {i: (t["prompt"], _answer(t["response"])) for i, t in enumerate(traces)}
    return [r["index"] for r in _hand_labelled(WILDJAILBREAK_HELDOUT, "index", answers, ("refuse",))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rbr", type=Path, required=True)
    ap.add_argument("--gptfuzz", type=Path, help="checkout of sherdencooper/GPTFuzz (pinned commit)")
    ap.add_argument("--dna", type=Path, help="checkout of matsuolab/llm_competition_2025_bridge_code (Do-Not-Answer)")
    ap.add_argument("--reuter", type=Path, help="checkout of maxwellreuter/chatgpt-refusals (pinned commit)")
    ap.add_argument("--cai", type=Path, help="checkout of purseclab/jailbreak-evaluation (pinned commit)")
    ap.add_argument("--guard-sets", type=Path,
                    help="checkout of yueliu1999/GuardReasoner (HarmBench, BeaverTails, PKU-SafeRLHF; GUARD_SETS)")
    ap.add_argument("--strong-traces", type=Path,
                    help="checkout of matsuolab/llm_competition_2025_bridge_code (Qwen3-32B reasoning, STRONG_TRACES)")
    args = ap.parse_args()
    test = [r for r in load_rbr(args.rbr)["heldout"] if r["text"].strip()]
    comply = [r for r in test if r["label"] == "comply"]
    refusals = [r for r in test if r["label"] != "comply"]
    run("RBR test, compliant answers", comply, "harmful")
    run("RBR test, refusals and partial refusals", refusals, "benign")
    run("RBR test, refusals and partial refusals", refusals, "sensitive")
    run("RBR test, full refusals", [r for r in refusals if r["label"] == "refuse"], "harmful")
    if args.gptfuzz:
        held = dedupe(load_gptfuzz(args.gptfuzz)["heldout"])
        run("GPTFuzz evaluate.csv, jailbroken answers", [r for r in held if r["label"] == "comply"], "harmful")
        run("GPTFuzz evaluate.csv, refusals", [r for r in held if r["label"] == "refuse"], "benign")
        run("GPTFuzz evaluate.csv, refusals", [r for r in held if r["label"] == "refuse"], "harmful")
        run("GPTFuzz evaluate.csv, jailbroken answers as the reasoning of a refusal",
            as_reasoning([r for r in held if r["label"] == "comply"]), "harmful")
    if args.dna:
        dna = load_dna(args.dna)
        labelled = dedupe(dna["heldout"])
        run("Do-Not-Answer, refusals", [r for r in labelled if r["label"] == "refuse"], "benign")
        run("Do-Not-Answer, refusals", [r for r in labelled if r["label"] == "refuse"], "harmful")
        run("Do-Not-Answer, harmless direct answers", [r for r in labelled if r["label"] == "comply"
                                                       and not r["harmful"]], "sensitive")
        run("Do-Not-Answer, answers marked harmful", dedupe(dna["harmful"]), "harmful")
        run("Do-Not-Answer, answers marked harmful as the reasoning of a refusal", as_reasoning(dedupe(dna["harmful"])),
            "harmful")
        run("Do-Not-Answer, attempts to answer with a disclaimer (actions 2-3)",
            [r for r in dedupe(dna["heldout_extra"]) if not r["harmful"]], "sensitive")
    if args.reuter:
        held = dedupe(load_reuter(args.reuter)["all"])
        run("Reuter, gpt-3.5-turbo refusals", [r for r in held if r["label"] == "refuse"], "benign")
        run("Reuter, gpt-3.5-turbo compliant answers", [r for r in held if r["label"] == "comply"],
            "benign")
    if args.cai:
        cai = load_cai(args.cai)
        run("Cai et al., answers a person marked as safeguard violations", [r for r in cai if r["violation"]],
            "harmful")
        run("Cai et al., answers a person marked as no violation", [r for r in cai if not r["violation"]], "harmful")
    if args.guard_sets:
        # Every answer given as `harmful`: those labelled harmful must be rejected; those labelled unharmful are
        # refusals, deflections and harmless compliance (kept only as refusals). What is kept of the harmful ones is
        # harmful content that passed as a refusal.
        for name, rows in load_guard_sets(args.guard_sets).items():
            run(f"{name}, answers labelled harmful", [r for r in rows if r["harmful"]], "harmful")
            run(f"{name}, answers labelled unharmful", [r for r in rows if not r["harmful"]], "harmful")
    if args.strong_traces:
        traces = load_strong_traces(args.strong_traces)
        run("Qwen3-32B reasoning + WildJailbreak answers", traces, "sensitive")
        # the file's thinking is cut; what do the other checks make of it?
        run("Qwen3-32B reasoning + WildJailbreak answers, cut thinking allowed", traces, "sensitive", allow_cut=True)
        verdicts = run("Qwen3-32B reasoning + WildJailbreak answers, cut thinking allowed", traces, "harmful",
                       allow_cut=True)
        refusals = read_refusals(traces)
        print(f"  of the {len(refusals)} answers read as full refusals: "
              f"{sum(verdicts[i]['kept'] for i in refusals)} kept; rejected as "
              f"{dict(Counter(verdicts[i]['reason'] for i in refusals if not verdicts[i]['kept']).most_common())}")
        run("Qwen3-32B answers to Do-Not-Answer's prompts (no thinking)", load_strong_answers(args.strong_traces),
            "sensitive")
        pairs = load_safety_pairs(args.strong_traces)
        run("Qwen3-32B thinking on why not to answer + a plain refusal, cut thinking allowed", pairs["safe"],
            "harmful", allow_cut=True)
        run("Qwen3-32B thinking that plans the harm + a plain refusal, cut thinking allowed", pairs["unsafe"],
            "harmful", allow_cut=True)
        run("Qwen3-32B thinking that plans the harm + a plain refusal, cut thinking allowed", pairs["unsafe"],
            "sensitive", allow_cut=True)
        vanilla = dedupe(load_wildjailbreak_vanilla(args.strong_traces))
        run("WildJailbreak vanilla prompts, GPT's compliant answers (labelled here)",
            [r for r in vanilla if r["label"] == "comply"], "benign")
        run("WildJailbreak vanilla prompts, GPT's refusals and partial refusals (labelled here)",
            [r for r in vanilla if r["label"] != "comply"], "benign")


if __name__ == "__main__":
    main()
