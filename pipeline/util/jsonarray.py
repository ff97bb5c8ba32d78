"""Reading a JSON file that holds one array of objects, item by item, with the line each item starts on.

Many public sets ship this way (a teacher's traces as `[{"question": …, "output": …}, …]`, often
pretty-printed), so both the build's prompt sources and `ascl audit` accept it beside JSON Lines. The line numbers let an error name the
line a user would open, as JSON Lines and CSV errors do, rather than a character offset into a long array."""
from __future__ import annotations

import json
from typing import Any, Iterator

BOM = b"\xef\xbb\xbf"


class JSONArrayError(ValueError):
    """The array is not valid JSON from `line` on; nothing after that point can be read."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line, self.message = line, message


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
