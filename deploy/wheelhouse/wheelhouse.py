#!/usr/bin/env python3
"""The wheelhouse: every Python package of uv.lock as a local file, verified.

uv.lock is resolved against a flat index in ``.wheelhouse/`` (``[[tool.uv.index]]`` in
pyproject.toml), so it names files, never a package registry, and image builds need no network.
This script fills that directory from the package index *this machine* is configured to use
(``UV_DEFAULT_INDEX``, ``PIP_INDEX_URL``, pip's configuration, else pip's own default) and checks
every file against ``SHA256SUMS`` beside it, as uv would check the hashes in a lock file.

    wheelhouse.py fetch [--target host|image|all] [--dest DIR] [--reuse DIR]
        The files the host's Python (``host``) or the images' Python 3.13 on Linux (``image``)
        needs. Files already present, or in ``--reuse``, are checked, not downloaded again.
    wheelhouse.py lock
        After changing dependencies: resolve against the configured index, download the wheels of
        every supported platform, write SHA256SUMS, and re-lock uv.lock against them.

Standard library only: it runs in the images' build stage too, where pip may be absent.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import configparser
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SUMS = HERE / "SHA256SUMS"
TOOLS = HERE / "tools.txt"
DEFAULT_DEST = ROOT / ".wheelhouse"
# The images' Python, on the C library of Debian trixie (which the official slim image uses too).
IMAGE_PYTHON = (3, 13)
IMAGE_GLIBC = (2, 41)


def log(message: str) -> None:
    print(f"wheelhouse: {message}", file=sys.stderr)


# PLATFORM TAGS
# ------------------------------------------------------------------------------
# Just enough of the wheel tag rules (PEP 425, 600) to say which files an interpreter can use.


@dataclass(frozen=True)
class Target:
    python: tuple[int, int]
    system: str  # "linux" or "macos"
    arch: str  # "x86_64", "aarch64", "arm64"
    version: tuple[int, int]  # glibc for Linux, the OS release for macOS

    def __str__(self) -> str:
        return f"cp{self.python[0]}{self.python[1]}-{self.system}-{self.arch}"

    def accepts(self, filename: str) -> bool:
        parts = filename[: -len(".whl")].split("-")
        if len(parts) < 5:
            return False
        pythons, abis, platforms = (set(p.split(".")) for p in parts[-3:])
        return (
            any(self._python_ok(p, abis) for p in pythons)
            and any(self._abi_ok(a) for a in abis)
            and any(self._platform_ok(p) for p in platforms)
        )

    def _python_ok(self, tag: str, abis: set[str]) -> bool:
        major, minor = self.python
        if tag in {f"py{major}", f"py{major}{minor}", f"cp{major}{minor}"}:
            return True
        match = re.fullmatch(rf"cp{major}(\d+)", tag)
        # A stable-ABI wheel built for an older CPython 3 works on newer ones.
        return bool(match and "abi3" in abis and int(match.group(1)) <= minor)

    def _abi_ok(self, tag: str) -> bool:
        return tag in {"none", "abi3", f"cp{self.python[0]}{self.python[1]}"}

    def _platform_ok(self, tag: str) -> bool:
        if tag == "any":
            return True
        if self.system == "linux":
            legacy = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
            for name, glibc in legacy.items():
                if tag == f"{name}_{self.arch}":
                    return glibc <= self.version
            match = re.fullmatch(rf"manylinux_(\d+)_(\d+)_{self.arch}", tag)
            return bool(match and (int(match.group(1)), int(match.group(2))) <= self.version)
        match = re.fullmatch(r"macosx_(\d+)_(\d+)_(\w+)", tag)
        if not match:
            return False
        arches = {self.arch, "universal2"} | (
            {"intel", "universal"} if self.arch == "x86_64" else set()
        )
        return (int(match.group(1)), int(match.group(2))) <= self.version and match.group(
            3
        ) in arches


def host_target() -> Target:
    python = sys.version_info[:2]
    machine = platform.machine().lower()
    if sys.platform == "darwin":
        release = tuple(int(x) for x in (platform.mac_ver()[0] or "11.0").split(".")[:2])
        return Target(python, "macos", "arm64" if machine == "arm64" else "x86_64", release)  # type: ignore[arg-type]
    libc, version = platform.libc_ver()
    glibc = tuple(int(x) for x in version.split(".")[:2]) if libc == "glibc" else (2, 17)
    return Target(python, "linux", "aarch64" if machine in {"aarch64", "arm64"} else machine, glibc)  # type: ignore[arg-type]


def image_target(arch: str | None = None) -> Target:
    machine = (arch or platform.machine()).lower()
    return Target(
        IMAGE_PYTHON,
        "linux",
        "aarch64" if machine in {"aarch64", "arm64"} else machine,
        IMAGE_GLIBC,
    )


def supported_targets() -> list[Target]:
    """What uv.lock is kept installable on: Linux (the images, CI) and macOS (laptops)."""
    targets = []
    for minor in (11, 12, 13):
        for arch in ("x86_64", "aarch64"):
            targets.append(Target((3, minor), "linux", arch, IMAGE_GLIBC))
        targets.append(Target((3, minor), "macos", "arm64", (15, 0)))
        targets.append(Target((3, minor), "macos", "x86_64", (15, 0)))
    return targets


# THE PACKAGE INDEX
# ------------------------------------------------------------------------------


def index_url() -> str:
    """The index this machine uses, from the environment or pip's configuration."""
    for variable in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL"):
        if os.environ.get(variable):
            return os.environ[variable].rstrip("/") + "/"
    for path in (
        "/etc/pip.conf",
        "/etc/xdg/pip/pip.conf",
        "~/.config/pip/pip.conf",
        "~/.pip/pip.conf",
    ):
        config = configparser.ConfigParser()
        config.read(os.path.expanduser(path))
        if config.has_option("global", "index-url"):
            return config.get("global", "index-url").rstrip("/") + "/"
    try:
        from pip._internal.models.index import PyPI  # the default pip itself would use

        return PyPI.simple_url.rstrip("/") + "/"
    except ImportError:
        sys.exit("wheelhouse: no package index configured: set PIP_INDEX_URL")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project_files(index: str, project: str) -> dict[str, tuple[str, str | None]]:
    """filename -> (URL, sha256 or None) for every file of ``project`` on the index."""
    url = urllib.parse.urljoin(index, _normalise(project) + "/")
    request = urllib.request.Request(
        url, headers={"Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read()
        content_type = response.headers.get("Content-Type", "")
    files: dict[str, tuple[str, str | None]] = {}
    if "json" in content_type:
        for entry in json.loads(body)["files"]:
            files[entry["filename"]] = (
                urllib.parse.urljoin(url, entry["url"]),
                entry["hashes"].get("sha256"),
            )
        return files
    parser = _Links()
    parser.feed(body.decode())
    for href in parser.links:
        absolute = urllib.parse.urljoin(url, href)
        path, _, fragment = absolute.partition("#")
        digest = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else None
        files[urllib.parse.unquote(path.rsplit("/", 1)[-1])] = (path, digest)
    return files


def project_of(filename: str) -> str:
    return filename.split("-", 1)[0]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, dest: Path, expected: str) -> None:
    partial = dest.with_suffix(".part")
    with urllib.request.urlopen(url, timeout=300) as response, partial.open("wb") as out:
        shutil.copyfileobj(response, out)
    actual = sha256_of(partial)
    if actual != expected:
        partial.unlink()
        raise SystemExit(f"wheelhouse: {dest.name}: sha256 {actual} is not {expected}")
    partial.replace(dest)


# FETCH
# ------------------------------------------------------------------------------


def read_sums() -> dict[str, str]:
    sums = {}
    for line in SUMS.read_text().splitlines():
        if line.strip():
            digest, filename = line.split()
            sums[filename] = digest
    return sums


def fetch(targets: Iterable[Target], dest: Path, reuse: Path | None) -> None:
    targets = list(targets)
    sums = read_sums()
    wanted = {
        name: digest for name, digest in sums.items() if any(t.accepts(name) for t in targets)
    }
    dest.mkdir(parents=True, exist_ok=True)
    missing: dict[str, str] = {}
    for name, digest in wanted.items():
        path = dest / name
        if path.exists() and sha256_of(path) == digest:
            continue
        candidate = reuse / name if reuse else None
        if candidate and candidate.exists() and sha256_of(candidate) == digest:
            shutil.copyfile(candidate, path)
            continue
        missing[name] = digest
    if missing:
        index = index_url()
        log(f"downloading {len(missing)} of {len(wanted)} files for {', '.join(map(str, targets))}")
        by_project: dict[str, list[str]] = {}
        for name in missing:
            by_project.setdefault(project_of(name), []).append(name)

        def get(project: str) -> None:
            files = project_files(index, project)
            for name in by_project[project]:
                if name not in files:
                    raise SystemExit(f"wheelhouse: {name} is not on the index")
                download(files[name][0], dest / name, missing[name])

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(get, by_project))
    log(f"{len(wanted)} files ready in {dest} for {', '.join(map(str, targets))}")


