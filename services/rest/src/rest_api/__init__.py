"""The Fast Django REST service: FastAPI over the shared Django domain (see docs/rest.md)."""
