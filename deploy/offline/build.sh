#!/usr/bin/env bash
# Build the offline base images from the Debian mirror, as drop-ins for the
# official images when no container registry can be reached:
#
#   fastdjango-offline/python:3.13    (for python:3.13-slim)
#   fastdjango-offline/postgres:17    (for postgres:17)
#   fastdjango-offline/redis:8        (for redis:8)
#   fastdjango-offline/nginx:1.30     (for nginx:1.28; from sid, see SUITES)
#
# Usage: deploy/offline/build.sh [python|postgres|redis|nginx ...]  (none = all)
#
# Each image = a Debian rootfs made by mmdebstrap (minbase + packages; trixie,
# or the suite SUITES names),
# `docker import`ed as fastdjango-offline/<name>-rootfs:<recipe hash>, then
# deploy/offline/<name>/Dockerfile on top (entrypoint, ENV, USER, CMD...).
# No registry is involved: a local image satisfies FROM without a pull.
#
# Idempotent: the final image carries a label with the hash of its inputs
# (rootfs recipe, the <name>/ directory, this script); an image whose label
# matches is not rebuilt. A changed Dockerfile only re-runs the (seconds-long)
# docker build; a changed package list also re-runs mmdebstrap.
#
# Env: DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR (default: this machine's apt
#      sources), FASTDJANGO_OFFLINE_FORCE=1 to rebuild anyway.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scripts=$(cd "$here/../scripts" && pwd)
# shellcheck source=../scripts/lib/debian-mirror.sh
source "$scripts/lib/debian-mirror.sh"

