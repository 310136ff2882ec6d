#!/usr/bin/env bash
# Create .env from .env.example on first use, replacing each "generate" with a random secret.
# An existing .env is never touched.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
env_file=${1:-$root/.env}
[[ -e $env_file ]] && exit 0

secret() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "${1:-40}"; }

umask 077
while IFS= read -r line; do
  if [[ $line =~ ^([A-Z_]+)=generate$ ]]; then
    line="${BASH_REMATCH[1]}=$(secret 40)"
  fi
  printf '%s\n' "$line"
done <"$root/.env.example" >"$env_file"
echo "Created $env_file with fresh secrets (the admin password is DJANGO_SUPERUSER_PASSWORD there)." >&2
