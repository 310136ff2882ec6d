"""Fast Django's GraphQL service: Strawberry on uvicorn over the shared Django domain.

``app.create_app()`` builds the ASGI app; ``schema.build_schema()`` the schema. See
``docs/graphql.md``.
"""
