"""Teacher system-prompt templates (string.Template files); their joint hash goes into every request key."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

from ...util.hashing import sha256_obj


@dataclass(frozen=True)
class Templates:
    texts: dict[str, str]

    @classmethod
    def load(cls, paths: dict[str, Path]) -> "Templates":
        return cls({k: Path(p).read_text(encoding="utf-8") for k, p in sorted(paths.items())})

    @property
    def sha256(self) -> str:
        return sha256_obj(self.texts)

    def render(self, name: str, **values: str) -> str:
        return Template(self.texts[name]).substitute(**values).strip()

    def answer_format(self, kind: str) -> str:
        return self.texts["answer_format_reasoning"].rstrip("\n") if kind == "reasoning" else ""
