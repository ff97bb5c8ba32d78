"""A secret value (API key) that never shows itself in a repr, a log line or an exception message, and the
scrubber for text that came back from elsewhere (an endpoint's error message may quote the caller's key, whole or
masked like `sk-ab****wxyz`)."""
from __future__ import annotations

import re

REDACTED = "[REDACTED]"


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__


def scrub(text: str, secret: str | None) -> str:
    """`text` with the secret and its usual masked forms (prefix...suffix with the middle starred or elided, or
    a run of mask characters before the last four) replaced. Short secrets are only replaced whole."""
    if not text or not secret:
        return text
    out = text.replace(secret, REDACTED)
    if len(secret) < 8:
        return out
    head, tail = re.escape(secret[:4]), re.escape(secret[-4:])
    out = re.sub(head + r"[^\s'\",;]*?" + tail, REDACTED, out)          # sk-a****wxyz, sk-ab...wxyz
    out = re.sub(r"[*•x.]{3,}" + tail + r"\b", REDACTED, out)           # ****wxyz
    out = re.sub(head + r"[^\s'\",;]*?[*•]{3,}[^\s'\",;]*", REDACTED, out)   # sk-ab****** (tail hidden too)
    return out


_KEY_PREFIX = re.compile(r"^(?:sk-|sk_|pk-|rk-|hf_|ghp_|gho_|github_pat_|xox[abp]-|AKIA|AIza|glpat-|r8_)")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def looks_like_key(value: str) -> bool:
    """A recipe's `api_key_env` should name a variable; this spots a key pasted there instead (a known key
    prefix, characters no variable name has, or a long mixed-case run of letters and digits)."""
    if _KEY_PREFIX.match(value) or not _ENV_NAME.match(value):
        return True
    mixed = any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value)
    return len(value) >= 24 and mixed and "_" not in value
