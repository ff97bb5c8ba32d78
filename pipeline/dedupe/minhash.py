"""Near-duplicate detection with MinHash-LSH (rensa's Rust MinHash), local or distributed on Ray.

Map: each chunk of documents -> shingles -> MinHash signatures (rensa's bulk digest matrix) -> one 64-bit key per
band; the (band key, doc index) pairs are split into P partitions by key. Reduce: each partition groups its
keys and links every document in a bucket to the bucket's first member. The driver joins the links with
union-find (memory: one int per document, never the documents). Only signatures' band keys cross process
boundaries, so a worker holds one chunk of text at a time.

Candidates are not verified pairwise: with the recipe's bands x rows the LSH S-curve already separates the
planted pairs (Jaccard 0.8-0.95) from unrelated text; recall and precision are measured in
bench/near_dup.py."""
from __future__ import annotations

import re
import string
from dataclasses import dataclass

import numpy as np

from ..recipe.model import DEFAULT_MINHASH  # noqa: F401  (the recipe owns the defaults)
from .exact import normalize

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class MinHashParams:
    unit: str = "word"         # word | char
    ngram: int = 5
    num_perm: int = 128
    bands: int = 20
    rows: int = 6
    seed: int = 1

    @classmethod
    def from_dict(cls, d: dict) -> "MinHashParams":
        return cls(**{k: d[k] for k in ("unit", "ngram", "num_perm", "bands", "rows", "seed") if k in d})

    @property
    def threshold(self) -> float:
        """Jaccard at which a pair becomes a candidate with probability ~0.5: (1/b)^(1/r)."""
        return (1 / self.bands) ** (1 / self.rows)


def shingles(text: str, unit: str, n: int) -> list[str]:
    text = normalize(text)
    if unit == "char":
        return [text[i:i + n] for i in range(max(1, len(text) - n + 1))]
    words = _WORD.findall(text)
    if len(words) <= n:
        return [" ".join(words)]
    return [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]


_GOLD = np.uint64(0x9E3779B97F4A7C15)
_HASH_SEED = 0x5EED


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads polynomial hashes over all 64 bits."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


_STEP = [np.uint64(c) for c in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
                                 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x85EBCA77C2B2AE63, 0x94D049BB133111EB)]


_PUNCT = list(string.punctuation)
_SPACES = ["\n", "\t", "\r", "\x0b", "\x0c"]


def _word_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(64-bit hash of every word, word count per text). Words: the lower-cased text with ASCII punctuation
    removed ("don't" -> "dont"), split on whitespace. Tokenising and hashing run in polars (Rust) over the whole
    batch: measured ~4x faster than Python's str.split plus rensa's token hashing, and a regex split was 2x
    slower again. Its seeded hash is the same in every process of one polars version (the lock records it)."""
    import polars as pl

    words = (pl.Series("t", texts, dtype=pl.Utf8).str.to_lowercase()
             .str.replace_many(_PUNCT + _SPACES, [""] * len(_PUNCT) + [" "] * len(_SPACES)).str.split(" "))
    counts = words.list.len().to_numpy().astype(np.int64)
    flat = words.explode()
    empty = (flat.str.len_bytes() == 0).to_numpy()
    if empty.any():   # runs of spaces, leading/trailing spaces, empty texts
        doc = np.repeat(np.arange(len(texts)), counts)
        counts = np.bincount(doc[~empty], minlength=len(texts)).astype(np.int64)
        flat = flat.filter(pl.Series(~empty))
    return flat.hash(seed=_HASH_SEED).to_numpy().astype(np.uint64), counts


def _combine(words: np.ndarray, k_max: int) -> np.ndarray:
    """acc[i] = hash of the window words[i .. i+k_max-1], mixed (positions near the end hold shorter windows,
    which callers never keep). Windows are built by doubling (1, 2, 4, ... words) and then extended, so a 5-gram
    costs 3 passes over the array instead of 4."""
    acc = words.copy()
    width = 1
    with np.errstate(over="ignore"):
        while width * 2 <= k_max:          # acc covers `width` words -> 2 * width
            acc[:-width] = acc[:-width] * _STEP[width % len(_STEP)] + acc[width:]
            width *= 2
        while width < k_max:                 # one more word at a time
            acc[:-width] = acc[:-width] * _GOLD + words[width:] * _STEP[0]
            width += 1
    return _mix64(acc)


def word_shingle_hashes(texts: list[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every word n-gram of every text and the row offsets of each text's hashes, computed
    with numpy over the whole batch: building n-gram strings in Python was what bounded throughput. A window
    that would cross into the next text is never kept. A text with fewer than n words is one shingle of all its
    words; an empty text gets one fixed shingle."""
    words, counts = _word_hashes(texts)
    acc = _combine(words, n) if len(words) else words
    starts = np.cumsum(counts) - counts
    long_doc = counts >= n
    per_long = np.where(long_doc, counts - n + 1, 0)
    rank = np.arange(len(words)) - np.repeat(starts, counts)     # word index within its text
    out = acc[rank < np.repeat(per_long, counts)]
    short = np.nonzero(~long_doc)[0]
    if len(short):   # rare: one shingle per short text, hashed the same way over all its words
        vals = np.array([_combine(words[starts[i]:starts[i] + counts[i]], counts[i])[0] if counts[i] else
                         np.uint64(0x51A7E) for i in short], dtype=np.uint64)
        out = np.insert(out, (np.cumsum(per_long) - per_long)[short], vals)
    per_doc = np.where(long_doc, per_long, 1)
    return out, np.r_[0, np.cumsum(per_doc)].astype(np.uint64)


