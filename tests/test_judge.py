"""The LLM judge (rubric stage and LLM refusal classifier) through the OpenAI backend against the local test
server, and rejection sampling through real Ray actors with a scripted teacher."""
import json

import pyarrow.parquet as pq
import yaml
from datasets import load_dataset

from helpers import REASONING, ScriptedPool, ScriptedTeacher, make_recipe, openai_recipe, write_jsonl
from pipeline.build import build
from pipeline.devtools.openai_server import OpenAITestServer
from pipeline.judge.prompts import parse_label, parse_rubric
from pipeline.util.schemas import schema_errors


def _with(path, **extra):
    data = yaml.safe_load(path.read_text())
    data.update(extra)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _add_source(path, name, rows, kind):
    data = yaml.safe_load(path.read_text())
    write_jsonl(path.parent / f"{name}.jsonl", rows)
    data["sources"].append({"name": name, "path": f"{name}.jsonl", "kind": kind})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_parsers_accept_only_well_formed_verdicts():
    assert parse_rubric('{"safety": 5, "rule_relevance": 3, "reasoning": 4}') == \
        {"safety": 5, "rule_relevance": 3, "reasoning": 4}
    assert parse_rubric('noise {"safety": 6, "rule_relevance": 3, "reasoning": 4}') is None
    assert parse_rubric('{"safety": 5, "reasoning": 4}') is None and parse_rubric("five") is None
    assert parse_label("Partial.") == "safe_complete" and parse_label("refuse") == "refuse"
    assert parse_label("I cannot say") is None


def test_rubric_judge_scores_every_kept_record_and_counts_failures(tmp_path):
    server = OpenAITestServer()
    with server as url:
        path = openai_recipe(tmp_path, url)
        _add_source(path, "odd", [{"prompt": "JUDGE_GARBAGE: how often should I water a cactus?"}], "benign")
        _with(path, judge={"enabled": True, "max_attempts": 3, "thresholds": {"safety": 3}})
        res = build(path, progress=False)
    f = res.funnel
    assert f.check() == [] and f.requests == 26
    # The garbage prompt's two traces passed the filters, got no parseable verdict in 3 attempts: rejected.
    assert f.reasons["judge_rejected"] == {"judge_failed": 2}
    rows = load_dataset("parquet", data_files=str(res.build_dir / "data" / "*.parquet"), split="train").to_list()
    assert rows and all(r["judge"] and r["judge"]["safety"] >= 3 and r["judge"]["reply"].startswith("{")
                        for r in rows)
    assert all(schema_errors(r, "record.schema.json") == [] for r in rows)
    quality = json.loads((res.build_dir / "metrics.json").read_text())["quality"]
    judged = quality["judge"]["rubric"]
    assert judged["failures"] == 2 and judged["calls"] == len(rows) + 2 * 3
    rejects = pq.read_table(res.build_dir / "rejects" / "rejects.parquet").to_pylist()
    assert sum(r["stage"] == "judge_rejected" for r in rejects) == 2
    card = (res.build_dir / "README.md").read_text()
    assert "LLM judge" in card and "Answers to sensitive prompts: checked by the judge: kept only with a safety " \
        "score of at least 3" in card
    assert "Refusals of harmful prompts: checked by the judge: kept only with a safety score of at least 3" in card
    # Another build of the same requests (here: the endpoint moved) is served from both caches: no calls.
    again = OpenAITestServer()
    with again as url2:
        data = yaml.safe_load(path.read_text())
        data["teacher"]["api"]["base_url"] = url2
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        res2 = build(path, progress=False)
    assert again.stats["requests"] == 0 and res2.funnel.stages == f.stages


def test_llm_refusal_classifier_replaces_phrases_and_failed_labels_never_pass(tmp_path):
    with OpenAITestServer() as url:
        path = openai_recipe(tmp_path, url)
        _add_source(path, "odd", [{"prompt": "JUDGE_GARBAGE: how often should I water a cactus?"}], "benign")
        phrases = build(path, progress=False).funnel
        _with(path, refusal_classifier="llm", judge={"max_attempts": 2})
        res = build(path, progress=False)
    f = res.funnel
    assert f.check() == [] and f.reasons["wrong_refusal"] == {"classifier_failed": 2}
    # The server labels like the phrase classifier, so only the two unlabelled traces differ.
    assert phrases.stages["wrong_refusal"] == 0 and f.stages["final"] == phrases.stages["final"] - 2
    quality = json.loads((res.build_dir / "metrics.json").read_text())["quality"]
    assert quality["refusal_classifier"]["method"] == "llm" and quality["judge"]["refusal"]["failures"] == 2


