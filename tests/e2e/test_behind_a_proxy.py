"""The stack behind a TLS-terminating proxy: DJANGO_HTTPS=true, TRUSTED_PROXIES naming the proxy.

A second stack (its own project, the images the suite already built) whose gateway is reached
through another nginx that terminates TLS with a certificate made here, on 127.0.0.1. The admin
signs in over https with no redirect loop, the gateway and the services see the client's address
rather than the proxy's, and neither a client nor the proxy's own clients can claim another
address or scheme.

TRUSTED_PROXIES holds the proxy's own address, not its whole network: the host's connections to
the proxy's published port arrive from that network's gateway address, and trusting them would
let any local client name its address.
"""

from __future__ import annotations

import json
import random
import secrets
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.clients import admin_login
from tests.e2e.stack import PROJECT, SUPERUSER, Stack, start_stack
from tests.infra import free_port

HERE = Path(__file__).parent


@dataclass
class Proxied:
    stack: Stack
    https_url: str
    certificate: Path
    network: str
    proxy_address: str
    network_gateway: str  # the address the host's connections to the proxy come from

    def client(self) -> httpx.Client:
        trust = ssl.create_default_context(cafile=str(self.certificate))
        return httpx.Client(base_url=self.https_url, verify=trust, timeout=30)


def create_network(name: str) -> str:
    """A network with a /24 of our choosing (fixed addresses need one); its first three bytes."""
    subprocess.run(["docker", "network", "rm", name], capture_output=True, check=False)
    for _ in range(20):
        prefix = f"10.{random.randint(200, 254)}.{random.randint(0, 255)}"
        created = subprocess.run(
            ["docker", "network", "create", "--subnet", f"{prefix}.0/24", name],
            capture_output=True,
            text=True,
            check=False,
        )
        if created.returncode == 0:
            return prefix
        assert "overlap" in created.stderr, created.stderr
    raise AssertionError("no free subnet for the proxy's network")


def make_certificate(directory: Path) -> Path:
    directory.mkdir()
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem"),
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    (directory / "key.pem").chmod(0o644)  # read by the proxy's own user
    return directory / "cert.pem"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    directory = tmp_path_factory.mktemp("tls-proxy")
    project = f"{PROJECT}-tls"
    network = f"{project}-edge"
    prefix = create_network(network)
    try:
        certificate = make_certificate(directory / "tls")
        (directory / "tls-proxy.conf").write_text((HERE / "proxy" / "tls-proxy.conf").read_text())
        port = free_port()
        proxy_address = f"{prefix}.10"
        stack = start_stack(
            directory,
            project=project,
            overrides={
                "DJANGO_HTTPS": "true",
                # The proxy, and a second entry that matches nobody: a list is a list.
                "TRUSTED_PROXIES": f"{proxy_address}/32, 198.51.100.0/24",
                "TLS_PROXY_PORT": str(port),
                "TLS_PROXY_DIR": str(directory),
                "TLS_PROXY_ADDRESS": proxy_address,
                "TLS_PROXY_NETWORK": network,
            },
            compose_files=("tests/e2e/proxy/compose.yml",),
        )
        try:
            yield Proxied(
                stack=stack,
                https_url=f"https://127.0.0.1:{port}",
                certificate=certificate,
                network=network,
                proxy_address=proxy_address,
                network_gateway=f"{prefix}.1",
            )
        finally:
            stack.compose.stop()
    finally:
        subprocess.run(["docker", "network", "rm", network], capture_output=True, check=False)


def gateway_log(stack: Stack, request_id: str) -> dict[str, object]:
    # The gateway buffers its access log and writes it out every second.
    for _ in range(25):
        lines = [line for line in stack.logs("gateway").splitlines() if request_id in line]
        if lines:
            break
        time.sleep(0.2)
    assert len(lines) == 1, lines
    return json.loads(lines[0][lines[0].index("{") :])


def test_the_admin_signs_in_over_https_with_no_redirect_loop(proxied: Proxied):
    """Through the proxy, https is believed; straight to the gateway (an untrusted peer),
    claiming it is no use: Django sees plain http and redirects to https."""
    with proxied.client() as browser:
        first = browser.get("/admin/")
        # Django believes the proxy's https: no redirect to https, the login page instead.
        assert first.status_code == 302, first.headers
        assert first.headers["location"] == "/admin/login/?next=/admin/"
        login = browser.get("/admin/login/")
        assert login.status_code == 200
        assert "secure" in login.headers["set-cookie"].lower()  # the CSRF cookie: https only
        admin_login(browser, SUPERUSER, proxied.stack.superuser_password)  # CSRF passes
        home = browser.get("/admin/")
        assert home.status_code == 200
        assert 'action="/admin/logout/"' in home.text  # signed in

    with proxied.stack.client() as direct:
        for headers in ({}, {"X-Forwarded-Proto": "https"}):
            response = direct.get("/admin/login/", headers=headers)
            assert response.status_code == 301, (headers, response.status_code)
            assert response.headers["location"].startswith("https://")


def test_the_gateway_sees_the_client_behind_the_proxy_and_no_claimed_address(proxied: Proxied):
    through, direct = f"via-{uuid.uuid4().hex}", f"direct-{uuid.uuid4().hex}"
    claim = {"X-Forwarded-For": "203.0.113.7"}
    with proxied.client() as client:
        assert client.get("/api/v1/tags", headers={**claim, "X-Request-ID": through}).is_success
    with proxied.stack.client() as client:
        assert client.get("/api/v1/tags", headers={**claim, "X-Request-ID": direct}).is_success

    line = gateway_log(proxied.stack, through)
    # The proxy (trusted) vouches for its own client; what that client claimed is ignored.
    assert line["peer"] == proxied.proxy_address
    assert line["remote_addr"] == proxied.network_gateway
    line = gateway_log(proxied.stack, direct)
    assert line["remote_addr"] == line["peer"] != "203.0.113.7"


def test_one_clients_failed_logins_do_not_lock_out_another_behind_the_same_proxy(
    proxied: Proxied,
):
    stack, username, password = proxied.stack, f"user-{uuid.uuid4().hex[:8]}", secrets.token_hex(8)
    stack.compose_command(
        "exec", "-T", "-e", f"DJANGO_SUPERUSER_PASSWORD={password}", "admin",
        "python", "-m", "admin_site", "createsuperuser", "--noinput",
        "--username", username, "--email", f"{username}@example.com",
    )  # fmt: skip

    def login(client: httpx.Client, secret: str) -> int:
        body = {"username": username, "password": secret, "name": "proxied"}
        return client.post("/api/v1/auth/token", json=body).status_code

    # One client (the host) guesses until it is refused, then cannot sign in even with the
    # right password: the throttle holds for it.
    with proxied.client() as attacker:
        statuses = [login(attacker, "wrong") for _ in range(6)]
        assert statuses == [401] * 5 + [429], statuses
        assert login(attacker, password) == 429

    # Another client behind the same proxy (a container on the proxy's network) signs in.
    code = f"""
import json, ssl, urllib.error, urllib.request
request = urllib.request.Request(
    "https://{proxied.proxy_address}:8443/api/v1/auth/token", method="POST",
    data=json.dumps({{"username": "{username}", "password": "{password}", "name": "b"}}).encode(),
    headers={{"Content-Type": "application/json", "Host": "127.0.0.1"}})
try:
    response = urllib.request.urlopen(request, context=ssl._create_unverified_context())
except urllib.error.HTTPError as error:
    response = error
print(response.status)
"""
    assert stack.run_python(code, network=proxied.network).strip() == "201"
