"""The blog's mutations: each one calls one domain service, which owns every rule.

Expected refusals (invalid input, a taken slug, no permission, not signed in) come back in the
payload's ``errors``; see :mod:`graphql_api.errors`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import strawberry
from strawberry.types.maybe import Some

from domain.blog.services import categories, comments, posts
from graphql_api.blog.types import Category, Comment, Post
from graphql_api.context import Info
from graphql_api.errors import Payload, payload

# INPUTS
# ------------------------------------------------------------------------------


def given(data: object) -> dict[str, Any]:
    """An input's fields as domain keyword arguments: fields left out (``None``) are not passed,
    so the domain's defaults apply, and ``Maybe`` fields that were given are unwrapped."""
    values = ((f.name, getattr(data, f.name)) for f in dataclasses.fields(data))  # type: ignore[arg-type]
    return {
        name: value.value if isinstance(value, Some) else value
        for name, value in values
        if value is not None
    }


@strawberry.input(description="A new post, a draft unless `publish` is true.")
class CreatePostInput:
    title: str
    body: str = ""
    summary: str = ""
    category: str | None = strawberry.field(
        default=None, description="The slug of an active category."
    )
    tags: list[str] = strawberry.field(
        default_factory=list, description="Tag names (at most 10); missing tags are created."
    )
    slug: str | None = strawberry.field(
        default=None, description="Made from the title when left out; a taken slug is a CONFLICT."
    )
    publish: bool = False
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retrying with the same key returns the post the first attempt created.",
    )


@strawberry.input(description="Changes to a post; fields left out keep their values.")
class UpdatePostInput:
    slug: str = strawberry.field(description="The post to change.")
    title: strawberry.Maybe[str]
    body: strawberry.Maybe[str]
    summary: strawberry.Maybe[str]
    category: strawberry.Maybe[str | None] = strawberry.field(
        description="An active category's slug, or null to file the post nowhere."
    )
    tags: strawberry.Maybe[list[str]] = strawberry.field(description="Replaces all its tags.")
    new_slug: strawberry.Maybe[str] = strawberry.field(
        description="A new address; the slug never changes with the title otherwise."
    )


@strawberry.input(description="A new category.")
class CreateCategoryInput:
    name: str
    slug: str | None = strawberry.field(default=None, description="Made from the name if left out.")
    description: str = ""
    parent: str | None = strawberry.field(default=None, description="The parent's slug.")
    is_active: bool = True


@strawberry.input(description="Changes to a category; fields left out keep their values.")
class UpdateCategoryInput:
    slug: str = strawberry.field(description="The category to change.")
    name: strawberry.Maybe[str]
    new_slug: strawberry.Maybe[str]
    description: strawberry.Maybe[str]
    parent: strawberry.Maybe[str | None] = strawberry.field(
        description="The new parent's slug, or null to make it a root. Never a descendant."
    )
    is_active: strawberry.Maybe[bool]


@strawberry.input(description="A comment on a post the viewer can see.")
class AddCommentInput:
    post_slug: str
    body: str
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retrying with the same key returns the comment the first attempt added.",
    )


# PAYLOADS
# ------------------------------------------------------------------------------


@strawberry.type(description="The post written, or why it was not.")
class PostPayload(Payload):
    post: Post | None = None


@strawberry.type(description="The slug of the post deleted (with its comments), or why not.")
class DeletePostPayload(Payload):
    deleted_slug: str | None = None


@strawberry.type(description="The category written, or why it was not.")
class CategoryPayload(Payload):
    category: Category | None = None


@strawberry.type(description="The slug of the category deleted, or why not.")
class DeleteCategoryPayload(Payload):
    deleted_slug: str | None = None


@strawberry.type(description="The comment added, or why it was not.")
class AddCommentPayload(Payload):
    comment: Comment | None = None


@strawberry.type(description="The post's new view count, or why the view was not counted.")
class RecordPostViewPayload(Payload):
    view_count: int | None = None


# MUTATIONS
# ------------------------------------------------------------------------------


@strawberry.type
class BlogMutation:
    @strawberry.mutation(description="Write a post as the viewer.")
    async def create_post(self, info: Info, input: CreatePostInput) -> PostPayload:
        call = posts.apost_create(author=info.context.user, **given(input))
        return await payload(PostPayload, call, "post")

    @strawberry.mutation(description="Change a post: the author's own, or any with permission.")
    async def update_post(self, info: Info, input: UpdatePostInput) -> PostPayload:
        call = posts.apost_update(actor=info.context.user, **given(input))
        return await payload(PostPayload, call, "post")

    @strawberry.mutation(description="Publish a draft; it keeps the date it first went live.")
    async def publish_post(self, info: Info, slug: str) -> PostPayload:
        call = posts.apost_publish(actor=info.context.user, slug=slug)
        return await payload(PostPayload, call, "post")

    @strawberry.mutation(description="Turn a published post back into a draft.")
    async def unpublish_post(self, info: Info, slug: str) -> PostPayload:
        call = posts.apost_unpublish(actor=info.context.user, slug=slug)
        return await payload(PostPayload, call, "post")

    @strawberry.mutation(description="Delete a post with its comments; tags and category stay.")
    async def delete_post(self, info: Info, slug: str) -> DeletePostPayload:
        call = posts.apost_delete(actor=info.context.user, slug=slug)
        return await payload(DeletePostPayload, call, "deleted_slug", lambda _: slug)

    @strawberry.mutation(description="Count one view of a published post (anyone may).")
    async def record_post_view(self, slug: str) -> RecordPostViewPayload:
        return await payload(
            RecordPostViewPayload, posts.apost_record_view(slug=slug), "view_count"
        )

    @strawberry.mutation(description="Create a category (needs the add_category permission).")
    async def create_category(self, info: Info, input: CreateCategoryInput) -> CategoryPayload:
        call = categories.acategory_create(actor=info.context.user, **given(input))
        return await payload(CategoryPayload, call, "category")

    @strawberry.mutation(description="Change or move a category (needs change_category).")
    async def update_category(self, info: Info, input: UpdateCategoryInput) -> CategoryPayload:
        call = categories.acategory_update(actor=info.context.user, **given(input))
        return await payload(CategoryPayload, call, "category")

    @strawberry.mutation(
        description="Delete a category (needs delete_category). Posts and sub-categories are "
        "never deleted with it: a non-empty category is a CONFLICT unless `moveTo` names the "
        "category that takes them over."
    )
    async def delete_category(
        self, info: Info, slug: str, move_to: str | None = None
    ) -> DeleteCategoryPayload:
        call = categories.acategory_delete(actor=info.context.user, slug=slug, move_to=move_to)
        return await payload(DeleteCategoryPayload, call, "deleted_slug", lambda _: slug)

    @strawberry.mutation(
        description="Comment on a post as the viewer; subscribers of `commentAdded` hear of it."
    )
    async def add_comment(self, info: Info, input: AddCommentInput) -> AddCommentPayload:
        call = comments.acomment_add(author=info.context.user, **given(input))
        return await payload(AddCommentPayload, call, "comment")
