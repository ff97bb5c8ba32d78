from .retrieval import DEFAULT_RETRIEVAL, retrieval_method, search
from .rulebook import Rule, RuleBook, RuleBookError, load_rulebook
from .tool import TOOL_ERRORS, TOOL_NAME, ToolResult, consult_safety_rules, tool_schema

__all__ = ["DEFAULT_RETRIEVAL", "retrieval_method", "search", "Rule", "RuleBook", "RuleBookError",
           "load_rulebook", "TOOL_ERRORS", "TOOL_NAME", "ToolResult", "consult_safety_rules", "tool_schema"]
