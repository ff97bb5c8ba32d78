"""Prompt sources: read rows, validate each one, count what was skipped and why, sample with a seed."""
from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..recipe import Recipe, RecipeError, SourceSpec
from ..records import KINDS, Prompt
from ..rules import RuleBook
from ..util.hashing import derived_seed, sha256_obj
from .readers import BAD, iter_rows


# NUL and other C0 controls (tab, newline, carriage return are text), and the special tokens of common chat
# templates: in a prompt they would forge turns in the teacher's context and reach the training rows.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TEMPLATE_TOKEN = re.compile(r"<\|(?:im_start|im_end|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|"
                             r"system|user|assistant|end)\|>|\[/?INST\]|<</?SYS>>|<start_of_turn>|<end_of_turn>")


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
    if _CONTROL.search(text):
        return None, "control_characters"
    if _TEMPLATE_TOKEN.search(text):
        return None, "chat_template_tokens"
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


def _rows(spec: SourceSpec, i: int):
    """The source's rows; a file `datasets` cannot read (an empty or header-only CSV, a broken Parquet file, a
    truncated .gz) is a recipe error naming the source and the file, not a traceback."""
    try:
        yield from iter_rows(spec)
    except (OSError, EOFError, ValueError, KeyError, TypeError) as e:
        where = spec.path or spec.dataset
        raise RecipeError([(f"sources[{i}]", f"source {spec.name!r}: cannot read {where}: "
                                             f"{type(e).__name__}: {e}")]) from None
    except Exception as e:   # datasets and pyarrow raise their own error types for unreadable files
        if type(e).__module__.split(".")[0] not in ("datasets", "pyarrow", "pandas"):
            raise
        raise RecipeError([(f"sources[{i}]", f"source {spec.name!r}: cannot read {spec.path or spec.dataset}: "
                                             f"{type(e).__name__}: {e}")]) from None


def _check_usable(spec: SourceSpec, i: int, counts: Counter, columns: set[str], valid: list[Prompt]) -> None:
    """A source that yields nothing is a mistake in the recipe or the file, not a build of zero rows: say which
    before any teacher call. A configured column no row has is named."""
    wanted = {"prompt": spec.column("prompt")}
    if spec.kind == "per_row":
        wanted["kind"] = spec.column("kind")
    for key in ("category", "reference"):
        if key in spec.columns:
            wanted[key] = spec.columns[key]
    if spec.kind == "reasoning":
        wanted["reference"] = spec.column("reference")
    where = spec.path or spec.dataset
    if counts["read"] and columns:
        missing = [f"{k} column {c!r}" for k, c in wanted.items() if c not in columns]
        if missing:
            raise RecipeError([(f"sources[{i}].columns", f"source {spec.name!r}: {', '.join(missing)} not in "
                                                         f"{where} (its columns: {', '.join(sorted(columns))})")])
    if not valid:
        why = ", ".join(f"{k[len('skipped_'):]} {n}" for k, n in sorted(counts.items()) if k.startswith("skipped_"))
        raise RecipeError([(f"sources[{i}]", f"source {spec.name!r} has no usable rows in {where} "
                                             f"({counts['read']} read{'; skipped: ' + why if why else ''})")])


def load_prompts(recipe: Recipe, book: RuleBook) -> tuple[list[Prompt], SourceReport]:
    """All valid prompts of the recipe's sources, in a stable order, and a report of what was skipped."""
    report = SourceReport()
    seen: set[str] = set()
    prompts: list[Prompt] = []
    for i, spec in enumerate(recipe.sources):
        valid: list[Prompt] = []
        counts = Counter()
        columns: set[str] = set()
        for row in _rows(spec, i):
            counts["read"] += 1
            columns.update(k for k in row if k != BAD)
            prompt, why = _validate(row, spec, book, recipe.max_prompt_chars)
            if prompt is not None and prompt.id in seen:
                prompt, why = None, "duplicate_prompt"
            if why:
                report.skipped[why] += 1
                counts[f"skipped_{why}"] += 1
                continue
            seen.add(prompt.id)
            valid.append(prompt)
        _check_usable(spec, i, counts, columns, valid)
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
