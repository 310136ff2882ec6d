"""The floor: the product's list and detail pages from one hand-written SQL statement each.

PostgreSQL builds every post's JSON (``row_to_json``: compact, fields in the product's order,
datetimes in Pydantic's format); Python only decodes the cursor, joins the rows and adds the
``next`` link. No ORM, no validation, no cache: what a careful hand-written endpoint costs.

    uvicorn fastdjango_bench.baselines.floor:app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from psycopg_pool import AsyncConnectionPool

from fastdjango_bench.baselines.pages import PAGE_SIZE, BadCursor, decode_cursor, next_link


def _iso(column: str) -> str:
    """``column`` (timestamptz) as Pydantic writes a UTC datetime: ``...T00:00:00Z``, or with
    six fraction digits when there are microseconds; NULL stays NULL."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE "
        f"WHEN date_part('microseconds', {column})::int %% 1000000 = 0 THEN '' "
        f"ELSE to_char({utc}, '.US') END || 'Z'"
    )


def _item(*, body: bool) -> str:
    """The JSON of one post of ``page`` (joined with ``u`` and ``cat``), as text."""
    # Built from constants only: no input reaches the text of a statement.
    return f"""(SELECT row_to_json(item)::text FROM (SELECT
        page.id, page.slug, page.title, page.summary, page.status,
        {_iso("page.published_at")} AS published_at,
        {_iso("page.created_at")} AS created_at,
        {_iso("page.updated_at")} AS updated_at,
        page.read_time_minutes, page.view_count,
        (SELECT count(*) FROM blog_comment cm WHERE cm.post_id = page.id) AS comment_count,
        (SELECT row_to_json(a) FROM (SELECT u.id, u.username,
            coalesce(nullif(btrim(u.first_name || ' ' || u.last_name), ''), u.username)
                AS display_name) a) AS author,
        CASE WHEN cat.id IS NULL THEN NULL
             ELSE (SELECT row_to_json(c) FROM (SELECT cat.id, cat.slug, cat.name) c) END
            AS category,
        coalesce((SELECT '[' || string_agg(row_to_json(t)::text, ',' ORDER BY t.name) || ']'
                  FROM (SELECT tg.id, tg.slug, tg.name FROM blog_post_tags pt
                        JOIN blog_tag tg ON tg.id = pt.tag_id
                        WHERE pt.post_id = page.id) t), '[]')::json AS tags
        {", page.body" if body else ""}
    ) item)"""  # noqa: S608


_COLUMNS = (
    "p.id, p.slug, p.title, p.summary, p.status, p.published_at, p.created_at, p.updated_at, "
    "p.read_time_minutes, p.view_count, p.author_id, p.category_id"
)
_JOINS = (
    "JOIN accounts_user u ON u.id = page.author_id "
    "LEFT JOIN blog_category cat ON cat.id = page.category_id"
)


def _list_sql(*, after: bool) -> str:
    bound = "AND (p.published_at, p.id) < (%s, %s)" if after else ""
    return f"""WITH page AS (
        SELECT {_COLUMNS} FROM blog_post p
        WHERE p.status = 'published' {bound}
        ORDER BY p.published_at DESC, p.id DESC LIMIT {PAGE_SIZE + 1})
    SELECT {_item(body=False)}, page.published_at, page.id FROM page {_JOINS}
    ORDER BY page.published_at DESC, page.id DESC"""  # noqa: S608


FIRST_PAGE = _list_sql(after=False)
PAGE_AFTER = _list_sql(after=True)
DETAIL = f"""WITH page AS (
        SELECT {_COLUMNS}, p.body FROM blog_post p WHERE p.slug = %s AND p.status = 'published')
    SELECT {_item(body=True)} FROM page {_JOINS}"""  # noqa: S608


def _conninfo() -> str:
    env = os.environ.get
    return (
        f"host={env('POSTGRES_HOST', 'localhost')} port={env('POSTGRES_PORT', '5432')} "
        f"dbname={env('POSTGRES_DB', 'fastdjango')} user={env('POSTGRES_USER', 'fastdjango')} "
        f"password={env('POSTGRES_PASSWORD', '')} application_name=bench-floor"
    )


pool = AsyncConnectionPool(
    _conninfo(),
    min_size=int(os.environ.get("DB_POOL_MAX_SIZE", "10")),
    max_size=int(os.environ.get("DB_POOL_MAX_SIZE", "10")),
    # Datetimes come back in UTC, as the product's do; one statement, no transaction around it.
    kwargs={"autocommit": True, "options": "-c timezone=UTC"},
    open=False,
)


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    await pool.open(wait=True)
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan, openapi_url=None)


def _not_found() -> Response:
    return JSONResponse({"title": "Not Found", "status": 404}, status_code=404)


@app.get("/health")
async def health() -> Response:
    return PlainTextResponse("ok")


@app.get("/api/v1/posts")
async def list_posts(cursor: str | None = None) -> Response:
    if cursor:
        try:
            params: tuple[object, ...] = decode_cursor(cursor)
        except BadCursor:
            return JSONResponse({"title": "Bad cursor", "status": 400}, status_code=400)
    else:
        params = ()
    async with pool.connection() as conn:
        cur = await conn.execute(PAGE_AFTER if cursor else FIRST_PAGE, params)
        rows = await cur.fetchall()
    items = ",".join(row[0] for row in rows[:PAGE_SIZE])
    # The link holds only URL-safe characters: nothing to escape in JSON.
    more = f'"{next_link(*rows[PAGE_SIZE - 1][1:])}"' if len(rows) > PAGE_SIZE else "null"
    body = f'{{"items":[{items}],"next":{more}}}'
    return Response(body.encode(), media_type="application/json")


@app.get("/api/v1/posts/{slug}")
async def get_post(slug: str) -> Response:
    async with pool.connection() as conn:
        cur = await conn.execute(DETAIL, (slug,))
        row = await cur.fetchone()
    if row is None:
        return _not_found()
    return Response(row[0].encode(), media_type="application/json")
