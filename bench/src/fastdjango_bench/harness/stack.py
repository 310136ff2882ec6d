"""The bench project: the product's docker-compose.yml plus bench/compose.yml, under a project
name, image tag and ports of its own, torn down (volumes too) at the end."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
COMPOSE_FILES = ("docker-compose.yml", "bench/compose.yml")
SUPERUSER = "bench-admin"
DEMO_PASSWORD = "bench-demo-password"  # noqa: S105 (demo users of a throw-away stack)

# What docker compose may take from this process's environment; everything else comes from the
# stack's own env file, so nothing set for this shell (DJANGO_SECRET_KEY...) leaks in.
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
    "PIP_INDEX_URL",
)


_STARTED = time.monotonic()


def log(message: str) -> None:
    elapsed = int(time.monotonic() - _STARTED)
    print(f"bench {elapsed // 60:02d}:{elapsed % 60:02d} {message}", file=sys.stderr, flush=True)


def run(
    args: list[str], *, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run a command (fixed arguments, no shell); fail with its stderr."""
    result = subprocess.run(  # noqa: S603
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def image_environment() -> dict[str, str]:
    """The image variables ``deploy/scripts/docker-env.sh`` chooses (official or offline images),
    unless the caller (make) exported them already."""
    if all(name in os.environ for name in ("POSTGRES_IMAGE", "PYTHON_IMAGE", "NGINX_IMAGE")):
        return {}
    out = run(["bash", "deploy/scripts/docker-env.sh"]).stdout
    found = {}
    for line in out.splitlines():
        match = re.match(r"^export ([A-Z_]+)=(.*)$", line)
        if match:
            found[match[1]] = shlex.split(match[2])[0] if match[2] else ""
    return found


@dataclass
class Stack:
    project: str
    seed_args: tuple[str, ...]
    keep: bool = False
    workdir: Path = field(init=False)
    ports: dict[str, int] = field(init=False)
    superuser_password: str = field(init=False)
    pg_password: str = field(init=False)
    env: dict[str, str] = field(init=False)
    _pids: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{self.project}-"))
        self.workdir.chmod(0o755)
        (self.workdir / "static").mkdir(mode=0o755)
        self.ports = {
            name: free_port()
            for name in ("GATEWAY_PORT", "BENCH_PORT", "BENCH_REST_PORT", "BENCH_PG_PORT")
        }
        self.superuser_password = secrets.token_urlsafe(18)
        self.pg_password = secrets.token_urlsafe(18)
        passed = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
        self.env = {**passed, **image_environment()}

    # URLS
    # --------------------------------------------------------------------------

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['GATEWAY_PORT']}"

    @property
    def baselines(self) -> str:
        return f"http://127.0.0.1:{self.ports['BENCH_PORT']}"

    @property
    def rest_direct(self) -> str:
        return f"http://127.0.0.1:{self.ports['BENCH_REST_PORT']}"

    @property
    def pg_conninfo(self) -> str:
        return (
            f"host=127.0.0.1 port={self.ports['BENCH_PG_PORT']} dbname=fastdjango "
            f"user=fastdjango password={self.pg_password}"
        )

    @property
    def static_dir(self) -> Path:
        return self.workdir / "static"

    # LIFECYCLE
    # --------------------------------------------------------------------------

    def compose(self, *args: str, timeout: float = 900) -> str:
        files = [arg for name in COMPOSE_FILES for arg in ("-f", name)]
        command = ["docker", "compose", "-p", self.project, *files]
        command += ["--env-file", str(self.workdir / "bench.env"), *args]
        return run(command, env=self.env, timeout=timeout).stdout

    def write_env_file(self) -> None:
        values = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_DEBUG": "false",
            "DJANGO_HTTPS": "false",
            "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
            "DJANGO_SUPERUSER_USERNAME": SUPERUSER,
            "DJANGO_SUPERUSER_EMAIL": "bench@example.com",
            "DJANGO_SUPERUSER_PASSWORD": self.superuser_password,
            "POSTGRES_PASSWORD": self.pg_password,
            "REDIS_PASSWORD": secrets.token_urlsafe(18),
            "GATEWAY_BIND": "127.0.0.1",
            # wrk is one client address: lift the gateway's per-address limits (GraphQL POSTs
            # per second, requests in progress), which every request still goes through.
            "GATEWAY_GRAPHQL_RATE": "1000000",
            "GATEWAY_GRAPHQL_BURST": "1000000",
            "GATEWAY_CONNECTIONS_PER_ADDRESS": "65535",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "IMAGE_TAG": self.project,
            "BENCH_STATIC_DIR": str(self.static_dir),
            **{name: str(port) for name, port in self.ports.items()},
        }
        path = self.workdir / "bench.env"
        path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
        path.chmod(0o600)

    def up(self) -> None:
        self.write_env_file()
        # A stack left over by an interrupted run would hold the project's name and volumes.
        self.compose("down", "--volumes", "--remove-orphans", timeout=300)
        log(f"building and starting project {self.project} (gateway :{self.ports['GATEWAY_PORT']})")
        try:
            self.compose("up", "-d", "--build", "--wait", "--wait-timeout", "600")
        except RuntimeError:
            log(self.compose("logs", "--no-color", "--tail", "60"))
            raise

    def seed(self) -> None:
        log(f"seed_demo {' '.join(self.seed_args)}")
        self.compose(
            "run",
            "--rm",
            "--no-deps",
            "migrate",
            "python",
            "-m",
            "admin_site",
            "seed_demo",
            *self.seed_args,
            "--password",
            DEMO_PASSWORD,
        )

    def down(self) -> None:
        if self.keep:
            files = " ".join(f"-f {name}" for name in COMPOSE_FILES)
            env_file = self.workdir / "bench.env"
            log(f"kept: docker compose -p {self.project} {files} --env-file {env_file}")
            return
        try:
            self.compose("down", "--volumes", "--remove-orphans", timeout=300)
        finally:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # PROCESSES
    # --------------------------------------------------------------------------

    def container(self, service: str) -> str:
        ids = self.compose("ps", "-q", service).split()
        if len(ids) != 1:
            raise RuntimeError(f"expected one running {service} container, found {len(ids)}")
        return ids[0]

    def pid(self, service: str) -> int:
        """The host PID of ``service``'s main process (its container's PID 1)."""
        if service not in self._pids:
            out = run(["docker", "inspect", "-f", "{{.State.Pid}}", self.container(service)])
            self._pids[service] = int(out.stdout.strip())
        return self._pids[service]
