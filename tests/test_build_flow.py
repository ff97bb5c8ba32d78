"""The whole build through real Ray actors, with the scripted teacher (the engine run is test_e2e_engine.py)."""
import json

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset

from helpers import ScriptedPool, make_recipe
from pipeline.build import BuildExists, build
from pipeline.publish.manifest import check_manifest
from pipeline.util.schemas import schema_errors


@pytest.fixture(scope="module")
def pool():
    return ScriptedPool()


def test_build_publishes_everything(tmp_path, pool):
    res = build(make_recipe(tmp_path), pool=pool, progress=False)
    d = res.build_dir
    assert d.parent.name == "test" and (d / "manifest.json").is_file()
    assert sorted(p.name for p in (d / "data").iterdir()) == ["train-00000-of-00002.parquet",
                                                              "train-00001-of-00002.parquet"]
    assert check_manifest(d) == []
    f = res.funnel
    assert f.check() == [] and f.requests == 24 and f.stages["final"] == 24
    ds = load_dataset("parquet", data_files=str(d / "data" / "*.parquet"), split="train")
    rows = ds.to_list()
    assert len(rows) == 24 and all(schema_errors(r, "record.schema.json") == [] for r in rows)
    harm = next(r for r in rows if r["mode"] == "adaptive" and r["prompt_kind"] == "harmful")
    assert harm["consulted_rules"] and [m["role"] for m in harm["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert harm["messages"][1]["tool_calls"][0]["id"] == harm["messages"][2]["tool_call_id"]
    assert json.loads(harm["messages"][1]["tool_calls"][0]["function"]["arguments"])["category"]
    explicit = next(r for r in rows if r["mode"] == "explicit" and r["prompt_kind"] == "harmful")
    assert [m["role"] for m in explicit["messages"]] == ["user", "assistant"]      # rules distilled away
    assert "[weapons.1]" not in json.dumps(explicit["messages"]) and explicit["rule_ids"]
    math = [r for r in rows if r["prompt_kind"] == "reasoning"]
    assert all(r["correct"] for r in math)
    card = (d / "README.md").read_text()
    assert card.startswith("---\n") and "## Funnel" in card and "configs:" in card and "consult" in card
    # no judge: only full refusals of harmful prompts, and the card says what the learned classifier counts as one
    assert "never kept: only full refusals" in card and "none of its paragraphs may read as an answer" in card
    # nor does anything check the content of sensitive prompts' answers, and the card says that too
    assert "Answers to sensitive prompts: not checked for safety (no judge)" in card
    # nor the harmful prompts' refusals beyond their wording (BeaverTails / PKU-SafeRLHF: docs/benchmarks.md)
    assert "Refusals of harmful prompts: checked on their wording only (no judge)" in card
    assert res.funnel.consult["generated"] == {"benign": 0.0, "harmful": 1.0, "reasoning": 0.0}
    lock = (d / "recipe.lock.yaml").read_text()
    assert res.build_dir.name in lock and "packages:" in lock
    # provenance table: every trace's full teacher context, which the training rows leave out
    raw = pq.read_table(d / "provenance" / "teacher_context.parquet").to_pylist()
    assert len(raw) == 24 and sum(r["kept"] for r in raw) == 24
    explicit_ctx = [json.loads(r["teacher_messages"]) for r in raw if r["mode"] == "explicit"]
    assert all(m[0]["role"] == "system" and "[general.1]" in m[0]["content"] for m in explicit_ctx)


def test_finished_build_is_never_overwritten_and_force_republishes_identically(tmp_path, pool):
    path = make_recipe(tmp_path)
    first = build(path, pool=pool, progress=False)
    shards = {p.name: p.read_bytes() for p in (first.build_dir / "data").iterdir()}
    with pytest.raises(BuildExists):
        build(path, pool=pool, progress=False)
    before = pool.batches_run()
    again = build(path, pool=pool, force=True, progress=False)
    assert pool.batches_run() == before                      # zero teacher calls: everything came from the cache
    assert again.generation.cached == 24 and again.generation.generated == 0
    assert {p.name: p.read_bytes() for p in (again.build_dir / "data").iterdir()} == shards


def test_interrupted_build_resumes_only_missing_ids(tmp_path, pool):
    path = make_recipe(tmp_path)
    first = build(path, pool=pool, progress=False)
    raw = first.build_dir.parent / "cache"
    parts = sorted(raw.glob("part-*.parquet"))
    removed = pq.read_table(parts[0], columns=["id"]).num_rows
    parts[0].unlink()                                          # as if the build died before this batch landed
    (first.build_dir / "manifest.json").unlink()
    again = build(path, pool=pool, progress=False)
    assert again.generation.generated == removed and again.generation.cached == 24 - removed
    assert again.funnel.stages["final"] == 24


def test_failures_and_bad_rows_are_counted_not_fatal(tmp_path):
    from functools import partial

    from helpers import ScriptedTeacher

    pool = ScriptedPool(n=1, factory=partial(ScriptedTeacher, fail_on="pipe bomb"))
    path = make_recipe(tmp_path)
    with open(tmp_path / "benign.jsonl", "a") as f:
        f.write('{"prompt": ""}\n{"prompt": 3}\n')
    res = build(path, pool=pool, progress=False)
    f = res.funnel
    assert f.prompts_skipped == {"empty": 1, "not_a_string": 1} and f.stages["failed"] == 2
    assert f.stages["final"] == 22 and f.check() == []
    rejects = pq.read_table(res.build_dir / "rejects" / "rejects.parquet").to_pylist()
    assert {(r["stage"], r["prompt_kind"]) for r in rejects} == {("failed", "harmful")}
    assert "cannot serve" in rejects[0]["reason"]


def test_a_changed_recipe_reuses_every_generation_it_did_not_change(tmp_path, pool):
    import yaml

    path = make_recipe(tmp_path)
    first = build(path, pool=pool, progress=False)
    data = yaml.safe_load(path.read_text())
    data["publish"]["num_shards"] = 1                      # a new build id, the same requests
    path.write_text(yaml.safe_dump(data))
    second = build(path, pool=pool, progress=False)
    assert second.build_dir != first.build_dir and second.generation.generated == 0
    data["adaptive"] = {"max_tool_calls": 2}               # changes the adaptive requests only
    path.write_text(yaml.safe_dump(data))
    third = build(path, pool=pool, progress=False)
    assert third.generation.generated == 12 and third.generation.cached == 12


def test_decontamination_and_near_dedupe_in_a_build(tmp_path, pool):
    import yaml

    from helpers import HARMFUL

    (tmp_path / "eval.jsonl").write_text(json.dumps({"text": HARMFUL[0][1] + " Answer briefly."}) + "\n")
    path = make_recipe(tmp_path, decontamination={"sets": [{"name": "heldout", "path": "eval.jsonl",
                                                              "column": "text"}], "ngram": 5},
                       dedupe={"near": {"enabled": True, "key": "response", "ngram": 2, "bands": 32, "rows": 4}})
    res = build(path, pool=pool, progress=False)
    f = res.funnel
    assert f.prompts_skipped == {"contaminated_heldout": 1} and f.prompts_used == 11 and f.requests == 22
    assert f.check() == [] and f.stages["near_duplicate"] > 0
    rejects = pq.read_table(res.build_dir / "rejects" / "rejects.parquet").to_pylist()
    near = [r for r in rejects if r["stage"] == "near_duplicate"]
    kept_ids = set(pq.read_table(res.build_dir / "data").column("id").to_pylist())
    assert near and all(r["duplicate_of"] in kept_ids and r["cluster"].startswith("near:") for r in near)
    assert all(r["duplicate_of"] < r["id"] for r in near)             # no judge: the smallest id is kept
    assert "contaminated_heldout" in (res.build_dir / "README.md").read_text()
    lock = yaml.safe_load((res.build_dir / "recipe.lock.yaml").read_text())
    assert lock["recipe"]["dedupe"]["near"]["bands"] == 32
