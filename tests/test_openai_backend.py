"""The OpenAI-compatible backend against a real local HTTP server (pipeline.devtools.openai_server): the real
openai client, real retries, real Ray workers. Nothing is patched."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from datasets import load_dataset

from helpers import openai_recipe
from pipeline.build import build
from pipeline.devtools.openai_server import OpenAITestServer
from pipeline.generate.runner import TeacherUnavailable
from pipeline.recipe import RecipeError
from pipeline.util.schemas import schema_errors


def _rows(build_dir: Path) -> list[dict]:
    return load_dataset("parquet", data_files=str(build_dir / "data" / "*.parquet"), split="train").to_list()


def _rejects(build_dir: Path) -> list[dict]:
    return pq.read_table(build_dir / "rejects" / "rejects.parquet").to_pylist()


def test_text_protocol_build(tmp_path):
    with OpenAITestServer() as url:
        res = build(openai_recipe(tmp_path, url), progress=False)
    f = res.funnel
    assert f.requests == 24 and f.check() == [] and f.stages["failed"] == 0 and f.stages["final"] > 0
    rows = _rows(res.build_dir)
    assert all(schema_errors(r, "record.schema.json") == [] for r in rows)
    harm = [r for r in rows if r["mode"] == "adaptive" and r["prompt_kind"] == "harmful"]
    assert harm and all(r["consulted_rules"] and r["messages"][2]["role"] == "tool" for r in harm)
    assert rows[0]["provenance"]["engine"] == "openai-compatible"
    metrics = json.loads((res.build_dir / "metrics.json").read_text())["generation"]
    assert metrics["generated"] == 24 and metrics["prompt_tokens"] > 0 and metrics["latency_s"]["p50"] is not None


def test_native_tool_calls(tmp_path):
    server = OpenAITestServer()
    with server as url:
        res = build(openai_recipe(tmp_path, url, native_tools=True), progress=False)
    harm = [r for r in _rows(res.build_dir) if r["mode"] == "adaptive" and r["prompt_kind"] == "harmful"]
    assert harm and all(r["messages"][1]["tool_calls"][0]["function"]["name"] == "consult_safety_rules"
                        for r in harm)
    assert res.funnel.stages["failed"] == 0


def test_twenty_percent_faults_lose_nothing_and_duplicate_nothing(tmp_path):
    server = OpenAITestServer(fault_rate=0.2, seed=3, timeout_sleep_s=1.5)
    with server as url:
        path = openai_recipe(tmp_path, url, timeout_s=0.5, max_retries=8, max_length_retries=3,
                             max_invalid_retries=3, concurrency=16)
        with open(tmp_path / "benign.jsonl", "a") as f:    # 52 prompts, 104 traces: enough calls for 20 % to bite
            f.writelines(json.dumps({"prompt": f"Give me tip number {i} for a tidy kitchen."}) + "\n" for i in range(40))
        res = build(path, progress=False)
    faults = sum(server.stats[k] for k in ("rate_limit", "server_error", "timeout", "malformed", "truncated"))
    assert all(server.stats[k] > 0 for k in ("rate_limit", "server_error", "timeout", "malformed", "truncated"))
    assert 0.1 < faults / server.stats["requests"] < 0.3
    rows, rejects = _rows(res.build_dir), _rejects(res.build_dir)
    ids = [r["id"] for r in rows] + [r["id"] for r in rejects]
    assert len(ids) == len(set(ids)) == 104                     # every trace once: in the data or the rejects
    assert all(r["reason"] for r in rejects)
    metrics = json.loads((res.build_dir / "metrics.json").read_text())["generation"]
    assert metrics["retries"] > 0 and res.funnel.check() == []


def test_bad_request_fails_alone_without_retry(tmp_path):
    path = openai_recipe(tmp_path, "http://unused")
    with open(tmp_path / "benign.jsonl", "a") as f:
        f.write('{"prompt": "TRIGGER_400 please", "category": "fraud"}\n')
    server = OpenAITestServer()
    with server as url:
        path = openai_recipe(tmp_path, url)
        with open(tmp_path / "benign.jsonl", "a") as f:
            f.write('{"prompt": "TRIGGER_400 please", "category": "fraud"}\n')
        res = build(path, progress=False)
    failed = [r for r in _rejects(res.build_dir) if r["stage"] == "failed"]
    assert len(failed) == 2 and all("BadRequestError (HTTP 400)" in r["reason"] for r in failed)
    assert server.stats["requests"] == server.stats["completions"] + 2   # the two 400s were asked once each


@pytest.mark.parametrize("kind", ["bad_key", "unknown_model"])
def test_rejected_credentials_or_model_stop_the_build_without_retries(tmp_path, monkeypatch, kind):
    monkeypatch.setenv("ASCL_TEST_KEY", "sk-test-right" if kind == "unknown_model" else "sk-test-wrong")
    server = OpenAITestServer(api_key="sk-test-right", models=("other",) if kind == "unknown_model" else ("teacher",))
    with server as url:
        with pytest.raises(TeacherUnavailable) as e:
            build(openai_recipe(tmp_path, url, api_key_env="ASCL_TEST_KEY", max_retries=5), progress=False)
    assert ("AuthenticationError (HTTP 401)" if kind == "bad_key" else "NotFoundError (HTTP 404)") in str(e.value)
    assert server.stats["requests"] <= 24      # nobody retried a 401/404


def test_missing_key_variable_is_a_recipe_error(tmp_path, monkeypatch):
    monkeypatch.delenv("ASCL_TEST_KEY", raising=False)
    with pytest.raises(RecipeError) as e:
        build(openai_recipe(tmp_path, "http://127.0.0.1:9/v1", api_key_env="ASCL_TEST_KEY"), progress=False)
    assert e.value.errors[0][0] == "teacher.api.api_key_env"


def test_api_key_is_never_written_or_logged(tmp_path):
    secret = "sk-very-secret-value-1234567890"
    server = OpenAITestServer(api_key=secret)
    env = {**os.environ, "ASCL_TEST_KEY": secret}
    with server as url:
        path = openai_recipe(tmp_path, url, api_key_env="ASCL_TEST_KEY")
        proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "build", str(path)], env=env,
                              capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert server.stats["completions"] > 0 and server.stats["unauthorized"] == 0
    assert secret not in proc.stdout + proc.stderr
    for p in (tmp_path / "out").rglob("*"):
        if p.is_file():
            assert secret.encode() not in p.read_bytes(), p
    assert "ASCL_TEST_KEY" in next((tmp_path / "out").rglob("recipe.lock.yaml")).read_text()


def _cli_build(path: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "build", "--no-progress", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)


def test_endpoint_down_stops_early_and_keeps_finished_records(tmp_path):
    server = OpenAITestServer(latency_s=0.05)
    url = server.start()
    path = openai_recipe(tmp_path, url, concurrency=2, max_retries=1, max_consecutive_failures=4)
    proc = _cli_build(path)

    def kill_endpoint():
        while server.stats["completions"] < 8 and proc.poll() is None:
            time.sleep(0.02)
        server.stop()

    threading.Thread(target=kill_endpoint, daemon=True).start()
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err[-2000:]
    assert "in a row failed" in err and "rerun resumes" in err
    raw = [row for p in (tmp_path / "out").rglob("cache/part-*.parquet") for row in pq.read_table(p).to_pylist()]
    assert sum(r["status"] == "ok" for r in raw) >= 4
    assert not list((tmp_path / "out").rglob("manifest.json"))   # not published: the build is unfinished


def _content(build_dir: Path) -> list[dict]:
    rows = _rows(build_dir)
    for r in rows:   # wall-clock facts differ between runs; everything else must not
        for k in ("started_at", "finished_at", "latency_s"):
            r["provenance"].pop(k)
    return sorted(rows, key=lambda r: r["id"])


def test_kill_9_mid_generation_then_rerun_equals_an_uninterrupted_build(tmp_path):
    with OpenAITestServer(latency_s=0.1) as url:
        ref_dir = tmp_path / "ref"
        ref_dir.mkdir()
        reference = build(openai_recipe(ref_dir, url, concurrency=2), progress=False)

        run_dir = tmp_path / "run"
        run_dir.mkdir()
        path = openai_recipe(run_dir, url, concurrency=2)
        proc = _cli_build(path)
        deadline = time.time() + 300   # Ray's start in a fresh process is slow on a loaded 2-core machine
        while time.time() < deadline and len(list((run_dir / "out").rglob("cache/part-*.parquet"))) < 2:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        parts = list((run_dir / "out").rglob("cache/part-*.parquet"))
        done = sum(pq.read_table(p).num_rows for p in parts)
        assert 2 <= len(parts) and done < 24                      # killed mid-generation
        resumed = subprocess.run([sys.executable, "-m", "pipeline.cli", "build", "--no-progress", str(path)],
                                 capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert f"{done} from the resume cache" in resumed.stdout
    build_dir = next((run_dir / "out").rglob("manifest.json")).parent
    ref_lock = yaml.safe_load((reference.build_dir / "recipe.lock.yaml").read_text())
    run_lock = yaml.safe_load((build_dir / "recipe.lock.yaml").read_text())
    differ = {k: (ref_lock["recipe"].get(k), run_lock["recipe"].get(k)) for k in set(ref_lock["recipe"]) | set(run_lock["recipe"])
              if ref_lock["recipe"].get(k) != run_lock["recipe"].get(k) and k not in ("output_dir", "sources", "rulebook_path", "template_paths")}
    assert build_dir.name == reference.build_dir.name, (differ, {k: (ref_lock.get(k), run_lock.get(k)) for k in ref_lock if k != "recipe" and ref_lock.get(k) != run_lock.get(k)})
    assert _content(build_dir) == _content(reference.build_dir)
    raw_ids = [row["id"] for p in (build_dir.parent / "cache").glob("part-*.parquet") for row in pq.read_table(p).to_pylist()]
    assert len(raw_ids) == len(set(raw_ids)) == 24               # no id lost, none generated twice
