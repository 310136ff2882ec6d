#!/usr/bin/env bash
# Create .env from .env.example on first use, replacing each "generate" with a random secret.
# An existing .env keeps every line it has; a secret that .env.example gained since (a new
# "NAME=generate" line) is appended to it, freshly generated, so an upgrade never starts a
# service without one.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
env_file=${1:-$root/.env}

secret() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "${1:-40}"; }

umask 077
if [[ -e $env_file ]]; then
  added=()
  while IFS= read -r line; do
    if [[ $line =~ ^([A-Z_]+)=generate$ ]] && ! grep -qE "^${BASH_REMATCH[1]}=" "$env_file"; then
      printf '%s=%s\n' "${BASH_REMATCH[1]}" "$(secret 40)" >>"$env_file"
      added+=("${BASH_REMATCH[1]}")
    fi
  done <"$root/.env.example"
  if (( ${#added[@]} )); then
    echo "Added to $env_file: ${added[*]} (new secrets)." >&2
  fi
  exit 0
fi

while IFS= read -r line; do
  if [[ $line =~ ^([A-Z_]+)=generate$ ]]; then
    line="${BASH_REMATCH[1]}=$(secret 40)"
  fi
  printf '%s\n' "$line"
done <"$root/.env.example" >"$env_file"
echo "Created $env_file with fresh secrets (the admin password is DJANGO_SUPERUSER_PASSWORD there)." >&2
