"""Filters: each rejection keeps its stage and reason; nothing is dropped silently."""
from .chain import FILTER_NAMES, apply_filters

__all__ = ["FILTER_NAMES", "apply_filters"]
