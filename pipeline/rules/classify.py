"""Category classification for prompts whose source gives none, so explicit mode can put the right rules in the
teacher's context. Method: all-MiniLM-L6-v2 cosine between the prompt and each category's description and each
of its rules; the category of the best match wins if it clears a similarity floor, else the prompt keeps only
the general rules. Embeddings (not the teacher) because the label must not depend on the teacher under test, it costs
milliseconds, and its accuracy is measured once on labelled prompts (bench/category_classifier.py)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..records import Prompt
from .rulebook import GENERAL, RuleBook


def category_parts(book: RuleBook) -> list[tuple[str, str]]:
    """(category, text) for each category's description and each of its rules."""
    return [(c, t) for c, desc in book.categories.items() if c != GENERAL
            for t in [desc] + [r.text for r in book.rules_for(c)]]


def nearest_categories(texts: list[str], book: RuleBook) -> list[tuple[str, float]]:
    """(category, cosine) of the nearest category for each text: the best match over the category's description
    and its rules taken one by one (one long concatenation blurs them; measured in bench/category_classifier.py)."""
    from ..embed import embed

    parts = category_parts(book)
    names = sorted({c for c, _ in parts})
    sims = embed(texts) @ embed([t for _, t in parts]).T
    per_cat = np.full((len(texts), len(names)), -1.0, dtype=np.float32)
    for j, (c, _) in enumerate(parts):
        k = names.index(c)
        per_cat[:, k] = np.maximum(per_cat[:, k], sims[:, j])
    best = np.argmax(per_cat, axis=1)
    return [(names[j], float(per_cat[i, j])) for i, j in enumerate(best)]


def classify_prompts(prompts: list[Prompt], book: RuleBook, settings: dict) -> tuple[list[Prompt], dict[str, int]]:
    """Fill in missing categories; returns the prompts and counts {source, embedding, below_floor,
    not_classified}."""
    counts = {"source": sum(p.category is not None for p in prompts), "embedding": 0, "below_floor": 0}
    todo = [i for i, p in enumerate(prompts) if p.category is None and p.kind in settings["kinds"]] \
        if settings["method"] == "embedding" else []
    counts["not_classified"] = len(prompts) - counts["source"] - len(todo)
    if not todo:
        return prompts, counts
    out = list(prompts)
    for i, (cat, sim) in zip(todo, nearest_categories([prompts[i].text for i in todo], book)):
        if sim >= settings["min_similarity"]:
            out[i] = replace(prompts[i], category=cat, category_source="embedding")
            counts["embedding"] += 1
        else:
            counts["below_floor"] += 1
    return out, counts
