#!/usr/bin/env bash
# Load-test a running stack through its gateway with wrk (Debian package `wrk`).
#
#   make up && make seed && deploy/bench/run.sh [DURATION] [CONNECTIONS]
#
# Prints one line per scenario: requests/s and latency percentiles. docs/benchmarks.md holds the
# figures of a run and the machine it ran on. Only 127.0.0.1 is ever targeted.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$root/deploy/bench
duration=${1:-15s}
connections=${2:-32}
value() { grep -E "^$1=" "$root/.env" | tail -n1 | cut -d= -f2-; }
base="http://127.0.0.1:$(value GATEWAY_PORT)"
command -v wrk >/dev/null || { echo "bench: install wrk (apt-get install wrk)" >&2; exit 1; }

token=$(curl -fsS -X POST "$base/api/v1/auth/token" -H 'Content-Type: application/json' \
  -d "{\"username\": \"$(value DJANGO_SUPERUSER_USERNAME)\", \"password\": \"$(value DJANGO_SUPERUSER_PASSWORD)\", \"name\": \"bench\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
slug=$(curl -fsS "$base/api/v1/posts?limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["slug"])')

run() { # NAME URL [wrk args...]
  local name=$1 url=$2
  shift 2
  curl -fsS -o /dev/null "$url" "${@/#--header/-H}" 2>/dev/null || true # warm the cache
  wrk -t2 -c"$connections" -d"$duration" --latency "$@" "$url" |
    awk -v name="$name" '
      /Requests\/sec/ { rps = $2 }
      /^ +50%/ { p50 = $2 } /^ +90%/ { p90 = $2 } /^ +99%/ { p99 = $2 }
      /Non-2xx/ { errors = $NF }
      END { printf "%-44s %9s req/s   p50 %8s   p90 %8s   p99 %8s   non-2xx %s\n",
                   name, rps, p50, p90, p99, (errors ? errors : 0) }'
}

echo "wrk -t2 -c$connections -d$duration, through the gateway at $base"
run "REST  GET /api/v1/posts (cached page of 20)" "$base/api/v1/posts"
run "REST  GET /api/v1/posts/{slug} (cached)" "$base/api/v1/posts/$slug"
run "REST  GET /api/v1/posts?status=draft (DB, 20)" "$base/api/v1/posts?status=draft" \
  --header "Authorization: Bearer $token"
run "GQL   posts(first: 20) + author, category, tags" "$base/graphql" -s "$here/graphql-posts.lua"
run "gateway GET /healthz (nginx alone)" "$base/healthz"
