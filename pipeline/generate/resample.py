"""Rejection sampling: up to N samples per prompt and mode (N set per prompt kind), drawn one round at a time and
only for the prompts still without an acceptable trace, so a prompt the teacher gets right first time costs one
sample. The first acceptable sample (it passes every filter: answer, refusal behaviour, consistency) is the one
kept; if none is, sample 0 stands so the funnel reports why that prompt failed. Every sample stays in the
generation cache. The filters alone decide what is acceptable, so sampling more buys more kept rows, never
looser ones."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..records import GenerationRecord, Request


@dataclass
class Resampling:
    chosen: list[GenerationRecord] = field(default_factory=list)
    extra_samples: int = 0       # samples beyond the first, generated or taken from the cache
    rescued: int = 0             # prompt x mode pairs whose kept trace is not sample 0
    discarded_tokens: dict[str, int] = field(default_factory=dict)   # "mode/kind" -> tokens of unkept samples
    extra: list[GenerationRecord] = field(default_factory=list)             # every sample beyond the first

    def summary(self) -> dict[str, int]:
        return {"extra_samples": self.extra_samples, "rescued": self.rescued}


def _slot(req: Request) -> tuple[str, str]:
    return req.prompt.id, req.mode


def resample(records: list[GenerationRecord], samples: dict[str, int], accept: Callable[[list[GenerationRecord]], list[bool]],
             more: Callable[[list[Request], int], list[GenerationRecord]]) -> Resampling:
    """`records` are sample-0 records; `samples` is the most samples per prompt kind (absent kinds: 1);
    `accept(records)` is the build's own filter chain (same classifier, same
    settings as the final filter, so a sample kept here passes there); `more(requests, sample)` builds, generates
    and returns the records of sample `sample` for the given sample-0 requests."""
    out = Resampling()
    first = {_slot(r.request): r for r in records}
    best: dict[tuple[str, str], GenerationRecord] = dict(first)
    seen: list[GenerationRecord] = []
    budget = {s: samples.get(r.request.prompt.kind, 1) for s, r in first.items()}
    tried = [(s, r) for s, r in first.items() if budget[s] > 1]
    open_slots = [s for (s, _), ok in zip(tried, accept([r for _, r in tried])) if not ok]
    for k in range(1, max(budget.values(), default=1)):
        open_slots = [s for s in open_slots if budget[s] > k]
        if not open_slots:
            break
        got = more([first[s].request for s in open_slots], k)
        seen.extend(got)
        out.extra.extend(got)
        out.extra_samples += len(got)
        still = []
        by_slot = {_slot(r.request): r for r in got}
        passed = {r.id for r, ok in zip(got, accept(got)) if ok}
        for s in open_slots:
            rec = by_slot.get(s)
            if rec is not None and rec.id in passed:
                best[s] = rec
                out.rescued += 1
            else:
                still.append(s)
        open_slots = still
    out.chosen = [best[_slot(r.request)] for r in records]
    chosen_ids = {r.id for r in out.chosen}
    for rec in list(first.values()) + seen:
        if rec.id not in chosen_ids:   # paid for but not kept: part of the cost of the rows that were
            k = f"{rec.request.mode}/{rec.request.prompt.kind}"
            out.discarded_tokens[k] = out.discarded_tokens.get(k, 0) + sum(t.completion_tokens for t in rec.turns)
    return out
