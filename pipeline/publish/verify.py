"""`ascl verify BUILD`: is a published build exactly what its manifest says, and internally consistent?

Checks, each reported with the file it concerns: the manifest is well formed and lists the full file set (card,
lock, metrics, rejects, provenance table, at least one shard); figures are PNG images; every entry is a regular
file inside the build folder (no `..`, no absolute path, no symbolic link) with its sha256 and size; no unlisted
file sits anywhere in the build; the manifest's build id matches the lock; every Parquet file opens, every
training row validates against schemas/record.schema.json; row counts agree with the funnel in metrics.json; and
the funnel's arithmetic adds up.
A corrupt file is a problem named in the report, never a crash."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from ..util.schemas import schema_errors
from .manifest import MANIFEST, check_manifest


REQUIRED = ("README.md", "recipe.lock.yaml", "metrics.json", "rejects/rejects.parquet",
            "provenance/teacher_context.parquet")
# Builds published before the provenance table was renamed keep it under its old name.
LEGACY = {"provenance/teacher_context.parquet": "raw/teacher_context.parquet"}


def verify_build(build_dir: str | Path, max_row_errors: int = 5) -> list[str]:
    """Problems found (empty when the build verifies)."""
    d = Path(build_dir)
    if not (d / MANIFEST).is_file():
        return [f"{MANIFEST}: missing (not a finished build: {d})"]
    try:
        manifest = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return [f"{MANIFEST}: unreadable ({type(e).__name__}: {e})"]
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(isinstance(m, dict) for m in files.values()):
        return [f"{MANIFEST}: 'files' must map each relative path to its sha256 and size"]
    problems = [f"{rel}: required but not in the manifest" for rel in REQUIRED
                if rel not in files and LEGACY.get(rel) not in files]
    if not any(f.startswith("data/") and f.endswith(".parquet") for f in files):
        problems.append("data/: no shard in the manifest")
    unsafe = {rel: why for rel in files if (why := unsafe_path(d, rel))}
    problems += [f"{rel}: {why}" for rel, why in sorted(unsafe.items())]
    problems += check_manifest(d, {rel: m for rel, m in files.items() if rel not in unsafe})
    for p in sorted(d.rglob("*")):
        rel = p.relative_to(d).as_posix()
        if (p.is_file() or p.is_symlink()) and rel != MANIFEST and rel not in files:
            problems.append(f"{rel}: not in the manifest")
    problems += _check_lock(d, manifest)
    problems += [f"{rel}: not a PNG image" for rel in sorted(files)
                 if rel.startswith("figures/") and rel not in unsafe and (d / rel).is_file() and not _is_png(d / rel)]
    # Every file is still opened (a report names every problem), except entries that may not be followed.
    problems += _check_rows_and_funnel(d, {rel: m for rel, m in files.items() if rel not in unsafe}, max_row_errors)
    return problems


def _is_png(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def unsafe_path(d: Path, rel: str) -> str | None:
    """Why a manifest entry may not be followed: outside the build folder, or through a symbolic link."""
    if not isinstance(rel, str) or not rel or Path(rel).is_absolute() or ".." in Path(rel).parts:
        return "path outside the build folder"
    here = d
    for part in Path(rel).parts:
        here = here / part
        if here.is_symlink():
            return "is a symbolic link (a build holds regular files only)"
    try:
        (d / rel).resolve().relative_to(d.resolve())
    except ValueError:
        return "path outside the build folder"
    return None


def _check_lock(d: Path, manifest: dict) -> list[str]:
    try:
        lock = yaml.safe_load((d / "recipe.lock.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        return [f"recipe.lock.yaml: unreadable ({type(e).__name__})"]
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
    for rel in sorted(f for f in files if f.endswith(".parquet")):
        try:
            table = pq.read_table(d / rel)
            rows = table.to_pylist()
        except Exception as e:   # a corrupt file (pyarrow raises many types, decoding too): name it and go on
            out.append(f"{rel}: not a readable Parquet file ({type(e).__name__})")
            continue
        if not rel.startswith("data/"):
            continue
        split = Path(rel).name.split("-")[0]
        rows_by_split[split] = rows_by_split.get(split, 0) + table.num_rows
        for row in rows:
            errs = schema_errors(row, "record.schema.json")
            if errs:
                bad_rows += 1
                if bad_rows <= max_row_errors:
                    out.append(f"{rel}: row {row.get('id')} breaks the record schema: {errs[0][0]}: {errs[0][1]}")
    if bad_rows > max_row_errors:
        out.append(f"data/: {bad_rows} rows break the record schema in all")
    try:
        metrics = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
        funnel = Funnel(**metrics["funnel"])
        funnel_errors = funnel.check()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
        return out + [f"metrics.json: unreadable funnel ({type(e).__name__})"]
    out += [f"metrics.json: funnel {err}" for err in funnel_errors]
    total = sum(rows_by_split.values())
    if not any(o.startswith("data/") and "readable" in o for o in out) and total != funnel.stages.get("final"):
        out.append(f"data/: {total} rows but the funnel says {funnel.stages.get('final')} final rows")
    return out
