from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from domain.blog.querysets import CategoryQuerySet, CommentQuerySet, PostQuerySet, TagQuerySet

# Full-text search configuration; PostgreSQL needs it spelled out for the generated column.
SEARCH_CONFIG = "english"
WORDS_PER_MINUTE = 200


def read_time_minutes(body: str) -> int:
    """Minutes an average reader needs for ``body``, at least one."""
    return max(1, math.ceil(len(body.split()) / WORDS_PER_MINUTE))


class Category(models.Model):
    """A node of the category tree; deleting one never deletes posts or sub-categories."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField(default=True, help_text="Inactive categories are hidden.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="category_not_its_own_parent")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Here rather than in a service, so that the admin's form refuses a cycle too.
        if (
            self.pk is not None
            and self.parent_id is not None
            and Category.objects.subtree_of_pk(self.pk).filter(pk=self.parent_id).exists()
        ):
            raise ValidationError(
                {"parent": "A category cannot be under itself or one of its descendants."}
            )


class Tag(models.Model):
    name = models.CharField(max_length=50)
    slug = models.SlugField(max_length=60, unique=True)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts"
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="posts"
    )
    title = models.CharField(max_length=200, validators=[MinLengthValidator(1)])
    slug = models.SlugField(max_length=220, unique=True)
    summary = models.CharField(max_length=500, blank=True)
    body = models.TextField(
        blank=True, max_length=100_000, validators=[MaxLengthValidator(100_000)]
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    read_time_minutes = models.PositiveSmallIntegerField(default=1, editable=False)
    view_count = models.PositiveBigIntegerField(default=0, editable=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="posts")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Maintained by PostgreSQL itself, so every writer (admin, API, SQL) keeps search in step.
    search_vector = models.GeneratedField(
        expression=(
            SearchVector("title", weight="A", config=SEARCH_CONFIG)
            + SearchVector("summary", weight="B", config=SEARCH_CONFIG)
            + SearchVector("body", weight="C", config=SEARCH_CONFIG)
        ),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("publish_post", "Can publish and unpublish any post")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published"]), name="post_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="post_published_has_date",
            ),
        ]
        indexes = [
            # The public list, newest first, and its keyset pagination.
            models.Index(
                F("published_at").desc(),
                F("id").desc(),
                condition=Q(status="published"),
                name="post_published_idx",
            ),
            models.Index(fields=["author", "-created_at"], name="post_author_created_idx"),
            models.Index(fields=["category", "-published_at"], name="post_category_pub_idx"),
            GinIndex(fields=["search_vector"], name="post_search_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
        """Keep the derived fields true whoever saves: the read time follows the body, and a
        published post always has a publication date."""
        derived = set()
        if self._date_publication():
            derived.add("published_at")
        if update_fields is None or "body" in update_fields:
            self.read_time_minutes = read_time_minutes(self.body)
            derived.add("read_time_minutes")
        if update_fields is not None:
            update_fields = {*update_fields, *derived}
        super().save(*args, update_fields=update_fields, **kwargs)

    def clean(self) -> None:
        # Before constraint validation, so the admin's form accepts "published" with no date.
        self._date_publication()

    def _date_publication(self) -> bool:
        """Give a published post without a date the current time; ``True`` if it did."""
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
            return True
        return False

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments"
    )
    body = models.TextField(max_length=5000, validators=[MaxLengthValidator(5000)])
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["post", "created_at", "id"], name="comment_post_created_idx")
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.post_id}"
