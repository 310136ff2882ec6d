#!/usr/bin/env bash
# Entrypoint of fastdjango-offline/redis:8 (Debian trixie's redis-server 8).
# Like the official redis image: options alone run redis-server, root drops
# to the `redis` user after taking ownership of /data, and with no config
# file redis listens on every address with protected mode off (the official
# image patches that default in). Logs go to stdout (no logfile is set).
set -euo pipefail

# `docker run IMAGE --save ""` or `IMAGE /path/redis.conf` -> redis-server ...
if [[ ${1:-} == -* || ${1:-} == *.conf ]]; then set -- redis-server "$@"; fi

if [[ ${1:-} == redis-server && $(id -u) -eq 0 ]]; then
  # Volumes arrive root-owned. setpriv (util-linux) is trixie's built-in gosu.
  find . \! -user redis -exec chown redis '{}' +
  export HOME=/data
  exec setpriv --reuid=redis --regid=redis --init-groups -- "${BASH_SOURCE[0]}" "$@"
fi

if [[ ${1:-} == redis-server ]]; then
  shift
  case ${1:-} in
    # Informational flags must stay alone.
    -v | --version | -h | --help | --test-memory | --check-system) ;;
    '' | -*)
      # No config file: container defaults first, so the user's options win.
      set -- --bind '* -::*' --protected-mode no --port 6379 --daemonize no --logfile '' "$@" ;;
  esac
  # umask of the official image: files readable by the redis user only.
  umask 0077
  set -- redis-server "$@"
fi

exec "$@"
