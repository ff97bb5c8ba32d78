"""A local HTTP server speaking the OpenAI chat-completions API, for tests and benchmarks.

Replies are deterministic functions of the request (so a killed and resumed build can be compared with an
uninterrupted one) and follow the pipeline's trace protocol: harmful-looking prompts get a tool call in adaptive
mode (native `tool_calls` when the request offers `tools`, <tool_call> text otherwise) and a refusal after the
rules come back; other prompts get an answer. Latency and faults are configurable; a fault is drawn from a
seeded hash of (request, attempt number), so retries of one request see independent draws and a rerun sees the
same ones. Run standalone with `python -m pipeline.devtools.openai_server --port 8123 --latency 0.2`."""
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
                 host: str = "127.0.0.1", port: int = 0, always: str | None = None, echo_key: str | None = None):
        self.latency_s, self.jitter_s, self.fault_rate, self.faults = latency_s, jitter_s, fault_rate, faults
        self.seed, self.api_key, self.models = seed, api_key, models
        self.timeout_sleep_s, self.retry_after_s = timeout_sleep_s, retry_after_s
        self.host, self.port, self.always = host, port, always   # always: a fault on every request
        self.echo_key = echo_key   # "full" | "masked": error messages quote the caller's key, as some servers do
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
        text, call = scripted_reply(req["messages"])
        finish = "stop"
        if fault == "truncated":
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
        with self._lock:
            self.stats["completions"] += 1
        return web.json_response({
            "id": f"chatcmpl-{key[:12]}", "object": "chat.completion", "created": int(time.time()),
            "model": req["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_chars // 4, "completion_tokens": max(1, len(message["content"] or "") // 4),
                      "total_tokens": prompt_chars // 4 + len(message["content"] or "") // 4},
        })

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
