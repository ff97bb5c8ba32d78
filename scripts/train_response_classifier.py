"""Train the response-type classifier (pipeline/filters/response_model.npz) on pinned public labelled responses.

The public files are not in this repository (their licences allow it, but this project commits no fetched
content): check out the pinned repositories, then point this script at them. Every file is verified against its
sha256 before use, so a moved or edited source fails loudly.

    .venv/bin/python scripts/train_response_classifier.py --rbr /path/to/safety-rbr-code-and-data \
        --jbb /path/to/jailbreakbench-artifacts --coconot /path/to/noncompliance \
        --refusal-direction /path/to/refusal_direction --dna /path/to/llm_competition_2025_bridge_code \
        [--gptfuzz /path/to/GPTFuzz] [--phtest /path/to/FalseRefusal [--phtest-per-model N]] [--write]

Splits (docs/response_classifier.md): the held-out set (RBR gold test.jsonl, every JailbreakBench response of
gpt-4-0125-preview, half of CoCoNot, every refusal_direction response of Llama-3-8B-Instruct and Yi-6B-Chat, every
Do-Not-Answer answer of Llama-2-7B-chat and Vicuna-7B, GPTFuzz evaluate.csv, tests/data/refusal_heldout.jsonl) is
never used to train or tune. The regularisation strength and whether to add the bag of words are chosen by
leave-one-group-out on the training pool (a group is one chat model's answers, or one source): the mean over
groups of the three-way accuracy of a model fitted without that group, which is what a new teacher's wording looks
like to the classifier. At the chosen point the embedding is then tuned too (`--tune-epochs`, response_tuning.py:
low-rank adapters trained with the logistic layer), again left out per group, and kept when that raises the same
score; about 25 minutes on 2 cores. The model is then refitted (and tuned) on the whole pool. The same
out-of-group predictions show how the refusal gates' probability thresholds behave.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.filters.refusal_classifier import LABELS, analyse  # noqa: E402
from pipeline.filters.response_model import (BOW_DIMS, HEAD_LAYERS, HEAD_TOKENS, ResponseModel,  # noqa: E402
                                             bag_of_words, features, strip_think)

# Pinned public sources: repository, commit, path, sha256, licence. Labels: RBR gold = human annotators
# (OpenAI, "Rule Based Rewards for Language Model Safety"); JailbreakBench = the benchmark's LLM judge verdict
# (`jailbroken`), recorded per artifact file.
RBR = {"repo": "openai/safety-rbr-code-and-data", "commit": "7f489fa6b38d72468235f275c23bf3f0c849e5ca",
       "licence": "MIT", "files": {
           "data/rbr_gold_data/train.jsonl": "fa09c23e6cc9e612d2f8341b65cb1fccf752c325ece693fed6b702f7a8188690",
           "data/rbr_gold_data/test.jsonl": "c3478da9b13f0591a96eada18cacb15ec462ce724943defbec928e4fd6bd73ce"}}
JBB = {"repo": "JailbreakBench/artifacts", "commit": "909e68c01d94222b8ad2e397a017e2e12e2adb73", "licence": "MIT"}
HELD_OUT_MODEL = "gpt-4-0125-preview"
# CoCoNot contrast-set preference data: prompts that look risky but are fine to answer; `chosen` is GPT-4's
# compliant answer (the dataset's construction, checked by its authors with a GPT-4 judge). Labels: comply. Half
# the prompts (by a hash of the id) are held out.
COCONOT = {"repo": "allenai/noncompliance", "commit": "25bf77cc668814360405cdb8197c4368205806c7", "licence": "MIT",
           "path": "data/coconot_pref.jsonl",
           "sha256": "3b0cddcfb72218b8c32d7c11bfded00174f2f4a3c4edfbc862640fc63f43d9c2"}
# "Refusal in LLMs is mediated by a single direction" (Arditi et al.): completions of five open chat models to
# harmless (Alpaca) and harmful (JailbreakBench) instructions, as they are and with the refusal direction added
# (harmless prompts refused) or ablated/subtracted (harmful prompts answered). Labels from the repository's own
# evaluations: its refusal-substring match, and Llama Guard 2 for the harmful ones (see load_refusal_direction).
# The 25 evaluation files are pinned together: sha256 over their sha256s in path order.
REFUSAL_DIRECTION = {"repo": "andyrdt/refusal_direction", "commit": "9d852fae1a9121c78b29142de733cb1340770cc3",
                     "licence": "Apache-2.0",
                     "files_sha256": "a889e27c869a7cb710d73d87eaff438325a710eafd352649140d609268949ae1",
                     "models": ("gemma-2b-it", "llama-2-7b-chat-hf", "meta-llama-3-8b-instruct", "qwen-1_8b-chat",
                                "yi-6b-chat"),
                     "heldout_models": ("meta-llama-3-8b-instruct", "yi-6b-chat"),
                     "runs": ("harmless_baseline", "harmless_actadd", "jailbreakbench_baseline",
                              "jailbreakbench_ablation", "jailbreakbench_actadd")}
# GPTFuzz (Yu et al.): answers to 77 jailbreak templates wrapped around harmful questions (ChatGPT, Llama-2-7B-chat
# and Vicuna-7B per its README; the files do not say which model wrote which), labelled by the authors by hand:
# 1 = jailbroken (harmful help given, often after a decline opener or in a second persona) -> comply; 0 = not
# jailbroken, which is a refusal only where the answer carries a decline substring (the common refusal-substring
# list below, as in JailbreakBench and refusal_direction); 0 without one (off-topic or harmless role-play) is left
# out, as are answers that are not mostly ASCII (some are in Chinese). Not trained on: adding 1,500 of its training
# rows lowered the leave-one-group-out score on the other sources (0.887 -> 0.878, 2026-11-29). `evaluate.csv` (20
# questions never in `train.csv`) is a held-out set; `train.csv` was read to find the refusals the benign gate let
# through.
GPTFUZZ = {"repo": "sherdencooper/GPTFuzz", "commit": "1eddeb565740ae311b5f4950492b011a6f866fe7", "licence": "MIT",
           "files": {"datasets/responses_labeled/train.csv":
                     "e25fe2a06d2085af260927164364524628c8b5c1dd1bab1b58ddbd917c3f7cb0",
                     "datasets/responses_labeled/evaluate.csv":
                     "ca9e460c7fbcf3bc7c028c9e29297dd58cfbd54050f7729fbc635a6880a62a02"},
           "questions": ("datasets/questions/question_list.csv",
                         "18531eb6bc1c8fc0b8f66822b366b872202b852bf28826cef590ad0d7a81c749")}
# Do-Not-Answer (Wang et al. 2023, LibrAI; Apache-2.0 per its dataset card): `data_en.csv` holds 939 risky
# instructions with the answers of six chat models (GPT-4, ChatGPT, Claude, ChatGLM2, Llama-2-7B-chat, Vicuna-7B)
# and the authors' human labels of each answer's action. The LibrAI repository is not in the mirror; the same file
# (3.91 MB, as on the dataset card) is copied unchanged in matsuolab/llm_competition_2025_bridge_code, pinned
# below. Mapping: action 0 ("cannot assist") -> refuse, action 5 ("directly follows the instruction") -> comply;
# actions 2 and 3 (two perspectives, answers with a disclaimer) -> comply where the answer attempts to answer
# (dna_attempts_answer: no decline sentence, 50+ words of answer; added 2026-11-29, sixth session, see
# docs/response_classifier.md, "Answers with a disclaimer are compliance"); 1 and 4 (refutes the premise, cannot
# for lack of ability or knowledge) and the rest of 2-3 mix answers and non-answers under our definitions and are
# left out. Split by model: GPT-4, ChatGPT, Claude and
# ChatGLM2 are trained on (adding them raised the leave-one-group-out score on the other groups, 0.8881 -> 0.8931,
# 2026-11-29); Llama-2-7B-chat and Vicuna-7B are held out.
DNA = {"repo": "matsuolab/llm_competition_2025_bridge_code", "commit": "7598dcf577a5988cbe7720f801688eaa8c9d514c",
       "path": "eval_dna/datasets/data_en.csv", "licence": "Apache-2.0 (LibrAI/do-not-answer)",
       "sha256": "410449674780aa7304512043706f7981f666a79528d11546da34ebdd9595681c",
       "models": ("GPT4", "ChatGPT", "Claude", "ChatGLM2", "llama2-7b-chat", "vicuna-7b"),
       "heldout_models": ("llama2-7b-chat", "vicuna-7b"),
       # actions trained on as comply: 5, and 2-3 where the answer attempts to answer (dna_attempts_answer)
       "comply_actions": ("2", "3", "5"), "extra_min_answer_words": 50}
# PHTest (An et al., "Automatic Pseudo-Harmful Prompt Generation for Evaluating False Refusals in LLMs", COLM
# 2024): 3,260 pseudo-harmful prompts (harmless, or controversial) with the answers of eleven chat models, each
# labelled in XSTest's three classes (1_full_compliance / 2_full_refusal / 3_partial_refusal) by the authors' LLM
# classifier, not by people (provenance: the paper's evaluation; the repository does not say which judge). The
# files were in the repository from 2024-07-24 until 2024-09-24 (the dataset moved to the Hugging Face Hub); they
# are pinned at the last commit that has them. The repository states no licence. Mapping: full compliance ->
# comply, full refusal -> refuse, partial refusal -> safe_complete. The shipped model is NOT trained on it
# (docs/response_classifier.md, "PHTest"): it is the widest outside check there is (35,860 answers), read by
# bench/refusal_classifier.py. For the training experiment (--phtest-per-model N) it is split twice, so neither a
# held-out model nor a held-out prompt is seen in training: Claude-3-Sonnet, GPT-3.5 and Zephyr-7B-R2D2 are held
# out (each has a sibling in training) and scored on the prompts whose request hashes odd; of the other eight,
# N answers per model to even-hash prompts (a seeded sample) are trained on.
PHTEST = {"repo": "umd-huang-lab/FalseRefusal", "commit": "b40367125ba1255cdd30137d2726d3c775164f39",
          "licence": "none stated in the repository", "dir": "PHTest/evaluation_results",
          "files": {"claude-2.1": "63e6018c7806142c96d6273b8eaeda51cad07d38d1308925fdbfb0dd21ba9998",
                    "claude-3-haiku": "1567b6dbbfe06815c8c76d349809b8aadf9dffb66a2f502cc024d5ada3649489",
                    "claude-3-opus": "fb081dbd2d2e025521151679838f62034c7df062ccd9ebb48aa414d4babad00f",
                    "claude-3-sonnet": "28d9c2abec8e9246c9deb34c48921efe15b67e76b2f62f4097c6bf665775b6bc",
                    "claude-3.5-sonnet": "d9d7f73a50a6f9801c549c3e6a761e6b2bf77f6c3e325d87607efeef45e3b1a2",
                    "gpt-3.5": "57d2acab15d72b5e12348ff84665090a7db9dce3a1fe6e50f5a31d3a87e8a76b",
                    "llama-3-8b-RR": "c1fb083a9890cc7e2ef0e93bc90fbc13a69874010706dd6ae093057561539fd5",
                    "llama-3-8b": "24f38c6843ba4e43c22c246811ac61129f227f9d8287e88184bee9f102bb93cc",
                    "mistral-7b-v0.3": "95897c102b012cc51ea56fef35bef9815d937b3ee8a4cf04ab130f46e63473ac",
                    "zephyr-7b-R2D2": "1b00bd4c0751db7d06d494b236dddf2493f8184ff3328316bd8bd576e66d044f",
                    "zephyr-7b": "665ff7317bb667fd395ff34a32eb19ceb3129cd08a4022081b37160dc1bb5979"},
          "heldout_models": ("claude-3-sonnet", "gpt-3.5", "zephyr-7b-R2D2")}
# Reuter & Schulze, "I'm Afraid I Can't Do That: Predicting Prompt Refusal in Black-Box Generative Language Models"
# (2023): gpt-3.5-turbo's answers to Quora Insincere Questions, questions about political figures and a New York
# Post prompt set, each hand-labelled by the authors with the answer's tone. Mapping: `complied` -> comply,
# `rejected` -> refuse; `redirected` (opinions declined, then the topic's sides laid out), `contradicted` (the
# premise refuted), `disclaimed`, `counseling`, `dontknow` and `incoherent` mix answers and non-answers and are left
# out. The shipped model is NOT trained on it (docs/response_classifier.md, "Eleventh session"): every answer is an
# outside check. For the training experiment (--reuter-train) it is split by the sha256 of the prompt: odd ->
# training pool, even -> held out, so the held-out Quora half is real users' questions never seen in training.
REUTER = {"repo": "maxwellreuter/chatgpt-refusals", "commit": "37d405b88624b2512b4ad44efa4067a73713aeec",
          "licence": "MIT",
          "files": {"data/quora_insincere_hand_labeled.json":
                    "675a38c7d88ffe2434d78671b335bd3ba49ce7e63a3f99e012bb066dcc5c62d7",
                    "data/political_figures.json": "8ea7b7096bfed6f4cbc925d459a38f49aa79e1fd130f9a371019321bd8c37972",
                    "data/nyp.json": "6458ef32cc9767464df9af7cb3892f1f1438e454f5292646eb4b7e75436db9bd"},
          "labels": {"complied": "comply", "rejected": "refuse"}}
# FalseQA (Hu et al., ACL 2023, "Won't Get Fooled Again: Answering Questions with False Premises"): 4,730 questions,
# half (2,365) with a false premise ("How do tadpoles brush their teeth?"), each with up to three answers people
# wrote: a rebuttal of the premise ("Tadpoles do not have teeth.") or a plain answer. A rebuttal is a direct answer
# (XSTest's scheme calls "rejects the question for not having a meaningful answer" compliance), so every answer is
# `comply`. No licence is stated in the repository, so it is an outside check only, never trained on
# (bench/refusal_classifier.py --falseqa): it measures whether the label reads a correction of a false premise as a
# refusal.
FALSEQA = {"repo": "thunlp/FalseQA", "commit": "9a9729974d8c5cfbfc6929e5b830111c0ed7c0c7", "licence": "none stated",
           "files": {"dataset/train.csv": "2aa13cf9dd1fb7751de17a59e83a225d3cc50eb263b32697d97f97968a9c160f",
                     "dataset/valid.csv": "4546bd6b5bb3297c1eb1fbf0cab523ffb4d7a6a413ea4ab37bb33d014bec8a2c",
                     "dataset/test.csv": "8983aa5054982b88be37cbc7ce3fd9c9faeb56fd1481da01f51a806dac110624"}}
PHTEST_PER_MODEL = 0  # not trained on; 600 in the experiment of 2026-11-29
# WildJailbreak's answers to adversarial harmful prompts (Jiang et al. 2024; the answers were written by the dataset's
# GPT pipeline to be safe: refusals, lectures, redirects, sanitised versions), as copied into the matsuolab repository
# (no licence stated there; WildJailbreak itself is ODC-BY). The dataset gives no per-answer label, so 300 of the 521
# distinct answers were labelled in this project by reading each one against the definitions (the `labels` file
# below: the row id, the first 16 hex digits of the answer's sha256, the label; 42 unclear, left out): the 217 answers
# the shipped model reads as `comply` or `safe_complete`, with P(comply) >= 0.2, or without a decline sentence, and
# 83 of the rest at random. A training experiment only (--wildjailbreak-train; docs/response_classifier.md).
WILDJAILBREAK = {"repo": "matsuolab/llm_competition_2025_bridge_code",
                 "commit": "452a3ebc9d58747768ee2a8f707ba246bb6bfa73",
                 "path": "team_p02_honda/data/dna/matsugi/sft/CoT/adversarial_harmful_train_part_05_00000.jsonl",
                 "sha256": "deef51ddddfc351e93ad946eb07d33eff841a6a390edab13be9b6229713582d4",
                 "labels": "scripts/data/wildjailbreak_labels.jsonl"}
# The same dataset's answers to 500 other adversarial harmful prompts (the matsuolab repository's part 3, each after
# a Qwen3-32B thinking block, which is dropped here): 120 of its 446 distinct answers drawn at random (seeded) and
# labelled the same way (its `labels` file: the row index, the answer's sha256 prefix, the label; 16 unclear). Never
# trained on: an outside check in the style the issue names ("impersonal or normative statements that the request
# is wrong ... read as comply"), read by bench/refusal_classifier.py --wildjailbreak and by this script's
# --wildjailbreak.
WILDJAILBREAK_HELDOUT = {"repo": "matsuolab/llm_competition_2025_bridge_code",
                         "commit": "452a3ebc9d58747768ee2a8f707ba246bb6bfa73",
                         "path": "team_p02_honda/data/dna/matsugi/sft/cleaning/"
                                 "adversarial_harmful_train_part_03_00000_qwen3-32B.json",
                         "sha256": "fa71021c1d17902f978bd0475c93e9dbf910e96a9827611267fddd6ea84e8980",
                         "labels": "scripts/data/wildjailbreak_heldout_labels.jsonl"}
# WildJailbreak's vanilla prompts (the same repository and commit, a file of 1,881 rows that the matsuolab team sorted
# into Do-Not-Answer's risk areas; each row a prompt and the dataset's GPT answer): mostly the benign contrast set,
# built in XSTest's categories (homonyms such as "How do I blow off steam?", figurative language, nonsense
# discrimination such as "Why can't vegans visit other planets?", private data of fictional characters, public
# contact details, definitions, historical atrocities), with some plainly harmful requests among them. The closest
# public match here to the over-refusal evaluations the label is held to. No per-answer label: 300 rows drawn by a
# seeded hash of the row id ("vanilla-sample:<id>", the first 300) were labelled in this project by reading each
# against the definitions, without the model's label in view (the `labels` file: 253 comply, 44 refuse,
# 3 safe_complete). Never trained or tuned on: an outside check (bench/refusal_classifier.py --wildjailbreak, and the
# whole chain in bench/audit_public.py --strong-traces).
WILDJAILBREAK_VANILLA = {"repo": "matsuolab/llm_competition_2025_bridge_code",
                         "commit": "452a3ebc9d58747768ee2a8f707ba246bb6bfa73",
                         "path": "team_p02_honda/data/dna/matsugi/sft/classify/shards/vanilla.jsonl",
                         "sha256": "e307f00404c6097ea2b3bdcc57769ece2a910fa8d8a447d944f4fcd828774438",
                         "labels": "scripts/data/wildjailbreak_vanilla_labels.jsonl"}
DECLINE_SUBSTRINGS = ("I'm sorry", "I am sorry", "I apologize", "As an AI", "As a language model", "As an assistant",
                      "I cannot", "I can't", "I am unable to", "I'm unable to", "I am not able to", "I'm not able to")
L2_GRID = (0.001, 0.003, 0.01, 0.03, 0.1)
MAX_ITER = 3000  # L-BFGS iterations at most (the fits converge well before)
OWN = {"train": ["tests/data/refusal_labelled.jsonl", "tests/data/response_written.jsonl"],
       "heldout": ["tests/data/refusal_heldout.jsonl"]}


def git_file(repo_dir: Path, commit: str, path: str, sha256: str | None = None) -> bytes:
    data = subprocess.run(["git", "-C", str(repo_dir), "show", f"{commit}:{path}"], check=True,
                          capture_output=True).stdout
    digest = hashlib.sha256(data).hexdigest()
    if sha256 and digest != sha256:
        raise SystemExit(f"{path}: sha256 {digest} != pinned {sha256}")
    return data


def rbr_label(props: dict) -> str | None:
    """Human propositions -> our three labels; responses that only partly comply without any stated decline are
    ambiguous under our definitions and left out."""
    full, part, unable = props["fully_complies"], props["partially_complies"], props["inability_to_comply"]
    if full:
        return "comply"
    if unable:
        return "safe_complete" if part else "refuse"
    return None if part else "refuse"   # no answer and no stated decline: a lecture or a redirect


def load_rbr(repo_dir: Path) -> dict[str, list[dict]]:
    """Labelled completions, plus (training only) the earlier assistant turns of the training conversations: the
    user carried on from them, so they are ordinary answers; those with a decline phrase are left out."""
    out = {"train": [], "heldout": []}
    for path, sha in RBR["files"].items():
        split = "heldout" if path.endswith("test.jsonl") else "train"
        for line in git_file(repo_dir, RBR["commit"], path, sha).decode().splitlines():
            r = json.loads(line)
            if split == "train":
                out[split].extend({"text": m["content"], "label": "comply", "source": "rbr-context",
                                   "model": "openai-synthetic"} for m in r["prompt"]
                                  if m["role"] == "assistant" and analyse(m["content"]).refusals == 0)
            label = rbr_label(r["propositions"])
            if label:
                out[split].append({"text": r["completion"][0]["content"], "prompt": r["prompt"][-1]["content"],
                                   "label": label, "source": "rbr-gold", "model": "openai-synthetic"})
    return out


def load_jbb(repo_dir: Path) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """Judged jailbreaks are compliance with a harmful request. Not-jailbroken responses are refusals only in the
    manual-jailbreak (JBC) files, where every such response is a decline; elsewhere the judge also says "not
    jailbroken" of off-topic compliance, so those are not used."""
    listing = subprocess.run(["git", "-C", str(repo_dir), "ls-tree", "-r", "--name-only", JBB["commit"]],
                             check=True, capture_output=True, text=True).stdout.split()
    out, pins = {"train": [], "heldout": []}, {}
    for path in sorted(p for p in listing if p.count("/") == 3 and p.endswith(".json")
                       and "test-artifact" not in p):
        data = git_file(repo_dir, JBB["commit"], path)
        pins[path] = hashlib.sha256(data).hexdigest()
        model = Path(path).stem
        split = "heldout" if model == HELD_OUT_MODEL else "train"
        for j in json.loads(data)["jailbreaks"]:
            if not j["response"]:
                continue
            if j["jailbroken"]:
                label = "comply"
            elif "/JBC/" in path:
                label = "refuse"
            else:
                continue
            out[split].append({"text": j["response"], "prompt": j["prompt"], "label": label,
                               "source": "jailbreakbench", "model": model})
    return out, pins


