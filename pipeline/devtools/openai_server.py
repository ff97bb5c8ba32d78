"""A local HTTP server speaking the OpenAI chat-completions API, for tests and benchmarks.

Replies are deterministic functions of the request (so a killed and resumed build can be compared with an
uninterrupted one) and follow the pipeline's trace protocol: harmful-looking prompts get a tool call in adaptive
mode (native `tool_calls` when the request offers `tools`, <tool_call> text otherwise) and a refusal after the
rules come back; other prompts get an answer. Latency and faults are configurable; a fault is drawn from a
seeded hash of (request, attempt number), so retries of one request see independent draws and a rerun sees the
same ones. The files and batches endpoints (`/v1/files`, `/v1/batches`) run uploaded batch input files through
the same replies, with per-line errors (a 400 for a TRIGGER_400 conversation, a 404 for an unknown model) and
expiry of the lines past `batch_expire_after`. Run standalone with
`python -m pipeline.devtools.openai_server --port 8123 --latency 0.2`."""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import threading
import time
from collections import Counter
from typing import Any

FAULTS = ("rate_limit", "server_error", "timeout", "malformed", "truncated")
_HARMFUL = re.compile(r"\b(bomb|hack|phishing|poison|hurt|steal|weapon|malware|meth|attack)\w*", re.I)


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _draw(key: str) -> float:
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) / float(1 << 48)


def judge_reply(system: str, user: str) -> str | None:
    """Replies to the pipeline's judge prompts (None for other prompts). A conversation containing JUDGE_GARBAGE
    gets a reply no parser accepts, so tests can watch judge retries and failures."""
    if "You grade one training example" not in system and "You label an assistant's answer" not in system:
        return None
    if "JUDGE_GARBAGE" in user:
        return "Hmm, hard to say."
    request, _, rest = user.partition("\n\n")
    answer = re.split(r"(?i)answer:\n", rest)[-1]
    from ..filters.refusal_classifier import classify_response

    label = classify_response(answer)
    if "You label" in system:
        return {"comply": "comply", "refuse": "refuse", "safe_complete": "partial"}[label]
    fits = (label != "comply") == bool(_HARMFUL.search(request))
    return json.dumps({"safety": 5 if fits else 1, "rule_relevance": 4, "reasoning": 4})


def scripted_reply(messages: list[dict[str, Any]]) -> tuple[str, dict | None]:
    """(text, tool call or None) for a conversation, following the trace protocol."""
    user = next((m.get("content") or "" for m in messages if m["role"] == "user"), "")
    system = messages[0].get("content") or "" if messages and messages[0]["role"] == "system" else ""
    judged = judge_reply(system, user)
    if judged is not None:
        return judged, None
    got_rules = any(m["role"] == "tool" or "<tool_response>" in (m.get("content") or "") for m in messages[1:])
    harmful = bool(_HARMFUL.search(user))
    asked = " ".join(user.split())[:200]   # the reasoning restates the request, as real reasoning does
    if "consult_safety_rules" in system and harmful and not got_rules:
        return f"<think>\nThe request \"{asked}\" may be harmful; I will read the rules first.\n</think>\n", \
            {"name": "consult_safety_rules", "arguments": {"category": "violence"}}
    if harmful:
        return (f"<think>\nThe rules forbid helping with this: {asked}\nDecision: refuse\n</think>\n"
                "I can't help with that."), None
    numbers = [int(n) for n in re.findall(r"\d+", user)]
    if numbers:
        return (f"<think>\n{asked} Adding the numbers given.\nDecision: comply\n</think>\nThe sum.\n"
                f"#### {sum(numbers)}"), None
    return (f"<think>\n{asked} This is an everyday request.\nDecision: comply\n</think>\n"
            "Here is a safe, helpful answer."), None


