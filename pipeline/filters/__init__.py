"""Filters: each rejection keeps its stage and reason; nothing is dropped silently."""
from .chain import FILTER_NAMES, FilterOutcome, apply_filters

__all__ = ["FILTER_NAMES", "FilterOutcome", "apply_filters"]