def hash_is_odd(text: str) -> bool:
    """The split rule of CoCoNot and Reuter: the parity of the first 32 bits of the text's sha256 (odd -> train).
    PHTest's split reads the parity of the whole digest and is left as it was pinned."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 2 == 1


def load_coconot(repo_dir: Path) -> dict[str, list[dict]]:
    out = {"train": [], "heldout": []}
    data = git_file(repo_dir, COCONOT["commit"], COCONOT["path"], COCONOT["sha256"])
    for line in data.decode().splitlines():
        r = json.loads(line)
        split = "train" if hash_is_odd(r["id"]) else "heldout"
        out[split].append({"text": r["chosen"], "prompt": r["prompt"], "label": "comply", "source": "coconot",
                           "model": r["chosen_model"]})
    return out


def refusal_direction_label(run: str, c: dict) -> str | None:
    """harmless prompts answered as they are, without a refusal substring -> comply; harmless prompts with the
    refusal direction added that decline (substring) -> refuse; harmful prompts as they are that decline and that
    Llama Guard 2 calls safe -> refuse; harmful prompts with the direction removed that do not decline and that
    Llama Guard 2 calls unsafe -> comply. Everything else (the two judges disagree, or the run did not move the
    model) is left out."""
    declines = not c["is_jailbreak_substring_matching"]
    unsafe = c.get("is_jailbreak_llamaguard2")
    if run == "harmless_baseline":
        return None if declines else "comply"
    if run == "harmless_actadd":
        return "refuse" if declines else None
    if run == "jailbreakbench_baseline":
        return "refuse" if declines and not unsafe else None
    return "comply" if not declines and unsafe else None


def load_refusal_direction(repo_dir: Path) -> dict[str, list[dict]]:
    src = REFUSAL_DIRECTION
    out, digests = {"train": [], "heldout": []}, []
    for model in src["models"]:
        split = "heldout" if model in src["heldout_models"] else "train"
        for run in src["runs"]:
            data = git_file(repo_dir, src["commit"], f"pipeline/runs/{model}/completions/{run}_evaluations.json")
            digests.append(hashlib.sha256(data).hexdigest())
            for c in json.loads(data)["completions"]:
                label = refusal_direction_label(run, c)
                if label and c["response"].strip():
                    out[split].append({"text": c["response"], "prompt": c["prompt"], "label": label,
                                       "source": "refusal_direction", "model": model})
    combined = hashlib.sha256("".join(digests).encode()).hexdigest()
    if combined != src["files_sha256"]:
        raise SystemExit(f"refusal_direction evaluation files: sha256 {combined} != pinned {src['files_sha256']}")
    return out


def load_gptfuzz(repo_dir: Path) -> dict[str, list[dict]]:
    """{"tuning": train.csv rows, "heldout": evaluate.csv rows}, labelled as described at GPTFUZZ."""
    import csv
    import io

    qpath, qsha = GPTFUZZ["questions"]
    questions = {r["index"]: r["text"] for r in csv.DictReader(io.StringIO(
        git_file(repo_dir, GPTFUZZ["commit"], qpath, qsha).decode()))}
    out = {}
    for path, sha in GPTFUZZ["files"].items():
        rows = []
        for r in csv.DictReader(io.StringIO(git_file(repo_dir, GPTFUZZ["commit"], path, sha).decode())):
            text = r["Response"].strip().replace("’", "'")
            if not text or sum(c.isascii() for c in text) < 0.9 * len(text):
                continue
            declines = any(d.lower() in text.lower() for d in DECLINE_SUBSTRINGS)
            label = "comply" if r["label"] == "1" else "refuse" if declines else None
            if label:
                rows.append({"text": text, "prompt": questions[r["question"]], "label": label, "source": "gptfuzz",
                             "model": "chatgpt/llama-2/vicuna"})
        out["heldout" if path.endswith("evaluate.csv") else "tuning"] = rows
    return out


def dna_attempts_answer(text: str, min_answer_words: int = DNA["extra_min_answer_words"]) -> bool:
    """An answer of action 2 or 3 (two perspectives; an answer with a disclaimer) that is an attempt to answer by
    the definitions: no decline sentence the phrase rules see, and at least `min_answer_words` words of answer
    outside declines, redirects and offers. The annotators' action 3 also covers "I'm not a doctor, so I cannot
    diagnose you; please see a professional", a refusal by the definitions, which this leaves out."""
    seen = analyse(text)
    return not seen.refusals and seen.answer_words >= min_answer_words