def signatures(texts: list[str], p: MinHashParams) -> np.ndarray:
    """(len(texts), num_perm) uint32 MinHash signatures (rensa's RMinHash over the shingle hashes)."""
    from rensa import RMinHash

    if not texts:
        return np.zeros((0, p.num_perm), dtype=np.uint32)
    if p.unit == "word":
        flat, offsets = word_shingle_hashes(texts, p.ngram)
        matrix = RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, p.num_perm, p.seed)
    else:
        matrix = RMinHash.digest_matrix_from_token_sets([shingles(t, p.unit, p.ngram) for t in texts],
                                                        p.num_perm, p.seed)
    return np.asarray(matrix.to_rows(), dtype=np.uint32)


_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
                 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x85EBCA77C2B2AE63, 0x94D049BB133111EB], dtype=np.uint64)


def band_keys(sig: np.ndarray, p: MinHashParams) -> np.ndarray:
    """(n, bands) uint64 bucket keys; the band index is mixed in so equal rows in different bands differ."""
    n = sig.shape[0]
    rows = sig[:, :p.bands * p.rows].astype(np.uint64).reshape(n, p.bands, p.rows)
    mix = np.resize(_MIX, p.rows)
    with np.errstate(over="ignore"):
        keys = (rows * mix).sum(axis=2, dtype=np.uint64)
        keys ^= (np.arange(p.bands, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        keys ^= keys >> np.uint64(31)
    return keys


def map_chunk(texts: list[str], offset: int, p: MinHashParams, partitions: int) -> list[np.ndarray]:
    """Band keys of one chunk, split by partition: each part is an (m, 2) uint64 array of (key, doc index)."""
    keys = band_keys(signatures(texts, p), p)
    idx = np.repeat(np.arange(offset, offset + len(texts), dtype=np.uint64), p.bands)
    flat = np.stack([keys.reshape(-1), idx], axis=1)
    part = (flat[:, 0] % np.uint64(partitions)).astype(np.int64)
    return [flat[part == k] for k in range(partitions)]


def reduce_partition(*parts: np.ndarray) -> np.ndarray:
    """Links (a, b) with a < b joining every member of a bucket to the bucket's smallest doc index."""
    pairs = np.concatenate([x for x in parts if len(x)]) if any(len(x) for x in parts) else np.zeros((0, 2), np.uint64)
    if not len(pairs):
        return np.zeros((0, 2), dtype=np.int64)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    pairs = pairs[order]
    keys, docs = pairs[:, 0], pairs[:, 1].astype(np.int64)
    start = np.r_[True, keys[1:] != keys[:-1]]
    head = np.maximum.accumulate(np.where(start, np.arange(len(keys)), 0))
    first = docs[head]
    links = np.stack([first, docs], axis=1)[~start]
    links = links[links[:, 0] != links[:, 1]]
    return np.unique(links, axis=0)


def union_find(n: int, links: np.ndarray) -> np.ndarray:
    """Root (smallest member index) of each document's cluster."""
    parent = np.arange(n, dtype=np.int64)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in links.tolist():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(n)], dtype=np.int64)


def near_duplicate_clusters(texts: list[str], params: MinHashParams, chunk_size: int = 2000, partitions: int = 8,
                            use_ray: bool = False) -> np.ndarray:
    """Cluster root per document. With use_ray, chunks are mapped and partitions reduced as Ray tasks."""
    n = len(texts)
    chunks = [(texts[i:i + chunk_size], i) for i in range(0, n, chunk_size)]
    if use_ray:
        import ray

        from ..util.ray import ensure_ray

        ensure_ray()
        mapper = ray.remote(num_returns=partitions)(map_chunk) if partitions > 1 else ray.remote(map_chunk)
        mapped = [mapper.remote(ray.put(c), off, params, partitions) for c, off in chunks]
        if partitions == 1:
            mapped = [[m] for m in mapped]
        reducer = ray.remote(reduce_partition)
        links = ray.get([reducer.remote(*[m[k] for m in mapped]) for k in range(partitions)])
    else:
        mapped = [map_chunk(c, off, params, partitions) for c, off in chunks]
        links = [reduce_partition(*[m[k] for m in mapped]) for k in range(partitions)]
    allinks = np.concatenate(links) if links else np.zeros((0, 2), np.int64)
    return union_find(n, allinks)
