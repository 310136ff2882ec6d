#!/usr/bin/env bash
# Print where the running stack answers (after `make up`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
value() { grep -E "^$1=" "$root/.env" 2>/dev/null | tail -n1 | cut -d= -f2-; }
bind=${GATEWAY_BIND:-$(value GATEWAY_BIND)}
port=${GATEWAY_PORT:-$(value GATEWAY_PORT)}
base="http://${bind:-127.0.0.1}:${port:-8080}"
[[ $bind == 0.0.0.0 ]] && base="http://127.0.0.1:${port:-8080}"
cat <<MSG

Fast Django is up:
  Admin       $base/admin/   (user: $(value DJANGO_SUPERUSER_USERNAME); password: DJANGO_SUPERUSER_PASSWORD in .env)
  REST API    $base/api/v1/
  API docs    $base/api/docs
  GraphQL     $base/graphql
  Gateway     $base/healthz   (the services' own health checks are not routed: docker compose ps)

  make logs | make ps | make seed | make scale REST=3 | make down
MSG
