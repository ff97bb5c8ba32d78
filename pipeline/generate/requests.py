"""Turn prompts x modes into content-addressed requests. The id is the sha256 of everything that determines
the teacher's output, so it is at once the cache key, the resume filter and the row id."""
from __future__ import annotations

from ..recipe import Recipe
from ..records import Prompt, Request
from ..rules import RuleBook
from ..util.hashing import derived_seed, sha256_obj
from .modes import BUILDERS
from .modes.templates import Templates
from .protocol import guard_regexes


def build_requests(recipe: Recipe, prompts: list[Prompt], book: RuleBook, templates: Templates,
                   model_revision: str | None, sample: int = 0, modes: tuple[str, ...] | None = None) -> list[Request]:
    """One request per prompt and mode; `sample` > 0 asks for another independent sample (rejection sampling),
    which differs from sample 0 only in its seed."""
    out = []
    for prompt in prompts:
        for mode in modes or recipe.modes:
            messages = BUILDERS[mode](prompt, book, templates)
            # A per-request seed makes each output independent of batch composition and worker count.
            seed = derived_seed(recipe.seed, prompt.id, mode) if sample == 0 else \
                derived_seed(recipe.seed, prompt.id, mode, sample)
            sampling = {**recipe.teacher.sampling, "seed": seed}
            guard = guard_regexes(recipe.guard, prompt.kind, book.tool_categories) if recipe.guard.enabled else None
            max_calls = recipe.max_tool_calls if mode == "adaptive" else 0
            key = {"messages": messages, "model": recipe.teacher.model, "revision": model_revision,
                   "sampling": sampling, "template_hash": templates.sha256, "rulebook_hash": book.sha256,
                   "mode": mode, "guard": guard, "max_tool_calls": max_calls}
            if mode == "adaptive":   # tool results depend on how queries are answered
                key["retrieval"] = book.retrieval
            if sample:
                key["sample"] = sample
            out.append(Request(id=sha256_obj(key), prompt=prompt, mode=mode, messages=messages,
                               sampling=sampling, guard=guard, max_tool_calls=max_calls,
                               tool_categories=book.tool_categories, sample=sample))
    return out
