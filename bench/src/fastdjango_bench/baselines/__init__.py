"""The systems the product is measured against, each serving the product's two read endpoints
(``GET /api/v1/posts`` and ``GET /api/v1/posts/{slug}``, anonymous, published posts only) with the
same JSON values:

* :mod:`.floor`: FastAPI and a psycopg pool, one hand-written SQL statement per page;
* :mod:`.ninja_api`: django-ninja, async views on Django's own ASGI handler;
* :mod:`.drf_api`: Django REST framework under gunicorn;
* :mod:`.sync_api`: sync ``def`` FastAPI endpoints reading relations lazily (the original way).

Each runs in its own container of the bench project (bench/compose.yml), one worker.
"""
