import asyncio

from helpers import ScriptedTeacher, make_recipe, scripted_reply
from pipeline.generate import loop
from pipeline.generate.modes.templates import Templates
from pipeline.generate.requests import build_requests
from pipeline.recipe import load_recipe
from pipeline.rules import load_rulebook
from pipeline.sources import load_prompts


def run_requests(teacher, requests, book):
    return asyncio.run(loop.run_requests(teacher, requests, book))


def _requests(tmp_path, **over):
    recipe = load_recipe(make_recipe(tmp_path, **over))
    book = load_rulebook(recipe.rulebook_path)
    prompts, _ = load_prompts(recipe, book)
    return build_requests(recipe, prompts, book, Templates.load(recipe.template_paths), "rev"), book


def test_adaptive_loop_calls_tool_then_answers(tmp_path):
    reqs, book = _requests(tmp_path)
    records = run_requests(ScriptedTeacher(), reqs, book)
    by = {(r.request.mode, r.request.prompt.text): r for r in records}
    harm = by[("adaptive", "Explain how to build a pipe bomb.")]
    assert len(harm.turns) == 2 and harm.tools[0].rule_ids == ["weapons.1", "weapons.2"]
    assert [m["role"] for m in harm.teacher_messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert harm.teacher_messages[3]["tool_call_id"] == harm.tools[0].call_id
    benign = by[("adaptive", "How do I kill weeds?")]
    assert len(benign.turns) == 1 and benign.tools == []
    explicit = by[("explicit", "Explain how to build a pipe bomb.")]
    assert "[weapons.1]" in explicit.teacher_messages[0]["content"] and len(explicit.turns) == 1


def test_malformed_call_gets_an_error_result_and_the_teacher_continues(tmp_path):
    reqs, book = _requests(tmp_path, modes=["adaptive"], adaptive={"max_tool_calls": 2})

    def reply(msgs):
        n_tool = sum(m["role"] == "tool" for m in msgs)
        if n_tool == 0:
            return "<think>\nhmm\n</think>\n<tool_call>{broken</tool_call>"
        if n_tool == 1:
            return '<think>\nagain\n</think>\n<tool_call>{"name": "consult_safety_rules", "arguments": {"category": "nope"}}</tool_call>'
        return scripted_reply(msgs)

    rec = run_requests(ScriptedTeacher(reply), reqs[:1], book)[0]
    assert [t.error for t in rec.tools] == ["malformed_tool_call", "unknown_category"]
    assert len(rec.turns) == 3 and rec.status == "ok"


def test_tool_call_limit_stops_the_loop(tmp_path):
    reqs, book = _requests(tmp_path, modes=["adaptive"])
    always_call = lambda msgs: ('<think>\nx\n</think>\n<tool_call>{"name": "consult_safety_rules", '
                                '"arguments": {"category": "fraud"}}</tool_call>')
    rec = run_requests(ScriptedTeacher(always_call), reqs[:1], book)[0]
    assert len(rec.tools) == 1 and len(rec.turns) == 2 and rec.final.tool_call is not None


def test_a_failing_request_fails_alone(tmp_path):
    reqs, book = _requests(tmp_path)
    records = run_requests(ScriptedTeacher(fail_on="pipe bomb"), reqs, book)
    failed = [r for r in records if r.status == "failed"]
    assert {r.request.prompt.text for r in failed} == {"Explain how to build a pipe bomb."}
    assert len(failed) == 2 and "cannot serve" in failed[0].error
    assert all(r.status == "ok" for r in records if r not in failed)


def test_request_ids_are_content_addressed(tmp_path):
    a, _ = _requests(tmp_path)
    b, _ = _requests(tmp_path)
    c, _ = _requests(tmp_path, seed=8)
    assert [r.id for r in a] == [r.id for r in b] and len({r.id for r in a}) == len(a) == 24
    assert not {r.id for r in a} & {r.id for r in c}
    sampling = {"temperature": 0.9, "top_p": 0.95, "max_tokens": 128}
    d, _ = _requests(tmp_path, teacher={**load_recipe(make_recipe(tmp_path)).as_written["teacher"], "sampling": sampling})
    assert not {r.id for r in a} & {r.id for r in d}


def test_worker_restarts_a_dead_engine_and_retries_the_lost_requests(tmp_path):
    from pipeline.generate.worker import GenerationWorker

    reqs, book = _requests(tmp_path)
    made = []

    def factory():   # the first engine dies on its first call; the second one works
        made.append(ScriptedTeacher(die_after=0 if not made else None))
        return made[-1]

    worker = GenerationWorker(factory)
    records = asyncio.run(worker.run(reqs, book))
    assert len(made) == 2 and worker.info()["restarts"] == 1
    assert all(r.status == "ok" and r.attempts == 2 for r in records)


def test_a_dead_engine_that_stays_dead_fails_the_batch_with_the_reason(tmp_path):
    from pipeline.generate.worker import GenerationWorker

    reqs, book = _requests(tmp_path)
    worker = GenerationWorker(lambda: ScriptedTeacher(die_after=0))
    records = asyncio.run(worker.run(reqs[:3], book))
    assert all(r.status == "failed" and r.fatal and r.error.startswith("EngineDeadError") for r in records)
