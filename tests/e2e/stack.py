"""The real stack for end-to-end tests: docker compose, driven by testcontainers' compose
support, under a project name of its own so it never touches a stack started with `make up`.

Only the gateway is published, on a free port of 127.0.0.1; every request of the tests goes
through it, as a client's would. Health checks are not reachable there: readiness is asked of each
container directly (``Stack.wait_ready``), as the container runtime does.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from testcontainers.compose import DockerCompose

from tests.infra import free_port

ROOT = Path(__file__).resolve().parents[2]
# Distinct names (E2E_PROJECT) let several checkouts run their end-to-end suites on one engine.
PROJECT = os.environ.get("E2E_PROJECT", "fastdjango-e2e")
# The application's database (the compose file's POSTGRES_DB).
DATABASE = "fastdjango"
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


def compose_environment(project: str = PROJECT) -> dict[str, str]:
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    return {**env, "COMPOSE_PROJECT_NAME": project}


@dataclass
class IsolatedCompose(DockerCompose):
    """testcontainers' DockerCompose, run with :func:`compose_environment` only."""

    project: str = PROJECT

    def _run_command(
        self, cmd: str | list[str], context: str | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                cmd,
                capture_output=True,
                check=True,
                cwd=context or str(self.context),
                env=compose_environment(self.project),
            )
        except subprocess.CalledProcessError as exc:
            raise AssertionError(
                f"{' '.join(exc.cmd)} failed:\n{exc.stderr.decode(errors='replace')}"
            ) from exc


