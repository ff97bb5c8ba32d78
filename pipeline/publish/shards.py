"""Write rows as Hugging Face-layout Parquet shards (data/train-00000-of-0000N.parquet), each atomically."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..util.atomic import atomic_path


def shard_name(split: str, index: int, total: int) -> str:
    return f"{split}-{index:05d}-of-{total:05d}.parquet"


def shard_count(num_rows: int, num_shards: int) -> int:
    """Never an empty shard: fewer shards than asked when rows are few (one empty shard for no rows)."""
    return max(1, min(num_shards, num_rows))


def shard_names(num_rows: int, num_shards: int, split: str = "train") -> list[str]:
    total = shard_count(num_rows, num_shards)
    return [shard_name(split, i, total) for i in range(total)]


def write_table(path: Path, table: pa.Table) -> Path:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path


def write_shards(rows: list[dict[str, Any]], folder: Path, schema: pa.Schema, num_shards: int,
                 split: str = "train") -> list[Path]:
    """Rows are sorted by id and cut into contiguous shards."""
    rows = sorted(rows, key=lambda r: r["id"])
    total = shard_count(len(rows), num_shards)
    per = -(-len(rows) // total) if rows else 0
    paths = []
    for i in range(total):
        chunk = rows[i * per:(i + 1) * per]
        paths.append(write_table(folder / shard_name(split, i, total), pa.Table.from_pylist(chunk, schema=schema)))
    return paths
