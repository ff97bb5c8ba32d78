"""What a build costs at the recipe's prices: per phase in this run, across every run that fed the dataset, kept
right across resumes, and `limits.max_cost_usd` stopping a run cleanly before it would be passed."""
from __future__ import annotations

import json

import pytest
import yaml

from helpers import openai_recipe
from pipeline.build import build
from pipeline.devtools.openai_server import OpenAITestServer
from pipeline.generate.runner import CostLimitReached
from pipeline.recipe import RecipeError, load_recipe
from pipeline.records import Prompt, GenerationRecord, Request, Turn
from pipeline.util.cost import Budget, Price, record_cost, request_estimate

PRICE = {"input_per_mtok": 2.0, "output_per_mtok": 8.0, "cached_input_per_mtok": 0.5}


def _edit(path, **top):
    data = yaml.safe_load(path.read_text())
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(data.get(k), dict):
            data[k].update(v)
        else:
            data[k] = v
    path.write_text(yaml.safe_dump(data))
    return path


def test_prices_and_estimates():
    p = Price(**PRICE)
    assert p.of(1_000_000, 0) == 2.0 and p.of(0, 1_000_000) == 8.0
    assert p.of(1_000_000, 0, cached_prompt_tokens=400_000) == pytest.approx(0.6 * 2.0 + 0.4 * 0.5)
    assert Price(1.0, 1.0).of(10, 0, cached_prompt_tokens=10) == pytest.approx(10 / 1e6)   # no cache price: full
    prompt = Prompt(id="p", text="hi", kind="benign", category=None, source="s")
    req = Request(id="r", prompt=prompt, mode="adaptive", messages=[{"role": "user", "content": "x" * 300}],
                  sampling={"max_tokens": 100}, guard=None, max_tool_calls=2, tool_categories=[])
    # three possible turns, each re-sending the conversation and writing up to max_tokens
    assert request_estimate(req, p) == pytest.approx(sum(p.of(100 + k * 100, 100) for k in range(3)))
    rec = GenerationRecord(id="r", request=req, status="ok", error=None,
                    turns=[Turn(text="", finish_reason="stop", prompt_tokens=1000, completion_tokens=50,
                                cached_prompt_tokens=200)])
    assert record_cost(rec, p) == pytest.approx((800 * 2 + 200 * 0.5 + 50 * 8) / 1e6)
    assert record_cost(rec, None) == 0.0 and request_estimate(req, None) == 0.0
    b = Budget(limit=1.0)
    assert b.reserve(0.6) and not b.reserve(0.5)
    b.settle(0.6, 0.2)
    assert b.spent == 0.2 and b.reserve(0.5)


def test_cost_by_phase_this_run_and_across_runs(tmp_path):
    with OpenAITestServer() as url:
        path = _edit(openai_recipe(tmp_path, url), judge={"enabled": True}, reasoning={"samples": 3})
        _edit(path, teacher={"price": PRICE})
        first = build(path, progress=False)
        metrics = json.loads((first.build_dir / "metrics.json").read_text())
        cost = metrics["quality"]["cost"]
        now, ever = cost["this_run"], cost["all_runs"]
        assert now["generation"] > 0 and now["judge"] > 0
        assert now["total"] == pytest.approx(now["generation"] + now["resampling"] + now["judge"], abs=1e-6)
        assert ever == now                       # one run fed the whole dataset
        gen = metrics["generation"]
        assert now["generation"] + now["resampling"] == pytest.approx(
            (gen["prompt_tokens"] * 2 + gen["completion_tokens"] * 8) / 1e6, abs=1e-6)
        card = (first.build_dir / "README.md").read_text()
        assert f"this run ${now['total']:.4f}" in card and "across all runs" in card

        again = build(path, progress=False, force=True)    # everything from the caches
        cost2 = json.loads((again.build_dir / "metrics.json").read_text())["quality"]["cost"]
        assert cost2["this_run"]["total"] == 0.0 and cost2["all_runs"] == ever


def test_prices_do_not_change_the_build_id(tmp_path):
    with OpenAITestServer() as url:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        a = build(openai_recipe(tmp_path / "a", url), progress=False)
        b = build(_edit(openai_recipe(tmp_path / "b", url), teacher={"price": PRICE}, limits={"max_cost_usd": 5}),
                  progress=False)
        assert a.build_dir.name == b.build_dir.name
        assert a.cost == {"prices": None}
        assert "not counted" in (a.build_dir / "README.md").read_text()


def test_cost_limit_stops_cleanly_and_a_rerun_resumes(tmp_path):
    with OpenAITestServer() as url:
        path = _edit(openai_recipe(tmp_path, url, concurrency=2), teacher={"price": PRICE})
        recipe = load_recipe(path)
        from pipeline.build import generation_cache_dir
        from pipeline.generate.cache import GenerationCache
        _edit(path, limits={"max_cost_usd": 0.016})        # a batch or few at these prices, not all 24
        with pytest.raises(CostLimitReached, match="max_cost_usd") as e:
            build(path, progress=False)
        assert "Nothing was published" in str(e.value)
        done = GenerationCache(generation_cache_dir(recipe)).done_ids()
        assert 0 < len(done) < 24
        assert not list((tmp_path / "out").rglob("manifest.json"))
        _edit(path, limits={"max_cost_usd": 100})
        res = build(path, progress=False)
        assert res.generation.cached == len(done) and res.generation.generated == 24 - len(done)
        cost = res.cost
        assert cost["this_run"]["generation"] < cost["all_runs"]["generation"]   # the first run paid for some


def test_a_cost_limit_without_prices_is_a_recipe_error(tmp_path):
    with OpenAITestServer() as url:
        path = _edit(openai_recipe(tmp_path, url), limits={"max_cost_usd": 1})
    with pytest.raises(RecipeError) as e:
        load_recipe(path)
    assert ("limits.max_cost_usd", "needs teacher.price: without prices nothing can be counted") in e.value.errors