log() { printf 'offline-build: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

DEFAULT_SUITE=trixie
# The gateway needs nginx >= 1.27.3 (`server ... resolve` in an upstream, for
# keep-alive and passive health checks on replicas found through Docker's DNS):
# trixie has 1.26, sid has 1.30. sid moves, but a rootfs is built once per
# recipe and kept, and `nginx -t` in deploy/nginx/Dockerfile refuses an nginx
# without `resolve`.
declare -A SUITES=([nginx]=sid)
PREFIX=fastdjango-offline
LABEL=org.fastdjango.offline.inputs
ALL=(python postgres redis nginx)

declare -A TAG=([python]=3.13 [postgres]=17 [redis]=8 [nginx]=1.30)
# Packages on top of minbase. Recommends are off (see MMDEBSTRAP_OPTS).
declare -A PKGS=(
  [python]="python3 python3-venv python-is-python3 ca-certificates tzdata"
  [postgres]="postgresql-17 postgresql-client-17 tzdata"
  [redis]="redis-server tzdata"
  [nginx]="nginx gettext-base ca-certificates tzdata"
)
# Extra mmdebstrap options per image ($1 in hooks = the rootfs directory).
# shellcheck disable=SC2016  # $1 is expanded by mmdebstrap's hook shell
declare -A EXTRA=(
  # Like the official image: no "main" cluster at package install time; the
  # entrypoint runs initdb in $PGDATA on first start instead.
  [postgres]='--setup-hook=mkdir -p "$1/etc/postgresql-common/createcluster.d" && echo "create_main_cluster = false" >"$1/etc/postgresql-common/createcluster.d/docker.conf"'
  # sid's Release file carries a Valid-Until of a week, which a snapshot or
  # slowly synced mirror outlives; its signature is still checked.
  [nginx]='--aptopt=Acquire::Check-Valid-Until "false"'
)
# Common options: small rootfs (no docs/man/translations, kept in the image's
# dpkg config too, like Debian's slim images), no recommends.
# shellcheck disable=SC2016  # $1 is expanded by mmdebstrap's hook shell
MMDEBSTRAP_OPTS=(
  --variant=minbase
  --format=tar
  '--aptopt=APT::Install-Recommends "false"'
  '--dpkgopt=path-exclude=/usr/share/doc/*'
  '--dpkgopt=path-include=/usr/share/doc/*/copyright'
  '--dpkgopt=path-exclude=/usr/share/man/*'
  '--dpkgopt=path-exclude=/usr/share/info/*'
  '--dpkgopt=path-exclude=/usr/share/locale/*'
  '--dpkgopt=path-include=/usr/share/locale/locale.alias'
  '--dpkgopt=path-exclude=/usr/share/lintian/*'
  # mmdebstrap already drops apt lists/caches; also drop logs of the install.
  '--customize-hook=rm -rf "$1"/var/log/apt/* "$1"/var/log/dpkg.log "$1"/var/cache/debconf/*-old'
)

names=("$@")
(( ${#names[@]} )) || names=("${ALL[@]}")
for n in "${names[@]}"; do
  [[ -n ${TAG[$n]:-} ]] || die "unknown image '$n' (known: ${ALL[*]})"
done

# The engine must run (cheap no-op when it does); docker-env.sh already did it.
if [[ -z ${FASTDJANGO_DOCKER_CHECKED:-} ]]; then
  bash "$scripts/ensure-docker.sh"
fi

sha() { sha256sum | cut -c1-16; }
suite_of() { printf '%s\n' "${SUITES[$1]:-$DEFAULT_SUITE}"; }
# recipe NAME: everything that determines the rootfs.
recipe() {
  printf 'suite=%s\npkgs=%s\nextra=%s\n' "$(suite_of "$1")" "${PKGS[$1]}" "${EXTRA[$1]:-}"
  printf '%s\n' "${MMDEBSTRAP_OPTS[@]}"
}
# dir_digest DIR: content hash of every file under DIR (names included).
dir_digest() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha
}
label_of() {
  docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true
}

mirror=''
ensure_mmdebstrap() {
  if ! command -v mmdebstrap >/dev/null 2>&1; then
    [[ $(id -u) -eq 0 ]] || die "mmdebstrap is missing: apt-get install mmdebstrap"
    log "installing mmdebstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends mmdebstrap >&2 \
      || { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends mmdebstrap >&2; }
  fi
  [[ -n $mirror ]] || mirror=$(debian_mirror)
}

build_rootfs() { # NAME IMAGE  (runs in the background: output to its log)
  local name=$1 image=$2 suite sec extra=() sources=()
  suite=$(suite_of "$name")
  sources=("deb $mirror $suite main")
  # sid (unstable) has no -updates or -security suites: fixes land in it directly.
  if [[ $suite != sid ]]; then
    sec=$(debian_security_mirror)
    sources+=("deb $mirror $suite-updates main")
    [[ -z $sec ]] || sources+=("deb $sec $suite-security main")
  fi
  [[ -z ${EXTRA[$name]:-} ]] || extra=("${EXTRA[$name]}")
  # Stream the tarball straight into the engine (no temp file), under a
  # temporary tag: only a complete rootfs gets the tag that marks it done.
  docker image rm "$image-partial" >/dev/null 2>&1 || true
  mmdebstrap "${MMDEBSTRAP_OPTS[@]}" "${extra[@]}" \
      --include="${PKGS[$name]// /,}" "$suite" - "${sources[@]}" \
    | docker import --message "mmdebstrap $suite ${PKGS[$name]}" - "$image-partial" >/dev/null
  docker tag "$image-partial" "$image"
  docker image rm "$image-partial" >/dev/null
}

# 1. What is out of date?
self_digest=$(cat "${BASH_SOURCE[0]}" "$scripts/lib/debian-mirror.sh" | sha)
declare -A final=() rootfs=() inputs=()
todo=() need_rootfs=()
for name in "${names[@]}"; do
  final[$name]="$PREFIX/$name:${TAG[$name]}"
  rhash=$(recipe "$name" | sha)
  rootfs[$name]="$PREFIX/$name-rootfs:$rhash"
  inputs[$name]=$(printf '%s %s %s\n' "$rhash" "$(dir_digest "$here/$name")" "$self_digest" | sha)
  if [[ -z ${FASTDJANGO_OFFLINE_FORCE:-} && $(label_of "${final[$name]}") == "${inputs[$name]}" ]]; then
    log "${final[$name]} is up to date"
    continue
  fi
  todo+=("$name")
  if [[ -n ${FASTDJANGO_OFFLINE_FORCE:-} ]] || ! docker image inspect "${rootfs[$name]}" >/dev/null 2>&1; then
    need_rootfs+=("$name")
  fi
done
(( ${#todo[@]} )) || exit 0

# 2. Root filesystems, a few at a time: mmdebstrap is mostly single-threaded
# dpkg work, so running one per core (FASTDJANGO_OFFLINE_JOBS) saves time.
if (( ${#need_rootfs[@]} )); then
  ensure_mmdebstrap
  logs=$(mktemp -d)
  # shellcheck disable=SC2064  # expand $logs now
  trap "rm -rf '$logs'" EXIT
  jobs_max=${FASTDJANGO_OFFLINE_JOBS:-$(nproc 2>/dev/null || echo 2)}
  failed=()
  t0=$SECONDS
  for ((i = 0; i < ${#need_rootfs[@]}; i += jobs_max)); do
    batch=("${need_rootfs[@]:i:jobs_max}")
    declare -A pid=()
    for name in "${batch[@]}"; do
      log "$name: mmdebstrap $(suite_of "$name") minbase + ${PKGS[$name]} (from $mirror)"
      build_rootfs "$name" "${rootfs[$name]}" >"$logs/$name.log" 2>&1 &
      pid[$name]=$!
    done
    for name in "${batch[@]}"; do
      if wait "${pid[$name]}"; then
        log "$name: rootfs ${rootfs[$name]} ready after $((SECONDS - t0))s"
      else
        failed+=("$name")
        log "$name: rootfs FAILED; last lines of its log:"
        tail -n 25 "$logs/$name.log" >&2
      fi
    done
  done
  (( ${#failed[@]} == 0 )) || die "could not build the rootfs of: ${failed[*]}"
fi

# 3. The images themselves (seconds each).
for name in "${todo[@]}"; do
  t0=$SECONDS
  old_id=$(docker image inspect --format '{{.Id}}' "${final[$name]}" 2>/dev/null || true)
  # BuildKit; FROM the local rootfs image, never pulled.
  DOCKER_BUILDKIT=1 docker build --quiet \
    --build-arg "BASE_IMAGE=${rootfs[$name]}" --label "$LABEL=${inputs[$name]}" \
    -t "${final[$name]}" "$here/$name" >/dev/null
  # Tidy: the replaced image and older rootfs tags of this one (docker keeps
  # whatever a container or another image still uses).
  if [[ -n $old_id && $old_id != "$(docker image inspect --format '{{.Id}}' "${final[$name]}")" ]]; then
    docker image rm "$old_id" >/dev/null 2>&1 || true
  fi
  docker image ls --format '{{.Repository}}:{{.Tag}}' "$PREFIX/$name-rootfs" \
    | grep -vxF "${rootfs[$name]}" | xargs -r docker image rm >/dev/null 2>&1 || true
  log "${final[$name]} built ($((SECONDS - t0))s, $(docker image inspect --format '{{.Size}}' "${final[$name]}" | numfmt --to=iec))"
done
