"""Thin adapter around the OpenAI batch API (`files` + `batches` of `openai.AsyncOpenAI`), for providers and
servers that take a JSONL file of chat-completion requests and answer within a completion window at a discount.

One call, `run(lines)`: upload the lines as a batch input file, create one batch, poll it with exponential
backoff until it ends, download its output and error files and map every result back by `custom_id`. Each
line's outcome is a Completion or a TeacherError (a per-line error, an expired or cancelled line, a batch that
failed validation). Submissions go through `on_submit` before polling starts, so the caller can save the batch
id first; `find(digest)` finds a batch already created for the same input (by the metadata every batch carries),
which closes the gap between creating a batch and saving its id."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Awaitable, Callable

from ...util.secret import Secret, scrub
from .base import Completion, TeacherError
from .openai_api import parse_completion, retry_after_seconds

log = logging.getLogger("ascl.batch")
ENDPOINT = "/v1/chat/completions"
TERMINAL = ("completed", "expired", "cancelled", "failed")
METADATA_KEY = "ascl_input_sha256"
_FATAL_STATUS = (401, 403, 404)


def batch_line(custom_id: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """One line of a batch input file: the live backend's request arguments, `extra_body` merged into the body
    (that is what the HTTP client would send)."""
    body = {k: v for k, v in kwargs.items() if k != "extra_body"}
    body.update(kwargs.get("extra_body") or {})
    return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}


def outcomes(lines: list[dict[str, Any]], wanted: list[str], batch_id: str = "offline", status: str = "completed",
             batch_errors: list[str] = (), secret: str | None = None) -> dict[str, Completion | TeacherError]:
    """Result lines (a provider's output and error files, or `vllm run-batch` output) -> each wanted custom_id's
    outcome: a Completion for a 200 line, else a TeacherError saying why (the line's error, expiry,
    cancellation, the batch's own failure, or no line at all)."""
    from openai.types.chat import ChatCompletion

    out: dict[str, Completion | TeacherError] = {}
    for line in lines:
        cid = line.get("custom_id")
        response, error = line.get("response") or {}, line.get("error")
        code = response.get("status_code")
        if error or code != 200:
            body = response.get("body") or {}
            message = (error or {}).get("message") or (body.get("error") or {}).get("message") or "no message"
            kind = (error or {}).get("code") or f"HTTP {code}"
            out[cid] = TeacherError(f"batch {batch_id}: {kind}: {scrub(str(message), secret)[:300]}",
                                    fatal=code in _FATAL_STATUS)
            continue
        try:
            out[cid] = parse_completion(ChatCompletion.model_validate(response["body"]))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
            out[cid] = TeacherError(f"batch {batch_id}: unparseable reply: {type(e).__name__}: "
                                    f"{scrub(str(e), secret)[:300]}")
    why = {"expired": "expired: the completion window ended before this request ran",
           "cancelled": "cancelled before this request ran"}.get(status)
    if status == "failed":
        why = "the batch failed validation: " + "; ".join(scrub(m, secret) for m in batch_errors[:3])
    for cid in wanted:
        if cid not in out:
            out[cid] = TeacherError(f"batch {batch_id}: {why or 'no result for this request'}")
    return out


class BatchClient:
    def __init__(self, model: str, revision: str | None, api: dict[str, Any], api_key: Secret | None = None):
        import openai

        self.api, self.model, self.revision = api, model, revision
        self._secret = api_key.reveal() if api_key else None
        self._openai = openai
        # max_retries=0: tenacity below owns retrying. Uploads and downloads of large files get a long timeout.
        self.client = openai.AsyncOpenAI(base_url=api["base_url"], api_key=self._secret or "not-needed",
                                         max_retries=0, timeout=max(api["timeout_s"], 600.0))

    def info(self) -> dict[str, Any]:
        return {"model": self.model, "revision": self.revision, "engine": "openai-batch",
                "engine_version": f"openai-python {self._openai.__version__}"}

    async def aclose(self) -> None:
        await self.client.close()

    # -- calls with retries ----------------------------------------------------------------------------
    def _short(self, e: BaseException, limit: int = 300) -> str:
        return scrub(str(e).replace("\n", " "), self._secret)[:limit]

    async def _call(self, what: str, fn: Callable[[], Awaitable[Any]]) -> Any:
        """One files/batches call, retried on the transient errors (429, timeouts, connection, 5xx) like the live
        backend; anything else is fatal for the whole batch (bad key, unknown endpoint, rejected file)."""
        from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

        o = self._openai
        transient = (o.RateLimitError, o.APITimeoutError, o.APIConnectionError, o.InternalServerError)

        def wait(state) -> float:
            if (ra := retry_after_seconds(state.outcome.exception())) is not None:
                return min(ra, self.api["max_backoff_s"])
            return wait_random_exponential(multiplier=self.api["backoff_s"], max=self.api["max_backoff_s"])(state)

        try:
            async for attempt in AsyncRetrying(retry=retry_if_exception_type(transient), wait=wait, reraise=True,
                                               stop=stop_after_attempt(self.api["max_retries"] + 1)):
                with attempt:
                    return await fn()
        except o.APIError as e:
            status = getattr(e, "status_code", None)
            raise TeacherError(f"batch API {what} failed: {type(e).__name__}"
                               f"{f' (HTTP {status})' if status else ''}: {self._short(e)}", fatal=True) from e

    # -- the batch life cycle --------------------------------------------------------------------------
    async def find(self, digest: str, max_pages: int = 10) -> str | None:
        """The newest usable batch created for this input (same metadata digest), if the provider lists one."""
        async def scan() -> str | None:
            pages = 0
            page = await self.client.batches.list(limit=100)
            while True:
                for b in page.data:
                    if (b.metadata or {}).get(METADATA_KEY) == digest and b.status not in ("failed", "cancelled",
                                                                                          "expired"):
                        return b.id
                pages += 1
                if pages >= max_pages or not page.has_next_page():
                    return None
                page = await page.get_next_page()
        return await self._call("list", scan)

    async def submit(self, lines: list[dict[str, Any]], digest: str) -> tuple[str, str]:
        """Upload `lines` and create one batch; returns (batch id, input file id)."""
        data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
        upload = await self._call("upload", lambda: self.client.files.create(
            file=(f"ascl-{digest[:16]}.jsonl", data, "application/jsonl"), purpose="batch"))
        batch = await self._call("create", lambda: self.client.batches.create(
            input_file_id=upload.id, endpoint=ENDPOINT, completion_window=self.api["completion_window"],
            metadata={METADATA_KEY: digest}))
        log.info("submitted batch %s: %d requests", batch.id, len(lines))
        return batch.id, upload.id

    async def wait(self, batch_id: str):
        """Poll until the batch ends, backing off from poll_interval_s to max_poll_interval_s."""
        delay, last = self.api["poll_interval_s"], None
        while True:
            batch = await self._call("poll", lambda: self.client.batches.retrieve(batch_id))
            if batch.status != last:
                counts = batch.request_counts
                log.info("batch %s: %s (%s of %s done)", batch_id, batch.status,
                         getattr(counts, "completed", "?"), getattr(counts, "total", "?"))
                last = batch.status
            if batch.status in TERMINAL:
                return batch
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, self.api["max_poll_interval_s"])

    async def _download(self, file_id: str | None) -> list[dict[str, Any]]:
        if not file_id:
            return []
        content = await self._call("download", lambda: self.client.files.content(file_id))
        return [json.loads(x) for x in content.text.splitlines() if x.strip()]

    async def results(self, batch, wanted: list[str]) -> dict[str, Completion | TeacherError]:
        """Every wanted custom_id's outcome in a finished batch (see `outcomes`)."""
        lines = await self._download(batch.output_file_id) + await self._download(batch.error_file_id)
        errs = getattr(getattr(batch, "errors", None), "data", None) or []
        return outcomes(lines, wanted, batch.id, batch.status, [str(getattr(e, "message", e)) for e in errs],
                        self._secret)

    async def run(self, lines: list[dict[str, Any]], digest: str,
                  on_submit: Callable[[str, str], None]) -> dict[str, Completion | TeacherError]:
        """Submit (or adopt the batch already created for `digest`), record it, wait, and map the results."""
        start = time.perf_counter()
        found = await self.find(digest)
        if found:
            log.info("batch %s for this input already exists; waiting for it instead of paying twice", found)
            batch_id, file_id = found, ""
        else:
            batch_id, file_id = await self.submit(lines, digest)
        on_submit(batch_id, file_id)
        return await self.collect(batch_id, [line["custom_id"] for line in lines], start)

    async def collect(self, batch_id: str, wanted: list[str], start: float | None = None,
                      ) -> dict[str, Completion | TeacherError]:
        start = time.perf_counter() if start is None else start
        batch = await self.wait(batch_id)
        out = await self.results(batch, wanted)
        elapsed = time.perf_counter() - start
        for r in out.values():
            if isinstance(r, Completion):
                r.latency_s = elapsed
        return out