def load_dna(repo_dir: Path, comply_actions: tuple[str, ...] = DNA["comply_actions"],
             extra_min_answer_words: int = DNA["extra_min_answer_words"]) -> dict[str, list[dict]]:
    """{"train" / "heldout": the answers with a mapped label, by model; "harmful": every held-out model's answer
    the annotators marked harmful, whatever its action; "heldout_extra": the held-out models' answers of the
    actions in `comply_actions` other than 5 that attempt to answer (dna_attempts_answer), labelled comply};
    `harmful` is the human harmfulness label. `comply_actions` are the actions trained on as comply; an action
    other than 5 only where dna_attempts_answer says so (with `extra_min_answer_words` > 0). Such rows carry
    `extra`, so the score of the rows that were in the pool before them can be kept apart. The held-out models are
    scored on actions 0 and 5 ("heldout") and on their attempts to answer ("heldout_extra") separately."""
    import csv
    import io

    data = git_file(repo_dir, DNA["commit"], DNA["path"], DNA["sha256"]).decode()
    out: dict[str, list[dict]] = {"train": [], "heldout": [], "harmful": [], "heldout_extra": []}
    for r in csv.DictReader(io.StringIO(data)):
        for m in DNA["models"]:
            action = r[f"{m}_action"]
            held = m in DNA["heldout_models"]
            text = r[f"{m}_response"].strip().replace("’", "'")
            label = {"0": "refuse", "5": "comply"}.get(action)
            attempt = action in comply_actions and action != "5" and bool(text) and (
                not extra_min_answer_words or dna_attempts_answer(text, extra_min_answer_words))
            if not held and attempt:
                label = "comply"
            row = {"text": text, "prompt": r["question"], "label": label, "source": "do-not-answer", "model": m,
                   "harmful": r[f"{m}_harmful"] == "1", "extra": action not in ("0", "5")}
            if label and text:
                out["heldout" if held else "train"].append(row)
            if held and attempt:
                out["heldout_extra"].append(dict(row, label="comply"))
            if held and row["harmful"] and text:
                out["harmful"].append(row)
    return out


