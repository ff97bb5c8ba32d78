"""Near-duplicate dedupe: throughput (documents/s per core), peak memory, and recall/precision on planted
near-duplicates, for the pipeline's MinHash-LSH (local and on Ray) against plain rensa and datasketch, with the
same shingles (word 5-grams), 120 permutations and 20 bands x 6 rows, in one run.

Corpus: N synthetic documents of ~300 words drawn from a 50k-word vocabulary, of which P are near-copies of
other documents with a target 5-shingle Jaccard drawn uniformly from 0.80-0.95. A planted pair counts as found
when both documents end in one cluster; precision counts every pair of documents sharing a cluster.
datasketch is timed on a subset (it is slow) and its rate extrapolated.

    .venv/bin/python bench/near_dup.py [--n 100000] [--planted 2000] [--datasketch-n 5000]
"""
from __future__ import annotations

import argparse
import random
import resource
import time
from collections import defaultdict

import numpy as np


def corpus(n: int, planted: int, seed: int = 0):
    rnd = random.Random(seed)
    vocab = [f"w{i}" for i in range(50_000)]
    base_n = n - planted
    docs = [" ".join(rnd.choices(vocab, k=300)) for _ in range(base_n)]
    pairs = []
    for k in range(planted):
        src = rnd.randrange(base_n)
        words = docs[src].split()
        target = rnd.uniform(0.80, 0.95)
        # Changing m scattered words removes ~5m of the ~296 shingles: J ~ (296-5m)/(296+5m).
        m = max(1, round(296 * (1 - target) / (5 * (1 + target))))
        for pos in rnd.sample(range(300), m):
            words[pos] = rnd.choice(vocab)
        docs.append(" ".join(words))
        pairs.append((src, base_n + k))
    return docs, pairs


def score(roots: np.ndarray, pairs: list[tuple[int, int]]) -> tuple[float, float]:
    """Recall over planted pairs; precision over all predicted pairs, where a pair is true when both documents
    descend from the same original (two copies of one document are near-duplicates of each other too)."""
    origin = np.arange(len(roots))
    for src, copy in pairs:
        origin[copy] = src
    found = sum(roots[a] == roots[b] for a, b in pairs)
    members = defaultdict(list)
    for i, r in enumerate(roots.tolist()):
        members[r].append(i)
    predicted = true = 0
    for group in members.values():
        if len(group) < 2:
            continue
        predicted += len(group) * (len(group) - 1) // 2
        per_origin = defaultdict(int)
        for i in group:
            per_origin[origin[i]] += 1
        true += sum(c * (c - 1) // 2 for c in per_origin.values())
    return found / len(pairs), (true / predicted if predicted else 1.0)


def roots_from_candidates(n: int, cands) -> np.ndarray:
    from pipeline.dedupe.minhash import union_find

    links = np.array([(min(a, b), max(a, b)) for a, bs in cands for b in bs if a != b], dtype=np.int64)
    return union_find(n, links.reshape(-1, 2))


def run_rensa(docs, p):
    from rensa import RMinHash, RMinHashLSH

    from pipeline.dedupe.minhash import shingles

    lsh = RMinHashLSH(threshold=p.threshold, num_perm=p.num_perm, num_bands=p.bands)
    mhs = []
    for i, d in enumerate(docs):
        m = RMinHash(num_perm=p.num_perm, seed=p.seed)
        m.update(shingles(d, p.unit, p.ngram))
        lsh.insert(i, m)
        mhs.append(m)
    return roots_from_candidates(len(docs), ((i, lsh.query(m)) for i, m in enumerate(mhs)))


def run_datasketch(docs, p):
    from datasketch import MinHash, MinHashLSH

    from pipeline.dedupe.minhash import shingles

    lsh = MinHashLSH(num_perm=p.num_perm, params=(p.bands, p.rows))
    mhs = []
    for i, d in enumerate(docs):
        m = MinHash(num_perm=p.num_perm, seed=p.seed)
        m.update_batch([s.encode() for s in shingles(d, p.unit, p.ngram)])
        lsh.insert(i, m)
        mhs.append(m)
    return roots_from_candidates(len(docs), ((i, lsh.query(m)) for i, m in enumerate(mhs)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--planted", type=int, default=2_000)
    ap.add_argument("--datasketch-n", type=int, default=5_000)
    ap.add_argument("--workers", type=int, default=2, help="CPUs for the Ray run")
    args = ap.parse_args()
    from pipeline.dedupe.minhash import DEFAULT_MINHASH, MinHashParams, near_duplicate_clusters

    p = MinHashParams(num_perm=120)   # rensa's LSH needs num_perm divisible by bands
    docs, pairs = corpus(args.n, args.planted)
    print(f"{len(docs)} documents (~300 words), {len(pairs)} planted pairs at Jaccard 0.80-0.95; "
          f"MinHash {p.num_perm} perms, {p.bands} bands x {p.rows} rows (threshold ~{p.threshold:.2f})")
    results = []

    def timed(name, cores, fn, subset=None):
        d = docs if subset is None else docs[:subset]
        start = time.perf_counter()
        roots = fn(d)
        wall = time.perf_counter() - start
        rec = prec = None
        if subset is None:
            rec, prec = score(roots, pairs)
        results.append((name, len(d), cores, wall, len(d) / wall / cores, rec, prec))
        print(f"  {name}: {wall:.1f} s", flush=True)

    chunk = DEFAULT_MINHASH["chunk_size"]   # the recipe default
    timed("pipeline, local (1 process)", 1, lambda d: near_duplicate_clusters(d, p, chunk, 8, use_ray=False))
    import ray

    from pipeline.util.ray import ensure_ray
    ensure_ray()
    cpus = int(ray.cluster_resources().get("CPU", args.workers))
    # Warm the Ray workers (process start, imports): a once-per-cluster cost, not a per-document one.
    near_duplicate_clusters(docs[:4 * chunk], p, chunk, 8, use_ray=True)
    timed(f"pipeline, Ray ({cpus} CPUs)", cpus, lambda d: near_duplicate_clusters(d, p, chunk, 8, use_ray=True))
    timed("plain rensa (RMinHash + RMinHashLSH)", 1, lambda d: run_rensa(d, p))
    timed("datasketch (MinHash + MinHashLSH)", 1, lambda d: run_datasketch(d, p), subset=args.datasketch_n)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rensa_rate = next(r[4] for r in results if r[0].startswith("plain rensa"))
    ds_rate = next(r[4] for r in results if r[0].startswith("datasketch"))
    print("\n| run | docs | cores | wall s | docs/s per core | ÷ rensa | ÷ datasketch | recall | precision |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, n, cores, wall, rate, rec, prec in results:
        r = "-" if rec is None else f"{rec:.4f}"
        q = "-" if prec is None else f"{prec:.4f}"
        print(f"| {name} | {n} | {cores} | {wall:.1f} | {rate:,.0f} | {rate / rensa_rate:.2f} | "
              f"{rate / ds_rate:.1f} | {r} | {q} |")
    print(f"\npeak RSS of the driver process: {peak:.0f} MiB (Ray workers hold one chunk each)")


if __name__ == "__main__":
    main()
