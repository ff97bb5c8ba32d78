"""Rebuild from `recipe.lock.yaml`: the lock's fully resolved recipe becomes the Recipe again, after checking that
every input file (sources, rule book, templates) still has the sha256 the lock recorded. With the generation
cache present the rebuild gives the same build id and byte-identical shards."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ..util.hashing import sha256_file
from .model import GuardSpec, Recipe, SourceSpec, TeacherSpec

LOCK_KEYS = {"build_id", "recipe_hash", "recipe", "inputs"}


def is_lock(data: Any) -> bool:
    return isinstance(data, dict) and LOCK_KEYS <= set(data)


def _input_paths(r: dict[str, Any]) -> dict[str, str]:
    out = {f"source:{s['name']}": s["path"] for s in r["sources"] if s.get("path")}
    out["rulebook"] = r["rulebook_path"]
    out.update({f"template:{k}": v for k, v in r["template_paths"].items()})
    return out


def recipe_from_lock(path: Path, data: dict[str, Any]) -> Recipe:
    from .load import RecipeError

    r = data["recipe"]
    errors = []
    paths = _input_paths(r)
    for key, digest in sorted(data["inputs"].items()):
        file = paths.get(key)
        if file is None or not Path(file).is_file():
            errors.append((f"inputs.{key}", f"file not found: {file}"))
        elif sha256_file(Path(file)) != digest:
            errors.append((f"inputs.{key}", f"{file} changed since the lock was written"))
    if errors:
        raise RecipeError(errors)
    names = {f.name for f in dataclasses.fields(Recipe)} - {"path", "as_written"}
    kw = {k: v for k, v in r.items() if k in names}
    kw.update(
        sources=tuple(SourceSpec(**{**s, "path": Path(s["path"]) if s.get("path") else None}) for s in r["sources"]),
        modes=tuple(r["modes"]), output_dir=Path(r["output_dir"]), rulebook_path=Path(r["rulebook_path"]),
        template_paths={k: Path(v) for k, v in r["template_paths"].items()},
        teacher=TeacherSpec(**r["teacher"]),
        judge_teacher=TeacherSpec(**r["judge_teacher"]) if r.get("judge_teacher") else None,
        guard=GuardSpec(**{**r["guard"], "refusal_openers": tuple(r["guard"]["refusal_openers"])}),
    )
    return Recipe(path=Path(path).resolve(), as_written=data, **kw)
