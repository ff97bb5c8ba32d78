from .exact import DedupeResult, exact_dedupe, normalize
from .stage import deduplicate

__all__ = ["DedupeResult", "deduplicate", "exact_dedupe", "normalize"]
