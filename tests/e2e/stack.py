"""The real stack for end-to-end tests: docker compose, driven by testcontainers' compose
support, under a project name of its own so it never touches a stack started with `make up`.

Only the gateway is published, on a free port of 127.0.0.1; every request of the tests goes
through it, as a client's would.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from testcontainers.compose import DockerCompose

from tests.infra import free_port

ROOT = Path(__file__).resolve().parents[2]
# Distinct names (E2E_PROJECT) let several checkouts run their end-to-end suites on one engine.
PROJECT = os.environ.get("E2E_PROJECT", "fastdjango-e2e")
SUPERUSER = "e2e-admin"


# What docker compose may take from this process's environment: how to reach Docker, which
# images to use, the build's CA bundle. Everything else comes from the stack's own env file, so
# nothing the test process set for itself (LOG_LEVEL, DJANGO_SECRET_KEY...) leaks into the stack.
_PASSED_THROUGH = (
    "PATH",
    "HOME",
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "DOCKER_CONTEXT",
    "POSTGRES_IMAGE",
    "REDIS_IMAGE",
    "NGINX_IMAGE",
    "PYTHON_IMAGE",
    "BUILD_CA_BUNDLE",
)


def compose_environment() -> dict[str, str]:
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    return {**env, "COMPOSE_PROJECT_NAME": PROJECT}


class IsolatedCompose(DockerCompose):
    """testcontainers' DockerCompose, run with :func:`compose_environment` only."""

    def _run_command(
        self, cmd: str | list[str], context: str | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                cmd,
                capture_output=True,
                check=True,
                cwd=context or str(self.context),
                env=compose_environment(),
            )
        except subprocess.CalledProcessError as exc:
            raise AssertionError(
                f"{' '.join(exc.cmd)} failed:\n{exc.stderr.decode(errors='replace')}"
            ) from exc


@dataclass
class Stack:
    compose: DockerCompose
    base_url: str
    superuser_password: str

    def compose_command(self, *args: str, timeout: float = 600) -> str:
        """Run ``docker compose <args>`` for this project; return its stdout."""
        result = subprocess.run(
            [*self.compose.compose_command_property, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=compose_environment(),
        )
        if result.returncode != 0:
            raise AssertionError(f"docker compose {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def containers(self, service: str) -> list[str]:
        """Names of the running containers of ``service``."""
        out = self.compose_command("ps", "--format", "json", service)
        rows = [json.loads(line) for line in out.splitlines() if line.strip()]
        return sorted(row["Name"] for row in rows if row.get("State") == "running")

    def started_at(self, service: str) -> dict[str, str]:
        """When each running container of ``service`` last started (a restart changes it)."""
        names = self.containers(service)
        result = subprocess.run(
            ["docker", "inspect", "--format", "{{.Name}} {{.State.StartedAt}}", *names],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return dict(line.split(" ", 1) for line in result.stdout.splitlines())

    def logs(self, service: str) -> str:
        return self.compose_command("logs", "--no-color", "--no-log-prefix", service)

    def scale_many(self, **replicas: int) -> None:
        """``docker compose up --scale``: e.g. ``scale_many(rest=3, graphql=2)``."""
        scales = [arg for name, count in replicas.items() for arg in ("--scale", f"{name}={count}")]
        self.compose_command("up", "-d", "--no-recreate", "--no-build", "--wait", *scales)

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30, **kwargs)  # type: ignore[arg-type]

    def obtain_token(self, name: str) -> str:
        """A new API token of the stack's superuser, obtained through the gateway."""
        with self.client() as client:
            response = client.post(
                "/api/v1/auth/token",
                json={"username": SUPERUSER, "password": self.superuser_password, "name": name},
            )
        assert response.status_code == 201, response.text
        return response.json()["token"]

    def wait_until(self, path: str, status: int = 200, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        last: object = None
        with self.client() as client:
            while time.monotonic() < deadline:
                try:
                    last = client.get(path).status_code
                    if last == status:
                        return
                except httpx.HTTPError as exc:
                    last = exc
                time.sleep(0.5)
        raise AssertionError(f"{path} did not answer {status} within {timeout} s (last: {last})")


def write_env_file(directory: Path, port: int, password: str) -> Path:
    values = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "false",
        "DJANGO_HTTPS": "false",
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DJANGO_SUPERUSER_USERNAME": SUPERUSER,
        "DJANGO_SUPERUSER_EMAIL": "e2e@example.com",
        "DJANGO_SUPERUSER_PASSWORD": password,
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "REDIS_PASSWORD": secrets.token_urlsafe(24),
        "GATEWAY_BIND": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "IMAGE_TAG": PROJECT,
        # The scheduler's round, short enough for a test to watch it purge.
        "IDEMPOTENCY_PURGE_INTERVAL": "2",
    }
    path = directory / "e2e.env"
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return path


def start_stack(directory: Path) -> Stack:
    port = free_port()
    password = secrets.token_urlsafe(18)
    compose = IsolatedCompose(
        context=ROOT,
        compose_file_name="docker-compose.yml",
        env_file=str(write_env_file(directory, port, password)),
        build=True,
        wait=True,
    )
    stack = Stack(compose=compose, base_url=f"http://127.0.0.1:{port}", superuser_password=password)
    # A stack left over by an interrupted run would hold the project's name and volumes.
    compose.stop()
    try:
        compose.start()
    except Exception:
        print(stack.compose_command("logs", "--no-color", "--tail", "80"))
        compose.stop()
        raise
    return stack
