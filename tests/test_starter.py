"""`ascl init`: a starter project written from the package's own files, valid as written."""
from __future__ import annotations

import json

import pytest

from pipeline.cli import main
from pipeline.recipe import load_recipe
from pipeline.starter import InitError, init_project


def test_embedded_starter_is_a_valid_recipe_with_its_own_copies(tmp_path):
    files = init_project(tmp_path / "My Safety Set")
    root = tmp_path / "My Safety Set"
    assert {f.relative_to(root).as_posix() for f in files} == {
        "seeds/harmful.jsonl", "seeds/benign.jsonl", "seeds/sensitive.jsonl", "seeds/reasoning.jsonl",
        "rulebook.yaml", "recipe.yaml", "README.md"}
    r = load_recipe(root / "recipe.yaml")
    assert r.name == "my-safety-set" and r.teacher.backend == "vllm"
    assert r.output_dir == root / "shards"           # inside the project, not the install location
    assert r.rulebook_path == root / "rulebook.yaml"  # its own copy, editable
    for kind in ("harmful", "benign", "sensitive", "reasoning"):
        lines = (root / "seeds" / f"{kind}.jsonl").read_text().splitlines()
        assert len(lines) == 3 and all(json.loads(line) for line in lines)
    assert "ascl build recipe.yaml" in (root / "README.md").read_text()


def test_endpoint_starter_names_the_endpoint_and_key_variable(tmp_path):
    init_project(tmp_path / "p", base_url="http://127.0.0.1:9/v1", model="my-model", api_key_env="MY_KEY")
    r = load_recipe(tmp_path / "p" / "recipe.yaml")
    assert r.teacher.backend == "openai" and r.teacher.model == "my-model"
    assert r.teacher.api["base_url"] == "http://127.0.0.1:9/v1" and r.teacher.api["api_key_env"] == "MY_KEY"


def test_init_refuses_a_folder_with_files_and_half_an_endpoint(tmp_path, capsys):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(InitError, match="not an empty folder"):
        init_project(tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    with pytest.raises(InitError, match="both --base-url and --model"):
        init_project(tmp_path / "half", base_url="http://127.0.0.1:9/v1")
    assert main(["init", str(tmp_path / "full")]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert main(["init", str(tmp_path / "new")]) == 0
    assert "ascl build recipe.yaml --verify" in capsys.readouterr().out
