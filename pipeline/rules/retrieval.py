"""Rule retrieval for free-text queries: sentence-embedding similarity (all-MiniLM-L6-v2) over the rule texts,
with a lexical TF-IDF fallback when the embedding model is not installed or the recipe asks for it.

Lexical scoring indexes each rule with its category's description, so a query that shares words only with the
description ("malware") still reaches the category's rules; the embedding index uses the rule text alone."""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .rulebook import Rule, RuleBook

DEFAULT_RETRIEVAL = {"method": "embedding", "top_k": 3, "min_similarity": 0.2, "min_lexical_score": 0.05}
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an and are as at be by do for from how i in is it me my of on or that the this to what "
                  "with you your can not no".split())


@dataclass(frozen=True)
class Hit:
    rule: Rule
    score: float


def _doc(book: RuleBook, rule: Rule) -> str:
    return f"{book.categories.get(rule.category, '')} {rule.text}"


def _tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


class _Lexical:
    """TF-IDF cosine: small, dependency-free and good enough when the words overlap."""

    def __init__(self, docs: list[str]):
        toks = [Counter(_tokens(d)) for d in docs]
        df = Counter(w for t in toks for w in t)
        self.idf = {w: math.log((1 + len(docs)) / (1 + n)) + 1 for w, n in df.items()}
        self.vecs = [self._norm({w: c * self.idf[w] for w, c in t.items()}) for t in toks]

    @staticmethod
    def _norm(v: dict[str, float]) -> dict[str, float]:
        n = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {w: x / n for w, x in v.items()}

    def scores(self, query: str) -> list[float]:
        q = self._norm({w: c * self.idf.get(w, 0.0) for w, c in Counter(_tokens(query)).items()})
        return [sum(x * d.get(w, 0.0) for w, x in q.items()) for d in self.vecs]


_INDEX: dict[tuple[str, str], object] = {}   # (rule-book sha256, method) -> index, built once per process


def _lexical_index(book: RuleBook) -> _Lexical:
    key = (book.sha256, "lexical")
    if key not in _INDEX:
        _INDEX[key] = _Lexical([_doc(book, r) for r in book.rules])
    return _INDEX[key]


def _embedding_index(book: RuleBook) -> np.ndarray:
    key = (book.sha256, "embedding")
    if key not in _INDEX:
        from ..embed import embed
        _INDEX[key] = embed([r.text for r in book.rules])   # rule text alone scored higher than with the
        # category description prepended on our probe queries (cosine 0.25 vs 0.11 for "break into the wifi")
    return _INDEX[key]


def retrieval_method(settings: dict) -> str:
    """The method that will actually run: 'embedding' falls back to 'lexical' without the model."""
    if settings.get("method", "embedding") != "embedding":
        return "lexical"
    from ..embed import embedder_available
    return "embedding" if embedder_available() else "lexical"


def search(book: RuleBook, query: str, settings: dict, category: str | None = None) -> tuple[list[Hit], str]:
    """Rules ranked by similarity to `query` (restricted to `category` when given): at most top_k, each at or
    above the method's floor. Returns the hits and the method used."""
    method = retrieval_method(settings)
    if method == "embedding":
        from ..embed import embed
        scores = (_embedding_index(book) @ embed([query])[0]).tolist()
        floor = settings["min_similarity"]
    else:
        scores = _lexical_index(book).scores(query)
        floor = settings["min_lexical_score"]
    hits = [Hit(r, round(float(s), 4)) for r, s in zip(book.rules, scores)
            if s >= floor and (category is None or r.category == category)]
    hits.sort(key=lambda h: (-h.score, h.rule.id))
    return hits[:settings["top_k"]], method
