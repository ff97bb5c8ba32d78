"""Row readers. Hub datasets, CSV and Parquet go through `datasets`; JSONL is read line by line so that one
bad line (invalid UTF-8, broken JSON, mixed types) is skipped and counted instead of failing the file; a `.json` /
`.jsonl` file holding one JSON array of objects is read item by item, with the same counts; any of them may be
gzip-compressed (`rows.jsonl.gz`)."""
from __future__ import annotations

from typing import Any, Iterator

from ..recipe import SourceSpec
from ..util.compressed import open_binary
from ..util.jsonrows import json_rows

BAD = "__ascl_bad_row__"   # marker key for rows that could not be read at all


def iter_rows(spec: SourceSpec) -> Iterator[dict[str, Any]]:
    if spec.dataset is not None:
        yield from _iter_datasets(spec)
    elif spec.format == "jsonl":
        yield from _iter_jsonl(spec)
    else:
        yield from _iter_datasets(spec)


def _iter_jsonl(spec: SourceSpec) -> Iterator[dict[str, Any]]:
    """JSON Lines, streamed line by line, or (for a file that opens with `[`) a JSON array of objects, read whole.
    An item of an array that is not an object is a bad row like a broken line; an array that stops being valid JSON
    cannot be read past that point, so it is an error naming the line (the loader reports it as the source's,
    before any teacher call)."""
    with open_binary(spec.path) as f:
        for _, row, problem in json_rows(f):
            yield row if problem is None else {BAD: problem.kind}


def _iter_datasets(spec: SourceSpec) -> Iterator[dict[str, Any]]:
    import datasets

    if spec.dataset is not None:
        ds = datasets.load_dataset(spec.dataset, spec.config, split=spec.split, revision=spec.revision)
    elif spec.format == "csv":
        # Undecodable bytes become U+FFFD, which row validation then counts as undecodable.
        ds = datasets.load_dataset("csv", data_files=str(spec.path), split="train", encoding_errors="replace",
                                   keep_default_na=False)
    else:
        ds = datasets.load_dataset("parquet", data_files=str(spec.path), split="train")
    yield from ds
