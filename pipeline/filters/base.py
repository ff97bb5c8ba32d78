"""Base class for a filter. A filter returns None to pass a record, or the reason it rejects it."""
from __future__ import annotations

from ..records import GenerationRecord


class Filter:
    name: str = ""          # key in the row's verdicts and in the recipe's filters block
    stage: str = ""         # funnel stage its rejections count under

    def applies(self, record: GenerationRecord) -> bool:
        return True

    def check(self, record: GenerationRecord) -> str | None:
        raise NotImplementedError