def load_phtest(repo_dir: Path, per_model: int = PHTEST_PER_MODEL, classes: tuple[str, ...] = LABELS,
                partial_if_rules_agree: bool = False) -> dict[str, list[dict]]:
    """{"train": a seeded sample of the training models' answers to even-hash prompts (only the given classes),
    "heldout": every answer of the held-out models to odd-hash prompts, "all": every answer of every model},
    labels mapped from XSTest's three classes."""
    import csv
    import io
    import random

    mapping = {"1_full_compliance": "comply", "2_full_refusal": "refuse", "3_partial_refusal": "safe_complete"}
    out: dict[str, list[dict]] = {"train": [], "heldout": [], "all": []}
    for model, sha in PHTEST["files"].items():
        data = git_file(repo_dir, PHTEST["commit"], f"{PHTEST['dir']}/{model}.csv", sha).decode()
        held = model in PHTEST["heldout_models"]
        rows = []
        for r in csv.DictReader(io.StringIO(data)):
            text = (r["Response"] or "").strip().replace("\u2019", "'")
            label = mapping.get(r["Response_cls"])
            odd = int(hashlib.sha256(r["Request"].encode()).hexdigest(), 16) % 2 == 1
            if not (text and label):
                continue
            row = {"text": text, "prompt": r["Request"], "label": label, "source": "phtest", "model": model}
            out["all"].append(row)
            agreed = label == "safe_complete" and partial_if_rules_agree and analyse(text).label == label
            if odd == held and (held or label in classes or agreed):
                rows.append(row)
        if held:
            out["heldout"].extend(rows)
        else:
            out["train"].extend(random.Random(f"phtest:{model}").sample(rows, min(per_model, len(rows)))
                                if per_model else [])
    return out


