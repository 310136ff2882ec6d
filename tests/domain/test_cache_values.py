"""What the cache stores: integers and bytes only. Read models go in as msgpack and come back as
the type the reader names; nothing read from Redis is ever unpickled, so whoever can write to
Redis can at worst make a read miss, never run code in a service."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches

from domain.blog import selectors
from domain.blog.cache import blog_cache
from domain.blog.records import PostView
from domain.cache import BytesSerializer
from tests.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)


class Planted:
    """Unpickling this writes a file: proof that code from Redis ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> Any:
        return (Path.write_text, (self.path, "ran"))


def test_the_serializer_stores_integers_and_bytes_only():
    serializer = BytesSerializer()
    assert serializer.dumps(7) == 7
    assert serializer.dumps(b"\x80raw") == b"\x80raw"
    for value in ({"a": 1}, "text", 1.5, True, None):
        with pytest.raises(TypeError):
            serializer.dumps(value)
    assert serializer.loads(b"-12") == -12
    assert serializer.loads(pickle.dumps({"a": 1})) == pickle.dumps({"a": 1}), "returned as bytes"


def test_a_cached_read_model_is_msgpack_under_its_generation(user):
    post = make_post(user, "Stored")
    selectors.post_detail(viewer=None, slug=post.slug)
    raw = caches["default"].get(blog_cache.entry_key("post", (post.slug,), PostView | None))
    generation, _, payload = raw.partition(b":")
    assert generation.isdigit()
    assert not payload.startswith(b"\x80"), "not a pickle"
    assert b"Stored" in payload


def test_a_pickle_planted_in_redis_is_never_unpickled(user, tmp_path):
    post = make_post(user, "Real")
    selectors.post_detail(viewer=None, slug=post.slug)
    generation = caches["default"].get(blog_cache._generation_key)
    key = blog_cache.entry_key("post", (post.slug,), PostView | None)
    proof = tmp_path / "pwned"
    for planted in (
        pickle.dumps(Planted(proof)),
        b"%d:%s" % (generation, pickle.dumps(Planted(proof))),
    ):
        caches["default"].set(key, planted)
        assert selectors.post_detail(viewer=None, slug=post.slug).title == "Real"
    assert not proof.exists()


def test_the_redis_password_is_quoted_into_the_url_and_kept_out_of_logs(monkeypatch):
    import redis

    from domain.env import redacted, redis_url_from_env

    monkeypatch.setenv("REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("REDIS_PASSWORD", "p@ss/w:rd")
    url = redis_url_from_env()
    assert redis.connection.parse_url(url)["password"] == "p@ss/w:rd"
    assert "p@ss" not in redacted(url)
    assert redacted(url) == "redis://:***@redis:6379/0"
    monkeypatch.delenv("REDIS_PASSWORD")
    assert redis_url_from_env() == "redis://redis:6379/0"
