"""Filters: each rejection keeps its stage and reason; nothing is dropped silently."""
from .chain import FilterOutcome, apply_filters

__all__ = ["FilterOutcome", "apply_filters"]