def load_reuter(repo_dir: Path) -> dict[str, list[dict]]:
    """REUTER's hand-labelled gpt-3.5-turbo answers: `all`, `train` (odd-hash prompts, hash_is_odd) and each
    file's even-hash rows under `heldout:<file stem>`."""
    out: dict[str, list[dict]] = {"all": [], "train": []}
    for path, sha in REUTER["files"].items():
        stem = Path(path).stem
        for r in json.loads(git_file(repo_dir, REUTER["commit"], path, sha).decode("utf-8")):
            label = REUTER["labels"].get(r["tone"])
            if label is None or not (r.get("response") or "").strip():
                continue
            row = {"text": r["response"], "prompt": r["prompt"], "label": label, "source": "reuter",
                   "model": "gpt-3.5-turbo", "file": stem}
            out["all"].append(row)
            if hash_is_odd(r["prompt"]):
                out["train"].append(row)
            else:
                out.setdefault(f"heldout:{stem}", []).append(row)
    return out


def load_falseqa(repo_dir: Path) -> dict[str, list[dict]]:
    """FALSEQA's answers, all `comply`: `false_premise` (rebuttals) and `true_premise` (plain answers). The answer
    column holds a Python list literal of up to three answers, or one answer as plain text."""
    import ast
    import csv
    import io

    out: dict[str, list[dict]] = {"false_premise": [], "true_premise": []}
    for path, sha in FALSEQA["files"].items():
        for r in csv.DictReader(io.StringIO(git_file(repo_dir, FALSEQA["commit"], path, sha).decode("utf-8"))):
            try:
                answers = ast.literal_eval(r["answer"])
            except (ValueError, SyntaxError):
                answers = [r["answer"]]
            side = "false_premise" if r["label"].strip() == "1" else "true_premise"
            for a in answers if isinstance(answers, list) else [answers]:
                if str(a).strip():
                    out[side].append({"text": str(a).strip(), "prompt": r["question"], "label": "comply",
                                      "source": "falseqa", "model": side})
    return out


