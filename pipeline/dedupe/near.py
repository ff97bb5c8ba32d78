"""Near-duplicate (MinHash-LSH) and semantic (embedding cosine) dedupe of kept records, per mode (rows of different
modes are different training formats). Each cluster keeps one representative, chosen deterministically: the best
LLM-judge score sum when the judge ran, then the smallest id. Every dropped record keeps its cluster id and the
id of the record that was kept."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..records import GenerationRecord
from .exact import _response
from .minhash import MinHashParams, near_duplicate_clusters, union_find


@dataclass
class ClusterResult:
    cluster: dict[str, str] = field(default_factory=dict)        # id -> cluster id (members of a cluster only)
    duplicate_of: dict[str, str] = field(default_factory=dict)   # dropped id -> kept id


def text_for(record: GenerationRecord, key: str) -> str:
    parts = []
    if key in ("prompt", "prompt_response"):
        parts.append(record.request.prompt.text)
    if key in ("response", "prompt_response"):
        parts.append(_response(record))
    return "\n".join(parts)


def _representative(members: list[GenerationRecord], scores: dict[str, dict[str, Any]]) -> GenerationRecord:
    def rank(r: GenerationRecord):
        s = scores.get(r.id)
        total = (s["safety"] + s["rule_relevance"] + s["reasoning"]) if s else 0
        return (-total, r.id)
    return min(members, key=rank)


def _collect(records: list[GenerationRecord], roots: np.ndarray, prefix: str, scores, out: ClusterResult) -> None:
    groups: dict[int, list[GenerationRecord]] = defaultdict(list)
    for r, root in zip(records, roots.tolist()):
        groups[root].append(r)
    for members in groups.values():
        if len(members) < 2:
            continue
        keep = _representative(members, scores)
        cid = f"{prefix}:{keep.id[:16]}"
        for m in members:
            out.cluster[m.id] = cid
            if m.id != keep.id:
                out.duplicate_of[m.id] = keep.id


def _by_mode(records: list[GenerationRecord]) -> dict[str, list[GenerationRecord]]:
    modes: dict[str, list[GenerationRecord]] = defaultdict(list)
    for r in sorted(records, key=lambda r: r.id):
        modes[r.request.mode].append(r)
    return modes


def near_dedupe(records: list[GenerationRecord], settings: dict, scores: dict | None = None) -> ClusterResult:
    out = ClusterResult()
    params = MinHashParams.from_dict(settings)
    for recs in _by_mode(records).values():
        roots = near_duplicate_clusters([text_for(r, settings["key"]) for r in recs], params,
                                        settings["chunk_size"], settings["partitions"], settings["use_ray"])
        _collect(recs, roots, "near", scores or {}, out)
    return out


def semantic_dedupe(records: list[GenerationRecord], settings: dict, scores: dict | None = None,
                    block: int = 2048) -> ClusterResult:
    """Pairs at or above the cosine threshold, found block by block (exact search: fine to ~10^5 rows per mode;
    beyond that an ANN index would be the next step)."""
    from ..embed import embed

    out = ClusterResult()
    for recs in _by_mode(records).values():
        vecs = embed([text_for(r, settings["key"]) for r in recs])
        links = []
        for i in range(0, len(recs), block):
            sims = vecs[i:i + block] @ vecs.T
            a, b = np.nonzero(sims >= settings["threshold"])
            a = a + i
            keep = a < b
            links.append(np.stack([a[keep], b[keep]], axis=1))
        allinks = np.concatenate(links) if links else np.zeros((0, 2), np.int64)
        _collect(recs, union_find(len(recs), allinks.astype(np.int64)), "semantic", scores or {}, out)
    return out
