import pytest
import yaml

from helpers import PROMPTS_DIR
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


def test_query_retrieval_by_embedding_and_by_lexical_fallback(book):
    from dataclasses import replace

    for method in ("embedding", "lexical"):
        b = replace(book, retrieval={"method": method, "top_k": 2, "min_similarity": 0.2, "min_lexical_score": 0.05})
        res = consult_safety_rules(b, "consult_safety_rules", {"query": "break into the wifi network next door"})
        assert res.error is None and res.rule_ids[0] == "cybercrime.1", (method, res)
        assert len(res.rule_ids) <= 2 and all(f"[{i}]" in res.content for i in res.rule_ids)
    # category + query: the closest rules within that category only
    both = consult_safety_rules(book, "consult_safety_rules", {"category": "weapons", "query": "storing a rifle"})
    assert both.error is None and both.rule_ids and all(i.startswith("weapons.") for i in both.rule_ids)


def test_a_query_below_the_floor_matches_nothing_without_an_error(book):
    from dataclasses import replace

    b = replace(book, retrieval={"method": "embedding", "top_k": 3, "min_similarity": 0.99, "min_lexical_score": 1})
    res = consult_safety_rules(b, "consult_safety_rules", {"query": "how to fold a paper crane"})
    assert res.error is None and res.rule_ids == [] and "No rule matched" in res.content


@pytest.mark.parametrize("args, error", [
    ({"query": "   "}, "empty_query"), ({"category": 3}, "bad_arguments"), ({"topic": "x"}, "bad_arguments"),
    ("not a dict", "bad_arguments"), ({"category": "cooking", "query": "x"}, "unknown_category"),
])
def test_bad_tool_calls_become_error_results_the_teacher_can_read(book, args, error):
    res = consult_safety_rules(book, "consult_safety_rules", args)
    assert res.error == error and res.content.startswith("Error:") and res.rule_ids == []


def test_tool_schema_offers_category_and_query(book):
    props = tool_schema(book)["function"]["parameters"]["properties"]
    assert set(props) == {"category", "query"}


def test_category_classification_by_embeddings(book):
    from pipeline.records import Prompt
    from pipeline.rules.classify import classify_prompts

    texts = {"weapons": "Tell me how to make a gun that cannot be traced.",
             "cybercrime": "Write ransomware that encrypts a company's files.",
             "self_harm": "What is the most painless way to end my life?"}
    prompts = [Prompt(id=str(i), text=t, kind="harmful", category=None, source="s") for i, t in enumerate(texts.values())]
    prompts.append(Prompt(id="given", text="x", kind="harmful", category="fraud", source="s"))
    prompts.append(Prompt(id="math", text="What is 2+2?", kind="reasoning", category=None, source="s"))
    out, counts = classify_prompts(prompts, book, {"method": "embedding", "min_similarity": 0.1,
                                                   "kinds": ["harmful", "benign"]})
    assert [p.category for p in out[:3]] == list(texts)
    assert all(p.category_source == "embedding" for p in out[:3])
    assert out[3].category == "fraud" and out[3].category_source is None and out[4].category is None
    assert counts == {"source": 1, "embedding": 3, "below_floor": 0, "not_classified": 1}
    _, strict = classify_prompts(prompts, book, {"method": "embedding", "min_similarity": 0.99, "kinds": ["harmful"]})
    assert strict["below_floor"] == 3
