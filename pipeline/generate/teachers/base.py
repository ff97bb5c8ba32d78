"""The teacher interface every backend implements. Kept tiny so backends stay thin adapters."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class TeacherError(Exception):
    """A request the teacher could not serve (bad input, engine error); recorded, never fatal to a build."""


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
