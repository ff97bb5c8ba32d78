"""Generation workers: one teacher plus the mode loop, run as Ray actors so the adaptive multi-turn loop
happens next to the teacher and only finished records travel back.

GenerationWorker holds a batch teacher (an in-process engine) and restarts it if it dies.
AsyncGenerationWorker holds an HTTP teacher; as an async Ray actor it serves several batches at once, all
sharing the teacher's concurrency bound."""
from __future__ import annotations

import logging
from typing import Any, Callable

from ..records import RawRecord, Request
from ..rules import RuleBook
from .loop import FATAL, run_requests, run_requests_async
from ..util.secret import Secret
from .teachers.base import AsyncTeacher, Teacher

log = logging.getLogger("ascl.worker")
MAX_RESTARTS_PER_BATCH = 1


def vllm_factory(model_path: str, model_name: str, revision: str | None, engine: dict[str, Any]) -> Callable[[], Teacher]:
    def make() -> Teacher:
        from .teachers.vllm_engine import VLLMTeacher

        return VLLMTeacher(model_path, model_name, revision, engine)
    return make


def openai_factory(model: str, revision: str | None, api: dict[str, Any], api_key: Secret | None) -> Callable[[], AsyncTeacher]:
    def make() -> AsyncTeacher:
        from .teachers.openai_api import OpenAITeacher

        return OpenAITeacher(model, revision, api, api_key)
    return make


class GenerationWorker:
    """Runs as a threaded Ray actor: two batches at once share the engine (continuous batching), so the
    restart of a dead engine is guarded: the first thread to notice replaces it, the other reuses the new one."""

    def __init__(self, factory: Callable[[], Teacher]):
        import threading

        self.factory = factory
        self.teacher = factory()
        self.restarts = 0
        self._restart_lock = threading.Lock()

    def info(self) -> dict[str, Any]:
        return {**self.teacher.info(), "restarts": self.restarts}

    def run(self, requests: list[Request], book: RuleBook) -> list[RawRecord]:
        teacher = self.teacher
        records = run_requests(teacher, requests, book)
        for _ in range(MAX_RESTARTS_PER_BATCH):
            dead = [i for i, r in enumerate(records) if r.status == "failed" and (r.error or "").startswith(FATAL)]
            if not dead:
                break
            # The engine is gone: start a new one (unless another batch already did) and give the lost requests
            # one more go.
            log.warning("engine died (%s); restarting it for %d requests", records[dead[0]].error[:200], len(dead))
            with self._restart_lock:
                if self.teacher is teacher:
                    self.teacher = self.factory()
                    self.restarts += 1
                teacher = self.teacher
            redo = run_requests(teacher, [requests[i] for i in dead], book)
            for i, rec in zip(dead, redo):
                rec.attempts = records[i].attempts + 1
                records[i] = rec
        return records


class AsyncGenerationWorker:
    def __init__(self, factory: Callable[[], AsyncTeacher], native_tools: bool = False):
        self.teacher = factory()
        self.native_tools = native_tools

    def info(self) -> dict[str, Any]:
        return self.teacher.info()

    async def run(self, requests: list[Request], book: RuleBook) -> list[RawRecord]:
        return await run_requests_async(self.teacher, requests, book, native_tools=self.native_tools)
