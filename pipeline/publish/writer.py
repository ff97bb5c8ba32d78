"""Write a build's published files. Each file is atomic; the manifest goes last and marks completion."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import yaml

from ..records import Trace
from ..util.atomic import write_bytes, write_text
from ..util.hashing import canonical_json
from .manifest import MANIFEST, write_manifest
from .shards import SplitPlan, write_shards, write_table

REJECT_SCHEMA = pa.schema([("id", pa.string()), ("mode", pa.string()), ("prompt_kind", pa.string()),
                           ("stage", pa.string()), ("reason", pa.string()), ("duplicate_of", pa.string()),
                           ("cluster", pa.string()), ("judge", pa.string()), ("record", pa.string())])
# The provenance table: every trace's full teacher context (explicit mode's system prompt with the rules, tool
# results, ...), which the training rows deliberately leave out.
PROVENANCE_SCHEMA = pa.schema([("id", pa.string()), ("mode", pa.string()), ("prompt_kind", pa.string()),
                        ("kept", pa.bool_()), ("teacher_messages", pa.string()), ("engine", pa.string())])


@dataclass
class Publication:
    plan: dict[str, SplitPlan]                                  # split -> Arrow table and shard count
    outcomes: list[Trace]                                       # every trace: rejects table and provenance table
    card: str
    lock: dict[str, Any]
    metrics: dict[str, Any]
    figures: dict[str, bytes] = field(default_factory=dict)    # figures/<name>: PNG bytes


def publish_atomically(build_dir: Path, pub: Publication) -> None:
    """Write everything into a staging folder beside the build, then rename it into place: a crash at any moment
    leaves either no build folder or a complete one (stale staging folders are removed by the next run), so a
    rerun either finishes the build or finds it finished and verifiable."""
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    clear_stale(build_dir)
    _stage_and_swap(build_dir, lambda staging: publish(staging, pub))
    shutil.rmtree(unpublished_dir(build_dir), ignore_errors=True)   # an earlier run of this build kept nothing


def _stage_and_swap(folder: Path, write: Callable[[Path], object]) -> None:
    """Write into a staging folder beside `folder`, then rename it into place; a folder already there (--force, or
    an earlier run) is swapped out first and dropped. Names start with `.{folder.name}.` for clear_stale."""
    staging = folder.parent / f".{folder.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    write(staging)
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    if folder.exists():
        os.replace(folder, old)
    os.replace(staging, folder)
    shutil.rmtree(old, ignore_errors=True)


def clear_stale(build_dir: Path) -> None:
    """Remove staging or swapped-out folders a killed run left beside the build, and an unfinished build folder
    (one without a manifest, from a crash in an older version that published in place)."""
    for p in [*build_dir.parent.glob(f".{build_dir.name}.*-*"),
              *build_dir.parent.glob(f".{unpublished_dir(build_dir).name}.*-*")]:
        shutil.rmtree(p, ignore_errors=True)
    if build_dir.is_dir() and not (build_dir / MANIFEST).exists():
        shutil.rmtree(build_dir, ignore_errors=True)


def unpublished_dir(build_dir: Path) -> Path:
    """Where a build that kept nothing leaves its rejects (beside the build folder, never a build itself)."""
    return build_dir.parent / f"{build_dir.name}.unpublished"


def write_unpublished(build_dir: Path, outcomes: list[Trace], lock: dict[str, Any], metrics: dict[str, Any],
                      figures: dict[str, bytes] | None = None) -> Path:
    """A build that kept no row publishes nothing, but what it rejected and why must not be lost: write the rejects
    and provenance tables, the funnel, the figures and the lock (no rows, no card, no manifest, so `verify` and
    `push` refuse it) into `<build id>.unpublished/`, staged and renamed into place. `ascl report` renders it; the
    next finished build of the same id removes it."""
    folder = unpublished_dir(build_dir)

    def write(staging: Path) -> None:
        _write_traces(staging, outcomes)
        _write_build_files(staging, lock, metrics, figures or {})

    _stage_and_swap(folder, write)
    return folder


def _write_traces(build_dir: Path, outcomes: list[Trace]) -> list[Path]:
    """The rejects table (each rejected trace with its stage, reason and whole teacher record) and the provenance
    table (every trace's full teacher context)."""
    rej = [{"id": o.id, "mode": o.record.request.mode, "prompt_kind": o.record.request.prompt.kind,
            "stage": o.stage, "reason": o.reason, "duplicate_of": o.duplicate_of, "cluster": o.cluster,
            "judge": canonical_json(verdict) if (verdict := o.judge or o.judge_failure) is not None else None,
            "record": canonical_json(o.record.to_dict())}
           for o in sorted(outcomes, key=lambda o: o.id) if not o.kept]
    provenance = [{"id": o.record.id, "mode": o.record.request.mode, "prompt_kind": o.record.request.prompt.kind,
                   "kept": o.kept, "teacher_messages": canonical_json(o.record.teacher_messages),
                   "engine": canonical_json(o.record.engine)}
                  for o in sorted(outcomes, key=lambda o: o.record.id)]
    return [write_table(build_dir / "rejects" / "rejects.parquet", pa.Table.from_pylist(rej, schema=REJECT_SCHEMA)),
            write_table(build_dir / "provenance" / "teacher_context.parquet",
                        pa.Table.from_pylist(provenance, schema=PROVENANCE_SCHEMA))]


def _write_build_files(folder: Path, lock: dict[str, Any], metrics: dict[str, Any],
                       figures: dict[str, bytes]) -> list[Path]:
    """The lock, the metrics (funnel and the rest) and the figures, as a published build and an unpublished one
    both carry them."""
    write_text(folder / "recipe.lock.yaml", yaml.safe_dump(lock, sort_keys=False, allow_unicode=True))
    write_text(folder / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    for name, png in sorted(figures.items()):
        write_bytes(folder / "figures" / name, png)
    return [folder / "recipe.lock.yaml", folder / "metrics.json", *(folder / "figures" / n for n in sorted(figures))]


def publish(build_dir: Path, pub: Publication) -> list[Path]:
    files = [p for split, plan in pub.plan.items()
             for p in write_shards(plan.table, build_dir / "data", plan.shards, split)]
    files += _write_traces(build_dir, pub.outcomes)
    write_text(build_dir / "README.md", pub.card)
    files.append(build_dir / "README.md")
    files += _write_build_files(build_dir, pub.lock, pub.metrics, pub.figures)
    write_manifest(build_dir, files, {"build_id": pub.lock["build_id"], "recipe_hash": pub.lock["recipe_hash"]})
    return files