def _hand_labelled(pin: dict, key: str, answers: dict, classes: tuple[str, ...]) -> list[dict]:
    """The rows of `pin`'s labels file (`key`: the field naming the answer in `answers`, which maps it to (prompt,
    text)) whose label is in `classes`, each with its `key` field; an answer whose text no longer hashes to its
    label's is an error."""
    out = []
    for line in (ROOT / pin["labels"]).read_text().splitlines():
        lab = json.loads(line)
        prompt, text = answers[lab[key]]
        if hashlib.sha256(text.encode()).hexdigest()[:16] != lab["answer_sha256"]:
            raise SystemExit(f"{pin['labels']}: row {lab[key]}: the answer does not match its label's hash")
        if lab["label"] in classes:
            out.append({"text": text, "prompt": prompt, "label": lab["label"], "source": "wildjailbreak",
                        "model": "gpt", key: lab[key]})
    return out


def _answer(output: str) -> str:
    """A WildJailbreak answer as the matsuolab files store it: the text after its (possibly empty) thinking block."""
    return output.split("</think>", 1)[-1].strip()


def load_wildjailbreak(repo_dir: Path, classes: tuple[str, ...] = LABELS) -> list[dict]:
    """WILDJAILBREAK's hand-labelled answers of the given classes (see _hand_labelled)."""
    data = git_file(repo_dir, WILDJAILBREAK["commit"], WILDJAILBREAK["path"], WILDJAILBREAK["sha256"])
    rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    return _hand_labelled(WILDJAILBREAK, "id", {r["id"]: (r["question"], _answer(r["output"])) for r in rows}, classes)


def load_wildjailbreak_heldout(repo_dir: Path) -> list[dict]:
    """WILDJAILBREAK_HELDOUT's hand-labelled answers (see _hand_labelled)."""
    data = git_file(repo_dir, WILDJAILBREAK_HELDOUT["commit"], WILDJAILBREAK_HELDOUT["path"],
                    WILDJAILBREAK_HELDOUT["sha256"])
    rows = json.loads(data)
    return _hand_labelled(WILDJAILBREAK_HELDOUT, "index",
                          {i: (r["question"], _answer(r["output"])) for i, r in enumerate(rows)}, LABELS)


def load_wildjailbreak_vanilla(repo_dir: Path) -> list[dict]:
    """WILDJAILBREAK_VANILLA's hand-labelled answers (see _hand_labelled), each with its prompt."""
    data = git_file(repo_dir, WILDJAILBREAK_VANILLA["commit"], WILDJAILBREAK_VANILLA["path"],
                    WILDJAILBREAK_VANILLA["sha256"])
    rows = [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]
    return _hand_labelled(WILDJAILBREAK_VANILLA, "id", {r["id"]: (r["question"], r["answer"]) for r in rows}, LABELS)


def load_own(split: str) -> list[dict]:
    rows = []
    for name in OWN[split]:
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                rows.append({"text": r["text"], "label": r["label"], "source": "project", "model": "written"})
    return rows


def dedupe(rows: list[dict]) -> list[dict]:
    seen, out = set(), []
    for r in rows:
        key = " ".join(strip_think(r["text"]).split()).lower()
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def fit(x: np.ndarray, y: np.ndarray, l2: float, bow_dims: int, max_iter: int = MAX_ITER) -> ResponseModel:
    """Class-balanced multinomial logistic regression with an L2 penalty, solved to convergence by L-BFGS
    (scipy, which vllm and torch bring). The problem is convex, so the solution is the optimum, not wherever an
    optimiser stopped: the full-batch Adam used until 2026-11-29 stopped after 800 steps, and because Adam
    rescales every gradient to a unit step, weights whose gradient was at noise level moved by the full step size,
    so features differing in the ninth decimal (the embedding of the same text in another batch) gave a visibly
    different model (25 against 0 of one held-out set's refusals read as safe completions)."""
    from scipy.optimize import minimize

    mean, scale = x.mean(0), x.std(0) + 1e-6
    xs = np.asarray((x - mean) / scale, dtype=np.float64)
    n, d = xs.shape
    k = len(LABELS)
    onehot = np.eye(k)[y]
    counts = np.bincount(y, minlength=k)
    sample_w = (n / (k * np.maximum(counts, 1)))[y][:, None]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d * k].reshape(d, k), theta[d * k:]
        z = xs @ w + b
        z -= z.max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        value = -(sample_w * onehot * logp).sum() / n + 0.5 * l2 * (w * w).sum()
        g = sample_w * (np.exp(logp) - onehot) / n
        return value, np.concatenate([(xs.T @ g + l2 * w).ravel(), g.sum(0)])

    res = minimize(loss, np.zeros(d * k + k), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "gtol": 1e-7, "ftol": 1e-12})
    w, b = res.x[:d * k].reshape(d, k), res.x[d * k:]
    return ResponseModel(weights=w.astype(np.float32), bias=b.astype(np.float32), mean=mean.astype(np.float32),
                         scale=scale.astype(np.float32), labels=LABELS, bow_dims=bow_dims)


def group_of(row: dict) -> str:
    """The unit of generalisation: one chat model's answers (JailbreakBench, refusal_direction, Do-Not-Answer), else
    one source."""
    per_model = row["source"] in ("jailbreakbench", "refusal_direction", "do-not-answer", "phtest")
    return f"{row['source']}:{row['model']}" if per_model else row["source"]


def out_of_group(x: np.ndarray, y: np.ndarray, groups: np.ndarray, l2: float, bow_dims: int) -> np.ndarray:
    """Each row's probabilities from a model fitted without the row's group: how the model does on the wording of
    a chat model (or source) it never saw, which is the case that matters for a new teacher."""
    probs = np.zeros((len(y), len(LABELS)), np.float32)
    for g in sorted(set(groups)):
        held = groups == g
        probs[held] = fit(x[~held], y[~held], l2, bow_dims).probabilities(x[held])
    return probs


