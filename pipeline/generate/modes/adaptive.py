"""Adaptive safe context (ASCL): the teacher is offered consult_safety_rules and decides whether to call it.
No rules are in its context until it asks; the loop executes calls and returns the rules as tool messages."""
from __future__ import annotations

from typing import Any

from ...records import Prompt
from ...rules import RuleBook
from .templates import Templates


def adaptive_messages(prompt: Prompt, book: RuleBook, templates: Templates) -> list[dict[str, Any]]:
    system = templates.render("adaptive", categories=", ".join(book.tool_categories),
                              answer_format=templates.answer_format(prompt.kind))
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt.text}]
