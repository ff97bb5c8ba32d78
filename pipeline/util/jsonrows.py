"""Rows of a JSON file, JSON Lines or one array of objects, each with the line it starts on.

Both the build's prompt sources and `ascl audit` read these, with one difference: a build skips and counts a row it
cannot read, the audit names it (or, with --skip-bad-rows, reports it in its place). So this module reads and says
what is wrong with a row; the callers decide what that means. Many public sets ship one array (a teacher's traces as
`[{"question": …, "output": …}, …]`, often pretty-printed); the line numbers let an error name the line a user would
open, as JSON Lines and CSV errors do, rather than a character offset into a long array."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterator

BOM = b"\xef\xbb\xbf"


class JSONArrayError(ValueError):
    """The array is not valid JSON from `line` on; nothing after that point can be read."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line, self.message = line, message


@dataclass(frozen=True)
class RowProblem:
    """Why a row is unusable: `kind` for a build's counts (undecodable, malformed_row), `message` for a person."""
    kind: str
    message: str


def json_rows(f: BinaryIO) -> Iterator[tuple[int, dict[str, Any] | None, RowProblem | None]]:
    """(line, row, None) for each JSON object in the stream, or (line, None, problem) for a row that is not one. JSON
    Lines are read line by line (blank lines skipped, still counted); a stream that opens with `[` is read whole, as
    one array, and a JSONArrayError ends it where it stops being valid."""
    if is_array(f.read(4096)):
        f.seek(0)
        for n, item in array_items(decode(f.read())):
            yield (n, item, None) if isinstance(item, dict) else \
                (n, None, RowProblem("malformed_row", "an item of the array is not a JSON object"))
        return
    f.seek(0)
    for n, raw in enumerate(f, 1):
        raw = raw.removeprefix(BOM) if n == 1 else raw
        if not raw.strip():
            continue
        try:
            row = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            yield n, None, RowProblem("undecodable", f"not a JSON object ({e})")
            continue
        except json.JSONDecodeError as e:
            hint = ("; the file looks like one JSON object over several lines: give JSON Lines (one object a line) "
                    "or a JSON array of objects") if n == 1 and raw.strip() == b"{" else ""
            yield n, None, RowProblem("malformed_row", f"not a JSON object ({e}){hint}")
            continue
        yield (n, row, None) if isinstance(row, dict) else (n, None, RowProblem("malformed_row", "not a JSON object"))


def is_array(data: bytes) -> bool:
    """Whether a file's bytes hold a JSON array (perhaps after a byte-order mark) rather than JSON Lines."""
    return data.removeprefix(BOM).lstrip()[:1] == b"["


def decode(data: bytes) -> str:
    """The array file's text; a JSONArrayError naming the line of the first byte that is not UTF-8."""
    try:
        return data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as e:
        raise JSONArrayError(data.count(b"\n", 0, e.start) + 1, f"not UTF-8 text ({e.reason})") from None


def array_items(text: str) -> Iterator[tuple[int, Any]]:
    """(line the item starts on, item) for each item of the array `text`, read lazily; a JSONArrayError where the
    text stops being a valid array (broken JSON, a missing comma, text after the closing bracket)."""
    decoder = json.JSONDecoder()
    i, line, counted = text.index("[") + 1, 1, 0

    def skip(i: int) -> int:
        while i < len(text) and text[i].isspace():
            i += 1
        return i

    def line_at(i: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, i)
        counted = i
        return line

    i = skip(i)
    if text.startswith("]", i):
        i = skip(i + 1)
    else:
        while True:
            n = line_at(i)
            try:
                item, i = decoder.raw_decode(text, i)
            except json.JSONDecodeError as e:
                raise JSONArrayError(e.lineno, f"not valid JSON ({e.msg})") from None
            yield n, item
            i = skip(i)
            if text.startswith(",", i):
                i = skip(i + 1)
                continue
            if text.startswith("]", i):
                i = skip(i + 1)
                break
            raise JSONArrayError(line_at(i), "expected ',' or ']' after an item of the array")
    if i < len(text):
        raise JSONArrayError(line_at(i), "text after the end of the JSON array")
