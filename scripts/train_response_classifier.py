"""Train the response-type classifier (pipeline/filters/response_model.npz) on pinned public labelled responses.

The public files are not in this repository (their licences allow it, but this project commits no fetched
content): check out the pinned repositories, then point this script at them. Every file is verified against its
sha256 before use, so a moved or edited source fails loudly.

    .venv/bin/python scripts/train_response_classifier.py --rbr /path/to/safety-rbr-code-and-data \
        --jbb /path/to/jailbreakbench-artifacts --coconot /path/to/noncompliance [--write]

Splits (docs/response_classifier.md): the held-out set (RBR gold test.jsonl, every JailbreakBench response of
gpt-4-0125-preview, tests/data/refusal_heldout.jsonl) is never used to train or tune; the regularisation strength
is chosen on a seeded 20 % dev fold of the training pool, then the model is refitted on the whole pool.
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
from pipeline.filters.response_model import ResponseModel, features, strip_think  # noqa: E402

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


def load_coconot(repo_dir: Path) -> dict[str, list[dict]]:
    out = {"train": [], "heldout": []}
    data = git_file(repo_dir, COCONOT["commit"], COCONOT["path"], COCONOT["sha256"])
    for line in data.decode().splitlines():
        r = json.loads(line)
        split = "heldout" if int(hashlib.sha256(r["id"].encode()).hexdigest()[:8], 16) % 2 == 0 else "train"
        out[split].append({"text": r["chosen"], "prompt": r["prompt"], "label": "comply", "source": "coconot",
                           "model": r["chosen_model"]})
    return out


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


def fit(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 1500, lr: float = 0.05) -> ResponseModel:
    """Class-balanced multinomial logistic regression (full-batch Adam): small, deterministic, no extra deps."""
    mean, scale = x.mean(0), x.std(0) + 1e-6
    xs = (x - mean) / scale
    n, d = xs.shape
    k = len(LABELS)
    onehot = np.eye(k)[y]
    counts = np.bincount(y, minlength=k)
    sample_w = (n / (k * np.maximum(counts, 1)))[y][:, None]
    w, b = np.zeros((d, k)), np.zeros(k)
    m = [np.zeros_like(w), np.zeros_like(b)]
    v = [np.zeros_like(w), np.zeros_like(b)]
    for t in range(1, steps + 1):
        z = xs @ w + b
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        g = sample_w * (p - onehot) / n
        grads = [xs.T @ g + l2 * w, g.sum(0)]
        for i, (param, grad) in enumerate(zip((w, b), grads)):
            m[i] = 0.9 * m[i] + 0.1 * grad
            v[i] = 0.999 * v[i] + 0.001 * grad ** 2
            param -= lr * (m[i] / (1 - 0.9 ** t)) / (np.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8)
    return ResponseModel(weights=w.astype(np.float32), bias=b.astype(np.float32), mean=mean.astype(np.float32),
                         scale=scale.astype(np.float32), labels=LABELS)


def scores(model: ResponseModel, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    pred = model.probabilities(x).argmax(1)
    three = float((pred == y).mean())
    comply = LABELS.index("comply")
    refuse = LABELS.index("refuse")
    binary_mask = (y == comply) | (y == refuse)
    # binary: full compliance vs full refusal, a refusal predicted as safe_complete counts as "not comply"
    binary = float(((pred[binary_mask] == comply) == (y[binary_mask] == comply)).mean()) if binary_mask.any() else 0
    return {"three_way": round(three, 4), "binary": round(binary, 4), "n": int(len(y))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rbr", type=Path, required=True)
    ap.add_argument("--jbb", type=Path, required=True)
    ap.add_argument("--coconot", type=Path, required=True)
    ap.add_argument("--write", action="store_true", help="write pipeline/filters/response_model.npz")
    args = ap.parse_args()
    rbr = load_rbr(args.rbr)
    jbb, jbb_pins = load_jbb(args.jbb)
    coconot = load_coconot(args.coconot)
    train = dedupe(rbr["train"] + jbb["train"] + coconot["train"] + load_own("train"))
    heldout = {"rbr-gold test (human)": rbr["heldout"], f"jailbreakbench {HELD_OUT_MODEL} (judge)": jbb["heldout"],
               "coconot contrast, GPT-4 compliance (held-out half)": coconot["heldout"],
               "project held-out (written)": load_own("heldout")}
    print("training pool:", len(train), dict(Counter(r["label"] for r in train)),
          dict(Counter(r["source"] for r in train)))
    x = features([strip_think(r["text"]) for r in train])
    y = np.asarray([LABELS.index(r["label"]) for r in train])
    rng = np.random.default_rng(0)
    dev = rng.random(len(y)) < 0.2
    best = None
    for l2 in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3):
        s = scores(fit(x[~dev], y[~dev], l2), x[dev], y[dev])
        print(f"l2={l2}: dev {s}")
        if best is None or s["three_way"] > best[1]["three_way"]:
            best = (l2, s)
    model = fit(x, y, best[0])
    print(f"chosen l2={best[0]}; training accuracy {scores(model, x, y)}")
    for name, rows in heldout.items():
        rows = dedupe(rows)
        hx = features([strip_think(r["text"]) for r in rows])
        hy = np.asarray([LABELS.index(r["label"]) for r in rows])
        print(f"held out, {name}: {scores(model, hx, hy)} {dict(Counter(r['label'] for r in rows))}")
    if args.write:
        model.save(ROOT / "pipeline" / "filters" / "response_model.npz")
        print("wrote pipeline/filters/response_model.npz")
    print("JailbreakBench file pins:", json.dumps(jbb_pins, indent=1))


if __name__ == "__main__":
    main()
