"""A generation worker: one teacher engine plus the mode loop. Runs as a Ray actor (one per engine), so the
adaptive multi-turn loop happens next to the engine and only finished records travel back."""
from __future__ import annotations

from typing import Any

from ..records import RawRecord, Request
from ..rules import RuleBook
from .loop import run_requests


class GenerationWorker:
    def __init__(self, backend: str, model_path: str, model_name: str, revision: str | None,
                 engine: dict[str, Any]):
        if backend != "vllm":
            raise ValueError(f"unknown teacher backend {backend!r}")
        from .teachers.vllm_engine import VLLMTeacher

        self.teacher = VLLMTeacher(model_path, model_name, revision, engine)

    def info(self) -> dict[str, Any]:
        return self.teacher.info()

    def run(self, requests: list[Request], book: RuleBook) -> list[RawRecord]:
        return run_requests(self.teacher, requests, book)
