"""One judge task (the rubric, or the refusal label) over a set of records, through any teacher
backend. Judge calls are content-addressed requests in their own cache (<output>/<name>/judge-cache/), so a rerun
pays for none twice. A reply that does not parse, or a failed call, is retried with a fresh seed up to
max_attempts; after that the record gets no verdict and the caller counts it as a judge failure, never a pass."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..resources import prompts_dir
from ..generate.cache import GenerationCache
from ..generate.runner import generate_missing
from ..records import GenerationRecord, Request
from ..rules import RuleBook
from ..util.cost import Budget, Price, record_cost
from ..util.hashing import derived_seed, sha256_obj
from .prompts import LABEL_REGEX, RUBRIC_REGEX, label_messages, parse_label, parse_rubric, rubric_messages

TASKS: dict[str, tuple[str, str, Callable, Callable]] = {
    # task -> (template file, output regex, message builder, parser)
    "rubric": ("judge_rubric.txt", RUBRIC_REGEX, rubric_messages, parse_rubric),
    "refusal": ("judge_refusal.txt", LABEL_REGEX, label_messages, parse_label),
}


@dataclass
class Verdict:
    value: Any            # rubric: {item: score}; refusal: comply | refuse | safe_complete; None on failure
    reply: str            # the judge's last reply as written (or its error)
    attempts: int


@dataclass
class JudgeRun:
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    calls: int = 0
    cached: int = 0
    failures: int = 0     # records with no verdict after max_attempts
    stats: list[dict] = field(default_factory=list)
    cost_usd: float = 0.0        # judge calls paid for in this run
    cost_all_runs: float = 0.0   # every judge reply this build used, whichever run paid for it

    def summary(self) -> dict:
        return {"records": len(self.verdicts), "calls": self.calls, "cached": self.cached,
                "failures": self.failures}

    def merge(self, other: "JudgeRun") -> None:
        self.verdicts.update(other.verdicts)
        self.calls += other.calls
        self.cached += other.cached
        self.failures += other.failures
        self.stats.extend(other.stats)
        self.cost_usd += other.cost_usd
        self.cost_all_runs += other.cost_all_runs


def judge_requests(task: str, records: list[GenerationRecord], spec, settings: dict, seed: int,
                   attempt: int, template_path: Path | None = None) -> list[tuple[GenerationRecord, Request]]:
    template, regex, build, _ = TASKS[task]
    system = (template_path or prompts_dir() / "templates" / template).read_text(encoding="utf-8").strip()
    out = []
    for rec in records:
        messages = build(system, rec)
        # Attempt 0 is greedy; retries sample, or they would repeat the same unparseable reply.
        sampling = {**spec.sampling, "max_tokens": settings["max_tokens"],
                    "temperature": 0.0 if attempt == 0 else max(0.7, spec.sampling.get("temperature", 0.7)),
                    "seed": derived_seed(seed, rec.id, f"judge-{task}-{attempt}")}
        guard = {"answer": regex, "tool_or_answer": regex}
        key = {"task": task, "messages": messages, "model": spec.model, "revision": spec.revision,
               "sampling": sampling, "guard": guard}
        out.append((rec, Request(id=sha256_obj(key), prompt=rec.request.prompt, mode=f"judge_{task}",
                                 messages=messages, sampling=sampling, guard=guard, max_tool_calls=0,
                                 tool_categories=[])))
    return out


def run_judge(task: str, records: list[GenerationRecord], pool, spec, settings: dict, seed: int, book: RuleBook,
              cache: Path, progress: bool = False, template_path: Path | None = None, price: Price | None = None,
              budget: Budget | None = None) -> JudgeRun:
    """Judge every record. `pool` is an EnginePool serving `spec` (any backend), or a function returning one:
    it is only called when some verdict is not in the judge cache, so a cached rerun starts no engine."""
    parse = TASKS[task][3]
    store = GenerationCache(cache)
    run = JudgeRun()
    pending = list(records)
    for attempt in range(settings["max_attempts"]):
        if not pending:
            break
        pairs = judge_requests(task, pending, spec, settings, seed, attempt, template_path)
        stats, records = generate_missing([r for _, r in pairs], store,
                                          lambda _missing: pool() if callable(pool) else pool, book,
                                          progress=progress, price=price, budget=budget)
        run.cost_usd += stats.cost_usd
        run.cost_all_runs += sum(record_cost(r, price) for r in records)
        run.calls += stats.generated
        run.cached += stats.cached
        run.stats.append(stats.summary())
        got = {r.id: r for r in records}
        still = []
        for rec, req in pairs:
            res = got.get(req.id)
            reply = (res.final.text if res and res.final else (res.error if res else "")) or ""
            value = parse(reply) if res is not None and res.status == "ok" else None
            run.verdicts[rec.id] = Verdict(value=value, reply=reply[:2000], attempts=attempt + 1)
            if value is None:
                still.append(rec)
        pending = still
    run.failures = len(pending)
    return run
