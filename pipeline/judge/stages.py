"""The judge as the build uses it: refusal labels before the filters (when the recipe asks for the LLM
classifier) and rubric scores after them (when the judge stage is on), with thresholds applied and every
failure counted."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from statistics import fmean
from typing import Any

from ..filters.consistency import partial_completion
from ..records import GenerationRecord, Trace
from .prompts import RUBRIC_ITEMS
from ..util.cost import Budget, Price
from .task import JudgeRun, run_judge


class JudgeStages:
    def __init__(self, recipe, book, pools, cache: Path, progress: bool, budget: Budget | None = None):
        self.recipe, self.book, self.pools, self.cache, self.progress = recipe, book, pools, cache, progress
        self.budget = budget
        self.price = Price.from_recipe(recipe.judge_teacher.price)
        self.runs: dict[str, JudgeRun] = {}

    def _run(self, task: str, records: list[GenerationRecord]) -> JudgeRun:
        if not records:
            run = JudgeRun()
        else:
            spec = self.recipe.judge_teacher
            run = run_judge(task, records, lambda: self.pools.get(spec), spec, self.recipe.judge,
                            self.recipe.seed, self.book, self.cache, self.progress,
                            self.recipe.template_paths.get(f"judge_{task}"), price=self.price, budget=self.budget)
        if task in self.runs:   # refusal labels are asked for once per resampling round: keep the totals
            self.runs[task].merge(run)
        else:
            self.runs[task] = run
        return run

    def refusal_labels(self, records: list[GenerationRecord]) -> dict[str, str | None]:
        """LLM labels for every finished record with an answer; None where the judge failed."""
        todo = [r for r in records if r.status == "ok" and r.final is not None and (r.final.answer or "").strip()]
        run = self._run("refusal", todo)
        return {rid: v.value for rid, v in run.verdicts.items()}

    def rubric(self, outcomes: list[Trace]) -> None:
        """Score the kept traces (`judge`, or `judge_failure` with the reply no parser accepted); reject those
        below a threshold or with no score."""
        kept = [o for o in outcomes if o.kept]
        run = self._run("rubric", [o.record for o in kept])
        thresholds = self.recipe.judge["thresholds"]
        for o in kept:
            v = run.verdicts[o.record.id]
            if v.value is None:
                o.judge_failure = {"reply": v.reply, "attempts": v.attempts}
                o.reject("judge_rejected", "judge_failed")
                continue
            o.judge = {**v.value, "reply": v.reply, "attempts": v.attempts}
            low = [k for k in RUBRIC_ITEMS if v.value[k] < thresholds[k]]
            if low:
                o.reject("judge_rejected", f"low_{low[0]}")
            elif (o.record.request.prompt.kind == "harmful"
                  and partial_completion(o.record.final.answer or "", o.response_type, self.recipe.consistency)
                  and v.value["safety"] < self.recipe.consistency["min_partial_safety"]):
                # the consistency filter let this partial completion through for the judge to check
                o.reject("judge_rejected", "harmful_partial_judged_unsafe")

    def cost_this_run(self) -> float:
        return sum(r.cost_usd for r in self.runs.values())

    def cost_all_runs(self) -> float:
        return sum(r.cost_all_runs for r in self.runs.values())

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {t: r.summary() for t, r in self.runs.items()}
        rub = self.runs.get("rubric")
        if rub and rub.verdicts:
            scored = [v.value for v in rub.verdicts.values() if v.value]
            out["rubric_means"] = {k: round(fmean(s[k] for s in scored), 3) for k in RUBRIC_ITEMS} if scored else {}
        if "refusal" in self.runs:
            out["teacher"] = self.recipe.judge_teacher.model
        return out


def token_stats(outcomes: list[Trace], discarded: dict[str, int] | None = None) -> dict[str, Any]:
    """Completion tokens per mode and kind: generated (rejection samples that were not kept included), kept,
    and spent per kept record (the cost of a row)."""
    cells: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: {"traces": 0, "kept": 0, "tokens": 0})
    for key, tokens in (discarded or {}).items():
        mode, kind = key.split("/")
        cells[(mode, kind)]["tokens"] += tokens
    for o in outcomes:
        c = cells[(o.record.request.mode, o.record.request.prompt.kind)]
        c["traces"] += 1
        c["tokens"] += sum(t.completion_tokens for t in o.record.turns)
        c["kept"] += o.kept
    out: dict[str, Any] = {}
    for (mode, kind), c in sorted(cells.items()):
        out.setdefault(mode, {})[kind] = {
            "traces": c["traces"], "kept": c["kept"], "keep_rate": round(c["kept"] / c["traces"], 4),
            "completion_tokens": c["tokens"],
            "tokens_per_kept": round(c["tokens"] / c["kept"], 1) if c["kept"] else None}
    return out
