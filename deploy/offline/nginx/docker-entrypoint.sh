#!/usr/bin/env bash
# Entrypoint of fastdjango-offline/nginx:1.30: the parts of the official
# nginx image's entrypoint that a compose file may rely on:
#   * /etc/nginx/templates/*.template -> envsubst -> /etc/nginx/conf.d/*
#     (only variables that are set are substituted, so nginx's own $vars
#     survive; NGINX_ENVSUBST_TEMPLATE_DIR/_SUFFIX, NGINX_ENVSUBST_OUTPUT_DIR);
#   * executable /docker-entrypoint.d/*.sh run before nginx starts.
# Only when the command is nginx, like the official one.
set -euo pipefail

if [[ ${1:-} == nginx || ${1:-} == nginx-debug ]]; then
  tdir=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
  suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
  odir=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
  if [[ -d $tdir ]]; then
    # "${A} ${B} ...": the names of every variable in the environment.
    defined=$(env | awk -F= '/^[A-Za-z_][A-Za-z0-9_]*=/ { printf "${%s} ", $1 }')
    while IFS= read -r -d '' t; do
      rel=${t#"$tdir"/}
      out="$odir/${rel%"$suffix"}"
      mkdir -p "$(dirname "$out")"
      echo "$0: envsubst $t -> $out" >&2
      envsubst "$defined" <"$t" >"$out"
    done < <(find "$tdir" -follow -type f -name "*$suffix" -print0)
  fi
  if [[ -d /docker-entrypoint.d ]]; then
    while IFS= read -r -d '' s; do
      if [[ -x $s ]]; then echo "$0: running $s" >&2; "$s"; fi
    done < <(find /docker-entrypoint.d -follow -type f -name '*.sh' -print0 | sort -z)
  fi
fi

exec "$@"
