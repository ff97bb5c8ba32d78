"""The consult_safety_rules tool: its OpenAI schema and its execution against the rule book.

A call names a category (all of its rules), a free-text query (the closest rules by retrieval), or both (the
closest rules within the category). Bad calls return an error message the teacher can read and recover from;
the error is recorded with the exchange, never raised."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .retrieval import DEFAULT_RETRIEVAL, search
from .rulebook import RuleBook

TOOL_NAME = "consult_safety_rules"
MAX_QUERY_CHARS = 500
TOOL_ERRORS = ("unknown_tool", "bad_arguments", "missing_argument", "unknown_category", "empty_query",
               "malformed_tool_call")


def tool_schema(book: RuleBook) -> dict[str, Any]:
    """OpenAI function-tool schema; stored with adaptive rows so a student sees the same tool."""
    return {
        "type": "function",
        "function": {
            "name": TOOL_NAME,
            "description": ("Look up the safety rules (with their ids) that apply to a request. Give a category, "
                            "a short description of the request as query, or both."),
            "parameters": {
                "type": "object",
                "properties": {
                    "category": {"type": "string", "enum": book.tool_categories,
                                 "description": "Return every rule of this category."},
                    "query": {"type": "string", "maxLength": MAX_QUERY_CHARS,
                              "description": "Free text; returns the closest rules."},
                },
                "additionalProperties": False,
            },
        },
    }


@dataclass
class ToolResult:
    content: str
    rule_ids: list[str] = field(default_factory=list)
    error: str | None = None


def _error(kind: str, message: str) -> ToolResult:
    return ToolResult(content=f"Error: {message}", error=kind)


def consult_safety_rules(book: RuleBook, name: str, arguments: Any) -> ToolResult:
    """Execute one call. Never raises."""
    known = ", ".join(book.tool_categories)
    if name != TOOL_NAME:
        return _error("unknown_tool", f"unknown tool {name!r}. The only tool is {TOOL_NAME}.")
    if not isinstance(arguments, dict) or set(arguments) - {"category", "query"}:
        return _error("bad_arguments", "arguments must be an object with 'category' and/or 'query'.")
    cat, query = arguments.get("category"), arguments.get("query")
    if cat is None and query is None:
        return _error("missing_argument", f"give 'category' (one of: {known}) or 'query'.")
    if (cat is not None and not isinstance(cat, str)) or (query is not None and not isinstance(query, str)):
        return _error("bad_arguments", "'category' and 'query' must be strings.")
    if cat is not None:
        cat = cat.strip()
        if not book.rules_for(cat):
            return _error("unknown_category", f"unknown category {cat!r}. Known: {known}.")
    if query is not None:
        query = query.strip()[:MAX_QUERY_CHARS]
        if not query:
            return _error("empty_query", "the query is empty. Describe the request in a few words.")
        hits, _ = search(book, query, {**DEFAULT_RETRIEVAL, **book.retrieval}, category=cat)
        if not hits:
            return ToolResult(content="No rule matched the query closely. Categories: " + known + ".")
        rules = [h.rule for h in hits]
    else:
        rules = book.rules_for(cat)
    return ToolResult(content=book.render(rules), rule_ids=[r.id for r in rules])