# LOCK
# ------------------------------------------------------------------------------


def _pyprojects() -> list[Path]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = root["tool"]["uv"]["workspace"]["members"]
    paths = [ROOT / "pyproject.toml"]
    for member in members:
        paths += sorted(ROOT.glob(f"{member}/pyproject.toml"))
    return paths


def lock() -> None:
    index = index_url()
    targets = supported_targets()
    with tempfile.TemporaryDirectory() as scratch:
        # Resolve against the real index in a copy of the workspace's metadata.
        for path in _pyprojects():
            copy = Path(scratch) / path.relative_to(ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_text(path.read_text())
        subprocess.run(
            ["uv", "lock", "--quiet", "--default-index", index, "--directory", scratch], check=True
        )
        resolved = tomllib.loads((Path(scratch) / "uv.lock").read_text())
    files: dict[str, str] = {}
    urls: dict[str, str] = {}
    for package in resolved["package"]:
        if "registry" not in package.get("source", {}):
            continue
        usable = [
            w
            for w in package.get("wheels", [])
            if any(t.accepts(_filename(w["url"])) for t in targets)
        ]
        if not usable:
            name = f"{package['name']} {package['version']}"
            log(f"warning: {name} has no wheel for a supported platform")
        for wheel in usable:
            files[_filename(wheel["url"])] = wheel["hash"].removeprefix("sha256:")
            urls[_filename(wheel["url"])] = wheel["url"]
    for requirement in TOOLS.read_text().split():
        project, version = requirement.split("==")
        for name, (url, digest) in project_files(index, project).items():
            if (
                name.endswith(".whl")
                and f"-{version}-" in name
                and any(t.accepts(name) for t in targets)
            ):
                if digest is None:
                    raise SystemExit(f"wheelhouse: the index gives no sha256 for {name}")
                files[name], urls[name] = digest, url
    DEFAULT_DEST.mkdir(exist_ok=True)
    for stale in DEFAULT_DEST.glob("*.whl"):
        if stale.name not in files:
            stale.unlink()
    todo = [
        n
        for n in files
        if not (DEFAULT_DEST / n).exists() or sha256_of(DEFAULT_DEST / n) != files[n]
    ]
    log(f"downloading {len(todo)} of {len(files)} wheels for {len(targets)} platforms")
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: download(urls[n], DEFAULT_DEST / n, files[n]), todo))
    SUMS.write_text("".join(f"{files[n]}  {n}\n" for n in sorted(files)))
    # Now the lock uv keeps: against the wheelhouse, which holds exactly these files.
    subprocess.run(["uv", "lock", "--upgrade", "--directory", str(ROOT)], check=True)
    log(f"uv.lock and {SUMS.relative_to(ROOT)} rewritten ({len(files)} wheels)")


def _filename(url: str) -> str:
    return urllib.parse.unquote(url.rsplit("/", 1)[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_parser = commands.add_parser("fetch")
    fetch_parser.add_argument("--target", choices=["host", "image", "all"], default="all")
    fetch_parser.add_argument("--arch", help="the images' architecture (default: this machine's)")
    fetch_parser.add_argument("--dest", type=Path, default=DEFAULT_DEST)
    fetch_parser.add_argument("--reuse", type=Path, help="a directory of files to take, if valid")
    commands.add_parser("lock")
    args = parser.parse_args()
    if args.command == "lock":
        lock()
        return
    targets = {
        "host": [host_target()],
        "image": [image_target(args.arch)],
        "all": [host_target(), image_target(args.arch)],
    }[args.target]
    fetch(targets, args.dest, args.reuse)


if __name__ == "__main__":
    main()
