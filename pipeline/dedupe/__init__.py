from .exact import DedupeResult, exact_dedupe, normalize

__all__ = ["DedupeResult", "exact_dedupe", "normalize"]
