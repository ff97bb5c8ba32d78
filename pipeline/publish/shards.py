"""Hugging Face-layout Parquet shards (data/<split>-00000-of-0000N.parquet), each written atomically.

Rows go to the test split by a seeded hash of their id (so a row keeps its split when the dataset grows), are
sorted by id and cut into contiguous shards: at least `num_shards` (never an empty one) and, with
`max_shard_mb`, enough that no shard exceeds it (estimated from the Arrow size, which bounds the Parquet size)."""
from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..util.atomic import atomic_path


@dataclass
class SplitPlan:
    table: pa.Table          # the split's rows, sorted by id, with the explicit row schema
    shards: int

    def names(self, split: str) -> list[str]:
        return [shard_name(split, i, self.shards) for i in range(self.shards)]


def shard_name(split: str, index: int, total: int) -> str:
    return f"{split}-{index:05d}-of-{total:05d}.parquet"


def shard_count(num_rows: int, num_shards: int) -> int:
    """Never an empty shard: fewer shards than asked when rows are few (one empty shard for no rows)."""
    return max(1, min(num_shards, num_rows))


def shard_names(num_rows: int, num_shards: int, split: str = "train") -> list[str]:
    total = shard_count(num_rows, num_shards)
    return [shard_name(split, i, total) for i in range(total)]


def split_of(row_id: str, test_fraction: float, seed: int) -> str:
    if test_fraction <= 0:
        return "train"
    h = int(hashlib.sha256(f"{seed}:{row_id}".encode()).hexdigest()[:16], 16) / float(1 << 64)
    return "test" if h < test_fraction else "train"


def plan_shards(rows: list[dict[str, Any]], schema: pa.Schema, publish: dict[str, Any]) -> dict[str, SplitPlan]:
    """Each split's rows as one Arrow table (the row dicts are converted once, the slowest step of publishing)
    and its shard count."""
    by_split: dict[str, list[dict[str, Any]]] = {"train": []}
    for r in rows:
        by_split.setdefault(split_of(r["id"], publish.get("test_fraction") or 0.0, publish.get("split_seed", 0)),
                            []).append(r)
    plans = {}
    for split, part in by_split.items():
        table = rows_table(part, schema)
        n = publish["num_shards"]
        if publish.get("max_shard_mb") and part:
            n = max(n, math.ceil(table.nbytes / (publish["max_shard_mb"] * 1e6)))
        plans[split] = SplitPlan(table=table, shards=shard_count(len(part), n))
    return plans


def write_table(path: Path, table: pa.Table) -> Path:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path


def rows_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows sorted by id as one Arrow table with the explicit schema."""
    return pa.Table.from_pylist(sorted(rows, key=lambda r: r["id"]), schema=schema)


def write_shards(table: pa.Table, folder: Path, num_shards: int, split: str = "train") -> list[Path]:
    """A table cut into `num_shards` contiguous shards (zero-copy slices), each written atomically. Shards are
    written by a few threads: Parquet encoding, compression and fsync release the GIL, so the per-file costs
    (open, fsync, rename) overlap instead of adding up."""
    from concurrent.futures import ThreadPoolExecutor

    total = shard_count(table.num_rows, num_shards)
    per = -(-table.num_rows // total) if table.num_rows else 0
    jobs = [(folder / shard_name(split, i, total), table.slice(i * per, per)) for i in range(total)]
    if total == 1:
        return [write_table(*jobs[0])]
    with ThreadPoolExecutor(max_workers=min(total, max(2, os.cpu_count() or 2))) as pool:
        return list(pool.map(lambda job: write_table(*job), jobs))
