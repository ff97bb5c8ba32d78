"""Traces someone else produced, turned into the pipeline's records so the build's own filters can judge them.

Accepted rows (JSONL, one object a line; CSV / TSV with a header, as public refusal evaluations often ship their
labelled completions; or Parquet / a Hub dataset):
- `prompt`, `kind` (harmful | benign | sensitive | reasoning), and either `response` (`<think>…</think>` then the
  answer) or `reasoning` + `answer`; optional `id`, `reference` (a reasoning
  prompt's answer; without one every check but correctness runs), `category`;
- or conversational rows with `messages` (user, assistant [with `reasoning_content` or a `<think>` block,
  `tool_calls`], tool, assistant) and `kind` or `prompt_kind`.
A row that does not fit is an InputError naming its line (1-based) and what is wrong: nothing is guessed. Other
datasets' column names are mapped explicitly (`--column prompt=question`), and a kind can be given for rows that
have none (`--kind sensitive`): public safety sets rarely say which kind their prompts are."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Iterator

from ..filters.citations import CITATION
from ..generate.protocol import THINK_CLOSE, THINK_OPEN, parse_turn, unthought_answer
from ..records import KINDS, Prompt, GenerationRecord, Request, ToolExchange
from ..util.compressed import inner_suffix, open_binary
from ..util.hashing import sha256_obj
from ..util.jsonrows import JSONArrayError, json_rows


class InputError(Exception):
    """Bad input to `ascl audit` / `ascl classify-responses`; the message names the line."""


Row = dict[str, Any]     # one input row as read: column -> value


def read_rows(path: str, skip_bad: bool = False) -> Iterator[tuple[int, Row | InputError]]:
    """(line number, row) for a JSON Lines file, a JSON file holding an array of objects (how many public sets ship,
    e.g. a teacher's traces as `[{"question": …, "output": …}, …]`), a CSV / TSV file, a Parquet file, or a Hub
    dataset id (`datasets`, split train). With `skip_bad`, a row that cannot be read (broken JSON, not an object, more
    cells than the header) comes as its InputError, in its place, and reading goes on; a file that cannot be read at
    all, or a JSON array that breaks off, is still an error."""
    p = Path(path)
    suffix = inner_suffix(p)        # `.jsonl` for rows.jsonl.gz too
    if suffix in (".csv", ".tsv"):
        yield from _read_delimited(p, skip_bad)
        return
    if suffix == ".parquet" or not (p.exists() or suffix in (".jsonl", ".json")):
        yield from _read_table(path)
        return
    if not p.is_file():
        raise InputError(f"{path}: not a file")
    try:
        with open_binary(p) as f:
            for n, row, problem in json_rows(f):
                yield n, row if problem is None else _bad(f"{path}:{n}: {problem.message}", skip_bad)
    except JSONArrayError as e:
        raise InputError(f"{path}:{e.line}: {e.message}") from None
    except (OSError, EOFError) as e:       # a corrupt or truncated .gz file
        raise InputError(f"{path}: cannot read ({e})") from None


def _bad(message: str, skip_bad: bool) -> InputError:
    """The error for a row that cannot be read: raised, or (with `skip_bad`) returned to stand in the row's place."""
    if not skip_bad:
        raise InputError(message)
    return InputError(message)


AUDIT_FIELDS = ("prompt", "kind", "response", "reasoning", "answer", "messages", "id", "reference", "category")
CLASSIFY_FIELDS = ("response", "prompt")


def parse_columns(pairs: list[str] | None, allowed: tuple[str, ...]) -> dict[str, str]:
    """`FIELD=COLUMN` pairs (FIELD: one of `allowed`) as {FIELD: COLUMN}; anything else is an InputError."""
    columns: dict[str, str] = {}
    for pair in pairs or []:
        field, sep, column = pair.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not column:
            raise InputError(f"--column {pair!r}: expected FIELD=COLUMN, e.g. prompt=question")
        if field not in allowed:
            raise InputError(f"--column {pair!r}: FIELD must be one of {', '.join(allowed)}")
        if field in columns:
            raise InputError(f"--column: {field!r} is mapped twice")
        columns[field] = column
    return columns


def mapped_rows(path: str, columns: dict[str, str] | None = None, kind: str | None = None,
                skip_bad: bool = False) -> Iterator[tuple[int, Row | InputError, Row | InputError]]:
    """(line number, the row as read, the row as the checks read it): each FIELD taken from its mapped COLUMN (a
    row without that column is an error naming both), and `kind` filled in where a row has none. With `skip_bad`, a
    row that cannot be read or mapped comes with its InputError as the view (see read_rows)."""
    if kind is not None and kind not in KINDS:
        raise InputError(f"--kind must be one of {', '.join(KINDS)} (got {kind!r})")
    columns = columns or {}
    for n, row in read_rows(path, skip_bad):
        if isinstance(row, InputError):
            yield n, row, row
            continue
        missing = [(f, c) for f, c in columns.items() if c not in row]
        if missing:
            field, column = missing[0]
            yield n, row, _bad(f"{path}:{n}: no column {column!r} (read as {field!r}); the row's columns: "
                               + ", ".join(map(str, row)), skip_bad)
            continue
        view = {k: v for k, v in row.items() if k not in columns}
        for field, column in columns.items():
            view[field] = row[column]
        if kind is not None and view.get("kind", view.get("prompt_kind")) is None:
            view["kind"] = kind
        yield n, row, view


def converted(path: str, convert, columns: dict[str, str] | None = None, kind: str | None = None,
              skip_bad: bool = False) -> list[tuple[Row | InputError, Any]]:
    """(the row as read, `convert(line, view)` or, with `skip_bad`, the InputError that stopped it) for every row in
    input order: how `ascl audit` and `ascl classify-responses` read a file, bad rows included in their place."""
    out = []
    for n, row, view in mapped_rows(path, columns, kind, skip_bad):
        if isinstance(view, InputError):
            out.append((row, view))
            continue
        try:
            out.append((row, convert(n, view)))
        except InputError as e:
            if not skip_bad:
                raise
            out.append((row, e))
    return out


def _read_delimited(p: Path, skip_bad: bool = False) -> Iterator[tuple[int, Row | InputError]]:
    """Rows of a CSV (or, by its suffix, tab-separated) file with a header line, each numbered by the file line it
    starts on, so an error names the line a user would open (a quoted answer may span many lines). Every value is a
    string, as the file gives it; a row with more cells than the header is an error, not a guess."""
    import csv

    if not p.is_file():
        raise InputError(f"{p}: no such file")
    csv.field_size_limit(2**31 - 1)      # a long answer is one cell; the default limit is 128 KiB
    delimiter = "\t" if inner_suffix(p) == ".tsv" else ","
    try:
        with io.TextIOWrapper(open_binary(p), encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, delimiter=delimiter)
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise InputError(f"{p}:1: no header line")
            start = reader.line_num + 1
            for cells in reader:
                n, start = start, reader.line_num + 1
                if not any(c.strip() for c in cells):
                    continue
                yield n, dict(zip(header, cells)) if len(cells) <= len(header) else \
                    _bad(f"{p}:{n}: {len(cells)} cells, but the header names {len(header)}", skip_bad)
    except UnicodeDecodeError as e:
        raise InputError(f"{p}: not UTF-8 text ({e})") from None
    except csv.Error as e:
        raise InputError(f"{p}:{reader.line_num}: not valid CSV ({e})") from None
    except (OSError, EOFError) as e:       # a corrupt or truncated .gz file
        raise InputError(f"{p}: cannot read ({e})") from None


def _read_table(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    p = Path(path)
    if p.suffix.lower() == ".parquet":
        if not p.is_file():
            raise InputError(f"{path}: no such file")
        import pyarrow.parquet as pq

        try:
            rows = pq.read_table(p).to_pylist()
        except Exception as e:   # pyarrow raises several types for a file that is not Parquet
            raise InputError(f"{path}: cannot read as Parquet ({e})") from None
        yield from enumerate(rows, 1)
        return
    from datasets import load_dataset

    try:
        ds = load_dataset(path, split="train")
    except Exception as e:
        raise InputError(f"{path}: not a file, and not a dataset `datasets` can load ({e})") from None
    yield from enumerate(ds, 1)


def _text(row: dict, key: str, where: str, required: bool = True) -> str | None:
    value = row.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: field {key!r} must be a non-empty string")
    return value


def _kind(row: dict, where: str) -> str:
    kind = row.get("kind", row.get("prompt_kind"))
    if kind not in KINDS:
        raise InputError(f"{where}: field 'kind' must be one of {', '.join(KINDS)} (got {kind!r})")
    return kind


def _record(row: dict, where: str, kind: str, prompt_text: str, texts: list[str],
            tools: list[ToolExchange], source: str) -> GenerationRecord:
    prompt = Prompt(id=sha256_obj({"kind": kind, "text": prompt_text}), text=prompt_text, kind=kind,
                    category=row.get("category"), source=source, reference=row.get("reference"))
    rid = str(row["id"]) if row.get("id") is not None else sha256_obj({"prompt": prompt_text, "kind": kind,
                                                                       "turns": texts})
    req = Request(id=rid, prompt=prompt, mode="adaptive" if tools else "explicit", messages=[], sampling={},
                  guard=None, max_tool_calls=len(tools), tool_categories=[])
    turns = [parse_turn(t, "stop", 0, 0) for t in texts]
    return GenerationRecord(id=rid, request=req, status="ok", error=None, turns=turns, tools=tools)


# Speaker names of the ShareGPT form (`{"from": "human", "value": …}`), in which many public SFT sets write their
# conversations (under `conversations`), mapped to the OpenAI roles the checks read.
_SPEAKERS = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "model": "assistant",
             "system": "system", "tool": "tool", "function": "tool", "observation": "tool"}


def _message(m: dict) -> dict:
    """One message in the OpenAI form: `role` (or ShareGPT's `from`), `content` (or `value`; a list of content parts
    is joined), and the reasoning under any of the names providers and datasets give it (`reasoning_content`,
    `reasoning`, `thinking`)."""
    role = m["role"] if "role" in m else _SPEAKERS.get(str(m.get("from", "")).strip().lower())
    content = m["content"] if "content" in m else m.get("value")
    if isinstance(content, list):
        content = "".join(part.get("text") or "" for part in content if isinstance(part, dict))
    reasoning = m.get("reasoning_content") or m.get("reasoning") or m.get("thinking")
    return {**m, "role": role, "content": content, "reasoning_content": reasoning}


def _from_messages(row: dict, where: str, kind: str, source: str, field: str = "messages") -> GenerationRecord:
    msgs = row[field]
    if not isinstance(msgs, list) or not msgs or not all(isinstance(m, dict) for m in msgs):
        raise InputError(f"{where}: field {field!r} must be a list of message objects")
    msgs = [_message(m) for m in msgs]
    users = [m for m in msgs if m.get("role") == "user"]
    if not users or not isinstance(users[0].get("content"), str):
        raise InputError(f"{where}: {field!r} has no user message")
    if len(users) > 1:
        # A trace here is one request and the turns that answer it (tool calls included). Reading a chat's later
        # exchanges as turns of the first would judge answers against the wrong request, so it is refused.
        raise InputError(f"{where}: {field!r} has {len(users)} user messages; a trace answers one request "
                         "(give each exchange as its own row)")
    texts, tools = [], []
    for m in msgs:
        role = m.get("role")
        if role == "assistant":
            content = m.get("content") or ""
            reasoning = m.get("reasoning_content")
            body = f"{THINK_OPEN}\n{reasoning}\n{THINK_CLOSE}\n{content}" if reasoning else content
            for call in m.get("tool_calls") or []:
                fn = call.get("function", {})
                body += f'\n<tool_call>{{"name": {json.dumps(fn.get("name"))}, "arguments": ' \
                        f'{fn.get("arguments") or "{}"}}}</tool_call>'
            texts.append(body)
        elif role == "tool":
            content = m.get("content") or ""
            tools.append(ToolExchange(call_id=m.get("tool_call_id") or "", name="consult_safety_rules",
                                      arguments={}, content=content, rule_ids=CITATION.findall(content), error=None))
    if not texts:
        raise InputError(f"{where}: {field!r} has no assistant message")
    return _record(row, where, kind, users[0]["content"], texts, tools, source)


def to_record(n: int, row: dict, source: str, answers_only: bool = False) -> GenerationRecord:
    """`answers_only`: a row may give an answer with no reasoning (a `response` without a thinking block, or an
    `answer` alone), as most public safety sets do; such a trace is judged on its answer alone (see
    _answer_only_turns). Otherwise a trace without reasoning is read as it is, and the structure check rejects it."""
    where = f"{source}:{n}"
    kind = _kind(row, where)
    # `conversations` is the ShareGPT form's name; a row that also gives a response keeps being read by that
    field = "messages" if row.get("messages") is not None else "conversations" if (
        row.get("conversations") is not None and not {"response", "reasoning", "answer"} & row.keys()) else None
    if field is not None:
        return _answer_only_turns(_from_messages(row, where, kind, source, field), answers_only)
    prompt = _text(row, "prompt", where)
    if "response" in row:
        text = _text(row, "response", where)
    elif answers_only and row.get("reasoning") is None and "answer" in row:
        text = _text(row, "answer", where)
    elif "reasoning" in row or "answer" in row:
        text = f"{THINK_OPEN}\n{_text(row, 'reasoning', where)}\n{THINK_CLOSE}\n{_text(row, 'answer', where)}"
    else:
        raise InputError(f"{where}: needs 'response', or 'reasoning' and 'answer', or 'messages' (or ShareGPT's "
                         "'conversations')")
    return _answer_only_turns(_record(row, where, kind, prompt, [text], [], source), answers_only)


def _answer_only_turns(record: GenerationRecord, answers_only: bool) -> GenerationRecord:
    """With `answers_only`, a turn that has no thinking block and no tool call becomes an answer without reasoning
    (reasoning None, the whole text its answer) instead of a `no_reasoning` parse error; the filters then skip
    what they read in the reasoning (FilterSettings.answers_only). So does a turn whose thinking block is empty:
    hybrid reasoning models with thinking switched off (Qwen3's `enable_thinking=False`) write "<think>\n\n</think>"
    before every answer, and such a set has no more reasoning than one without the tags."""
    if answers_only:
        for t in record.turns:
            if (text := unthought_answer(t)) is not None:
                t.parse_error, t.reasoning, t.answer = None, None, text
            elif t.parse_error is None and t.tool_call is None and t.reasoning is not None and not t.reasoning.strip():
                t.reasoning = None
    return record
