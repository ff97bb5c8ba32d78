"""Shard writing: rows/s of the pipeline's shard writer (sorted table cut into zero-copy slices, each written
atomically with zstd) against one raw `pyarrow.parquet.write_table` of the same table with the same
compression, in the same run. Rows are synthetic training rows with the real ROW_SCHEMA and random-word reasoning and answers (so
compression has real work to do).

    .venv/bin/python bench/shard_write.py [--rows 50000] [--shards 8] [--repeats 3]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def synthetic_rows(n: int) -> list[dict]:
    import hashlib
    import random

    rnd = random.Random(0)
    vocab = [f"w{k}" for k in range(20_000)]
    rows = []
    for i in range(n):
        rid = hashlib.sha256(str(i).encode()).hexdigest()
        reasoning = " ".join(rnd.choices(vocab, k=40)) + " [weapons.2]\nDecision: comply"
        rows.append({
            "id": rid, "mode": "explicit", "prompt_kind": "benign", "category": "weapons",
            "category_source": "source", "source": "bench", "consulted_rules": False, "num_tool_calls": 0,
            "rule_ids": ["general.1", "weapons.2"], "tools": None, "response_type": "comply",
            "declared_decision": "comply", "reference": None, "correct": None, "sample": 0,
            "messages": [{"role": "user", "content": f"How should I store hunting rifle number {i}?",
                          "reasoning_content": None, "tool_calls": None, "tool_call_id": None},
                         {"role": "assistant", "content": " ".join(rnd.choices(vocab, k=60)),
                          "reasoning_content": reasoning, "tool_calls": None, "tool_call_id": None}],
            "verdicts": {"structure": "pass", "citations": "pass", "refusal": "pass", "correctness": "n/a"},
            "judge": None, "dedupe_cluster": rid[:16],
            "provenance": {"teacher_model": "m", "teacher_revision": "r", "engine": "vllm-cpu",
                           "engine_version": "0", "sampling": "{}", "template_hash": "t", "rulebook_hash": "b",
                           "rulebook_version": "1", "recipe_hash": "h", "format_guard": True,
                           "prompt_tokens": 200, "completion_tokens": 80, "finish_reason": "stop", "attempts": 1,
                           "latency_s": 0.5, "started_at": "", "finished_at": ""}})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import pyarrow.parquet as pq

    from pipeline.publish.rows import ROW_SCHEMA
    from pipeline.publish.shards import rows_table, write_shards

    rows = synthetic_rows(args.rows)
    start = time.perf_counter()
    table = rows_table(rows, ROW_SCHEMA)
    t_convert = time.perf_counter() - start
    best_raw = best_ours = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):   # interleaved, best of n: the machine is shared and noisy
            start = time.perf_counter()
            pq.write_table(table, Path(tmp) / f"raw{r}.parquet", compression="zstd")
            best_raw = min(best_raw, time.perf_counter() - start)
            start = time.perf_counter()
            write_shards(table, Path(tmp) / f"ours{r}", args.shards)
            best_ours = min(best_ours, time.perf_counter() - start)
    n = args.rows
    print(f"{n} rows, {table.nbytes / 1e6:.1f} MB in Arrow; dict rows -> Arrow table: {t_convert:.2f} s "
          f"({n / t_convert:,.0f} rows/s, paid once per build before any writer)")
    print("| writer | best s | rows/s | ratio |")
    print("|---|---|---|---|")
    print(f"| raw pq.write_table (zstd, 1 file) | {best_raw:.3f} | {n / best_raw:,.0f} | 1 |")
    print(f"| pipeline write_shards (zstd, {args.shards} atomic shards) | {best_ours:.3f} | {n / best_ours:,.0f} | "
          f"{best_raw / best_ours:.3f} |")


if __name__ == "__main__":
    main()
