"""The consult_safety_rules tool: its OpenAI schema and its execution against the rule book."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .rulebook import RuleBook

TOOL_NAME = "consult_safety_rules"


def tool_schema(book: RuleBook) -> dict[str, Any]:
    """OpenAI function-tool schema; stored with adaptive rows so a student sees the same tool."""
    return {
        "type": "function",
        "function": {
            "name": TOOL_NAME,
            "description": "Return the safety rules (with their ids) for one category.",
            "parameters": {
                "type": "object",
                "properties": {"category": {"type": "string", "enum": book.tool_categories}},
                "required": ["category"],
                "additionalProperties": False,
            },
        },
    }


@dataclass
class ToolResult:
    content: str
    rule_ids: list[str] = field(default_factory=list)
    error: str | None = None


def consult_safety_rules(book: RuleBook, name: str, arguments: Any) -> ToolResult:
    """Execute one call. Bad calls return an error message the teacher can read, never raise."""
    if name != TOOL_NAME:
        return ToolResult(content=f"Error: unknown tool {name!r}. The only tool is {TOOL_NAME}.",
                          error="unknown_tool")
    if not isinstance(arguments, dict) or not isinstance(arguments.get("category"), str):
        return ToolResult(content="Error: missing argument 'category'.", error="missing_argument")
    cat = arguments["category"].strip()
    rules = book.rules_for(cat)
    if not rules:
        return ToolResult(content=f"Error: unknown category {cat!r}. Known: {', '.join(book.tool_categories)}.",
                          error="unknown_category")
    return ToolResult(content=book.render(rules), rule_ids=[r.id for r in rules])
