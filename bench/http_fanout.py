"""HTTP fan-out: achieved requests/s of the OpenAI backend against a server with a fixed latency, divided by the
ideal concurrency / latency; and, as a baseline measured in the same run against the same server, the bare
`openai.AsyncOpenAI` client with an asyncio semaphore (no pipeline, no Ray), on both transports, whose ratio is
the ceiling the client library allows on this machine. The pipeline uses the recipe's default transport
(aiohttp).

    .venv/bin/python bench/http_fanout.py [--latency 0.2] [--concurrency 64 256] [--rounds 8] [--workers 1 2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import start_server, write_prompts, write_recipe  # noqa: E402

from pipeline.build import build  # noqa: E402


async def bare_client(url: str, concurrency: int, n: int, transport: str) -> float:
    """Seconds for n requests with the bare openai client (httpx or aiohttp transport) at the given concurrency."""
    import asyncio
    import time

    import httpx
    import openai

    limits = httpx.Limits(max_connections=concurrency + 8, max_keepalive_connections=concurrency + 8)
    kind = openai.DefaultAioHttpClient if transport == "aiohttp" else openai.DefaultAsyncHttpxClient
    client = openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0, http_client=kind(limits=limits))
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            await client.chat.completions.create(model="teacher", max_tokens=64, messages=[
                {"role": "system", "content": "You are helpful."},
                {"role": "user", "content": f"Give me tidy-kitchen tip number {i}, please."}])

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    wall = time.perf_counter() - start
    await client.close()
    return wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--rounds", type=int, default=8, help="requests = concurrency x rounds")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="async worker actors (processes)")
    args = ap.parse_args()
    server, url = start_server(args.latency)
    try:
        print(f"latency {args.latency} s; requests = concurrency x {args.rounds}")
        print(f"{'run':>22} {'concurrency':>11} {'requests':>9} {'wall s':>8} {'req/s':>8} {'ideal':>8} {'ratio':>6}")
        import asyncio

        for c in args.concurrency:
            n = c * args.rounds
            for transport in ("httpx", "aiohttp"):
                wall = asyncio.run(bare_client(url, c, n, transport))
                print(f"{'bare openai, ' + transport:>22} {c:>11} {n:>9} {wall:>8.2f} {n / wall:>8.1f} "
                      f"{c / args.latency:>8.1f} {n / wall / (c / args.latency):>6.3f}", flush=True)
            for workers in args.workers:
                run_pipeline(url, c, n, workers, args.latency)
    finally:
        server.terminate()


def run_pipeline(url: str, c: int, n: int, workers: int, latency: float) -> None:
    """The pipeline's OpenAI backend: `workers` async actors, each with concurrency c / workers."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_prompts(folder, n)
        recipe = write_recipe(folder, {
            "backend": "openai", "model": "teacher",
            "api": {"base_url": url, "concurrency": c // workers, "timeout_s": 30},
            "engine": {"batch_size": max(8, c // (4 * workers)), "num_engines": workers},
            "sampling": {"temperature": 0.0, "max_tokens": 64}})
        res = build(recipe, progress=False)
        g = res.generation
        achieved = g.generated / g.wall_seconds
        ideal = c / latency
        print(f"{'pipeline, ' + str(workers) + ' worker(s)':>22} {c:>11} {g.generated:>9} {g.wall_seconds:>8.2f} "
              f"{achieved:>8.1f} {ideal:>8.1f} {achieved / ideal:>6.3f}", flush=True)


if __name__ == "__main__":
    main()
