"""LLM judge: rubric scores and the LLM variant of the refusal classifier, through any teacher backend."""
from .stages import JudgeStages, token_stats

__all__ = ["JudgeStages", "token_stats"]
