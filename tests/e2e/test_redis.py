"""Redis in the running stack: it refuses clients without the password, and what the services
keep in it is msgpack and bytes, never pickles."""

from __future__ import annotations

import subprocess

from tests.e2e.stack import Stack


def redis_cli(stack: Stack, *args: str, password: bool = True) -> str:
    (container,) = stack.containers("redis")
    env = [] if password else ["-e", "REDISCLI_AUTH="]
    result = subprocess.run(
        ["docker", "exec", *env, container, "redis-cli", "--no-auth-warning", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout + result.stderr


def test_redis_refuses_a_client_without_the_password(stack: Stack):
    assert "NOAUTH" in redis_cli(stack, "ping", password=False)
    assert "NOAUTH" in redis_cli(stack, "get", "anything", password=False)
    assert redis_cli(stack, "ping").strip() == "PONG"


def test_cached_values_are_not_pickles(stack: Stack):
    with stack.client() as client:
        assert client.get("/api/v1/posts").status_code == 200
        assert client.get("/api/v1/categories").status_code == 200
    keys = redis_cli(stack, "--scan", "--pattern", "*blog:*").split()
    values = [key for key in keys if not key.endswith(":generation")]
    assert values, keys
    for key in values:
        dumped = subprocess.run(
            [
                "docker",
                "exec",
                stack.containers("redis")[0],
                "redis-cli",
                "--no-auth-warning",
                "--raw",
                "get",
                key,
            ],
            capture_output=True,
            timeout=30,
            check=True,
        ).stdout
        assert not dumped.startswith(b"\x80"), (key, dumped[:20])
