"""The database backend of every Fast Django process: Django's PostgreSQL backend with the
domain's pool checkouts and round-trip accounting (``ENGINE = "domain.postgresql"``)."""
