from .loader import SourceReport, load_prompts

__all__ = ["SourceReport", "load_prompts"]
