#!/bin/sh
# Entrypoint of the Python services' image. With a command, run it (a one-off job such as
# `python -m admin_site prestart`); without one, start the server of the service the image
# was built for. `exec`, so the server is PID 1 and receives SIGTERM for a graceful shutdown.
set -eu

if [ "$#" -eq 0 ]; then
    case "${SERVICE:-}" in
        admin) set -- gunicorn -c python:admin_site.gunicorn admin_site.wsgi ;;
        rest) set -- python -m rest_api ;;
        graphql) set -- python -m graphql_api ;;
        *) echo "fastdjango-entrypoint: unknown SERVICE '${SERVICE:-}'" >&2; exit 64 ;;
    esac
fi
exec "$@"
