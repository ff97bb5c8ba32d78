"""The typed recipe sections (pipeline/recipe/model.py) agree with the recipe schema and with their defaults, and a
loaded recipe holds every key of every section: one place says what a section has, what type and what default."""
import json
import typing

import pytest

from helpers import REPO, make_recipe
from pipeline.recipe import load_recipe
from pipeline.recipe import model as m

SCHEMA = json.loads((REPO / "schemas" / "recipe.schema.json").read_text())
TEACHER = SCHEMA["$defs"]["teacher"]["properties"]


def _schema_keys(path: str) -> set[str]:
    node = {"properties": {**SCHEMA["properties"], "teacher": {"properties": TEACHER}}}
    for part in path.split("."):
        node = node["properties"][part]
        if "oneOf" in node:   # short form (a string) or the object
            node = next(x for x in node["oneOf"] if x.get("type") == "object")
    return set(node["properties"])


SECTIONS = [  # (TypedDict, schema path, default, keys the default leaves to the recipe or the loader)
    (m.EngineConfig, "teacher.engine", m.DEFAULT_ENGINE, set()),
    (m.SamplingConfig, "teacher.sampling", m.DEFAULT_SAMPLING, set()),
    (m.ApiConfig, "teacher.api", m.DEFAULT_API, {"base_url"}),
    (m.PriceConfig, "teacher.price", None, set()),
    (m.DegenerationConfig, "degeneration", m.DEFAULT_DEGENERATION, set()),
    (m.ConsistencyConfig, "consistency", m.DEFAULT_CONSISTENCY, set()),
    (m.RefusalClassifierConfig, "refusal_classifier", m.DEFAULT_REFUSAL_CLASSIFIER, set()),
    (m.ClassifyConfig, "classify", m.DEFAULT_CLASSIFY, set()),
    (m.JudgeConfig, "judge", m.DEFAULT_JUDGE, {"teacher"}),
    (m.PublishConfig, "publish", m.DEFAULT_PUBLISH, set()),
    (m.ExactDedupeConfig, "dedupe.exact", m.DEFAULT_EXACT, set()),
    (m.NearDedupeConfig, "dedupe.near", m.DEFAULT_NEAR, set()),
    (m.SemanticDedupeConfig, "dedupe.semantic", m.DEFAULT_SEMANTIC, set()),
    (m.DedupeConfig, "dedupe", None, set()),
    (m.DecontaminationConfig, "decontamination", m.DEFAULT_DECONTAMINATION, set()),
]


@pytest.mark.parametrize("typed, path, default, left", SECTIONS, ids=[s[1] for s in SECTIONS])
def test_section_type_matches_schema_and_default(typed, path, default, left):
    keys = set(typing.get_type_hints(typed))
    assert keys == _schema_keys(path), f"{typed.__name__} vs schema {path}"
    if default is not None:
        assert set(default) | left == keys, f"default of {typed.__name__}"


def test_a_loaded_recipe_holds_every_key_of_every_section(tmp_path):
    r = load_recipe(make_recipe(tmp_path))
    assert set(r.teacher.engine) == set(typing.get_type_hints(m.EngineConfig))
    assert set(r.teacher.sampling) == set(typing.get_type_hints(m.SamplingConfig))
    for name, typed in (("degeneration", m.DegenerationConfig), ("consistency", m.ConsistencyConfig),
                        ("refusal_classifier", m.RefusalClassifierConfig), ("classify", m.ClassifyConfig),
                        ("publish", m.PublishConfig), ("decontamination", m.DecontaminationConfig)):
        assert set(getattr(r, name)) == set(typing.get_type_hints(typed)), name
    for part, typed in (("exact", m.ExactDedupeConfig), ("near", m.NearDedupeConfig),
                        ("semantic", m.SemanticDedupeConfig)):
        assert set(r.dedupe[part]) == set(typing.get_type_hints(typed)), part
    assert set(r.judge) | {"teacher"} == set(typing.get_type_hints(m.JudgeConfig))


def test_defaults_are_not_shared_between_recipes(tmp_path):
    a = load_recipe(make_recipe(tmp_path))
    a.publish["tags"].append("mine")
    a.classify["kinds"].append("mine")
    b = load_recipe(make_recipe(tmp_path))
    assert "mine" not in b.publish["tags"] and "mine" not in b.classify["kinds"]
    assert "mine" not in m.DEFAULT_PUBLISH["tags"]
