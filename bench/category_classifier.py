"""Category classification accuracy (explicit mode's rule choice) on the project's labelled seed prompts, for
the shipped method (best match over a category's description and each rule) against two simpler embeddings of
the same model (description only; description + all rules in one text), measured in one run.

    .venv/bin/python bench/category_classifier.py
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    from pipeline.embed import embed
    from pipeline.rules import load_rulebook
    from pipeline.rules.classify import nearest_categories

    book = load_rulebook(ROOT / "prompts" / "rulebook.yaml")
    rows = [dict(json.loads(line), kind=kind) for kind in ("harmful", "benign")
            for line in (ROOT / "prompts" / "seeds" / f"{kind}.jsonl").read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("category")]
    cats = [c for c in book.categories if c != "general"]
    prompts = embed([r["prompt"] for r in rows])

    def score(pred: list[str]) -> str:
        out = []
        for kind in ("harmful", "benign"):
            idx = [i for i, r in enumerate(rows) if r["kind"] == kind]
            ok = sum(pred[i] == rows[i]["category"] for i in idx)
            out.append(f"{kind} {ok}/{len(idx)} = {ok / len(idx):.3f}")
        total = sum(p == r["category"] for p, r in zip(pred, rows))
        return f"all {total}/{len(rows)} = {total / len(rows):.3f}; " + "; ".join(out)

    desc = embed([book.categories[c] for c in cats])
    print("description only:            ", score([cats[j] for j in np.argmax(prompts @ desc.T, axis=1)]))
    concat = embed([book.categories[c] + " " + " ".join(r.text for r in book.rules_for(c)) for c in cats])
    print("description + rules, 1 text: ", score([cats[j] for j in np.argmax(prompts @ concat.T, axis=1)]))
    print("best of description, rules:  ", score([c for c, _ in nearest_categories([r["prompt"] for r in rows], book)]))


if __name__ == "__main__":
    main()
