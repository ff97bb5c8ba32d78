"""Drive generation: skip finished ids, keep every worker busy, write each finished batch to raw/ at once."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from ..records import RawRecord, Request
from ..rules import RuleBook
from .raw_store import RawStore

IN_FLIGHT_PER_WORKER = 2   # one running, one queued, so an engine never waits for the driver


@dataclass
class GenerationStats:
    requested: int = 0
    cached: int = 0            # already in raw/ from an earlier run
    generated: int = 0         # asked of the teacher in this run
    failed: int = 0
    completion_tokens: int = 0
    wall_seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.wall_seconds if self.wall_seconds else 0.0


def _failed(batch: list[Request], reason: str) -> list[RawRecord]:
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return [RawRecord(id=r.id, request=r, status="failed", error=reason, started_at=now, finished_at=now)
            for r in batch]


def run_generation(pool, requests: list[Request], book: RuleBook, store: RawStore,
                   progress: bool = True) -> GenerationStats:
    import ray
    from tqdm import tqdm

    stats = GenerationStats(requested=len(requests))
    done = store.done_ids()
    pending = [r for r in requests if r.id not in done]
    stats.cached = len(requests) - len(pending)
    if not pending:
        return stats
    size = pool.batch_size
    batches = [pending[i:i + size] for i in range(0, len(pending), size)]
    start = time.perf_counter()
    bar = tqdm(total=len(pending), desc="generate", unit="trace", disable=not progress, file=sys.stderr,
               dynamic_ncols=True)
    in_flight: dict = {}

    def submit(worker) -> None:
        if batches:
            batch = batches.pop(0)
            in_flight[worker.run.remote(batch, book)] = (worker, batch)

    for w in pool.workers:
        for _ in range(IN_FLIGHT_PER_WORKER):
            submit(w)
    while in_flight:
        ready, _ = ray.wait(list(in_flight), num_returns=1)
        worker, batch = in_flight.pop(ready[0])
        try:
            records = ray.get(ready[0])
        except Exception as e:  # a dead or crashed worker: record the batch as failed, keep the build going
            records = _failed(batch, f"worker error: {type(e).__name__}: {e}"[:2000])
        store.write(records)
        stats.generated += len(records)
        stats.failed += sum(r.status != "ok" for r in records)
        toks = sum(t.completion_tokens for r in records for t in r.turns)
        stats.completion_tokens += toks
        elapsed = time.perf_counter() - start
        bar.set_postfix(tok_s=f"{stats.completion_tokens / elapsed:.0f}", failed=stats.failed)
        bar.update(len(records))
        submit(worker)
    bar.close()
    stats.wall_seconds = time.perf_counter() - start
    return stats
