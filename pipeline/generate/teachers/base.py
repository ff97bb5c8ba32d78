"""The teacher interface every backend implements. Kept tiny so backends stay thin adapters."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class TeacherError(Exception):
    """A request the teacher could not serve; recorded, never fatal to a build. `fatal` means the engine itself
    is gone (every later request would fail too), so the worker restarts it instead of retrying per request."""

    def __init__(self, message: str, fatal: bool = False):
        super().__init__(message)
        self.fatal = fatal


@dataclass
class Completion:
    text: str
    finish_reason: str          # stop | length | error
    prompt_tokens: int
    completion_tokens: int


class Teacher(Protocol):
    def info(self) -> dict[str, Any]:
        """{"model", "revision", "engine", "engine_version"} for provenance."""

    def chat(self, conversations: list[list[dict[str, Any]]], sampling: list[dict[str, Any]],
             regex: list[str | None]) -> list[Completion]:
        """One completion per conversation. `regex` constrains the output when given (format guard)."""
