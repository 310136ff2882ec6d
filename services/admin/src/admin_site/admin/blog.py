"""The blog in the admin: every changelist loads its relations and counts in a fixed number of
queries (list_select_related, annotated counts), whatever the page size.

Posts follow the domain's rules (domain.blog.permissions): the status is editable only by whom
may publish the post (its author, or with ``blog.publish_post``), its publication date only with
``blog.publish_post`` (a date is what orders the front page), and its author only by superusers;
anyone else's new post is their own. The publish and unpublish actions call the domain's
services, which check the permission again for each post.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from domain.blog.models import Category, Comment, Post, Tag
from domain.blog.permissions import require_publish_post
from domain.blog.services.posts import post_publish, post_unpublish
from domain.errors import DomainError


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent", "is_active", "post_count")
    list_select_related = ("parent",)
    list_filter = ("is_active", ("parent", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "slug")
    autocomplete_fields = ("parent",)
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Category]:
        return super().get_queryset(request).with_counts()

    @admin.display(description="Published posts", ordering="post_count")
    def post_count(self, category: Category) -> int:
        return category.post_count  # type: ignore[attr-defined]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "post_count")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return super().get_queryset(request).with_counts()

    @admin.display(description="Published posts", ordering="post_count")
    def post_count(self, tag: Tag) -> int:
        return tag.post_count  # type: ignore[attr-defined]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "author",
        "category",
        "status",
        "published_at",
        "view_count",
        "comment_count",
    )
    list_select_related = ("author", "category")
    list_filter = ("status", ("category", admin.RelatedOnlyFieldListFilter), "published_at")
    search_fields = ("title", "slug", "summary", "author__username")
    autocomplete_fields = ("author", "category", "tags")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("read_time_minutes", "view_count", "created_at", "updated_at")
    date_hierarchy = "created_at"
    fieldsets = (
        (None, {"fields": ("title", "slug", "author", "category", "tags", "summary", "body")}),
        ("Publication", {"fields": ("status", "published_at")}),
        (
            "Statistics",
            {"fields": ("read_time_minutes", "view_count", "created_at", "updated_at")},
        ),
    )
    actions = ("publish", "unpublish")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Post]:
        return super().get_queryset(request).with_counts()

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, object]:
        return {"author": request.user.pk}

    def get_readonly_fields(self, request: HttpRequest, obj: Post | None = None) -> Sequence[str]:
        fields = [*super().get_readonly_fields(request, obj)]
        if not request.user.is_superuser:
            fields.append("author")
        # A new post is the user's own, which its author may publish.
        if obj is not None and not self._may_publish(request, obj):
            fields.append("status")
        if not self.has_publish_permission(request):
            fields.append("published_at")
        return fields

    def save_model(self, request: HttpRequest, obj: Post, form: Any, change: bool) -> None:
        if not change and not request.user.is_superuser:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    @staticmethod
    def _may_publish(request: HttpRequest, post: Post) -> bool:
        try:
            require_publish_post(request.user, post)
        except DomainError:
            return False
        return True

    @admin.display(description="Comments", ordering="comment_count")
    def comment_count(self, post: Post) -> int:
        return post.comment_count  # type: ignore[attr-defined]

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("blog.publish_post")

    def _apply(self, request: HttpRequest, queryset: QuerySet[Post], service: object) -> int:
        done = 0
        for slug in queryset.values_list("slug", flat=True):
            try:
                service(actor=request.user, slug=slug)  # type: ignore[operator]
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{slug}: {exc.message}", messages.ERROR)
        return done

    @admin.action(description="Publish the selected posts", permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        done = self._apply(request, queryset, post_publish)
        self.message_user(request, f"Published {done} post(s).", messages.SUCCESS)

    @admin.action(description="Unpublish the selected posts", permissions=["publish"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        done = self._apply(request, queryset, post_unpublish)
        self.message_user(request, f"Unpublished {done} post(s).", messages.SUCCESS)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("excerpt", "post", "author", "created_at")
    list_select_related = ("post", "author")
    search_fields = ("body", "author__username", "post__title")
    autocomplete_fields = ("post", "author")
    readonly_fields = ("created_at",)
    date_hierarchy = "created_at"

    @admin.display(description="Comment")
    def excerpt(self, comment: Comment) -> str:
        return comment.body if len(comment.body) <= 80 else comment.body[:79] + "…"
