"""Client-side rate limits for HTTP teachers: a token bucket refilled continuously over a minute."""
from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """`await acquire(n)` returns once n units fit under `per_minute` (requests or tokens)."""

    def __init__(self, per_minute: float):
        self.capacity = float(per_minute)
        self.tokens = self.capacity
        self.rate = self.capacity / 60.0
        self.last = time.monotonic()
        self._lock: asyncio.Lock | None = None

    async def acquire(self, n: float = 1.0) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        n = min(n, self.capacity)   # a request larger than the whole budget waits for a full bucket
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
                self.last = now
                if self.tokens >= n:
                    self.tokens -= n
                    return
                await asyncio.sleep((n - self.tokens) / self.rate)
