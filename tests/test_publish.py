"""Publishing: splits and shard sizes, `ascl verify` naming what changed, `ascl push` against a local Hub, and
byte-identical rebuilds from the cache."""
import json
import shutil

import pyarrow.parquet as pq
import pytest
import yaml

from helpers import ScriptedPool, make_recipe
from pipeline.build import build
from pipeline.cli import main
from pipeline.devtools.hub_server import HubTestServer
from pipeline.publish.push import PushError, push_build
from pipeline.publish.shards import split_of
from pipeline.publish.verify import verify_build

TOKEN = "hf_secret_for_tests_9f8e7d"


@pytest.fixture(autouse=True)
def online(monkeypatch):
    """The suite runs with HF_HUB_OFFLINE=1 (nothing may reach the real Hub); push tests talk to a local Hub, so
    they lift offline mode for huggingface_hub and always set HF_ENDPOINT to the local server."""
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_OFFLINE", False)


@pytest.fixture(scope="module")
def pool():
    return ScriptedPool()


@pytest.fixture(scope="module")
def built(tmp_path_factory, pool):
    tmp = tmp_path_factory.mktemp("pub")
    path = make_recipe(tmp, publish={"num_shards": 1, "max_shard_mb": 0.01, "test_fraction": 0.25, "split_seed": 3})
    return build(path, pool=pool, progress=False), path


def test_split_is_a_stable_hash_of_the_id_and_shards_respect_the_size_cap(built):
    res, _ = built
    d = res.build_dir
    train = sorted(p.name for p in (d / "data").glob("train-*.parquet"))
    test = sorted(p.name for p in (d / "data").glob("test-*.parquet"))
    assert len(train) > 1 and test, "a 10 kB cap must split the train rows over several shards"
    for p in (d / "data").glob("*.parquet"):
        t = pq.read_table(p)
        split = p.name.split("-")[0]
        assert all(split_of(i, 0.25, 3) == split for i in t.column("id").to_pylist())
    card = (d / "README.md").read_text()
    assert "split: test" in card and "path: data/test-*.parquet" in card
    # the same id always lands in the same split, whatever else is in the dataset
    assert split_of("abc", 0.25, 3) == split_of("abc", 0.25, 3)


def test_verify_passes_then_names_each_tampered_file(built, tmp_path):
    res, _ = built
    assert verify_build(res.build_dir) == []
    assert main(["verify", str(res.build_dir)]) == 0
    d = tmp_path / "copy"
    shutil.copytree(res.build_dir, d)
    shard = sorted((d / "data").glob("train-*.parquet"))[0]
    shard.write_bytes(shard.read_bytes()[:-10])                                   # corrupted shard
    card = (d / "README.md").read_text()
    (d / "README.md").write_text(card.replace("Funnel", "Funnle", 1))              # edited card, same size
    (d / "rejects" / "rejects.parquet").unlink()                                  # missing file
    (d / "data" / "stray.parquet").write_bytes(b"x")                              # unlisted file
    problems = verify_build(d)
    text = "\n".join(problems)
    assert f"data/{shard.name}: size" in text and "README.md: sha256 differs" in text
    assert "rejects/rejects.parquet: missing" in text and "data/stray.parquet: not in the manifest" in text
    assert f"data/{shard.name}: not a readable Parquet file" in text
    assert main(["verify", str(d)]) == 1


def test_verify_catches_an_edited_manifest_and_a_broken_funnel(built, tmp_path):
    res, _ = built
    d = tmp_path / "copy2"
    shutil.copytree(res.build_dir, d)
    m = json.loads((d / "manifest.json").read_text())
    m["build_id"] = "0" * 12
    (d / "manifest.json").write_text(json.dumps(m))
    metrics = json.loads((d / "metrics.json").read_text())
    metrics["funnel"]["stages"]["final"] += 1
    (d / "metrics.json").write_text(json.dumps(metrics))
    text = "\n".join(verify_build(d))
    assert "recipe.lock.yaml: build_id does not match manifest.json" in text
    assert "metrics.json: size" in text and "metrics.json: funnel requests != sum of stages" in text


def test_rebuild_from_the_cache_is_byte_identical(built, pool):
    res, path = built
    before = {p.name: p.read_bytes() for p in (res.build_dir / "data").iterdir()}
    again = build(path, pool=pool, force=True, progress=False)
    assert again.generation.generated == 0
    assert {p.name: p.read_bytes() for p in (again.build_dir / "data").iterdir()} == before
    lock = yaml.safe_load((again.build_dir / "recipe.lock.yaml").read_text())
    assert {"recipe", "inputs", "packages", "teacher", "determinism"} <= set(lock)
    assert all(len(v) == 64 for v in lock["inputs"].values())


