"""`ascl classify-responses` and `ascl audit`: the build's own judgement applied to any data.

Both use the same labeller and filter chain a build uses (pipeline.filters), with the recipe's settings when one
is given and the defaults otherwise. Filters that need the generation context (rule citations: which rules the
teacher was given) are off; everything else runs: structure, degeneration, refusal behaviour by kind,
consistency, answer correctness when a reference is given, and the judge when the recipe turns it on."""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Iterator

from ..filters import apply_filters
from ..filters.chain import FILTER_NAMES, FilterSettings
from ..filters.consistency import DEFAULT_CONSISTENCY
from ..filters.degeneration import DEFAULT_DEGENERATION
from ..filters.labels import Labeller
from ..filters.response_model import strip_think
from ..records import Prompt, GenerationRecord, Request, Turn
from ..util.hashing import sha256_obj
from .inputs import InputError, converted, to_record


@contextmanager
def _judge(recipe) -> Iterator[Any]:
    """The recipe's judge stages (engine pools started only if a judge call is needed), or None."""
    if recipe is None or not recipe.needs_judge:
        yield None
        return
    from ..build import EnginePools
    from ..judge import JudgeStages
    from ..rules import load_rulebook

    cache = recipe.output_dir / recipe.name / "judge-cache"
    pools = EnginePools(None, recipe.ray_address, cache / "batches")
    try:
        yield JudgeStages(recipe, load_rulebook(recipe.rulebook_path), pools, cache, progress=False)
    finally:
        pools.close()


def _labeller(recipe, judge) -> Labeller:
    if recipe is None:
        return Labeller("model")
    from ..build import labeller_for

    return labeller_for(recipe, judge)


def _settings(recipe) -> FilterSettings:
    if recipe is None:
        enabled = {name: True for name in FILTER_NAMES}
        base = FilterSettings(enabled=enabled, degeneration=DEFAULT_DEGENERATION,
                              consistency=dict(DEFAULT_CONSISTENCY), judge_enabled=False)
    else:
        from ..build import filter_settings

        base = filter_settings(recipe)
    return replace(base, enabled={**base.enabled, "citations": False})


def _answer_only(n: int, row: dict, source: str) -> GenerationRecord:
    where = f"{source}:{n}"
    response = row.get("response")
    if not isinstance(response, str):
        raise InputError(f"{where}: field 'response' must be a string")
    prompt_text = row.get("prompt") if isinstance(row.get("prompt"), str) else ""
    rid = sha256_obj({"n": n, "response": response})
    prompt = Prompt(id=rid, text=prompt_text, kind="benign", category=None, source=source)
    req = Request(id=rid, prompt=prompt, mode="explicit", messages=[], sampling={}, guard=None, max_tool_calls=0,
                  tool_categories=[])
    turn = Turn(text=response, finish_reason="stop", prompt_tokens=0, completion_tokens=0,
                answer=strip_think(response))
    return GenerationRecord(id=rid, request=req, status="ok", error=None, turns=[turn])


def classify_file(path: str, recipe=None, columns: dict[str, str] | None = None,
                  skip_bad: bool = False) -> tuple[list[dict[str, Any]], int]:
    """The input rows as they were read, in order, each with `response_type` and `confidence` (null for phrase and
    LLM labels), and how many were bad. `columns` maps `response` / `prompt` to the file's own column names. With
    `skip_bad`, a row that cannot be read or has no response comes out in its place with both null and its `error`
    (counted here, since an input column may be called `error` too)."""
    items = converted(path, lambda n, view: _answer_only(n, view, path), columns, skip_bad=skip_bad)
    records = [x for _, x in items if not isinstance(x, InputError)]
    with _judge(recipe) as judge:
        labels = _labeller(recipe, judge)(records)
    out = []
    for row, x in items:
        row = row if isinstance(row, dict) else {}
        if isinstance(x, InputError):
            out.append({**row, "response_type": None, "confidence": None, "error": str(x)})
            continue
        label, confidence, _ = labels.get(x.id, (None, None, None))
        out.append({**row, "response_type": label, "confidence": confidence})
    return out, len(items) - len(records)


# `--skip-bad-rows`: rows that could not be read are counted under this key, each with its own verdict line.
BAD_ROWS = "bad_input: skipped (--skip-bad-rows)"

# A `sensitive` answer passes the refusal gate with any response type; whether its content is safe is the judge's
# call (as in a build, whose card says the same). Without a judge nothing checked it, and "kept" must not read as
# "safe": the count goes to the funnel under this key, which is a note, not a stage.
SENSITIVE_UNCHECKED = "note: sensitive traces kept without a safety check of their content (no judge in the recipe)"


def audit_file(path: str, recipe=None, allow_cut: bool = False, columns: dict[str, str] | None = None,
               kind: str | None = None, answers_only: bool = False,
               skip_bad: bool = False) -> tuple[list[dict[str, Any]], Counter]:
    """One verdict per input row, in order, and the counts by stage and reason. `allow_cut` keeps traces that stop
    mid-sentence (as `format_guard.allow_cut_reasoning` does in a build): what the other checks make of a file
    known to be cut. `columns` maps the input fields to the file's own column names; `kind` is the kind of rows
    that give none. `answers_only` judges rows that give no reasoning on their answers alone (the checks of the
    reasoning skipped for them; see FilterSettings.answers_only). `skip_bad`: a row that cannot be read (broken
    JSON, a missing field, an unknown kind) gets a verdict in its place, stage `bad_input` and the error as its
    reason, instead of stopping the audit."""
    items = converted(path, lambda n, view: to_record(n, view, path, answers_only), columns, kind, skip_bad)
    records = [x for _, x in items if not isinstance(x, InputError)]
    settings = _settings(recipe)
    if allow_cut:
        settings = replace(settings, allow_cut_reasoning=True)
    if answers_only:
        settings = replace(settings, answers_only=True)
    with _judge(recipe) as judge:
        outcomes = apply_filters(records, settings, _labeller(recipe, judge))
        if judge is not None and recipe.judge["enabled"]:
            judge.rubric(outcomes)
    counts: Counter = Counter()
    out = []
    verdicts = iter(outcomes)
    for row, x in items:
        if isinstance(x, InputError):
            counts[BAD_ROWS] += 1
            given = row.get("id") if isinstance(row, dict) else None
            out.append({"id": None if given is None else str(given), "kept": False, "stage": "bad_input",
                        "reason": str(x), "response_type": None, "confidence": None})
            continue
        o = next(verdicts)
        counts["kept" if o.kept else f"{o.stage}: {o.reason}"] += 1
        out.append({"id": o.record.id, "kept": o.kept, "stage": o.stage, "reason": o.reason,
                    "response_type": o.response_type, "confidence": o.confidence})
    judged = recipe is not None and recipe.judge["enabled"]
    if not judged and (unchecked := sum(o.kept and o.record.request.prompt.kind == "sensitive" for o in outcomes)):
        counts[SENSITIVE_UNCHECKED] = unchecked
    return out, counts