@dataclass
class Stack:
    compose: IsolatedCompose
    base_url: str
    superuser_password: str
    # What the stack's env file sets (e.g. GATEWAY_READ_TIMEOUT), for tests that depend on it.
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def project(self) -> str:
        return self.compose.project

    @property
    def network(self) -> str:
        """The compose network every service is on."""
        return f"{self.project}_default"

    def compose_command(self, *args: str, timeout: float = 600) -> str:
        """Run ``docker compose <args>`` for this project; return its stdout."""
        result = subprocess.run(
            [*self.compose.compose_command_property, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=compose_environment(self.project),
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

    def container_logs(self, container: str) -> str:
        result = subprocess.run(
            ["docker", "logs", container], capture_output=True, text=True, timeout=60, check=True
        )
        return result.stdout + result.stderr

    def address(self, container: str) -> str:
        """The container's IP address on the stack's network."""
        template = f'{{{{(index .NetworkSettings.Networks "{self.network}").IPAddress}}}}'
        return docker("inspect", "--format", template, container).strip()

    def ready(self, container: str) -> bool:
        """The container's own readiness check (``python -m domain.probe``), asked directly."""
        probe = ["docker", "exec", container, "python", "-m", "domain.probe"]
        return subprocess.run(probe, capture_output=True, timeout=30, check=False).returncode == 0

    def readiness(self, container: str) -> tuple[int, dict]:
        """The container's readiness endpoint, asked inside it: (status, body)."""
        code = (
            "import json, os, sys, urllib.error, urllib.request\n"
            "from domain.probe import READINESS_PATHS\n"
            "url = 'http://127.0.0.1:8000' + READINESS_PATHS[os.environ['SERVICE']]\n"
            "try:\n"
            "    response = urllib.request.urlopen(url, timeout=10)\n"
            "except urllib.error.HTTPError as error:\n"
            "    response = error\n"
            "print(json.dumps([response.status, json.loads(response.read())]))\n"
        )
        status, body = json.loads(docker("exec", container, "python", "-c", code))
        return status, body

    def wait_ready(self, *services: str, timeout: float = 120) -> None:
        """Until every running container of ``services`` passes its readiness check."""
        deadline = time.monotonic() + timeout
        waiting: list[str] = []
        while time.monotonic() < deadline:
            waiting = [c for s in services for c in self.containers(s) if not self.ready(c)]
            if not waiting:
                return
            time.sleep(0.5)
        raise AssertionError(f"not ready within {timeout} s: {waiting}")

    def wait_healthy(self, *services: str, timeout: float = 120) -> None:
        """Until Docker reports every running container of ``services`` healthy (after a pause,
        say: its health checks failed meanwhile, and ``compose up --wait`` gives up on a container
        that is unhealthy instead of waiting for it)."""
        deadline = time.monotonic() + timeout
        waiting: list[str] = []
        while time.monotonic() < deadline:
            names = [c for s in services for c in self.containers(s)]
            states = docker("inspect", "--format", "{{.State.Health.Status}}", *names).split()
            waiting = [n for n, state in zip(names, states, strict=True) if state != "healthy"]
            if not waiting:
                return
            time.sleep(1)
        raise AssertionError(f"not healthy within {timeout} s: {waiting}")

    def psql(self, sql: str, timeout: float = 60, database: str = DATABASE) -> str:
        """Run SQL in the stack's PostgreSQL as its owner; the rows, ``|``-separated."""
        (container,) = self.containers("postgres")
        return docker(
            "exec", container, "psql", "-U", "fastdjango", "-d", database, "-v",
            "ON_ERROR_STOP=1", "-tA", "-c", sql, timeout=timeout,
        )  # fmt: skip

    def run_python(self, code: str, timeout: float = 120, network: str | None = None) -> str:
        """Run ``code`` in a throwaway container on the stack's network (or ``network``), with
        the rest image's Python: a client with an address of its own, next to the services."""
        image = f"fastdjango/rest:{self.settings.get('IMAGE_TAG', PROJECT)}"
        return docker(
            "run", "--rm", "--network", network or self.network, "--entrypoint", "python", image,
            "-c", code, timeout=timeout,
        )  # fmt: skip

    def scale_many(self, **replicas: int) -> None:
        """``docker compose up --scale``: e.g. ``scale_many(rest=3, graphql=2)``."""
        scales = [arg for name, count in replicas.items() for arg in ("--scale", f"{name}={count}")]
        self.compose_command("up", "-d", "--no-recreate", "--no-build", "--wait", *scales)

    def client(self, **kwargs: object) -> httpx.Client:
        kwargs.setdefault("timeout", 30)
        return httpx.Client(base_url=self.base_url, **kwargs)  # type: ignore[arg-type]

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


def docker(*args: str, timeout: float = 60) -> str:
    """``docker <args>``; its stdout (an AssertionError with its stderr if it fails)."""
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def stack_settings(port: int, password: str) -> dict[str, str]:
    return {
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
        # A paused replica holds a request this long (the default, 30 s, would make the test
        # that pauses one take that long); nothing in the suite legitimately takes 10 s.
        "GATEWAY_READ_TIMEOUT": "10",
        # The scheduler's round, short enough for a test to watch it purge.
        "IDEMPOTENCY_PURGE_INTERVAL": "2",
    }


def write_env_file(directory: Path, values: dict[str, str]) -> Path:
    path = directory / "e2e.env"
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return path


def start_stack(
    directory: Path,
    *,
    project: str = PROJECT,
    overrides: dict[str, str] | None = None,
    compose_files: tuple[str, ...] = (),
    build: bool = True,
) -> Stack:
    """Start a stack; ``overrides`` change its env file, ``compose_files`` are added after
    docker-compose.yml; ``build=False`` reuses the images of a stack already built (they are
    tagged with the default project's name)."""
    port = free_port()
    password = secrets.token_urlsafe(18)
    settings = {**stack_settings(port, password), **(overrides or {})}
    compose = IsolatedCompose(
        context=ROOT,
        compose_file_name=["docker-compose.yml", *compose_files],
        env_file=str(write_env_file(directory, settings)),
        build=build,
        wait=True,
        project=project,
    )
    stack = Stack(
        compose=compose,
        base_url=f"http://127.0.0.1:{settings['GATEWAY_PORT']}",
        superuser_password=password,
        settings=settings,
    )
    # A stack left over by an interrupted run would hold the project's name and volumes.
    compose.stop()
    try:
        compose.start()
    except Exception:
        print(stack.compose_command("logs", "--no-color", "--tail", "80"))
        compose.stop()
        raise
    return stack