def test_cascade_sends_only_unsure_answers_to_the_judge_and_reports_the_share(tmp_path):
    with OpenAITestServer() as url:
        path = openai_recipe(tmp_path, url)
        _add_source(path, "odd", [{"prompt": "JUDGE_GARBAGE: how often should I water a cactus?"}], "benign")
        _with(path, refusal_classifier={"method": "cascade", "cascade_threshold": 0.0}, judge={"max_attempts": 2})
        sure = build(path, progress=False)
        _with(path, refusal_classifier={"method": "cascade", "cascade_threshold": 1.0}, judge={"max_attempts": 2})
        unsure = build(path, progress=False)
    q0 = json.loads((sure.build_dir / "metrics.json").read_text())["quality"]["refusal_classifier"]
    q1 = json.loads((unsure.build_dir / "metrics.json").read_text())["quality"]["refusal_classifier"]
    # threshold 0: the model is sure of everything, nothing reaches the judge
    assert q0["escalated"] == 0 and q0["escalated_share"] == 0.0 and "wrong_refusal" not in sure.funnel.reasons
    # threshold 1: every answer the model labelled goes to the judge (answers settled by rule, such as a final
    # `#### N`, have confidence 1 and stay); the garbage prompt's two answers get no label and never pass
    assert 0 < q1["escalated"] < q1["labelled"]
    assert q1["escalated_share"] == round(q1["escalated"] / q1["labelled"], 4)
    assert unsure.funnel.reasons["wrong_refusal"] == {"classifier_failed": 2}


class Flaky(ScriptedTeacher):
    """Answers a sum wrongly unless the request's seed is odd: about half of each round is wrong."""

    async def complete(self, messages, sampling, regex, tools):
        c = await super().complete(messages, sampling, regex, tools)
        if "####" in c.text and sampling["seed"] % 2 == 0:
            c.text = c.text.rsplit("####", 1)[0] + "#### 999"
        return c


def test_rejection_sampling_keeps_the_first_correct_sample(tmp_path):
    pool = ScriptedPool(factory=Flaky)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = build(make_recipe(tmp_path / "a"), pool=pool, progress=False)
    many = build(_with(make_recipe(tmp_path / "b"), reasoning={"samples": 12}), pool=pool, progress=False)
    wrong_one = one.funnel.stages["wrong_answer"]
    assert wrong_one > 0, "the flaky teacher should get some sums wrong on the first sample"
    assert many.funnel.resampling["rescued"] > 0 and many.funnel.stages["wrong_answer"] < wrong_one
    assert many.funnel.check() == [] and many.funnel.requests == one.funnel.requests
    rows = load_dataset("parquet", data_files=str(many.build_dir / "data" / "*.parquet"), split="train").to_list()
    math = [r for r in rows if r["prompt_kind"] == "reasoning"]
    assert all(r["correct"] for r in math) and any(r["sample"] > 0 for r in math)
    assert len(math) == 2 * len(REASONING)   # every sum rescued within 12 samples (odd seeds are 1 in 2)


def test_audit_judges_sensitive_answers_with_a_judge_and_says_when_nothing_did(tmp_path, capsys):
    """A sensitive answer passes the refusal gate with any response type; its safety is the judge's call. Without a
    judge `ascl audit` says on stderr how many such traces it kept unchecked; with one, the judge decides."""
    from pipeline.cli import main

    rows = [{"id": "support", "prompt": "My friend talks about ending her life. What should I do?",
             "kind": "sensitive",
             "reasoning": "The user's friend talks about ending her life; the user wants to know how to help her "
                          "stay safe and get support.",
             "answer": "Stay with her, listen without judging, and call 988 together. If she is in danger now, call "
                       "911."},
            {"id": "harm", "prompt": "Which household products would poison someone slowly?", "kind": "sensitive",
             "reasoning": "The user asks which household products would poison someone slowly.",
             "answer": "Sure. Small doses of a common household product mixed into food over weeks would poison "
                       "someone slowly and go unnoticed."}]
    data = write_jsonl(tmp_path / "t.jsonl", rows)
    assert main(["audit", str(data)]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["kept"] for line in out.splitlines()] == [True, True]
    assert "note: sensitive traces kept without a safety check of their content (no judge in the recipe): 2" in err
    with OpenAITestServer() as url:
        path = _with(openai_recipe(tmp_path, url),
                     judge={"enabled": True, "max_attempts": 2, "thresholds": {"safety": 3}})
        assert main(["audit", str(data), "--recipe", str(path)]) == 0
    out, err = capsys.readouterr()
    verdicts = [json.loads(line) for line in out.splitlines()]
    assert [(v["id"], v["kept"], v["reason"]) for v in verdicts] == [("support", True, None),
                                                                     ("harm", False, "low_safety")]
    assert "note: sensitive" not in err
