"""Final-answer extraction and numeric comparison for reasoning prompts."""
from __future__ import annotations

import re
from fractions import Fraction

_NUM = r"-?\$?\s*\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?"
_HASHES = re.compile(r"####\s*(" + _NUM + ")")
_BOXED = re.compile(r"\\boxed\{\s*(" + _NUM + r")\s*\}")
_ANY = re.compile(_NUM)


def extract_final(text: str) -> str | None:
    """The final answer: the last '#### N', else the last \\boxed{N}, else the last number."""
    for pattern in (_HASHES, _BOXED, _ANY):
        found = pattern.findall(text or "")
        if found:
            return found[-1]
    return None


def to_number(text: str | None) -> Fraction | None:
    if text is None:
        return None
    s = text.replace(",", "").replace("$", "").replace(" ", "").strip().rstrip(".")
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None


def answers_match(answer: str, reference: str) -> bool | None:
    """True/False when both sides parse as numbers; None when the answer has no number."""
    got = to_number(extract_final(answer))
    want = to_number(extract_final(reference)) if not re.fullmatch(_NUM, reference.strip()) else to_number(reference)
    if got is None or want is None:
        return None
    return got == want
