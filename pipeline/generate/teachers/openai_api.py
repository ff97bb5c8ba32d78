"""Thin adapter around `openai.AsyncOpenAI` for any OpenAI-compatible endpoint (hosted APIs, `vllm serve`, ...).

Retries: tenacity, on the typed transient errors only (429, timeouts, connection errors, 5xx), with exponential
backoff and jitter, or the server's Retry-After when it sends one. 400/422 fail the one request; 401/403/404 are
fatal (every request would fail) and stop the build. Replies cut at max_tokens or that cannot be parsed are asked
again up to a cap. The API key comes from the environment variable the recipe names, read by the driver and
handed over as a Secret; it is never logged or written."""
from __future__ import annotations

import asyncio
import email.utils
import json
import time
from typing import Any

from ...util.secret import Secret, scrub
from .base import Completion, TeacherError, for_text_protocol
from .limits import RateLimiter

_TOOL_RESPONSE = "<tool_response>\n{content}\n</tool_response>"


def retry_after_seconds(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (Retry-After / retry-after-ms headers), if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else None


def wire_messages(messages: list[dict[str, Any]], native_tools: bool) -> list[dict[str, Any]]:
    """Our internal messages -> the endpoint's. Without native tools, a tool result goes back as a user message
    wrapped in <tool_response> (the Hermes convention), since an OpenAI endpoint rejects a `tool` message that
    follows no `tool_calls`."""
    if native_tools:
        out = []
        for m in messages:
            m = {k: v for k, v in m.items() if v is not None}
            if m["role"] == "assistant" and m.get("tool_calls"):
                m["content"] = m.get("content") or None
            out.append(m)
        return out
    return [{"role": "user", "content": _TOOL_RESPONSE.format(content=m["content"])} if m["role"] == "tool" else m
            for m in for_text_protocol(messages)]


def request_kwargs(model: str, api: dict[str, Any], messages: list[dict[str, Any]], sampling: dict[str, Any],
                   regex: str | None, tools: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The chat-completions arguments for one turn (shared by the live and the batch backend, so a batch line is
    exactly the request the live backend would send)."""
    native = tools is not None
    kwargs: dict[str, Any] = {"model": model, "messages": wire_messages(messages, native),
                              "temperature": sampling["temperature"], "top_p": sampling["top_p"],
                              "max_tokens": sampling["max_tokens"], "seed": sampling["seed"]}
    extra: dict[str, Any] = {}
    if sampling.get("top_k", -1) != -1:
        extra["top_k"] = sampling["top_k"]
    if sampling.get("repetition_penalty", 1.0) != 1.0:
        extra["repetition_penalty"] = sampling["repetition_penalty"]
    if regex and api.get("guard_param"):
        extra[api["guard_param"]] = {"regex": regex} if api["guard_param"] == "structured_outputs" else regex
    if extra:
        kwargs["extra_body"] = extra
    if native:
        kwargs["tools"], kwargs["tool_choice"] = tools, "auto"
    return kwargs


def parse_completion(response) -> Completion:
    """A chat completion object -> Completion; raises on a reply that is not one (no choices, no finish_reason)."""
    if isinstance(response, (str, bytes)):
        raise ValueError("reply is not a chat completion object")
    choice = response.choices[0]
    msg = choice.message
    calls = [{"name": c.function.name, "arguments": c.function.arguments} for c in (msg.tool_calls or [])]
    reasoning = getattr(msg, "reasoning_content", None) or getattr(msg, "reasoning", None)
    usage = response.usage
    if choice.finish_reason is None:
        raise ValueError("reply has no finish_reason")
    details = getattr(usage, "prompt_tokens_details", None)   # prompt-cache hits, where the provider reports them
    return Completion(text=msg.content or "", finish_reason=choice.finish_reason,
                      prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                      completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
                      cached_prompt_tokens=getattr(details, "cached_tokens", 0) or 0,
                      tool_calls=calls or None, reasoning=reasoning if isinstance(reasoning, str) else None)


class OpenAITeacher:
    def __init__(self, model: str, revision: str | None, api: dict[str, Any], api_key: Secret | None = None):
        import openai

        try:   # openai-python 3 is built on httpx2; older releases on httpx. Limits must come from the one in use.
            import httpx2 as httpx
        except ImportError:
            import httpx

        self.api = api
        self.model, self.revision = model, revision
        self._secret = api_key.reveal() if api_key else None   # only to scrub it from error messages
        pool = api["concurrency"] + 8   # the default is 100 connections, which would cap concurrency
        limits = httpx.Limits(max_connections=pool, max_keepalive_connections=pool)
        # aiohttp costs about half the client CPU per request of httpx (bench/http_fanout.py), which is what
        # bounds requests/s at high concurrency; httpx stays selectable for older openai releases.
        aio = api.get("http_client", "aiohttp") == "aiohttp" and hasattr(openai, "DefaultAioHttpClient")
        http_client = (openai.DefaultAioHttpClient if aio else openai.DefaultAsyncHttpxClient)(limits=limits)
        # max_retries=0: tenacity below owns retrying, so the policy lives in one place.
        self.client = openai.AsyncOpenAI(
            base_url=api["base_url"], api_key=api_key.reveal() if api_key else "not-needed", max_retries=0,
            timeout=api["timeout_s"], http_client=http_client)
        self.transport = "aiohttp" if aio else "httpx"
        self._openai = openai
        self._sem: asyncio.Semaphore | None = None
        self.rpm = RateLimiter(api["requests_per_minute"]) if api.get("requests_per_minute") else None
        self.tpm = RateLimiter(api["tokens_per_minute"]) if api.get("tokens_per_minute") else None

    async def aclose(self) -> None:
        await self.client.close()

    def info(self) -> dict[str, Any]:
        return {"model": self.model, "revision": self.revision, "engine": "openai-compatible",
                "engine_version": f"openai-python {self._openai.__version__} ({self.transport})"}

    def _transient(self) -> tuple[type[BaseException], ...]:
        o = self._openai
        return (o.RateLimitError, o.APITimeoutError, o.APIConnectionError, o.InternalServerError)

    def _wait(self, state) -> float:
        from tenacity import wait_random_exponential

        exc = state.outcome.exception()
        if (ra := retry_after_seconds(exc)) is not None:
            return min(ra, self.api["max_backoff_s"])
        return wait_random_exponential(multiplier=self.api["backoff_s"], max=self.api["max_backoff_s"])(state)

    def _request(self, messages, sampling, regex, tools) -> dict[str, Any]:
        return request_kwargs(self.model, self.api, messages, sampling, regex, tools)

    async def _call_once(self, kwargs: dict[str, Any]):
        from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

        attempts = 0
        async for attempt in AsyncRetrying(retry=retry_if_exception_type(self._transient()), wait=self._wait,
                                           stop=stop_after_attempt(self.api["max_retries"] + 1), reraise=True):
            with attempt:
                attempts += 1
                if self.rpm:
                    await self.rpm.acquire(1)
                if self.tpm:   # estimate: prompt chars / 4 plus the completion budget
                    chars = sum(len(str(m.get("content") or "")) for m in kwargs["messages"])
                    await self.tpm.acquire(chars / 4 + kwargs["max_tokens"])
                response = await self.client.chat.completions.create(**kwargs)
        return response, attempts

    async def complete(self, messages, sampling, regex, tools) -> Completion:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.api["concurrency"])
        kwargs = self._request(messages, sampling, regex, tools)
        o = self._openai
        total_attempts, invalid, length = 0, 0, 0
        start = time.perf_counter()
        while True:
            try:
                async with self._sem:
                    response, n = await self._call_once(kwargs)
                total_attempts += n
                comp = self._parse(response)
            except (o.AuthenticationError, o.PermissionDeniedError, o.NotFoundError) as e:
                raise TeacherError(f"{type(e).__name__} (HTTP {e.status_code}) from {self.api['base_url']}: "
                                   f"{self._short(e)}", fatal=True, attempts=total_attempts + 1) from e
            except (o.BadRequestError, o.UnprocessableEntityError) as e:
                raise TeacherError(f"{type(e).__name__} (HTTP {e.status_code}): {self._short(e)}",
                                   attempts=total_attempts + 1) from e
            except self._transient() as e:
                total_attempts += self.api["max_retries"] + 1
                raise TeacherError(f"gave up after {self.api['max_retries'] + 1} attempts: {type(e).__name__}: "
                                   f"{self._short(e)}", attempts=total_attempts) from e
            except (o.APIResponseValidationError, json.JSONDecodeError, ValueError, KeyError, IndexError,
                    TypeError, AttributeError) as e:
                total_attempts += 1
                invalid += 1
                if invalid > self.api["max_invalid_retries"]:
                    raise TeacherError(f"unparseable reply after {invalid} tries: {type(e).__name__}: "
                                       f"{self._short(e)}",
                                       attempts=total_attempts) from e
                continue
            if comp.finish_reason == "length" and length < self.api["max_length_retries"]:
                length += 1
                continue
            comp.attempts, comp.latency_s = total_attempts, time.perf_counter() - start
            return comp

    def _short(self, e: BaseException, limit: int = 300) -> str:
        """An error message fit to store and print: one line, bounded, and without the caller's key (some
        endpoints echo it, whole or masked, in their error bodies)."""
        return scrub(str(e).replace("\n", " "), self._secret)[:limit]

    @staticmethod
    def _parse(response) -> Completion:
        return parse_completion(response)
