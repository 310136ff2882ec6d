#!/usr/bin/env bash
# Entrypoint of fastdjango-offline/postgres:17 (Debian trixie's PostgreSQL 17).
# Re-implements what we use of the official postgres image's entrypoint:
#   POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required unless
#   POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default = user),
#   POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256),
#   *_FILE variants (docker/compose secrets), /docker-entrypoint-initdb.d/
#   (*.sh, *.sql, *.sql.gz), `docker run IMAGE -c x=y` == `postgres -c x=y`.
# Started as root it fixes ownership of $PGDATA and drops to `postgres`.
set -Eeuo pipefail

log() { printf '%s [entrypoint] %s\n' "$(date -u '+%F %T UTC')" "$*" >&2; }

# file_env VAR [DEFAULT]: VAR from $VAR or from the file named by $VAR_FILE.
file_env() {
  local var=$1 file_var="${1}_FILE" def=${2:-} val
  if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
    log "error: both $var and $file_var are set (but are exclusive)"; exit 1
  fi
  val=$def
  if [[ -n ${!var:-} ]]; then val=${!var}
  elif [[ -n ${!file_var:-} ]]; then val=$(<"${!file_var}")
  fi
  export "$var=$val"
  unset "$file_var"
}

# Options only: run them with postgres, like the official image.
if [[ ${1:-} == -* ]]; then set -- postgres "$@"; fi
# Anything else (bash, psql, ...) just runs.
[[ ${1:-} == postgres ]] || exec "$@"

export PGDATA=${PGDATA:-/var/lib/postgresql/data}

if [[ $(id -u) -eq 0 ]]; then
  # Volumes arrive root-owned: hand them to postgres, then drop root.
  # setpriv (util-linux) is trixie's built-in gosu.
  mkdir -p "$PGDATA" /var/run/postgresql
  find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
  chmod 700 "$PGDATA"
  chown postgres:postgres /var/run/postgresql
  chmod 3777 /var/run/postgresql
  export HOME=/var/lib/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- "${BASH_SOURCE[0]}" "$@"
fi

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  export POSTGRES_HOST_AUTH_METHOD=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [[ -z $POSTGRES_PASSWORD && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
    cat >&2 <<'MSG'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".
       (Or POSTGRES_HOST_AUTH_METHOD=trust to allow all connections without
       a password: not recommended.)
MSG
    exit 1
  fi

  log "initialising $PGDATA (user $POSTGRES_USER, db $POSTGRES_DB)"
  # Local (unix socket) connections are trusted, like the official image;
  # TCP always asks for the password (scram) unless told trust.
  initdb=(initdb --username="$POSTGRES_USER" --encoding=UTF8 --locale=C.UTF-8
          --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD")
  # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of options
  if [[ -n $POSTGRES_PASSWORD ]]; then
    "${initdb[@]}" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") $POSTGRES_INITDB_ARGS >&2
  else
    "${initdb[@]}" $POSTGRES_INITDB_ARGS >&2
  fi
  printf '\n# any address (the container network), like the official image\nhost all all all %s\n' \
    "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

  # Temporary server on the unix socket only (listen_addresses=''): TCP
  # clients (healthchecks, tests) succeed only once the real server is up.
  pg_ctl -D "$PGDATA" -w \
    -o "$(printf '%q ' "${@:2}" -c listen_addresses= -p "${PGPORT:-5432}")" start >&2

  psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username "$POSTGRES_USER")
  if [[ $POSTGRES_DB != postgres ]]; then
    exists=$("${psql[@]}" -tA --dbname postgres --set db="$POSTGRES_DB" <<<"SELECT 1 FROM pg_database WHERE datname = :'db' ;")
    if [[ -z $exists ]]; then
      "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;' >&2
    fi
  fi

  shopt -s nullglob
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sh)
        if [[ -x $f ]]; then log "running $f"; "$f"
        else log "sourcing $f"; # shellcheck disable=SC1090
          . "$f"; fi ;;
      *.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" >&2 ;;
      *.sql.gz) log "running $f"; gzip -dc "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" >&2 ;;
      *) log "ignoring $f" ;;
    esac
  done
  shopt -u nullglob

  pg_ctl -D "$PGDATA" -m fast -w stop >&2
  unset POSTGRES_PASSWORD
  log "init done; starting postgres"
fi

exec "$@"
