"""JSON Schema checks against the project's schemas (pipeline.resources), with errors as (field path, message) pairs."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ..resources import schema_dir


@lru_cache(maxsize=None)
def _validator(name: str):
    from jsonschema import Draft202012Validator

    return Draft202012Validator(json.loads((schema_dir() / name).read_text()))


def field_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(root)"


def schema_errors(data: Any, schema_name: str) -> list[tuple[str, str]]:
    """Every violation of schemas/<schema_name>, sorted by field path."""
    errs = sorted(_validator(schema_name).iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [(field_path(e.absolute_path), e.message) for e in errs]
