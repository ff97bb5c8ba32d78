"""Conversations through a provider's batch API, in rounds: each round sends one turn of every conversation still
going as one batch (explicit traces need one round; adaptive traces one more per tool call), then the pipeline
executes the tool calls and the next round continues those conversations. The turn-by-turn logic is the live
loop's (`loop.Conversation`, `loop.advance`), so a batch trace is the trace the live backend would have written.

Nothing is paid for twice. Every submitted batch is recorded in a ledger (`<generation cache>/batches/`) before
it is polled, with the sha256 of each request line it carries. A rerun after a kill finds each line it is about
to send in the ledger and waits for that batch instead; only lines the ledger lacks (or whose earlier batch
failed them: expired, errored) are submitted again. The request id is the `custom_id` of a conversation's first
turn; later turns append `.t<n>`."""
from __future__ import annotations

import asyncio
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..records import GenerationRecord, Request
from ..rules import RuleBook, tool_schema
from ..util.atomic import write_text
from ..util.hashing import sha256_obj
from .loop import Conversation, advance
from .teachers.base import Completion, TeacherError
from .teachers.openai_api import request_kwargs
from .teachers.openai_batch import BatchClient, batch_line


class BatchLedger:
    """`batches.jsonl`: one JSON line per submitted batch ({batch_id, input_file_id, digest, lines: {custom_id:
    body sha256}}), appended and fsynced as soon as the provider returns the batch id. `inputs/<digest>.jsonl`
    keeps each input file as uploaded, for inspection or to run offline with `vllm run-batch`."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / "batches.jsonl"

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:   # a line cut by a kill mid-append: that batch is found by metadata
                continue
        return out

    def lookup(self) -> dict[tuple[str, str], str]:
        """(custom_id, body sha256) -> the newest batch that carried that exact line."""
        found: dict[tuple[str, str], str] = {}
        for e in self.entries():
            for cid, sha in e["lines"].items():
                found[(cid, sha)] = e["batch_id"]
        return found

    def add(self, batch_id: str, file_id: str, digest: str, lines: dict[str, str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = json.dumps({"batch_id": batch_id, "input_file_id": file_id, "digest": digest, "lines": lines})
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(entry + "\n")
            f.flush()
            os.fsync(f.fileno())

    def save_input(self, digest: str, lines: list[dict[str, Any]]) -> Path:
        path = self.folder / "inputs" / f"{digest}.jsonl"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text(path, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
        return path


async def _round(client: BatchClient, ledger: BatchLedger, lines: dict[str, dict[str, Any]],
                 max_requests: int) -> dict[str, Completion | TeacherError]:
    """Outcomes of one round's lines: first from batches the ledger already has, the rest in new batches."""
    shas = {cid: sha256_obj(line["body"]) for cid, line in lines.items()}
    known = ledger.lookup()
    reuse: dict[str, list[str]] = defaultdict(list)
    for cid, sha in shas.items():
        if (bid := known.get((cid, sha))) is not None:
            reuse[bid].append(cid)
    results: dict[str, Completion | TeacherError] = {}

    async def adopt(bid: str, cids: list[str]) -> dict[str, Completion | TeacherError]:
        try:
            return await client.collect(bid, cids)
        except TeacherError:   # the provider no longer has it (deleted, unknown id): send those lines again
            return {}

    for done in await asyncio.gather(*(adopt(b, c) for b, c in reuse.items())):
        results.update({cid: r for cid, r in done.items() if isinstance(r, Completion)})

    fresh = [cid for cid in lines if cid not in results]
    chunks = [fresh[i:i + max_requests] for i in range(0, len(fresh), max_requests)]

    async def send(chunk: list[str]) -> dict[str, Completion | TeacherError]:
        body = [lines[c] for c in chunk]
        digest = sha256_obj(body)
        ledger.save_input(digest, body)
        try:
            return await client.run(body, digest, lambda bid, fid: ledger.add(bid, fid, digest,
                                                                              {c: shas[c] for c in chunk}))
        except TeacherError as e:   # the whole batch could not be sent or read: each line fails with the reason
            return {c: e for c in chunk}

    for done in await asyncio.gather(*(send(c) for c in chunks)):
        results.update(done)
    return results


async def run_batched(client: BatchClient, requests: list[Request], book: RuleBook, ledger: BatchLedger,
                      native_tools: bool = False, max_requests: int = 50_000) -> list[GenerationRecord]:
    """Every request to completion (or failure) in batch rounds; one GenerationRecord each, in input order."""
    tools = [tool_schema(book)] if native_tools else None
    states = [Conversation(req=r, messages=[dict(m) for m in r.messages]) for r in requests]
    while pending := [s for s in states if not s.done]:
        lines: dict[str, dict[str, Any]] = {}
        owner: dict[str, Conversation] = {}
        for s in pending:
            offer = tools if s.calls_left() else None
            cid = s.req.id if not s.turns else f"{s.req.id}.t{len(s.turns)}"
            kwargs = request_kwargs(client.model, client.api, s.messages, s.req.sampling, s.regex(), offer)
            lines[cid], owner[cid] = batch_line(cid, kwargs), s
        results = await _round(client, ledger, lines, max_requests)
        for cid, s in owner.items():
            r = results[cid]
            if isinstance(r, TeacherError):
                s.fail(r)
            else:
                advance(s, r, book)
    info = client.info()
    return [s.record(info) for s in states]
