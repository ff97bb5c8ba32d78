"""The batch-API backend (`backend: openai_batch`) against the local OpenAI-compatible server's /v1/files and
/v1/batches: the real openai client uploads, creates, polls and downloads; real Ray runs the build. Nothing is
patched. The live backend on the same server writes the reference traces."""
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import yaml
from datasets import load_dataset

from helpers import openai_recipe
from pipeline.build import build
from pipeline.devtools.openai_server import OpenAITestServer
from pipeline.generate.batch_rounds import BatchLedger, run_batched
from pipeline.generate.teachers.openai_batch import BatchClient
from pipeline.recipe import load_recipe, validate_recipe_file
from pipeline.recipe.model import DEFAULT_API
from pipeline.rules import load_rulebook

FAST = {"poll_interval_s": 0.02, "max_poll_interval_s": 0.1, "timeout_s": 5, "backoff_s": 0.01,
        "max_backoff_s": 0.2}


def batch_recipe(tmp: Path, url: str, **api) -> Path:
    """The helpers' 12-prompt recipe (24 traces: explicit + adaptive) on the batch backend."""
    path = openai_recipe(tmp, url, **FAST, **api)
    data = yaml.safe_load(path.read_text())
    data["teacher"]["backend"] = "openai_batch"
    path.write_text(yaml.safe_dump(data))
    return path


def _rows(build_dir: Path) -> list[dict]:
    return load_dataset("parquet", data_files=str(build_dir / "data" / "*.parquet"), split="train").to_list()


def _conversations(build_dir: Path) -> dict[str, list]:
    return {r["id"]: r["messages"] for r in _rows(build_dir)}


def _raw(tmp: Path) -> list[dict]:
    return [json.loads(row["record"]) for p in (tmp / "out").rglob("cache/part-*.parquet")
            for row in pq.read_table(p).to_pylist()]


def test_batch_build_writes_the_traces_the_live_backend_writes(tmp_path):
    server = OpenAITestServer()
    with server as url:
        (tmp_path / "live").mkdir()
        (tmp_path / "batch").mkdir()
        live = build(openai_recipe(tmp_path / "live", url), progress=False)
        requests_before = server.stats["requests"]
        res = build(batch_recipe(tmp_path / "batch", url), progress=False)
    assert server.stats["requests"] == requests_before   # nothing went through /chat/completions
    # Two rounds: the first turn of all 24 conversations, then the adaptive ones that called the tool.
    assert server.stats["batches"] == 2
    assert res.funnel.requests == 24 and res.funnel.stages["failed"] == 0 and res.funnel.check() == []
    assert _conversations(res.build_dir) == _conversations(live.build_dir)
    rows = _rows(res.build_dir)
    assert rows[0]["provenance"]["engine"] == "openai-batch"
    ledger = BatchLedger(tmp_path / "batch" / "out" / "test" / "cache" / "batches")
    entries = ledger.entries()
    assert len(entries) == 2 and len(entries[0]["lines"]) == 24 and 0 < len(entries[1]["lines"]) < 24
    assert all(cid.endswith(".t1") for cid in entries[1]["lines"])   # second turns of the same conversations
    # The uploaded input files are kept; every line is a chat-completions request with custom_id = request id.
    first = [json.loads(x) for x in (ledger.folder / "inputs" / f"{entries[0]['digest']}.jsonl").read_text().splitlines()]
    assert {x["custom_id"] for x in first} == {r["id"] for r in _raw(tmp_path / "batch")}
    assert all(x["method"] == "POST" and x["url"] == "/v1/chat/completions" and x["body"]["model"] == "teacher"
               for x in first)


def test_native_tools_in_batch_lines(tmp_path):
    with OpenAITestServer() as url:
        res = build(batch_recipe(tmp_path, url, native_tools=True), progress=False)
    harm = [r for r in _rows(res.build_dir) if r["mode"] == "adaptive" and r["prompt_kind"] == "harmful"]
    assert harm and all(r["messages"][1]["tool_calls"][0]["function"]["name"] == "consult_safety_rules"
                        for r in harm)


def _client(url: str, **api) -> BatchClient:
    return BatchClient("teacher", None, {**DEFAULT_API, "base_url": url, **FAST, **api})


