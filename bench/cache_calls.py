"""Time one cache GET three ways against the Redis at REDIS_URL (default: local):

REDIS_URL=redis://127.0.0.1:6379/0 uv run python bench/cache_calls.py
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import django
import redis
from django.conf import settings
from django.core.cache.backends.redis import RedisCache

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CALLS = 5000


def per_call_ms(get: Callable[[], object]) -> float:
    get()
    started = time.perf_counter()
    for _ in range(CALLS):
        get()
    return (time.perf_counter() - started) / CALLS * 1000


def main() -> None:
    settings.configure(CACHES={}, CACHE_RETRY_AFTER=2.0)
    django.setup()
    from domain.cache import FailOpenRedisCache

    raw = redis.Redis.from_url(URL)
    djangos = RedisCache(URL, {})
    ours = FailOpenRedisCache(URL, {})
    print(f"raw redis-py GET            {per_call_ms(lambda: raw.get('bench')):.3f} ms")
    print(f"Django RedisCache.get       {per_call_ms(lambda: djangos.get('bench')):.3f} ms")
    print(f"FailOpenRedisCache.get      {per_call_ms(lambda: ours.get('bench')):.3f} ms")


if __name__ == "__main__":
    main()
