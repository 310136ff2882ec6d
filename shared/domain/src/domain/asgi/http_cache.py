"""HTTP caching for the API services, as one pure ASGI middleware: validators, conditional
requests and a shared cache of whole responses.

An application opts a response in by sending the header ``x-cache-scope`` with its status 200:

* ``private``: the body may depend on who asked. It gets a strong ETag computed from its bytes,
  ``Cache-Control: private, max-age=0, must-revalidate``, and ``304 Not Modified`` when the
  request's ``If-None-Match`` names that ETag.
* ``public``: every client may be given this body. The same, with ``public``, and when the request
  carried no credentials the body is also kept in the blog cache's namespace (Redis), stamped with
  the generation read *before* the application ran. The next request for the same resource with no
  credentials is answered from those bytes in one Redis round trip, before any framework code
  runs: no routing, no validation, no query, no serialisation. A write anywhere bumps the
  generation (:mod:`domain.cache`), so a stored response is never served after a write.

What identifies a resource: the path and query string, and for the methods in ``body_methods``
(GraphQL's POST) the body and the ``content-type`` and ``accept`` headers. A request with an
``Authorization`` header is never answered from the shared cache: its credentials must be checked
(a revoked token is a 401 even on a public resource) and what it may see can differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from domain.asgi.middleware import ASGIApp, Message, Receive, Scope, Send
from domain.cache import CachedResponse, Namespace

SCOPE_HEADER = b"x-cache-scope"
PUBLIC = b"public, max-age=0, must-revalidate"
PRIVATE = b"private, max-age=0, must-revalidate"
# Larger bodies are served, validated and tagged, but not kept in Redis.
MAX_SHARED_BODY = 1 << 20


def fills_part_caches(viewer: Any) -> bool:
    """Whether a read for ``viewer`` should go through the domain's caches of its parts (the blog
    cache). Not for an anonymous reader: this middleware keeps the whole response, so a copy of
    its parts would be written on every miss and never read."""
    return bool(viewer is not None and viewer.is_authenticated)


def etag_of(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def is_current(if_none_match: str | None, etag: str) -> bool:
    """True when ``If-None-Match`` is ``*`` or names ``etag`` (the weak comparison RFC 9110
    asks for): the client's copy is the current one."""
    if not if_none_match:
        return False
    tags = (candidate.strip() for candidate in if_none_match.split(","))
    return any(tag == "*" or tag.removeprefix("W/") == etag for tag in tags)


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return dict(scope.get("headers", ()))


def _validator_headers(etag: str, cache_control: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"etag", etag.encode()),
        (b"cache-control", cache_control),
        (b"vary", b"Authorization"),
    ]


class HttpCacheMiddleware:
    """See the module docstring. ``paths``: the paths it looks after; one ending in ``/`` is a
    prefix of paths, any other is one path."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        namespace: Namespace,
        paths: Iterable[str],
        body_methods: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.namespace = namespace
        self.prefixes = tuple(path for path in paths if path.endswith("/"))
        self.exact = frozenset(path for path in paths if not path.endswith("/"))
        self.body_methods = frozenset(body_methods)

    def _looks_after(self, path: str) -> bool:
        return path in self.exact or path.startswith(self.prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._looks_after(scope["path"]):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        headers = _headers(scope)
        shareable = b"authorization" not in headers and (
            method in ("GET", "HEAD") or method in self.body_methods
        )
        key = generation = None
        if shareable:
            parts: tuple[object, ...] = (scope["path"], scope["query_string"])
            if method in self.body_methods:
                body, receive = await _buffered(receive)
                parts += (
                    hashlib.blake2b(body, digest_size=16).digest(),
                    headers.get(b"content-type"),
                    headers.get(b"accept"),
                )
            key = self.namespace.response_key(parts)
            generation, hit = await self.namespace.aget_response(key)
            if hit is not None:
                await self._send_cached(scope, headers, hit, send)
                return
        await self.app(scope, receive, _Responder(self, scope, headers, send, key, generation))

    async def _send_cached(
        self, scope: Scope, headers: dict[bytes, bytes], hit: CachedResponse, send: Send
    ) -> None:
        validators = _validator_headers(hit.etag, PUBLIC)
        if is_current(_text(headers.get(b"if-none-match")), hit.etag):
            await send({"type": "http.response.start", "status": 304, "headers": validators})
            await send({"type": "http.response.body", "body": b""})
            return
        response_headers = [
            (b"content-type", hit.media_type.encode()),
            (b"content-length", str(len(hit.body)).encode()),
            *validators,
        ]
        await send({"type": "http.response.start", "status": 200, "headers": response_headers})
        body = b"" if scope["method"] == "HEAD" else hit.body
        await send({"type": "http.response.body", "body": body})


class _Responder:
    """The ``send`` the application gets: opted-in responses are buffered, tagged, answered
    with 304 when current, and (public, no credentials) stored."""

    def __init__(
        self,
        middleware: HttpCacheMiddleware,
        scope: Scope,
        headers: dict[bytes, bytes],
        send: Send,
        key: str | None,
        generation: int | None,
    ) -> None:
        self.middleware = middleware
        self.scope = scope
        self.request_headers = headers
        self.send = send
        self.key = key
        self.generation = generation
        self.start: Message | None = None
        self.cache_scope: bytes | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", [])
            scope_value = next((v for k, v in headers if k.lower() == SCOPE_HEADER), None)
            if scope_value is None:
                await self.send(message)
                return
            message["headers"] = [(k, v) for k, v in headers if k.lower() != SCOPE_HEADER]
            if message["status"] != 200:
                await self.send(message)
                return
            self.start, self.cache_scope = message, scope_value
            return
        if self.start is None or message["type"] != "http.response.body":
            await self.send(message)
            return
        self.chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            await self._finish()

    async def _finish(self) -> None:
        assert self.start is not None
        body = b"".join(self.chunks)
        etag = etag_of(body)
        public = self.cache_scope == b"public"
        validators = _validator_headers(etag, PUBLIC if public else PRIVATE)
        headers = [
            (k, v)
            for k, v in self.start["headers"]
            if k.lower() not in (b"etag", b"cache-control", b"vary", b"content-length")
        ]
        media_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        if is_current(_text(self.request_headers.get(b"if-none-match")), etag):
            await self.send({"type": "http.response.start", "status": 304, "headers": validators})
            await self.send({"type": "http.response.body", "body": b""})
        else:
            headers += [(b"content-length", str(len(body)).encode()), *validators]
            await self.send({"type": "http.response.start", "status": 200, "headers": headers})
            send_body = b"" if self.scope["method"] == "HEAD" else body
            await self.send({"type": "http.response.body", "body": send_body})
        if (
            public
            and self.key is not None
            and self.generation is not None
            and len(body) <= MAX_SHARED_BODY
            and self.scope["method"] != "HEAD"
        ):
            response = CachedResponse(body, etag, media_type.decode("latin-1"))
            await self.middleware.namespace.aset_response(self.key, self.generation, response)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body (the body limit middleware bounds it), and a ``receive``
    that hands it to the application again."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"", _replaying(message, receive)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, _replaying({"type": "http.request", "body": body, "more_body": False}, receive)


def _replaying(first: Message, receive: Receive) -> Receive:
    """A ``receive`` that returns ``first`` once, then whatever ``receive`` returns."""
    pending = [first]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")
