#!/usr/bin/env bash
# Make Docker usable and choose the images; print `export` lines to eval:
#
#   eval "$(deploy/scripts/docker-env.sh [postgres] [redis] [nginx] [python])"
#
# No names = all four. Exports POSTGRES_IMAGE, REDIS_IMAGE, NGINX_IMAGE,
# PYTHON_IMAGE (only those asked for), TESTCONTAINERS_RYUK_DISABLED=true when
# images come from the offline build (Ryuk's image cannot be pulled either),
# and BUILD_CA_BUNDLE (host CA bundle, passed to builds as the `ca` secret so
# pip/uv work behind TLS-inspecting proxies).
#
# FASTDJANGO_IMAGES=auto (default): per image, the official one if it is
#   present locally or `docker pull` gets it; otherwise the offline one, built
#   from the Debian mirror by deploy/offline/build.sh (once; later runs reuse
#   it). A pull failing on DNS/connection marks the registry unreachable and
#   the remaining images go offline without more tries.
# FASTDJANGO_IMAGES=official | offline: force one kind.
# Variables already set by the user (e.g. POSTGRES_IMAGE=...) are kept as
# they are. Messages go to stderr; stdout carries only the export lines.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
log() { printf 'docker-env: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

ALL=(postgres redis nginx python)
declare -A VAR=([postgres]=POSTGRES_IMAGE [redis]=REDIS_IMAGE [nginx]=NGINX_IMAGE [python]=PYTHON_IMAGE)
declare -A OFFICIAL=([postgres]=postgres:17 [redis]=redis:8 [nginx]=nginx:1.28 [python]=python:3.13-slim)
declare -A OFFLINE=(
  [postgres]=fastdjango-offline/postgres:17 [redis]=fastdjango-offline/redis:8
  [nginx]=fastdjango-offline/nginx:1.30 [python]=fastdjango-offline/python:3.13
)

names=("$@")
(( ${#names[@]} )) || names=("${ALL[@]}")
for n in "${names[@]}"; do
  [[ -n ${VAR[$n]:-} ]] || die "unknown image '$n' (known: ${ALL[*]})"
done
mode=${FASTDJANGO_IMAGES:-auto}
case $mode in auto | official | offline) ;; *) die "FASTDJANGO_IMAGES must be auto, official or offline (got '$mode')" ;; esac

# Engine + compose + buildx (fast no-op when present). Its stdout is not ours.
bash "$here/ensure-docker.sh" >&2
export FASTDJANGO_DOCKER_CHECKED=1

registry=unknown # unknown | up | down
# try_pull IMAGE: 0 if pulled. Sets registry=down on network-level failures.
try_pull() {
  local out rc=0
  out=$(timeout "${FASTDJANGO_PULL_TIMEOUT:-300}" docker pull -q "$1" 2>&1) || rc=$?
  if (( rc == 0 )); then registry=up; return 0; fi
  if (( rc == 124 )) || grep -qiE 'dial tcp|lookup |no such host|connection refused|i/o timeout|network is unreachable|TLS handshake|x509|proxyconnect|Client\.Timeout' <<<"$out"; then
    registry=down
    log "registry unreachable ($(head -n1 <<<"$out" | cut -c1-160)); using offline images"
  else
    log "pull $1 failed: $(head -n1 <<<"$out" | cut -c1-160)"
  fi
  return 1
}

declare -A chosen=()
to_build=()
offline_used=0
for n in "${names[@]}"; do
  var=${VAR[$n]}
  if [[ -n ${!var:-} ]]; then
    chosen[$n]=${!var}
    # A user-chosen offline image still has to exist.
    if [[ ${!var} == "${OFFLINE[$n]}" ]]; then to_build+=("$n"); offline_used=1; fi
    continue
  fi
  official=${OFFICIAL[$n]}
  case $mode in
    official) chosen[$n]=$official ;;
    offline) chosen[$n]=${OFFLINE[$n]} ;;
    auto)
      if docker image inspect "$official" >/dev/null 2>&1; then
        chosen[$n]=$official
      elif [[ $registry != down ]] && { log "pulling $official"; try_pull "$official"; }; then
        chosen[$n]=$official
      else
        chosen[$n]=${OFFLINE[$n]}
      fi ;;
  esac
  if [[ ${chosen[$n]} == "${OFFLINE[$n]}" ]]; then to_build+=("$n"); offline_used=1; fi
done

# Build (or confirm up to date: a label check per image) the offline ones.
if (( ${#to_build[@]} )); then
  bash "$root/deploy/offline/build.sh" "${to_build[@]}" >&2
fi

# CA bundle for `RUN --mount=type=secret,id=ca`: compose needs an existing
# file even when there is nothing to add, hence the committed empty one.
ca=${BUILD_CA_BUNDLE:-}
if [[ -z $ca ]]; then
  for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
    if [[ -f $f ]]; then ca=$f; break; fi
  done
fi
if [[ -z $ca ]]; then
  ca=$root/deploy/certs/none.pem
  [[ -f $ca ]] || { mkdir -p "$(dirname "$ca")"; : >"$ca"; }
fi

for n in "${names[@]}"; do
  printf 'export %s=%q\n' "${VAR[$n]}" "${chosen[$n]}"
  log "${VAR[$n]}=${chosen[$n]}"
done
if [[ -n ${TESTCONTAINERS_RYUK_DISABLED:-} ]]; then
  printf 'export TESTCONTAINERS_RYUK_DISABLED=%q\n' "$TESTCONTAINERS_RYUK_DISABLED"
elif (( offline_used )) || [[ $registry == down ]]; then
  printf 'export TESTCONTAINERS_RYUK_DISABLED=true\n'
fi
printf 'export BUILD_CA_BUNDLE=%q\n' "$ca"
