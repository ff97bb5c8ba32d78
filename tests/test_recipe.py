import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import make_recipe
from helpers import REPO as PROJECT_ROOT
from pipeline.recipe import RecipeError, load_recipe, validate_recipe_file


def _edit(path: Path, fn) -> Path:
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data))
    return path


def _fields(path: Path) -> list[str]:
    return [f for f, _ in validate_recipe_file(path)]


def test_demo_recipe_is_valid_and_resolved():
    r = load_recipe(PROJECT_ROOT / "recipes" / "demo.yaml")
    assert r.name == "demo" and set(r.modes) == {"explicit", "adaptive"}
    assert all(s.path.is_file() for s in r.sources)
    assert r.teacher.engine["batch_size"] == 52 and r.teacher.sampling["top_k"] == -1   # defaults filled


def test_rejection_sampling_per_kind_and_its_older_form(tmp_path):
    r = load_recipe(_edit(make_recipe(tmp_path), lambda d: d.update(rejection_sampling={"harmful": 3, "benign": 1},
                                                                    reasoning={"samples": 2})))
    assert r.samples == {"harmful": 3, "reasoning": 2}
    (tmp_path / "plain").mkdir()
    assert load_recipe(make_recipe(tmp_path / "plain")).samples == {}


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.pop("seed"), "(root)"),
    (lambda d: d.__setitem__("colour", "red"), "(root)"),
    (lambda d: d.__setitem__("seed", "seven"), "seed"),
    (lambda d: d["teacher"].__setitem__("backend", "llamacpp"), "teacher.backend"),
    (lambda d: d.__setitem__("modes", ["explicit", "implicit"]), "modes[1]"),
    (lambda d: d["sources"][1].__setitem__("path", "nope.jsonl"), "sources[1].path"),
    (lambda d: d.__setitem__("rulebook", "missing.yaml"), "rulebook"),
    (lambda d: d["teacher"]["sampling"].__setitem__("temperature", -1), "teacher.sampling.temperature"),
    (lambda d: d["sources"][0].__setitem__("category", "unknown_cat"), "sources[0].category"),
    (lambda d: d["teacher"]["sampling"].__setitem__("max_tokens", 4096), "teacher.sampling.max_tokens"),
    (lambda d: d.__setitem__("dedupe", {"near": {"enabled": True, "num_perm": 64, "bands": 20, "rows": 6}}),
     "dedupe.near.bands"),
    (lambda d: d.__setitem__("dedupe", {"near": {"rows": 0}}), "dedupe.near.rows"),
    (lambda d: d.__setitem__("dedupe", {"semantic": {"threshold": 1.5}}), "dedupe.semantic.threshold"),
    (lambda d: d.__setitem__("decontamination", {"sets": [{"name": "x", "path": "nope.jsonl"}]}),
     "decontamination.sets[0].path"),
    (lambda d: d.__setitem__("retrieval", {"top_k": 0}), "retrieval.top_k"),
    (lambda d: d.__setitem__("judge", {"thresholds": {"safety": 9}}), "judge.thresholds.safety"),
    (lambda d: d.__setitem__("adaptive", {"consult_balance": {"max_rate": {"benign": 0.2},
                                                              "min_rate": {"benign": 0.5}}}),
     "adaptive.consult_balance.min_rate.benign"),
    (lambda d: d.__setitem__("publish", {"test_fraction": 2}), "publish.test_fraction"),
    (lambda d: d.__setitem__("publish", {"language": ["en", "de"]}), "publish.language"),
    (lambda d: d.__setitem__("refusal_classifier", {"method": "model", "reject_decline_sentences": "yes"}),
     "refusal_classifier"),
    (lambda d: d.__setitem__("rejection_sampling", {"harmful": 0}), "rejection_sampling.harmful"),
    (lambda d: d.__setitem__("rejection_sampling", {"toxic": 2}), "rejection_sampling"),
    (lambda d: d.update(reasoning={"samples": 2}, rejection_sampling={"reasoning": 3}),
     "rejection_sampling.reasoning"),
])
def test_bad_recipe_names_the_field(tmp_path, edit, field):
    path = _edit(make_recipe(tmp_path), edit)
    fields = _fields(path)
    assert field in fields, fields
    with pytest.raises(RecipeError):
        load_recipe(path)


def test_a_dataset_in_another_language_needs_the_language_check_off(tmp_path):
    path = _edit(make_recipe(tmp_path), lambda d: d.update(publish={"language": ["de"]}, filters={"language": False}))
    recipe = load_recipe(path)
    assert recipe.publish["language"] == ["de"] and recipe.filters["language"] is False


def test_error_message_names_missing_property(tmp_path):
    path = _edit(make_recipe(tmp_path), lambda d: d.pop("teacher"))
    errs = validate_recipe_file(path)
    assert any("'teacher' is a required property" in m for _, m in errs)


def test_every_error_is_reported_at_once(tmp_path):
    path = _edit(make_recipe(tmp_path), lambda d: (d.__setitem__("seed", "x"), d.__setitem__("modes", [])))
    assert {"seed", "modes"} <= set(_fields(path))


def test_bad_rulebook_is_a_recipe_error(tmp_path):
    book = yaml.safe_load((PROJECT_ROOT / "prompts" / "rulebook.yaml").read_text())
    book["categories"]["fraud"]["rules"].append({"id": "violence.1", "text": "A duplicated id, on purpose."})
    (tmp_path / "book.yaml").write_text(yaml.safe_dump(book))
    path = _edit(make_recipe(tmp_path), lambda d: d.__setitem__("rulebook", "book.yaml"))
    errs = validate_recipe_file(path)
    assert any(f.startswith("rulebook.categories.") and "duplicate rule id 'violence.1'" in m for f, m in errs), errs


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, timeout=120)


def test_cli_validate_exit_codes(tmp_path):
    good = make_recipe(tmp_path)
    assert _cli("validate", str(good)).returncode == 0
    _edit(good, lambda d: d["teacher"].__setitem__("backend", "nope"))
    res = _cli("validate", str(good))
    assert res.returncode == 2 and "teacher.backend" in res.stderr


def test_cli_build_rejects_bad_recipe_before_any_work(tmp_path):
    path = _edit(make_recipe(tmp_path), lambda d: d["sources"][0].__setitem__("path", "gone.jsonl"))
    res = _cli("build", str(path))
    assert res.returncode == 2 and "sources[0].path" in res.stderr
    assert "starting" not in res.stderr and not (tmp_path / "out").exists()


def test_unparseable_yaml(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("name: [unclosed\n")
    assert _fields(p) == ["(file)"]


def test_ray_cluster_config_matches_rays_own_schema():
    import json
    import os

    import jsonschema
    import ray

    schema = json.loads(open(os.path.join(os.path.dirname(ray.__file__), "autoscaler", "ray-schema.json")).read())
    config = yaml.safe_load((PROJECT_ROOT / "ray_cluster.yaml").read_text())
    jsonschema.validate(config, schema)
    assert any("[gpu]" in c for c in config["setup_commands"])
