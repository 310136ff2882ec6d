"""``python -m graphql_api``: serve the GraphQL app with uvicorn (settings from the environment)."""

from domain.asgi.server import serve

if __name__ == "__main__":
    serve("graphql_api.app:app")
