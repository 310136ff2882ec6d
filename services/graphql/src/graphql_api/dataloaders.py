"""DataLoaders: every relation of every object in a response is fetched in one batch.

Each loader wraps one of the domain's batch reads (``domain.blog.selectors.a*_by_*_ids``), which
run one query for any number of keys on the domain's database threads. A fresh :class:`Loaders`
is made for each request (and each subscription event), so nothing is cached across requests;
the domain's Redis cache is what outlives a request.

Loaders of nested lists take ``(id, first)`` keys: the domain returns the first N rows of every
parent in one window-function query, one query per distinct N.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from functools import cached_property
from typing import Any, NamedTuple, TypeVar

from strawberry.dataloader import DataLoader

from domain.blog.records import CategoryNode, CategoryRecord, CommentView, PostView
from domain.blog.selectors import (
    acategories_by_ids,
    acategory_children_by_ids,
    acomments_by_post_ids,
    apost_bodies_by_ids,
    aposts_by_ids,
    apublished_post_counts_by_category_ids,
    apublished_post_counts_by_tag_ids,
    apublished_posts_by_category_ids,
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Slice(NamedTuple):
    """The first ``first`` children of the parent ``id``."""

    id: int
    first: int


def _mapped(
    fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]], missing: Callable[[], V]
) -> Callable[[list[K]], Awaitable[list[V]]]:
    async def load(keys: list[K]) -> list[V]:
        found = await fetch(keys)
        return [found[key] if key in found else missing() for key in keys]

    return load


def _sliced(
    fetch: Callable[..., Awaitable[Mapping[int, list[V]]]],
) -> Callable[[list[Slice]], Awaitable[list[list[V]]]]:
    async def load(keys: list[Slice]) -> list[list[V]]:
        sizes = sorted({key.first for key in keys})
        pages = await asyncio.gather(
            *(fetch([key.id for key in keys if key.first == size], limit=size) for size in sizes)
        )
        by_size = dict(zip(sizes, pages, strict=True))
        return [list(by_size[key.first].get(key.id, ())) for key in keys]

    return load


def _none() -> None:
    return None


def _zero() -> int:
    return 0


class CategoryByIdLoader(DataLoader[int, CategoryRecord | None]):
    def __init__(self) -> None:
        super().__init__(load_fn=_mapped(acategories_by_ids, _none))


class ChildCategoriesByParentIdLoader(DataLoader[int, list[CategoryRecord]]):
    """Active sub-categories, by name."""

    def __init__(self) -> None:
        super().__init__(load_fn=_mapped(acategory_children_by_ids, list))


class PostCountByCategoryIdLoader(DataLoader[int, int]):
    def __init__(self) -> None:
        super().__init__(load_fn=_mapped(apublished_post_counts_by_category_ids, _zero))


class PostCountByTagIdLoader(DataLoader[int, int]):
    def __init__(self) -> None:
        super().__init__(load_fn=_mapped(apublished_post_counts_by_tag_ids, _zero))


class BodyByPostIdLoader(DataLoader[int, str]):
    """Bodies of posts read without them (list pages that did not select ``body``)."""

    def __init__(self) -> None:
        super().__init__(load_fn=_mapped(apost_bodies_by_ids, str))


class CommentsByPostSliceLoader(DataLoader[Slice, list[CommentView]]):
    """The oldest comments of each post."""

    def __init__(self) -> None:
        super().__init__(load_fn=_sliced(acomments_by_post_ids))


class PublishedPostsByCategorySliceLoader(DataLoader[Slice, list[PostView]]):
    """The newest published posts filed directly under each category."""

    def __init__(self) -> None:
        super().__init__(load_fn=_sliced(apublished_posts_by_category_ids))


class PostByIdLoader(DataLoader[int, PostView | None]):
    """Posts ``viewer`` may see; ``None`` for the others."""

    def __init__(self, viewer: Any) -> None:
        async def fetch(ids: list[int]) -> dict[int, PostView]:
            return await aposts_by_ids(ids, viewer=viewer)

        super().__init__(load_fn=_mapped(fetch, _none))


class Loaders:
    """The DataLoaders of one request, created by the context getter. Each is made on first
    use: most operations need one or two of them, and a response served from a cache none."""

    def __init__(self, viewer: Any) -> None:
        self.viewer = viewer

    body_by_post_id = cached_property(lambda _: BodyByPostIdLoader())
    category_by_id = cached_property(lambda _: CategoryByIdLoader())
    child_categories_by_parent_id = cached_property(lambda _: ChildCategoriesByParentIdLoader())
    post_count_by_category_id = cached_property(lambda _: PostCountByCategoryIdLoader())
    post_count_by_tag_id = cached_property(lambda _: PostCountByTagIdLoader())
    comments_by_post_slice = cached_property(lambda _: CommentsByPostSliceLoader())
    published_posts_by_category_slice = cached_property(
        lambda _: PublishedPostsByCategorySliceLoader()
    )
    post_by_id = cached_property(lambda self: PostByIdLoader(self.viewer))

    # Reads that already hold relations hand them to the loaders, which then need no query.

    def prime_category_tree(self, nodes: Iterable[CategoryNode]) -> None:
        """The whole tree: each category, and its (active) children."""
        for node in nodes:
            self.category_by_id.prime(node.category.id, node.category)
            children = [child.category for child in node.children]
            self.child_categories_by_parent_id.prime(node.category.id, children)
            self.prime_category_tree(node.children)
