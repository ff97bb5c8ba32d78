"""Drive generation: skip finished ids, keep every worker busy, write each finished batch to the cache at once, and
stop early (after saving) when the teacher is unusable."""
from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from typing import TYPE_CHECKING, Callable

from ..records import GenerationRecord, Request
from ..rules import RuleBook
from ..util.cost import Budget, Price, record_cost, request_estimate
from .cache import GenerationCache

if TYPE_CHECKING:
    from .pool import Pool


class TeacherUnavailable(Exception):
    """The teacher cannot serve this build (endpoint down, key rejected, engine will not start). What finished
    before is saved in the generation cache; rerunning the build resumes from there."""


class CostLimitReached(TeacherUnavailable):
    """The next requests would take the run past `limits.max_cost_usd`. Nothing more was sent; everything finished
    is saved, and a rerun with a higher limit resumes (finished requests cost nothing again)."""


@dataclass
class GenerationStats:
    requested: int = 0
    cached: int = 0            # already in the generation cache from an earlier run
    generated: int = 0         # asked of the teacher in this run
    failed: int = 0
    retries: int = 0           # teacher calls beyond the first, per call (transient errors, cut or bad replies)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0      # what this run's teacher calls cost at the recipe's prices (0 without prices)
    wall_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def traces_per_second(self) -> float:
        return self.generated / self.wall_seconds if self.wall_seconds else 0.0

    def merge(self, other: "GenerationStats") -> None:
        """Add another run's figures (a build generates in rounds: first samples, then resamples)."""
        for k in ("requested", "cached", "generated", "failed", "retries", "prompt_tokens", "completion_tokens",
                  "cost_usd", "wall_seconds"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.latencies.extend(other.latencies)

    def add(self, records: list[GenerationRecord], price: Price | None = None) -> None:
        self.generated += len(records)
        self.cost_usd += sum(record_cost(r, price) for r in records)
        for r in records:
            self.failed += r.status != "ok"
            self.prompt_tokens += sum(t.prompt_tokens for t in r.turns)
            self.completion_tokens += sum(t.completion_tokens for t in r.turns)
            self.retries += sum(t.attempts - 1 for t in r.turns) if r.turns else max(0, r.attempts - 1)
            if r.turns:
                self.latencies.append(sum(t.latency_s for t in r.turns))

    def summary(self) -> dict:
        lat = sorted(self.latencies)
        pct = (lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 3)) if lat else (lambda q: None)
        return {"requested": self.requested, "cached": self.cached, "generated": self.generated,
                "failed": self.failed, "retries": self.retries, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "cost_usd": round(self.cost_usd, 6),
                "wall_seconds": round(self.wall_seconds, 3),
                "tokens_per_second": round(self.tokens_per_second, 2),
                "traces_per_second": round(self.traces_per_second, 3),
                "latency_s": {"mean": round(statistics.fmean(lat), 3) if lat else None, "p50": pct(0.5),
                              "p95": pct(0.95)}}


def _failed(batch: list[Request], reason: str) -> list[GenerationRecord]:
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return [GenerationRecord(id=r.id, request=r, status="failed", error=reason, started_at=now, finished_at=now)
            for r in batch]


