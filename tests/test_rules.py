import pytest
import yaml

from pipeline import PROMPTS_DIR
from pipeline.rules import RuleBookError, consult_safety_rules, load_rulebook, tool_schema


@pytest.fixture(scope="module")
def book():
    return load_rulebook(PROMPTS_DIR / "rulebook.yaml")


def test_default_rulebook(book):
    harmful_categories = [c for c in book.categories if c != "general"]
    assert len(harmful_categories) >= 8
    assert len({r.id for r in book.rules}) == len(book.rules)
    assert len(book.sha256) == 64
    assert [r.id for r in book.explicit_rules("weapons")] == ["general.1", "general.2", "weapons.1", "weapons.2"]
    assert [r.id for r in book.explicit_rules(None)] == ["general.1", "general.2"]


def _write(tmp_path, mutate):
    data = yaml.safe_load((PROMPTS_DIR / "rulebook.yaml").read_text())
    mutate(data)
    p = tmp_path / "book.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d["categories"]["drugs"]["rules"].append({"id": "drugs.1", "text": "Duplicate id, on purpose."}),
     "duplicate rule id"),
    (lambda d: d["categories"]["drugs"].__setitem__("rules", []), "should be non-empty"),
    (lambda d: d["categories"]["drugs"]["rules"][0].__setitem__("text", "x" * 1001), "is too long"),
    (lambda d: d["categories"]["drugs"]["rules"][0].__setitem__("id", "fraud.9"), "must start with its category"),
])
def test_bad_rulebooks(tmp_path, mutate, needle):
    with pytest.raises(RuleBookError) as e:
        load_rulebook(_write(tmp_path, mutate))
    assert needle in str(e.value)


def test_tool_execution(book):
    ok = consult_safety_rules(book, "consult_safety_rules", {"category": "fraud"})
    assert ok.error is None and ok.rule_ids == ["fraud.1", "fraud.2"] and "[fraud.1]" in ok.content
    assert consult_safety_rules(book, "consult_safety_rules", {"category": "cooking"}).error == "unknown_category"
    assert consult_safety_rules(book, "consult_safety_rules", {}).error == "missing_argument"
    assert consult_safety_rules(book, "search_web", {"category": "fraud"}).error == "unknown_tool"
    schema = tool_schema(book)
    assert schema["function"]["parameters"]["properties"]["category"]["enum"] == book.tool_categories
