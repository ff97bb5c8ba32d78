"""gzip-compressed input files (`.jsonl.gz`, `.json.gz`, `.csv.gz`): many public datasets ship their rows so, and
a user should not have to unpack them first. The format is the suffix before `.gz`."""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import BinaryIO


def is_gzip(path: str | Path) -> bool:
    return str(path).lower().endswith(".gz")


def inner_suffix(path: str | Path) -> str:
    """The suffix that names the format: `.jsonl` for both `rows.jsonl` and `rows.jsonl.gz`."""
    name = Path(path).name.lower()
    return Path(name.removesuffix(".gz")).suffix


def open_binary(path: str | Path) -> BinaryIO:
    """The file's (decompressed) bytes as a stream; a corrupt gzip file raises OSError (gzip.BadGzipFile) or EOFError
    when read."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")  # noqa: SIM115 (the caller closes it)
