"""Explicit rules (the context-distillation baseline): the category's rules go into the system prompt.
The training row later drops this system prompt and keeps only user prompt + reasoning + answer."""
from __future__ import annotations

from typing import Any

from ...records import Prompt
from ...rules import RuleBook
from .templates import Templates


def explicit_messages(prompt: Prompt, book: RuleBook, templates: Templates) -> list[dict[str, Any]]:
    system = templates.render("explicit", rules=book.render(book.explicit_rules(prompt.category)),
                              answer_format=templates.answer_format(prompt.kind))
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt.text}]
