"""Apply a build's judgement (response labels, the filter chain, the judge) to data produced elsewhere."""
from .inputs import InputError
from .run import audit_file, classify_file

__all__ = ["InputError", "audit_file", "classify_file"]
