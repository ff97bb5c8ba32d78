from .rulebook import Rule, RuleBook, RuleBookError, load_rulebook
from .tool import TOOL_NAME, ToolResult, consult_safety_rules, tool_schema

__all__ = ["Rule", "RuleBook", "RuleBookError", "load_rulebook", "TOOL_NAME", "ToolResult",
           "consult_safety_rules", "tool_schema"]
