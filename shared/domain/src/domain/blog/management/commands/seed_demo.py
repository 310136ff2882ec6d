"""Load deterministic demo data: the same arguments always give the same users, categories,
posts, tags and comments (for demos, tests and benchmarks).

    python -m django seed_demo --posts 500 --comments 2000 --password demo-pass-123
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.text import slugify

from domain.blog.cache import blog_cache
from domain.blog.models import Category, Comment, Post, Tag, read_time_minutes

USERNAME_PREFIX = "demo-user-"
# Fixed, so that the data does not depend on the day it is loaded.
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

# fmt: off
TOPICS = [
    "Python", "Django", "FastAPI", "GraphQL", "PostgreSQL", "Redis", "Docker", "Testing",
    "Security", "Performance", "Databases", "Async", "Caching", "Deployment", "Observability",
    "Architecture", "Frontend", "APIs", "Tooling", "Career",
]
VERBS = [
    "build", "scale", "test", "profile", "deploy", "secure", "cache", "design", "debug", "ship",
]
NOUNS = [
    "services", "queries", "migrations", "schemas", "workers", "endpoints", "pipelines",
    "indexes", "transactions", "dashboards", "releases", "containers",
]
WORDS = [
    "the", "a", "of", "to", "and", "in", "is", "it", "for", "on", "with", "as", "by", "at",
    "from", "that", "this", "are", "be", "or", "can", "will", "query", "index", "cache",
    "replica", "latency", "throughput", "connection", "pool", "thread", "event", "loop",
    "request", "response", "schema", "resolver", "loader", "transaction", "commit", "rollback",
    "migration", "model", "field", "admin", "gateway", "proxy", "token", "session", "cookie",
    "header", "payload", "cursor", "page", "filter", "search", "vector", "rank", "deploy",
    "container", "image", "volume", "network", "health", "probe", "metric", "trace", "log",
    "error", "retry", "timeout",
]
# fmt: on


class Command(BaseCommand):
    help = "Load deterministic demo data of a chosen size into an empty blog."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=10)
        parser.add_argument("--categories", type=int, default=12)
        parser.add_argument("--posts", type=int, default=200)
        parser.add_argument("--tags", type=int, default=30)
        parser.add_argument("--comments", type=int, default=600, help="In all, not per post.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--password",
            default="",
            help="Password for the demo users (default: unusable, they cannot log in).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if get_user_model()._default_manager.filter(username__startswith=USERNAME_PREFIX).exists():
            raise CommandError("Demo data is already loaded (demo users exist).")
        for name in ("users", "categories", "posts", "tags", "comments"):
            if options[name] < 0:
                raise CommandError(f"--{name} cannot be negative.")
        if options["posts"] and not options["users"]:
            raise CommandError("Posts need at least one user.")
        rng = random.Random(options["seed"])  # noqa: S311 (reproducible, not secret)
        with transaction.atomic():
            users = self._users(options["users"], options["password"])
            categories = self._categories(rng, options["categories"])
            tags = self._tags(options["tags"])
            posts = self._posts(rng, options["posts"], users, categories)
            self._tag_posts(rng, posts, tags)
            self._comments(rng, options["comments"], posts, users)
        # Bulk inserts send no signals.
        blog_cache.invalidate()
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {len(users)} users, {len(categories)} categories, {len(tags)} tags, "
                f"{len(posts)} posts and {options['comments'] if posts else 0} comments."
            )
        )

    def _users(self, count: int, password: str) -> list[Any]:
        user_model = get_user_model()
        hashed = make_password(password or None)
        users = [
            user_model(
                username=f"{USERNAME_PREFIX}{n:03d}",
                first_name="Demo",
                last_name=f"Writer {n}",
                email=f"{USERNAME_PREFIX}{n:03d}@example.com",
                password=hashed,
            )
            for n in range(1, count + 1)
        ]
        return user_model._default_manager.bulk_create(users)

    def _categories(self, rng: random.Random, count: int) -> list[Category]:
        created: list[Category] = []
        roots = max(1, count // 3) if count else 0
        for n in range(count):
            topic = TOPICS[n % len(TOPICS)]
            name = topic if n < len(TOPICS) else f"{topic} {n // len(TOPICS) + 1}"
            parent = rng.choice(created[:roots]) if n >= roots and created else None
            category = Category(
                name=name,
                slug=slugify(name),
                description=f"Posts about {topic.lower()}.",
                parent=parent,
            )
            category.save()
            created.append(category)
        return created

    def _tags(self, count: int) -> list[Tag]:
        names = [f"{VERBS[n % len(VERBS)]}-{NOUNS[n % len(NOUNS)]}-{n}" for n in range(count)]
        return Tag.objects.bulk_create([Tag(name=name, slug=slugify(name)) for name in names])

    def _posts(
        self, rng: random.Random, count: int, users: list[Any], categories: list[Category]
    ) -> list[Post]:
        posts = []
        for n in range(1, count + 1):
            title = (
                f"How to {rng.choice(VERBS)} {rng.choice(NOUNS)} with "
                f"{rng.choice(TOPICS)}, part {n}"
            )
            body = "\n\n".join(
                " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 120))).capitalize() + "."
                for _ in range(rng.randint(2, 8))
            )
            created_at = EPOCH + timedelta(minutes=n * 97)
            published = rng.random() < 0.8
            posts.append(
                Post(
                    author=rng.choice(users),
                    category=rng.choice(categories) if categories and rng.random() < 0.9 else None,
                    title=title,
                    slug=f"{slugify(title)}",
                    summary=body[:200].rsplit(" ", 1)[0] + "…",
                    body=body,
                    status=Post.Status.PUBLISHED if published else Post.Status.DRAFT,
                    published_at=created_at + timedelta(hours=2) if published else None,
                    read_time_minutes=read_time_minutes(body),
                    view_count=rng.randint(0, 5000) if published else 0,
                    created_at=created_at,
                )
            )
        return Post.objects.bulk_create(posts, batch_size=1000)

    def _tag_posts(self, rng: random.Random, posts: list[Post], tags: list[Tag]) -> None:
        if not tags:
            return
        through = Post.tags.through
        links = [
            through(post_id=post.pk, tag_id=tag.pk)
            for post in posts
            for tag in rng.sample(tags, k=min(len(tags), rng.randint(0, 4)))
        ]
        through.objects.bulk_create(links, batch_size=5000)

    def _comments(
        self, rng: random.Random, count: int, posts: list[Post], users: list[Any]
    ) -> None:
        if not posts:
            return
        comments = [
            Comment(
                post=(post := rng.choice(posts)),
                author=rng.choice(users),
                body=" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40))).capitalize(),
                created_at=post.created_at + timedelta(hours=3, minutes=n),
            )
            for n in range(count)
        ]
        Comment.objects.bulk_create(comments, batch_size=5000)
