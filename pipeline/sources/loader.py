"""Prompt sources: read rows, validate each one, count what was skipped and why, sample with a seed."""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..recipe import Recipe, SourceSpec
from ..records import KINDS, Prompt
from ..rules import RuleBook
from ..util.hashing import derived_seed, sha256_obj
from .readers import BAD, iter_rows


@dataclass
class SourceReport:
    read: int = 0
    skipped: Counter = field(default_factory=Counter)      # reason -> rows
    not_sampled: int = 0
    per_source: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def used(self) -> int:
        return self.read - sum(self.skipped.values()) - self.not_sampled


def _text(value: Any) -> tuple[str | None, str | None]:
    """(text, reason it is unusable)."""
    if value is None:
        return None, "missing"
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None, "undecodable"
    if not isinstance(value, str):
        return None, "not_a_string"
    if "\ufffd" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        return None, "undecodable"
    value = value.strip()
    return (value, None) if value else (None, "empty")


def _validate(row: dict[str, Any], spec: SourceSpec, book: RuleBook, limit: int) -> tuple[Prompt | None, str | None]:
    if BAD in row:
        return None, row[BAD]
    text, why = _text(row.get(spec.column("prompt")))
    if why:
        return None, why
    if len(text) > limit:
        return None, "too_long"
    kind = spec.kind
    if kind == "per_row":
        kind = row.get(spec.column("kind"))
        if kind not in KINDS:
            return None, "bad_kind"
    category = row.get(spec.column("category")) or spec.category
    if category is not None and (not isinstance(category, str) or category not in book.categories):
        return None, "unknown_category"
    reference = row.get(spec.column("reference"))
    if kind == "reasoning":
        if reference is None or str(reference).strip() == "":
            return None, "missing_reference"
        reference = str(reference).strip()
    else:
        reference = None
    return Prompt(id=sha256_obj([kind, text]), text=text, kind=kind, category=category, source=spec.name,
                  reference=reference), None


def load_prompts(recipe: Recipe, book: RuleBook) -> tuple[list[Prompt], SourceReport]:
    """All valid prompts of the recipe's sources, in a stable order, and a report of what was skipped."""
    report = SourceReport()
    seen: set[str] = set()
    prompts: list[Prompt] = []
    for spec in recipe.sources:
        valid: list[Prompt] = []
        counts = Counter()
        for row in iter_rows(spec):
            counts["read"] += 1
            prompt, why = _validate(row, spec, book, recipe.max_prompt_chars)
            if prompt is not None and prompt.id in seen:
                prompt, why = None, "duplicate_prompt"
            if why:
                report.skipped[why] += 1
                counts[f"skipped_{why}"] += 1
                continue
            seen.add(prompt.id)
            valid.append(prompt)
        if spec.sample is not None and spec.sample < len(valid):
            rng = random.Random(derived_seed(recipe.seed, "sample", spec.name))
            keep = sorted(rng.sample(range(len(valid)), spec.sample))
            counts["not_sampled"] = len(valid) - len(keep)
            report.not_sampled += len(valid) - len(keep)
            valid = [valid[i] for i in keep]
        counts["used"] = len(valid)
        report.read += counts["read"]
        report.per_source[spec.name] = dict(counts)
        prompts.extend(valid)
    return prompts, report