def test_push_uploads_everything_in_one_commit_and_never_writes_the_token(built, monkeypatch, capsys):
    res, _ = built
    d = res.build_dir
    hub = HubTestServer(token=TOKEN)
    with hub as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        assert main(["push", str(d), "--repo-id", "org/safety-cot", "--private"]) == 0
    assert hub.repos == {"org/safety-cot": {"private": True}}
    assert len(hub.commits) == 1
    files = hub.commits[0]["files"]
    manifest = json.loads((d / "manifest.json").read_text())
    assert set(files) == set(manifest["files"]) | {"manifest.json"}
    assert all(files[rel] == (d / rel).read_bytes() for rel in files)
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err
    assert all(TOKEN not in p.read_bytes().decode("latin-1") for p in d.rglob("*") if p.is_file())


def test_push_dry_run_builds_the_commit_without_sending_anything(built, monkeypatch):
    res, _ = built
    hub = HubTestServer(token=TOKEN)
    with hub as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        summary = push_build(res.build_dir, "org/x", dry_run=True)
    assert hub.requests == [] and "add README.md" in summary and "add manifest.json" in summary


@pytest.mark.parametrize("case", ["no_token", "bad_token", "forbidden", "commit_fails", "unreachable"])
def test_push_failures_are_clear_and_leave_no_commit(built, monkeypatch, tmp_path, case):
    res, _ = built
    hub = HubTestServer(token=TOKEN, forbidden=("org/locked",), fail_commits=(case == "commit_fails"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))      # no login cache to fall back on
    with hub as url:
        monkeypatch.setenv("HF_ENDPOINT", url if case != "unreachable" else "http://127.0.0.1:9")
        if case == "no_token":
            monkeypatch.delenv("HF_TOKEN", raising=False)
        else:
            monkeypatch.setenv("HF_TOKEN", "hf_wrong" if case == "bad_token" else TOKEN)
        repo = "org/locked" if case == "forbidden" else "org/ok"
        with pytest.raises(PushError) as e:
            push_build(res.build_dir, repo)
    msg = str(e.value)
    assert hub.commits == [] and ("no commit" in msg or "nothing was sent" in msg)
    expected = {"no_token": "no Hugging Face token", "bad_token": "token was rejected",
                "forbidden": "may not write", "commit_fails": "answered 500", "unreachable": "could not reach"}[case]
    assert expected in msg and TOKEN not in msg
    if case == "no_token":
        assert hub.requests == []


def test_offline_mode_is_a_clear_error(built, monkeypatch):
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with pytest.raises(PushError, match="HF_HUB_OFFLINE is set"):
        push_build(built[0].build_dir, "org/ok")


def test_a_build_that_does_not_verify_is_never_pushed(built, tmp_path, monkeypatch):
    res, _ = built
    d = tmp_path / "bad"
    shutil.copytree(res.build_dir, d)
    (d / "README.md").write_text("tampered")
    hub = HubTestServer(token=TOKEN)
    with hub as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        with pytest.raises(PushError, match="does not verify"):
            push_build(d, "org/ok")
    assert hub.requests == []


def test_rebuild_from_the_lock_file_is_byte_identical_and_checks_inputs(tmp_path, pool):
    from pipeline.recipe import RecipeError, load_recipe

    path = make_recipe(tmp_path)
    first = build(path, pool=pool, progress=False)
    before = {p.name: p.read_bytes() for p in (first.build_dir / "data").iterdir()}
    lock = tmp_path / "saved.lock.yaml"
    shutil.copy(first.build_dir / "recipe.lock.yaml", lock)
    shutil.rmtree(first.build_dir)                    # the build is gone; the generation cache stays
    again = build(lock, pool=pool, progress=False)
    assert again.build_dir == first.build_dir and again.generation.generated == 0
    assert {p.name: p.read_bytes() for p in (again.build_dir / "data").iterdir()} == before
    assert verify_build(again.build_dir) == []
    with open(tmp_path / "harmful.jsonl", "a") as f:  # an input changed: the lock no longer describes it
        f.write('{"prompt": "one more"}\n')
    with pytest.raises(RecipeError) as e:
        load_recipe(lock)
    assert e.value.errors[0][0] == "inputs.source:h"


def test_build_verify_flag_verifies_new_and_existing_builds(built, capsys):
    _, path = built
    assert main(["build", str(path), "--verify", "--no-progress"]) == 0   # existing build: verified, not rebuilt
    assert "OK" in capsys.readouterr().out
