"""Automatic Persisted Queries (Apollo's ``persistedQuery`` extension, version 1).

A client sends ``extensions: {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}`` without
the query; the server answers from the query it stored under that hash, or with the error
``PERSISTED_QUERY_NOT_FOUND``, after which the client sends the hash *and* the query once, which
registers it. Queries can then travel by GET as a short URL, which the shared response cache and
ETags (:mod:`domain.asgi.http_cache`) serve like any other read.

Registered documents live in Redis for ``GRAPHQL_APQ_TTL`` seconds (re-registered on demand,
shared by every replica); a hash that does not match its query is refused, so nobody can
register a document under another's hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from graphql import GraphQLError
from strawberry.http import GraphQLRequestData

from domain.cache import aget_bytes, aset_bytes
from graphql_api.errors import ErrorCode

_KEY = "graphql:apq:{}"


class PersistedQueryError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.error = GraphQLError(message, extensions={"code": code})


def _requested_hash(extensions: dict[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise PersistedQueryError(
            "Only version 1 of the persistedQuery extension is supported.",
            ErrorCode.BAD_USER_INPUT.value,
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64:
        raise PersistedQueryError(
            "persistedQuery.sha256Hash must be 64 hexadecimal digits.",
            ErrorCode.BAD_USER_INPUT.value,
        )
    return digest.lower()


async def resolve(request: GraphQLRequestData, *, ttl: int) -> GraphQLRequestData:
    """``request`` with its query filled in from (or registered under) its persisted hash."""
    digest = _requested_hash(request.extensions)
    if digest is None:
        return request
    if request.query is not None:
        if hashlib.sha256(request.query.encode()).hexdigest() != digest:
            raise PersistedQueryError(
                "provided sha does not match query", ErrorCode.PERSISTED_QUERY_HASH_MISMATCH.value
            )
        await aset_bytes(_KEY.format(digest), request.query.encode(), ttl)
        return request
    stored = await aget_bytes(_KEY.format(digest))
    if stored is None:
        raise PersistedQueryError(
            "PersistedQueryNotFound", ErrorCode.PERSISTED_QUERY_NOT_FOUND.value
        )
    return dataclasses.replace(request, query=stored.decode())
