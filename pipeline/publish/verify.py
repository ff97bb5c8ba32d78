"""`ascl verify BUILD`: is a published build exactly what its manifest says, and internally consistent?

Checks, each reported with the file it concerns: every manifest entry exists with its sha256 and size; no
unlisted file sits in data/, rejects/ or raw/; the manifest's build id matches the lock; every shard opens and every
row validates against schemas/record.schema.json; row counts agree with the funnel in metrics.json; and the
funnel's arithmetic adds up."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from ..util.schemas import schema_errors
from .manifest import MANIFEST, check_manifest


def verify_build(build_dir: str | Path, max_row_errors: int = 5) -> list[str]:
    """Problems found (empty when the build verifies)."""
    d = Path(build_dir)
    if not (d / MANIFEST).is_file():
        return [f"{MANIFEST}: missing (not a finished build: {d})"]
    try:
        manifest = json.loads((d / MANIFEST).read_text())
        files = manifest["files"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        return [f"{MANIFEST}: unreadable ({e})"]
    problems = check_manifest(d, files)
    for folder in ("data", "rejects", "raw"):
        for p in sorted((d / folder).rglob("*")) if (d / folder).is_dir() else []:
            if p.is_file() and str(p.relative_to(d)) not in files:
                problems.append(f"{p.relative_to(d)}: not in the manifest")
    problems += _check_lock(d, manifest)
    problems += _check_rows_and_funnel(d, files, max_row_errors)
    return problems


def _check_lock(d: Path, manifest: dict) -> list[str]:
    try:
        lock = yaml.safe_load((d / "recipe.lock.yaml").read_text())
    except (OSError, yaml.YAMLError) as e:
        return [f"recipe.lock.yaml: unreadable ({e})"]
    out = []
    for key in ("build_id", "recipe_hash"):
        if not isinstance(lock, dict) or lock.get(key) != manifest.get(key):
            out.append(f"recipe.lock.yaml: {key} does not match {MANIFEST}")
    return out


def _check_rows_and_funnel(d: Path, files: dict, max_row_errors: int) -> list[str]:
    import pyarrow.parquet as pq

    from ..funnel import Funnel

    out: list[str] = []
    rows_by_split: dict[str, int] = {}
    bad_rows = 0
    for rel in sorted(f for f in files if f.startswith("data/") and f.endswith(".parquet")):
        try:
            table = pq.read_table(d / rel)
        except Exception as e:   # a corrupt shard: name it and go on
            out.append(f"{rel}: not a readable Parquet file ({type(e).__name__})")
            continue
        split = Path(rel).name.split("-")[0]
        rows_by_split[split] = rows_by_split.get(split, 0) + table.num_rows
        for row in table.to_pylist():
            errs = schema_errors(row, "record.schema.json")
            if errs:
                bad_rows += 1
                if bad_rows <= max_row_errors:
                    out.append(f"{rel}: row {row.get('id')} breaks the record schema: {errs[0][0]}: {errs[0][1]}")
    if bad_rows > max_row_errors:
        out.append(f"data/: {bad_rows} rows break the record schema in all")
    try:
        metrics = json.loads((d / "metrics.json").read_text())
        funnel = Funnel(**metrics["funnel"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        return out + [f"metrics.json: unreadable funnel ({e})"]
    out += [f"metrics.json: funnel {err}" for err in funnel.check()]
    total = sum(rows_by_split.values())
    if not any(o.startswith("data/") and "readable" in o for o in out) and total != funnel.stages.get("final"):
        out.append(f"data/: {total} rows but the funnel says {funnel.stages.get('final')} final rows")
    return out
