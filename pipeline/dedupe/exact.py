"""Exact dedupe on normalised text. Deterministic: the representative of a cluster is its smallest id, so
the result does not depend on input order, worker count or shard count."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ..records import GenerationRecord
from ..util.hashing import sha256_text

_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _response(record: GenerationRecord) -> str:
    return "\n".join(f"{t.reasoning or ''}\n{t.answer or ''}" for t in record.turns)


def dedupe_key(record: GenerationRecord, key: str) -> str:
    parts = [record.request.mode]   # rows of different modes are different training formats, never dups
    if key in ("prompt", "prompt_response"):
        parts.append(normalize(record.request.prompt.text))
    if key in ("response", "prompt_response"):
        parts.append(normalize(_response(record)))
    return sha256_text("\x1f".join(parts))[:16]


@dataclass
class DedupeResult:
    cluster: dict[str, str] = field(default_factory=dict)       # id -> cluster id
    duplicate_of: dict[str, str] = field(default_factory=dict)  # dropped id -> kept id


def exact_dedupe(records: list[GenerationRecord], key: str = "prompt_response", enabled: bool = True) -> DedupeResult:
    result = DedupeResult()
    kept: dict[str, str] = {}
    for r in sorted(records, key=lambda r: r.id):
        cluster = dedupe_key(r, key) if enabled else r.id   # every row its own cluster
        result.cluster[r.id] = cluster
        if cluster in kept:
            result.duplicate_of[r.id] = kept[cluster]
        else:
            kept[cluster] = r.id
    return result
