from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from domain.accounts.querysets import ApiTokenQuerySet


def display_name_of(first_name: str, last_name: str, username: str) -> str:
    """How a user is shown: the full name, else the username (for rows read without a model)."""
    return f"{first_name} {last_name}".strip() or username


class User(AbstractUser):
    """A person who writes posts and comments, edits in the admin, or holds API tokens.

    A custom user model from the start, as Django recommends, so fields can be added later without
    a migration ordeal.
    """

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def display_name(self) -> str:
        return display_name_of(self.first_name, self.last_name, self.username)


class ApiToken(models.Model):
    """A bearer token for the REST and GraphQL APIs.

    Only a SHA-256 digest of the token is stored: the token itself is shown once, when issued.
    Tokens are long random strings, so a fast hash is enough (there is nothing to brute-force).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True, help_text="What the token is for.")
    prefix = models.CharField(
        max_length=12, editable=False, help_text="The token's first characters, to recognise it."
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="apitoken_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'})"