def run_generation(pool: Pool, requests: list[Request], book: RuleBook, store: GenerationCache, progress: bool = True,
                   max_consecutive_failures: int | None = None, price: Price | None = None,
                   budget: Budget | None = None) -> GenerationStats:
    """Generate every request not finished in `store`. With a `budget` that has a limit, a batch is sent only if
    the spending so far plus the estimates of batches in flight plus its own estimate stay under the limit;
    otherwise sending stops, the batches in flight finish and are saved, and CostLimitReached is raised."""
    import ray
    from tqdm import tqdm

    stats = GenerationStats(requested=len(requests))
    done = store.done_ids()
    pending = [r for r in requests if r.id not in done]
    stats.cached = len(requests) - len(pending)
    if not pending:
        return stats
    budget = budget or Budget()
    size = pool.batch_size
    batches = [pending[i:i + size] for i in range(0, len(pending), size)]
    start = time.perf_counter()
    bar = tqdm(total=len(pending), desc="generate", unit="trace", disable=not progress, file=sys.stderr,
               dynamic_ncols=True)
    in_flight: dict = {}
    stop: str | None = None
    over_budget = False
    streak, last_error = 0, ""

    def submit(worker) -> None:
        nonlocal over_budget
        if batches and stop is None and not over_budget:
            estimate = sum(request_estimate(r, price) for r in batches[0])
            if not budget.reserve(estimate):
                over_budget = True
                return
            batch = batches.pop(0)
            in_flight[worker.run.remote(batch, book)] = (worker, batch, estimate)

    for w in pool.workers:
        for _ in range(pool.in_flight):
            submit(w)
    while in_flight:
        ready, _ = ray.wait(list(in_flight), num_returns=1)
        worker, batch, estimate = in_flight.pop(ready[0])
        try:
            records = ray.get(ready[0])
        except Exception as e:  # a dead or crashed worker: record the batch as failed, keep the build going
            records = _failed(batch, f"worker error: {type(e).__name__}: {e}"[:2000])
        store.write(records)
        before = stats.cost_usd
        stats.add(records, price)
        budget.settle(estimate, stats.cost_usd - before)
        for r in records:
            if r.status == "ok":
                streak = 0
                continue
            streak, last_error = streak + 1, r.error or ""
            if r.fatal:
                stop = stop or f"the teacher is unusable: {last_error[:500]}"
        if max_consecutive_failures and streak >= max_consecutive_failures:
            stop = stop or f"{streak} requests in a row failed; last error: {last_error[:500]}"
        elapsed = time.perf_counter() - start
        postfix = {"tok_s": f"{stats.completion_tokens / elapsed:.0f}", "failed": stats.failed,
                   "retries": stats.retries}
        if price is not None:
            postfix["cost"] = f"${budget.spent:.4f}"
        bar.set_postfix(**postfix)
        bar.update(len(records))
        submit(worker)
    bar.close()
    stats.wall_seconds = time.perf_counter() - start
    saved = f"{stats.generated - stats.failed} finished traces of this run are saved in {store.folder}"
    if stop:
        raise TeacherUnavailable(f"{stop}. Stopped early; {saved} and a rerun resumes from them.")
    if over_budget:
        left = [r for b in batches for r in b]
        estimate = sum(request_estimate(r, price) for r in left)
        raise CostLimitReached(
            f"stopped at the cost limit: this run spent ${budget.spent:.4f} of limits.max_cost_usd = "
            f"${budget.limit:g}, and the next {len(left)} requests (estimated ${estimate:.4f}) would pass it. "
            f"Nothing was published; {saved}. Raise max_cost_usd (or lower the work) and run the same command "
            f"again: finished requests are not paid for twice.")
    return stats


def generate_missing(requests: list[Request], store: GenerationCache, get_pool: Callable[[int], "Pool"], book: RuleBook,
                     progress: bool = True, max_consecutive_failures: int | None = None,
                     price: Price | None = None, budget: Budget | None = None,
                     ) -> tuple[GenerationStats, list[GenerationRecord]]:
    """The one "generate what the cache lacks, then load" step, for generation and the judge alike: requests
    already finished in `store` cost nothing and start no engine (`get_pool(n_missing)` is only called when some
    are missing); the records of all `requests` come back from the store, one per id, sorted by id."""
    wanted = {r.id for r in requests}
    if missing := wanted - store.done_ids():
        stats = run_generation(get_pool(len(missing)), requests, book, store, progress=progress,
                               max_consecutive_failures=max_consecutive_failures, price=price, budget=budget)
    else:
        stats = GenerationStats(requested=len(requests), cached=len(requests))
    return stats, store.load(wanted)
