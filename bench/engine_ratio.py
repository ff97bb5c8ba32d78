"""In-process engine: the pipeline's generated tokens/s (Ray actor, batches, parsing, cache writes) divided by a
bare `vllm.LLM.chat` call's tokens/s on the same requests (same messages, sampling, per-request seeds and
format-guard regexes), measured in one run. Explicit mode only, so both do exactly one turn per request.

    .venv/bin/python bench/engine_ratio.py [--recipe recipes/demo.yaml] [--batch-size N]
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def bare_vllm(recipe, requests, model_path: str) -> tuple[int, float]:
    from vllm import LLM, SamplingParams
    from vllm.sampling_params import StructuredOutputsParams

    from pipeline.generate.teachers.base import for_text_protocol

    eng = recipe.teacher.engine
    llm = LLM(model=model_path, seed=0, dtype=eng["dtype"], max_model_len=eng["max_model_len"],
              enforce_eager=eng["enforce_eager"], enable_chunked_prefill=False)
    params = [SamplingParams(**r.sampling, **({"structured_outputs": StructuredOutputsParams(regex=r.guard["answer"])}
                                              if r.guard else {})) for r in requests]
    start = time.perf_counter()
    outs = llm.chat([for_text_protocol(r.messages) for r in requests], params, use_tqdm=False)
    wall = time.perf_counter() - start
    tokens = sum(len(o.outputs[0].token_ids) for o in outs)
    del llm
    gc.collect()
    return tokens, wall


def main() -> None:
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", default="recipes/demo.yaml")
    ap.add_argument("--batch-size", type=int, default=0, help="pipeline batch size (0: all requests in one batch)")
    args = ap.parse_args()

    from pipeline.build import build
    from pipeline.generate.modes.templates import Templates
    from pipeline.generate.requests import build_requests
    from pipeline.generate.teachers.model_store import resolve_model
    from pipeline.recipe import load_recipe
    from pipeline.rules import load_rulebook
    from pipeline.sources import load_prompts

    base = load_recipe(args.recipe)
    with tempfile.TemporaryDirectory() as tmp:
        # One sample per request and no judge: both sides must do exactly the same generations.
        recipe = dataclasses.replace(base, modes=("explicit",), output_dir=Path(tmp), samples={},
                                     judge={**base.judge, "enabled": False}, refusal_classifier="phrases")
        book = load_rulebook(recipe.rulebook_path)
        prompts, _ = load_prompts(recipe, book)
        model = resolve_model(recipe.teacher.model, recipe.teacher.revision)
        templates = Templates.load({k: v for k, v in recipe.template_paths.items() if not k.startswith("judge_")})
        requests = build_requests(recipe, prompts, book, templates, model.revision)
        batch = args.batch_size or len(requests)
        recipe = dataclasses.replace(recipe, teacher=dataclasses.replace(
            recipe.teacher, engine={**recipe.teacher.engine, "batch_size": batch}))

        tokens, wall = bare_vllm(recipe, requests, model.path)
        bare = tokens / wall
        print(f"bare vllm.LLM.chat : {len(requests)} requests, {tokens} tokens in {wall:.1f} s = {bare:.1f} tok/s",
              flush=True)
        res = build(recipe, progress=False)
        g = res.generation
        piped = g.completion_tokens / g.wall_seconds
        print(f"pipeline (batch {batch}): {g.generated} requests, {g.completion_tokens} tokens in "
              f"{g.wall_seconds:.1f} s = {piped:.1f} tok/s", flush=True)
        print(f"ratio pipeline / bare = {piped / bare:.3f}")


if __name__ == "__main__":
    main()