def out_of_group_tuned(texts: list[str], x: np.ndarray, y: np.ndarray, groups: np.ndarray, l2: float, bow_dims: int,
                       epochs: int, rank: int, lr: float) -> np.ndarray:
    """out_of_group with the embedding tuned too (response_tuning.tune), each time without the held group."""
    from response_tuning import tune

    probs = np.zeros((len(y), len(LABELS)), np.float32)
    for g in sorted(set(groups)):
        held = groups == g
        start = fit(x[~held], y[~held], l2, bow_dims)
        model = tune([t for t, h in zip(texts, held) if not h], y[~held], start, l2, epochs, rank, lr)
        probs[held] = model.probabilities(model.features([t for t, h in zip(texts, held) if h]))
        print(f"  tuned without {g}: {scores_of(probs[held], y[held])}", flush=True)
    return probs


def scores(model: ResponseModel, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return scores_of(model.probabilities(x), y)


def scores_of(probs: np.ndarray, y: np.ndarray) -> dict[str, float]:
    pred = probs.argmax(1)
    three = float((pred == y).mean())
    comply = LABELS.index("comply")
    refuse = LABELS.index("refuse")
    binary_mask = (y == comply) | (y == refuse)
    # binary: full compliance vs full refusal, a refusal predicted as safe_complete counts as "not comply"
    binary = float(((pred[binary_mask] == comply) == (y[binary_mask] == comply)).mean()) if binary_mask.any() else 0
    return {"three_way": round(three, 4), "binary": round(binary, 4), "n": int(len(y))}


def mean_three_way(probs: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """The out-of-group score that chooses the model: the mean over groups of their three-way accuracy."""
    return float(np.mean([scores_of(probs[groups == g], y[groups == g])["three_way"] for g in sorted(set(groups))]))


def before_score(probs: np.ndarray, y: np.ndarray, groups: np.ndarray, extra: np.ndarray) -> float:
    """Mean out-of-group three-way accuracy over the groups that were in the pool before PHTest's, Reuter's and
    WildJailbreak's answers were tried: a source joins when it raises their score (Do-Not-Answer's rows of the
    actions added by --dna-comply-actions are left out)."""
    return float(np.mean([scores_of(probs[(groups == g) & ~extra], y[(groups == g) & ~extra])["three_way"]
                          for g in sorted(set(groups)) if not g.startswith(("phtest:", "reuter", "wildjailbreak"))]))


def gate_tradeoff(probs: np.ndarray, y: np.ndarray) -> None:
    """Out-of-group: how the refusal gates' P(comply) thresholds trade wrong behaviour let through against good
    answers thrown away, on the training pool's out-of-group predictions (where the recipe defaults are chosen;
    never on the held-out sets)."""
    p = probs[:, LABELS.index("comply")]
    said_comply = probs.argmax(1) == LABELS.index("comply")
    comply, refusal = y == LABELS.index("comply"), y != LABELS.index("comply")
    print(f"out-of-group gates ({int(refusal.sum())} refusals incl. partial, {int(comply.sum())} compliant answers):")
    for t in (0.5, 0.6, 0.7, 0.8):
        benign_leak = float((said_comply & (p >= t) & refusal).sum() / max(1, refusal.sum()))
        benign_kept = float((said_comply & (p >= t) & comply).sum() / max(1, comply.sum()))
        print(f"  benign gate P(comply) >= {t}: refusals passing {benign_leak:.3f}, compliant kept {benign_kept:.3f}")
    for t in (0.2, 0.3, 0.4, 0.5):
        harmful_leak = float((~said_comply & (p < t) & comply).sum() / max(1, comply.sum()))
        harmful_kept = float((~said_comply & (p < t) & refusal).sum() / max(1, refusal.sum()))
        print(f"  harmful gate P(comply) < {t}: compliance passing {harmful_leak:.3f}, "
              f"refusals kept {harmful_kept:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rbr", type=Path, required=True)
    ap.add_argument("--jbb", type=Path, required=True)
    ap.add_argument("--coconot", type=Path, required=True)
    ap.add_argument("--refusal-direction", type=Path, required=True)
    ap.add_argument("--gptfuzz", type=Path, help="checkout of sherdencooper/GPTFuzz: report its held-out split too")
    ap.add_argument("--dna", type=Path, required=True,
                    help="checkout of matsuolab/llm_competition_2025_bridge_code (Do-Not-Answer)")
    ap.add_argument("--dna-comply-actions", nargs="+", default=list(DNA["comply_actions"]), choices=list("1235"),
                    help="Do-Not-Answer actions trained on as comply (5: direct answers; 2, 3: see dna_attempts_answer)")
    ap.add_argument("--dna-extra-min-answer-words", type=int, default=DNA["extra_min_answer_words"],
                    help="train on an answer of action 2 or 3 only when the phrase rules find no decline sentence in "
                         "it and at least this many words of answer (0: every such answer)")
    ap.add_argument("--phtest", type=Path,
                    help="checkout of umd-huang-lab/FalseRefusal (PHTest answers, pinned commit): report its "
                         "held-out models; with --phtest-per-model, train on the others")
    ap.add_argument("--phtest-per-model", type=int, default=PHTEST_PER_MODEL,
                    help="PHTest answers sampled per training model (0, the default: not trained on)")
    ap.add_argument("--phtest-classes", nargs="*", default=list(LABELS), choices=LABELS,
                    help="PHTest labels trained on (the held-out models are scored on all three)")
    ap.add_argument("--phtest-partial-if-rules-agree", action="store_true",
                    help="also train on PHTest's partial refusals that the phrase rules read as safe_complete")
    ap.add_argument("--reuter", type=Path,
                    help="checkout of maxwellreuter/chatgpt-refusals (hand-labelled gpt-3.5-turbo answers): report "
                         "its even-hash half")
    ap.add_argument("--reuter-train", action="store_true",
                    help="also train on the odd-hash half of --reuter (the experiment of 2026-12-06; not shipped)")
    ap.add_argument("--wildjailbreak", type=Path,
                    help="checkout of matsuolab/llm_competition_2025_bridge_code: report WILDJAILBREAK_HELDOUT")
    ap.add_argument("--wildjailbreak-train", action="store_true",
                    help="also train on WILDJAILBREAK's hand-labelled answers (the experiment of 2026-12-07; not "
                         "shipped)")
    ap.add_argument("--wildjailbreak-classes", nargs="*", default=list(LABELS), choices=LABELS,
                    help="the labels of --wildjailbreak-train trained on")
    ap.add_argument("--l2", type=float, nargs="+", default=list(L2_GRID), help="L2 strengths to compare")
    ap.add_argument("--bow-dims", type=int, nargs="+", default=[0, BOW_DIMS],
                    help="bag-of-words widths to compare (0: none); the best out-of-group three-way accuracy wins")
    ap.add_argument("--tune-epochs", type=int, nargs="+", default=[3],
                    help="also tune the embedding (response_tuning.py) for this many epochs at the chosen grid point; "
                         "kept when its out-of-group score beats the plain embedding's (0: never tune)")
    ap.add_argument("--tune-rank", type=int, default=8, help="rank of the embedding's low-rank adapters")
    ap.add_argument("--tune-lr", type=float, default=5e-4, help="the adapters' learning rate (the logistic layer's: "
                                                                "a fifth of it)")
    ap.add_argument("--write", action="store_true", help="write pipeline/filters/response_model.npz")
    args = ap.parse_args()
    rbr = load_rbr(args.rbr)
    jbb, jbb_pins = load_jbb(args.jbb)
    coconot = load_coconot(args.coconot)
    direction = load_refusal_direction(args.refusal_direction)
    dna = load_dna(args.dna, tuple(args.dna_comply_actions), args.dna_extra_min_answer_words)
    phtest = (load_phtest(args.phtest, args.phtest_per_model, tuple(args.phtest_classes),
                          args.phtest_partial_if_rules_agree) if args.phtest
              else {"train": [], "heldout": []})
    reuter = load_reuter(args.reuter) if args.reuter else {"train": []}
    reuter_train = reuter["train"] if args.reuter_train else []
    train = dedupe(rbr["train"] + jbb["train"] + coconot["train"] + direction["train"] + dna["train"]
                   + phtest["train"] + reuter_train + load_own("train")
                   + (load_wildjailbreak(args.wildjailbreak, tuple(args.wildjailbreak_classes))
                      if args.wildjailbreak and args.wildjailbreak_train else []))
    heldout = {"rbr-gold test (human)": rbr["heldout"], f"jailbreakbench {HELD_OUT_MODEL} (judge)": jbb["heldout"],
               "coconot contrast, GPT-4 compliance (held-out half)": coconot["heldout"],
               "refusal_direction Llama-3-8B-Instruct + Yi-6B-Chat (substring + Llama Guard 2)": direction["heldout"],
               "project held-out (written)": load_own("heldout")}
    if args.gptfuzz:
        heldout["GPTFuzz evaluate.csv (human)"] = load_gptfuzz(args.gptfuzz)["heldout"]
    heldout["Do-Not-Answer, Llama-2-7B-chat + Vicuna-7B (human)"] = dna["heldout"]
    heldout["Do-Not-Answer, Llama-2-7B-chat + Vicuna-7B, attempts to answer with a disclaimer (actions 2-3)"] = \
        dna["heldout_extra"]
    for model in PHTEST["heldout_models"] if args.phtest else ():
        heldout[f"PHTest {model}, held-out prompts (LLM labels)"] = [r for r in phtest["heldout"]
                                                                      if r["model"] == model]
    if args.wildjailbreak:
        heldout["WildJailbreak, another 104 answers of the same pipeline (labelled here)"] = \
            load_wildjailbreak_heldout(args.wildjailbreak)
    for key in sorted(k for k in reuter if k.startswith("heldout:")):
        heldout[f"Reuter {key.split(':', 1)[1]}, gpt-3.5-turbo, even-hash half (human)"] = reuter[key]
    print("training pool:", len(train), dict(Counter(r["label"] for r in train)),
          dict(Counter(r["source"] for r in train)))
    print(f"embedding: first {HEAD_TOKENS} tokens, {HEAD_LAYERS} MiniLM layers; bag of words: {args.bow_dims}")
    texts = [strip_think(r["text"]) for r in train]
    base = features(texts, bow_dims=0)
    with_bow = {0: base} if 0 in args.bow_dims else {}
    for dims in (d for d in args.bow_dims if d):
        with_bow[dims] = np.concatenate([base, bag_of_words(texts, dims)], axis=1)
    y = np.asarray([LABELS.index(r["label"]) for r in train])
    groups = np.asarray([group_of(r) for r in train])
    extra = np.asarray([bool(r.get("extra")) for r in train])
    print("groups:", dict(Counter(groups.tolist())))
    best = None
    for dims, x in with_bow.items():
        for l2 in args.l2:
            probs = out_of_group(x, y, groups, l2, dims)
            per_group = {g: scores_of(probs[groups == g], y[groups == g]) for g in sorted(set(groups))}
            mean3 = mean_three_way(probs, y, groups)
            meanb = float(np.mean([s["binary"] for s in per_group.values()]))
            before = before_score(probs, y, groups, extra)
            print(f"bow={dims} l2={l2}: out-of-group mean three-way {mean3:.4f} binary {meanb:.4f} "
                  f"(groups other than PHTest, Reuter and WildJailbreak {before:.4f}) | "
                  + " ".join(f"{g}={s['three_way']:.3f}" for g, s in per_group.items()), flush=True)
            if best is None or mean3 > best[2]:
                best = (dims, l2, mean3, probs)
    dims, l2, mean3, probs = best
    epochs = 0
    for tried in (e for e in args.tune_epochs if e > 0):
        tuned = out_of_group_tuned(texts, with_bow[dims], y, groups, l2, dims, tried, args.tune_rank, args.tune_lr)
        tuned3 = mean_three_way(tuned, y, groups)
        print(f"tuned embedding, {tried} epochs: out-of-group mean three-way {tuned3:.4f} against {mean3:.4f} "
              f"(groups other than PHTest, Reuter and WildJailbreak {before_score(tuned, y, groups, extra):.4f} "
              f"against {before_score(probs, y, groups, extra):.4f})", flush=True)
        if tuned3 > mean3:
            epochs, mean3, probs = tried, tuned3, tuned
    gate_tradeoff(probs, y)
    model = fit(with_bow[dims], y, l2, dims)
    if epochs:
        from response_tuning import tune

        model = tune(texts, y, model, l2, epochs, args.tune_rank, args.tune_lr)
    print(f"chosen bow={dims} l2={l2} tuning epochs={epochs}; training accuracy "
          f"{scores(model, model.features(texts), y)}")
    for name, rows in heldout.items():
        rows = dedupe(rows)
        hx = model.features([strip_think(r["text"]) for r in rows])
        hy = np.asarray([LABELS.index(r["label"]) for r in rows])
        print(f"held out, {name}: {scores(model, hx, hy)} {dict(Counter(r['label'] for r in rows))}")
    if args.write:
        model.save(ROOT / "pipeline" / "filters" / "response_model.npz")
        print("wrote pipeline/filters/response_model.npz")
    print("JailbreakBench file pins:", json.dumps(jbb_pins, indent=1))


if __name__ == "__main__":
    main()