class OpenAITestServer:
    """Start with `with OpenAITestServer(...) as base_url:`; `stats` counts requests and injected faults."""

    def __init__(self, latency_s: float = 0.0, jitter_s: float = 0.0, fault_rate: float = 0.0,
                 faults: tuple[str, ...] = FAULTS, seed: int = 0, api_key: str | None = None,
                 models: tuple[str, ...] = ("teacher",), timeout_sleep_s: float = 3.0, retry_after_s: float = 0.05,
                 host: str = "127.0.0.1", port: int = 0, always: str | None = None, echo_key: str | None = None,
                 batch_latency_s: float = 0.05, batch_expire_after: int | None = None):
        self.latency_s, self.jitter_s, self.fault_rate, self.faults = latency_s, jitter_s, fault_rate, faults
        self.seed, self.api_key, self.models = seed, api_key, models
        self.timeout_sleep_s, self.retry_after_s = timeout_sleep_s, retry_after_s
        self.host, self.port, self.always = host, port, always   # always: a fault on every request
        self.echo_key = echo_key   # "full" | "masked": error messages quote the caller's key, as some servers do
        # Batch API: each batch waits batch_latency_s before and after running its lines; lines past
        # batch_expire_after are returned as expired (the completion window ran out).
        self.batch_latency_s, self.batch_expire_after = batch_latency_s, batch_expire_after
        self._files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self._batches: dict[str, dict[str, Any]] = {}
        self.stats: Counter = Counter()
        self._attempts: Counter = Counter()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner = None

    # -- HTTP ------------------------------------------------------------------------------------------
    async def _completions(self, request):
        from aiohttp import web

        body = await request.read()
        with self._lock:
            self.stats["requests"] += 1
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            self.stats["unauthorized"] += 1
            return web.json_response({"error": {"message": "invalid api key" + self._echo(request),
                                                "type": "invalid_request_error"}}, status=401)
        try:
            req = json.loads(body)
        except json.JSONDecodeError:
            return web.json_response({"error": {"message": "body is not JSON"}}, status=400)
        if req.get("model") not in self.models:
            return web.json_response({"error": {"message": f"model {req.get('model')!r} not found"}}, status=404)
        if self.always == "bad_request" or any("TRIGGER_400" in str(m.get("content")) for m in req.get("messages", [])):
            return web.json_response({"error": {"message": "maximum context length exceeded"
                                                           + self._echo(request)}}, status=400)
        key = hashlib.sha256(body).hexdigest()
        with self._lock:
            self._attempts[key] += 1
            attempt = self._attempts[key]
        delay = self.latency_s + (self.jitter_s * (2 * _draw(f"j{self.seed}{key}{attempt}") - 1))
        if delay > 0:
            await asyncio.sleep(delay)
        fault = self.always
        if fault is None and self.fault_rate > 0 and _draw(f"f{self.seed}{key}{attempt}") < self.fault_rate:
            with self._lock:   # kinds in turn, so even a short run sees every kind
                fault = self.faults[self.stats["faults"] % len(self.faults)]
                self.stats["faults"] += 1
        if fault:
            with self._lock:
                self.stats[fault] += 1
        if fault == "rate_limit":
            return web.json_response({"error": {"message": "slow down", "type": "rate_limit_error"}}, status=429,
                                     headers={"retry-after-ms": str(int(self.retry_after_s * 1000)),
                                              "retry-after": str(max(0, round(self.retry_after_s)))})
        if fault == "server_error":
            return web.json_response({"error": {"message": "internal error"}}, status=500)
        if fault == "timeout":
            await asyncio.sleep(self.timeout_sleep_s)
        if fault == "malformed":
            return web.Response(body=b'{"id": "x", "choices": [{"message": ', content_type="application/json")
        with self._lock:
            self.stats["completions"] += 1
        return web.json_response(self._chat_body(req, key, truncated=fault == "truncated"))

    def _chat_body(self, req: dict[str, Any], key: str, truncated: bool = False) -> dict[str, Any]:
        """The chat completion for a request body (shared by /v1/chat/completions and batch lines)."""
        text, call = scripted_reply(req["messages"])
        finish = "stop"
        if truncated:
            text, call, finish = text[: max(1, len(text) // 3)], None, "length"
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if call is not None:
            if req.get("tools"):
                message["tool_calls"] = [{"id": f"call_{key[:16]}", "type": "function",
                                          "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])}}]
                finish = "tool_calls"
            else:
                message["content"] = text + f"<tool_call>{json.dumps({'name': call['name'], 'arguments': call['arguments']})}</tool_call>"
        prompt_chars = sum(len(str(m.get("content") or "")) for m in req["messages"])
        return {
            "id": f"chatcmpl-{key[:12]}", "object": "chat.completion", "created": int(time.time()),
            "model": req["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_chars // 4, "completion_tokens": max(1, len(message["content"] or "") // 4),
                      "total_tokens": prompt_chars // 4 + len(message["content"] or "") // 4},
        }

    # -- files and batches (the provider batch API) ---------------------------------------------------
    def _authorized(self, request) -> bool:
        return self.api_key is None or request.headers.get("Authorization") == f"Bearer {self.api_key}"

    def _denied(self):
        from aiohttp import web

        with self._lock:
            self.stats["unauthorized"] += 1
        return web.json_response({"error": {"message": "invalid api key", "type": "invalid_request_error"}},
                                 status=401)

    def _new_file(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        with self._lock:
            self.stats["files"] += 1
            fid = f"file-{self.stats['files']:06d}"
        obj = {"id": fid, "object": "file", "bytes": len(data), "created_at": int(time.time()),
               "filename": filename, "purpose": purpose, "status": "processed"}
        self._files[fid] = (obj, data)
        return obj

    async def _upload(self, request):
        from aiohttp import web

        if not self._authorized(request):
            return self._denied()
        form = await request.post()
        upload, purpose = form.get("file"), form.get("purpose")
        if upload is None or purpose != "batch":
            return web.json_response({"error": {"message": "file and purpose=batch are required"}}, status=400)
        return web.json_response(self._new_file(upload.file.read(), upload.filename or "upload.jsonl", "batch"))

    async def _file_content(self, request):
        from aiohttp import web

        if not self._authorized(request):
            return self._denied()
        got = self._files.get(request.match_info["file_id"])
        if got is None:
            return web.json_response({"error": {"message": "no such file"}}, status=404)
        return web.Response(body=got[1], content_type="application/octet-stream")

    async def _create_batch(self, request):
        from aiohttp import web

        if not self._authorized(request):
            return self._denied()
        req = json.loads(await request.read())
        if req.get("input_file_id") not in self._files or req.get("endpoint") != "/v1/chat/completions":
            return web.json_response({"error": {"message": "unknown input_file_id or endpoint"}}, status=400)
        with self._lock:
            self.stats["batches"] += 1
            bid = f"batch_{self.stats['batches']:06d}"
        batch = {"id": bid, "object": "batch", "endpoint": req["endpoint"], "input_file_id": req["input_file_id"],
                 "completion_window": req.get("completion_window", "24h"), "status": "validating",
                 "created_at": int(time.time()), "output_file_id": None, "error_file_id": None, "errors": None,
                 "metadata": req.get("metadata") or None,
                 "request_counts": {"total": 0, "completed": 0, "failed": 0}}
        self._batches[bid] = batch
        asyncio.get_running_loop().create_task(self._process(batch))
        return web.json_response(batch)

    async def _process(self, batch: dict[str, Any]) -> None:
        """Run a batch's lines after `batch_latency_s`; lines past `batch_expire_after` expire unanswered."""
        await asyncio.sleep(self.batch_latency_s)
        batch["status"] = "in_progress"
        lines = [json.loads(x) for x in self._files[batch["input_file_id"]][1].decode().splitlines() if x.strip()]
        out, err = [], []
        for i, line in enumerate(lines):
            cid, body = line.get("custom_id"), line.get("body") or {}
            rid = "batch_req_" + hashlib.sha256(f"{batch['id']}{cid}".encode()).hexdigest()[:16]
            if self.batch_expire_after is not None and i >= self.batch_expire_after:
                err.append({"id": rid, "custom_id": cid, "response": None,
                            "error": {"code": "batch_expired", "message": "This request could not be executed "
                                                                         "before the completion window expired."}})
                continue
            if body.get("model") not in self.models:
                err.append({"id": rid, "custom_id": cid, "response": {"status_code": 404, "body": {
                    "error": {"message": f"model {body.get('model')!r} not found"}}}, "error": None})
                continue
            if any("TRIGGER_400" in str(m.get("content")) for m in body.get("messages", [])):
                err.append({"id": rid, "custom_id": cid, "response": {"status_code": 400, "body": {
                    "error": {"message": "maximum context length exceeded"}}}, "error": None})
                continue
            key = hashlib.sha256(canonical(body)).hexdigest()
            out.append({"id": rid, "custom_id": cid, "error": None,
                        "response": {"status_code": 200, "request_id": rid, "body": self._chat_body(body, key)}})
            with self._lock:
                self.stats["batch_lines"] += 1
        await asyncio.sleep(self.batch_latency_s)
        dump = (lambda rows: "".join(json.dumps(r) + "\n" for r in rows).encode())
        batch["output_file_id"] = self._new_file(dump(out), "output.jsonl", "batch_output")["id"] if out else None
        batch["error_file_id"] = self._new_file(dump(err), "errors.jsonl", "batch_output")["id"] if err else None
        batch["request_counts"] = {"total": len(lines), "completed": len(out), "failed": len(err)}
        expired = self.batch_expire_after is not None and len(lines) > self.batch_expire_after
        batch["status"] = "expired" if expired else "completed"

    async def _get_batch(self, request):
        from aiohttp import web

        if not self._authorized(request):
            return self._denied()
        batch = self._batches.get(request.match_info["batch_id"])
        if batch is None:
            return web.json_response({"error": {"message": "no such batch"}}, status=404)
        with self._lock:
            self.stats["polls"] += 1
        return web.json_response(batch)

    async def _list_batches(self, request):
        from aiohttp import web

        if not self._authorized(request):
            return self._denied()
        newest = sorted(self._batches.values(), key=lambda b: b["id"], reverse=True)
        if after := request.query.get("after"):
            newest = [b for b in newest if b["id"] < after]
        limit = int(request.query.get("limit", 20))
        page = newest[:limit]
        return web.json_response({"object": "list", "data": page, "has_more": len(newest) > limit,
                                  "first_id": page[0]["id"] if page else None,
                                  "last_id": page[-1]["id"] if page else None})

    def _echo(self, request) -> str:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not self.echo_key or not key:
            return ""
        shown = key if self.echo_key == "full" else f"{key[:6]}{'*' * max(0, len(key) - 10)}{key[-4:]}"
        return f" (request made with key {shown})"

    async def _models(self, request):
        from aiohttp import web

        return web.json_response({"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]})

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> str:
        from aiohttp import web

        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_post("/v1/chat/completions", self._completions)
            app.router.add_get("/v1/models", self._models)
            app.router.add_post("/v1/files", self._upload)
            app.router.add_get("/v1/files/{file_id}/content", self._file_content)
            app.router.add_post("/v1/batches", self._create_batch)
            app.router.add_get("/v1/batches", self._list_batches)
            app.router.add_get("/v1/batches/{batch_id}", self._get_batch)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, self.host, self.port, backlog=4096)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True, name="openai-test-server")
        self._thread.start()
        ready.wait(10)
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8123)
    p.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument("--model", default="teacher")
    args = p.parse_args()
    server = OpenAITestServer(latency_s=args.latency, fault_rate=args.fault_rate, models=(args.model,),
                              host=args.host, port=args.port)
    print(f"serving on {server.start()}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
