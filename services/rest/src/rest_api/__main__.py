"""``python -m rest_api``: serve the REST API with uvicorn, configured from the environment
(:mod:`domain.asgi.server` lists the variables)."""

from domain.asgi.server import serve


def main() -> None:
    serve("rest_api.main:app")


if __name__ == "__main__":
    main()
