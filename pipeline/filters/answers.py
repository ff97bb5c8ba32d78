"""Final-answer extraction and numeric comparison for reasoning prompts.

Formats, in order of precedence: GSM8K's '#### N', LaTeX '\\boxed{...}', then the last number in the text.
Numbers are normalised before comparison: thousands separators, currency signs, units and percent signs
around them, LaTeX fractions, plain fractions, Unicode minus, and trailing zeros ('18.0' == '18')."""
from __future__ import annotations

import re
from fractions import Fraction

_NUM = r"[-−]?\$?\s*\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?"
_FRAC = re.compile(r"\\d?frac\{\s*([-−]?\d[\d,]*(?:\.\d+)?)\s*\}\{\s*(\d[\d,]*(?:\.\d+)?)\s*\}")
_HASHES = re.compile(r"####\s*([^\n]*)")
_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")
_ANY = re.compile(_NUM)


def _first_number(text: str) -> str | None:
    text = _FRAC.sub(lambda m: f"{m.group(1)}/{m.group(2)}", text)
    m = _ANY.search(text)
    return m.group(0) if m else None


def extract_final(text: str) -> str | None:
    """The final answer as written: the number after the last '####', else in the last \\boxed{}, else the last
    number anywhere."""
    text = text or ""
    for pattern in (_HASHES, _BOXED):
        found = pattern.findall(text)
        if found:
            return _first_number(found[-1])
    text = _FRAC.sub(lambda m: f"{m.group(1)}/{m.group(2)}", text)
    found = _ANY.findall(text)
    return found[-1] if found else None


def to_number(text: str | None) -> Fraction | None:
    if text is None:
        return None
    s = text.replace(",", "").replace("$", "").replace(" ", "").replace("−", "-").strip().rstrip(".")
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None


def reference_number(reference: str) -> Fraction | None:
    """A reference is either a bare number or a worked solution ending in '#### N' (GSM8K)."""
    bare = to_number(reference.strip().rstrip("%").strip())
    return bare if bare is not None else to_number(extract_final(reference))


def answers_match(answer: str, reference: str) -> bool | None:
    """True/False when both sides parse as numbers; None when the answer has no number."""
    got = to_number(extract_final(answer))
    want = reference_number(reference or "")
    if got is None or want is None:
        return None
    return got == want
