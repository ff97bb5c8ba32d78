"""Decontamination against evaluation sets, before generation (no teacher time is spent on a prompt that would
leak an eval item into training). A prompt is contaminated by an eval set when it shares at least
`min_shared_ngrams` word n-grams (normalised text) with one eval text, or, when `embedding_threshold` is set,
when its MiniLM cosine to an eval text reaches it. Short texts (fewer words than n) are compared whole."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from ..dedupe.exact import normalize
from ..records import Prompt
from ..recipe.load import local_format
from ..recipe.model import SourceSpec
from .readers import iter_rows


def ngrams(text: str, n: int) -> set[str]:
    words = normalize(text).split()
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def eval_texts(spec: dict) -> list[str]:
    path = Path(spec["path"]) if spec.get("path") else None
    fmt = spec.get("format") or ((local_format(path) or "jsonl") if path else None)
    source = SourceSpec(name=f"eval:{spec['name']}", kind="benign", path=path, dataset=spec.get("dataset"),
                        config=spec.get("config"), revision=spec.get("revision"), format=fmt,
                        split=spec.get("split", "test"))
    column = spec.get("column", "prompt")
    return [r[column] for r in iter_rows(source) if isinstance(r.get(column), str) and r[column].strip()]


def decontaminate(prompts: list[Prompt], settings: dict) -> tuple[list[Prompt], Counter]:
    """The clean prompts, and counts of dropped prompts by reason (contaminated_<set name>)."""
    dropped: Counter = Counter()
    clean = list(prompts)
    n, need = settings["ngram"], settings["min_shared_ngrams"]
    for spec in settings["sets"]:
        texts = eval_texts(spec)
        index: dict[str, list[int]] = {}
        for i, t in enumerate(texts):
            for g in ngrams(t, n):
                index.setdefault(g, []).append(i)
        hit = []
        for p in clean:
            shared = Counter(i for g in ngrams(p.text, n) for i in index.get(g, ()))
            hit.append(bool(shared) and shared.most_common(1)[0][1] >= need)
        if settings.get("embedding_threshold") and texts and clean:
            from ..embed import embed
            ev = embed(texts)
            pe = embed([p.text for p in clean])
            for start in range(0, len(clean), 1024):
                sims = pe[start:start + 1024] @ ev.T
                for k, best in enumerate(np.max(sims, axis=1)):
                    hit[start + k] = hit[start + k] or bool(best >= settings["embedding_threshold"])
        dropped[f"contaminated_{spec['name']}"] += sum(hit)
        clean = [p for p, h in zip(clean, hit) if not h]
    return clean, dropped
