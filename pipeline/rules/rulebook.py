"""The rule book: categories of safety rules with stable ids. Its file hash is its version in provenance."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..util.yamlio import load_yaml

from ..util.hashing import sha256_file
from ..util.schemas import schema_errors

GENERAL = "general"  # rules that apply to every prompt in explicit mode


class RuleBookError(Exception):
    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("\n".join(f"{p}: {m}" for p, m in errors))


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    text: str


@dataclass(frozen=True)
class RuleBook:
    name: str
    version: str
    sha256: str
    categories: dict[str, str]            # category -> description
    rules: tuple[Rule, ...]
    # How the tool answers free-text queries (the recipe's `retrieval` block); set by the build.
    retrieval: dict = field(default_factory=dict, compare=False)

    def rules_for(self, category: str | None) -> list[Rule]:
        return [r for r in self.rules if r.category == category]

    def explicit_rules(self, category: str | None) -> list[Rule]:
        """Rules put into the explicit-mode system prompt: the general ones plus the prompt's category."""
        extra = self.rules_for(category) if category and category != GENERAL else []
        return self.rules_for(GENERAL) + extra

    @property
    def tool_categories(self) -> list[str]:
        return sorted(self.categories)

    @staticmethod
    def render(rules: list[Rule]) -> str:
        return "\n".join(f"[{r.id}] {r.text}" for r in rules)

    def as_dict(self) -> dict:
        return {"name": self.name, "version": self.version, "sha256": self.sha256}


def load_rulebook(path: str | Path) -> RuleBook:
    """Load and check a rule book; RuleBookError names each problem's field."""
    path = Path(path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as e:
        raise RuleBookError([("(file)", f"cannot read rule book {path}: {e}")])
    errors = schema_errors(data, "rulebook.schema.json")
    if errors:
        raise RuleBookError(errors)
    seen: dict[str, str] = {}
    rules = []
    for cat, body in data["categories"].items():
        for i, r in enumerate(body["rules"]):
            where = f"categories.{cat}.rules[{i}].id"
            if r["id"] in seen:
                errors.append((where, f"duplicate rule id {r['id']!r} (also in {seen[r['id']]})"))
            elif r["id"].split(".")[0] != cat:
                errors.append((where, f"rule id {r['id']!r} must start with its category {cat!r}"))
            seen[r["id"]] = f"categories.{cat}"
            rules.append(Rule(id=r["id"], category=cat, text=r["text"].strip()))
    if errors:
        raise RuleBookError(errors)
    return RuleBook(name=data["name"], version=str(data["version"]), sha256=sha256_file(path),
                    categories={c: b["description"] for c, b in data["categories"].items()}, rules=tuple(rules))