def _explicit_requests(tmp: Path, n: int):
    """The first n explicit-mode requests of the helpers' recipe, and its rule book."""
    from pipeline.generate.modes.templates import Templates
    from pipeline.generate.requests import build_requests
    from pipeline.sources import load_prompts

    recipe = load_recipe(batch_recipe(tmp, "http://127.0.0.1:9/v1"))
    book = load_rulebook(recipe.rulebook_path)
    templates = Templates.load({k: v for k, v in recipe.template_paths.items() if not k.startswith("judge_")})
    prompts, _ = load_prompts(recipe, book)
    return build_requests(recipe, prompts, book, templates, None, modes=("explicit",))[:n], book


def _run(url: str, reqs, book, ledger: BatchLedger, **api):
    client = _client(url, **api)

    async def go():
        try:
            return await run_batched(client, reqs, book, ledger)
        finally:
            await client.aclose()
    return asyncio.run(go())


def test_per_line_errors_and_expiry_are_recorded_per_request_and_resent_on_rerun(tmp_path):
    reqs, book = _explicit_requests(tmp_path, 6)
    reqs[1].messages[-1]["content"] += " TRIGGER_400"
    ledger = BatchLedger(tmp_path / "ledger")
    server = OpenAITestServer(batch_expire_after=4)
    with server as url:
        records = _run(url, reqs, book, ledger)
        assert [r.status for r in records] == ["ok", "failed", "ok", "ok", "failed", "failed"]
        assert "maximum context length exceeded" in records[1].error and "HTTP 400" in records[1].error
        assert "expired" in records[4].error and "expired" in records[5].error
        assert not any(r.fatal for r in records)
        # A rerun of the failed requests: the ledger knows their lines, but their batch failed them, so they
        # are sent again (in one new batch); the expired ones now run.
        server.batch_expire_after = None
        redo = _run(url, [reqs[i] for i in (1, 4, 5)], book, ledger)
    assert [r.status for r in redo] == ["failed", "ok", "ok"]
    assert server.stats["batches"] == 2


def test_killed_build_reuses_the_submitted_batch_instead_of_paying_twice(tmp_path):
    """kill -9 while the first batch is being processed; the rerun finds the batch id in the ledger and waits
    for that batch: the server sees exactly the two batches an uninterrupted build creates."""
    server = OpenAITestServer(batch_latency_s=4.0)
    with server as url:
        path = batch_recipe(tmp_path, url)
        proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "build", "--no-progress", str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        ledger = BatchLedger(tmp_path / "out" / "test" / "cache" / "batches")
        deadline = time.time() + 300
        while time.time() < deadline and not ledger.entries() and proc.poll() is None:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
        assert len(ledger.entries()) == 1 and server.stats["batches"] == 1
        server.batch_latency_s = 0.05
        resumed = subprocess.run([sys.executable, "-m", "pipeline.cli", "build", "--no-progress", str(path)],
                                 capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert server.stats["batches"] == 2        # round 1 adopted from the ledger, round 2 new
    assert len({e["batch_id"] for e in ledger.entries()}) == 2
    assert len(_raw(tmp_path)) == 24 and all(r["status"] == "ok" for r in _raw(tmp_path))


def test_a_batch_created_but_not_yet_recorded_is_found_by_its_metadata(tmp_path):
    """The gap between creating a batch and saving its id: the ledger lost, the provider's listing still has
    the batch (its metadata carries the input's sha256), so it is adopted, not paid for again."""
    reqs, book = _explicit_requests(tmp_path, 5)
    server = OpenAITestServer()
    with server as url:
        for folder in ("a", "b"):
            assert all(r.status == "ok" for r in _run(url, reqs, book, BatchLedger(tmp_path / folder)))
    assert server.stats["batches"] == 1 and server.stats["files"] == 2   # one input file + one output file


def test_batch_recipe_fields_are_validated(tmp_path):
    path = batch_recipe(tmp_path, "http://127.0.0.1:9/v1", max_batch_requests=0)
    assert any(f == "teacher.api.max_batch_requests" for f, _ in validate_recipe_file(path))
    data = yaml.safe_load(path.read_text())
    del data["teacher"]["api"]
    path.write_text(yaml.safe_dump(data))
    assert any("api" in f or "api" in m for f, m in validate_recipe_file(path))
