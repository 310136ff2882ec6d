"""``python -m graphql_api`` as its container runs it: uvicorn on a real port, against the test
PostgreSQL and Redis. GraphiQL is served in development (DJANGO_DEBUG=1)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from django.conf import settings
from websockets.sync.client import connect

from domain.blog.services.comments import comment_add
from tests import factories
from tests.serving import server, service_env

pytestmark = pytest.mark.django_db(transaction=True)


def test_uvicorn_serves_queries_health_graphiql_and_subscriptions(user: Any, other_user: Any):
    factories.make_post(user, "Served for real")
    # The tests' cache prefix, which also names the comment channel this process publishes on.
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    env = service_env(DJANGO_DEBUG="1", SERVICE_NAME="graphql", CACHE_KEY_PREFIX=prefix)
    with server(["-m", "graphql_api"], env=env, probe="/graphql/health/live") as running:
        base = running.url
        ready = httpx.get(f"{base}/graphql/health/ready")
        assert ready.status_code == 200
        assert ready.json()["checks"]["database"] == "ok"

        query = {"query": "{ posts { nodes { slug author { username } } } }"}
        data = httpx.post(f"{base}/graphql", json=query).json()
        assert data == {
            "data": {
                "posts": {"nodes": [{"slug": "served-for-real", "author": {"username": "alice"}}]}
            }
        }

        page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()

        # A comment written by this process reaches the server's subscriber through Redis.
        ws_url = base.replace("http://", "ws://") + "/graphql"
        with connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=5) as ws:
            ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(ws.recv(timeout=5)) == {"type": "connection_ack"}
            subscription = 'subscription { commentAdded(postSlug: "served-for-real") { body } }'
            ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": subscription}})
            )
            # Subscribing has no acknowledgement: write until the subscriber hears one.
            for attempt in range(50):
                comment_add(author=other_user, post_slug="served-for-real", body=f"Hello {attempt}")
                try:
                    message = json.loads(ws.recv(timeout=0.2))
                except TimeoutError:
                    continue
                assert message["type"] == "next"
                assert message["payload"]["data"]["commentAdded"]["body"].startswith("Hello")
                break
            else:
                pytest.fail("no comment reached the subscriber")
