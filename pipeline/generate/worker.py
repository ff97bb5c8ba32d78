"""Generation workers: one teacher plus the conversation loop, run as async Ray actors so the adaptive multi-turn
loop happens next to the teacher and only finished records travel back. An actor serves several batches at
once; they share the teacher (one vLLM engine batching everything in flight, or an HTTP client with its
concurrency bound).

An in-process engine that dies is restarted once per batch and the requests it lost are asked again; an HTTP
teacher's fatal failure (a rejected key) is not retried: the runner stops the build instead."""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

from ..records import GenerationRecord, Request
from ..rules import RuleBook
from ..util.secret import Secret
from .loop import run_requests
from .teachers.base import Teacher

log = logging.getLogger("ascl.worker")
MAX_RESTARTS_PER_BATCH = 1


def vllm_factory(model_path: str, model_name: str, revision: str | None, engine: dict[str, Any]) -> Callable[[], Teacher]:
    def make() -> Teacher:
        from .teachers.vllm_engine import VLLMTeacher

        return VLLMTeacher(model_path, model_name, revision, engine)
    return make


def openai_factory(model: str, revision: str | None, api: dict[str, Any], api_key: Secret | None) -> Callable[[], Teacher]:
    def make() -> Teacher:
        from .teachers.openai_api import OpenAITeacher

        return OpenAITeacher(model, revision, api, api_key)
    return make


class GenerationWorker:
    def __init__(self, factory: Callable[[], Teacher], native_tools: bool = False, restart_on_fatal: bool = True):
        self.factory, self.native_tools, self.restart_on_fatal = factory, native_tools, restart_on_fatal
        self.teacher = factory()
        self.restarts = 0
        self._restart_lock = asyncio.Lock()

    def info(self) -> dict[str, Any]:
        return {**self.teacher.info(), "restarts": self.restarts}

    async def run(self, requests: list[Request], book: RuleBook) -> list[GenerationRecord]:
        teacher = self.teacher
        records = await run_requests(teacher, requests, book, native_tools=self.native_tools)
        for _ in range(MAX_RESTARTS_PER_BATCH if self.restart_on_fatal else 0):
            dead = [i for i, r in enumerate(records) if r.status == "failed" and r.fatal]
            if not dead:
                break
            # The engine is gone: start a new one (unless another batch already did) and give the lost requests
            # one more go.
            log.warning("engine died (%s); restarting it for %d requests", records[dead[0]].error[:200], len(dead))
            async with self._restart_lock:
                if self.teacher is teacher:
                    try:
                        await teacher.aclose()
                    except Exception:   # noqa: BLE001 - a dead engine may fail to shut down cleanly
                        pass
                    self.teacher = self.factory()
                    self.restarts += 1
                teacher = self.teacher
            redo = await run_requests(teacher, [requests[i] for i in dead], book, native_tools=self.native_tools)
            for i, rec in zip(dead, redo):
                rec.attempts = records[i].attempts + 1
                records[i] = rec
        return records

    async def close(self) -> None:
        """Release the teacher (engine process, HTTP connections) before the actor is killed."""
        await self.teacher.aclose()


class BatchWorker:
    """The batch-API backend's worker: one provider client, conversations sent in batch rounds. It keeps its
    ledger of submitted batches in the generation cache, so it runs on the driver's node."""

    def __init__(self, model: str, revision: str | None, api: dict[str, Any], api_key: Secret | None,
                 ledger_dir: str, native_tools: bool = False):
        from .batch_rounds import BatchLedger
        from .teachers.openai_batch import BatchClient

        self.client = BatchClient(model, revision, api, api_key)
        self.ledger = BatchLedger(ledger_dir)
        self.native_tools, self.max_requests = native_tools, api["max_batch_requests"]

    def info(self) -> dict[str, Any]:
        return {**self.client.info(), "restarts": 0}

    async def run(self, requests: list[Request], book: RuleBook) -> list[GenerationRecord]:
        from .batch_rounds import run_batched

        return await run_batched(self.client, requests, book, self.ledger, self.native_tools, self.max_requests)

    async def close(self) -> None:
        await self.client.aclose()
