"""Relay-style connections over the domain's keyset pages (:mod:`domain.pagination`).

Cursors are the domain's own opaque cursors, so a page is as cheap at any depth and stays stable
while rows are added. Only forward pagination (``first``/``after``) is offered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import strawberry

from domain.pagination import Page, SortKey, encode_cursor

T = TypeVar("T")


@strawberry.type(description="Where a page stands in its list (Relay's PageInfo).")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Whether this page was asked for with `after` (items precede it)."
    )
    start_cursor: str | None = strawberry.field(description="The first edge's cursor.")
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor: pass it as `after` for the next page."
    )


@strawberry.type(description="An item of a page, with the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` to continue after this item.")
    node: T


@strawberry.type(description="A page of a list, in the Relay connection style.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    nodes: list[T] = strawberry.field(
        description="The edges' nodes, for clients that need no per-item cursor."
    )
    page_info: PageInfo


def connection(
    page: Page[Any], *, orderings: Mapping[str, SortKey], ordering: str, after: str | None
) -> Connection[Any]:
    """``page`` as a connection; each item's cursor is the one the domain would resume after."""
    key = orderings[ordering]
    edges = [
        Edge(
            cursor=encode_cursor(ordering, key.encode(getattr(item, key.field)), item.id), node=item
        )
        for item in page.items
    ]
    return Connection(
        edges=edges,
        nodes=list(page.items),
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
