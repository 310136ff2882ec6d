#!/usr/bin/env bash
# Make a working Docker engine + Compose v2 + buildx available.
#
# Called by `make up` / `make test` every time, so the "already fine" path
# touches nothing and returns in well under a second. A machine that already
# has Docker (a laptop, a CI runner with Docker) is left alone.
#
# Otherwise (root on a Debian-like system with apt only):
#   * engine:  `apt-get install docker.io` if dockerd is missing;
#   * plugins: Compose v2 and buildx from apt when the distribution has them
#     (Ubuntu: docker-compose-v2 / docker-buildx, Debian >= 13: docker-compose),
#     else the .debs of Debian trixie's docker-compose and docker-buildx: they
#     only need libc6 >= 2.34, so they install on Debian 12, whose own
#     docker-compose package is the old Python v1;
#   * dockerd is started in the background (there may be no init system) and
#     waited for.
#
# Env: DEBIAN_MIRROR (optional, see lib/debian-mirror.sh),
#      DOCKERD_WAIT (seconds to wait for the engine, default 60).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf 'ensure-docker: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

engine_ok() { docker info >/dev/null 2>&1; }
buildx_ok() { docker buildx version >/dev/null 2>&1; }
compose_ok() {
  local v
  v=$(docker compose version --short 2>/dev/null) || return 1
  v=${v#v}
  [[ ${v%%.*} =~ ^[0-9]+$ ]] && (( ${v%%.*} >= 2 ))
}

# Fast path: nothing to do.
if command -v docker >/dev/null 2>&1 && engine_ok && compose_ok && buildx_ok; then
  exit 0
fi

# --- From here on we install things: only as root with apt. ---------------
need_msg="install Docker Engine, the Compose v2 plugin and the buildx plugin (e.g. Docker Desktop, or your distribution's docker.io + docker-compose-v2/docker-compose + docker-buildx packages), make sure 'docker info' works for this user, then run this again"
if [[ $(id -u) -ne 0 ]]; then
  if command -v docker >/dev/null 2>&1 && ! engine_ok && docker info 2>&1 | grep -qi 'permission denied'; then
    die "the Docker engine runs but this user may not use it: add the user to the 'docker' group (or use sudo). Otherwise: $need_msg"
  fi
  die "not root, so nothing can be installed here: $need_msg"
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
  die "no apt/dpkg on this system: $need_msg"
fi

export DEBIAN_FRONTEND=noninteractive
apt_updated=0
# apt_has PKG: true if apt knows an installable candidate for PKG.
apt_has() {
  local c
  c=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
  [[ -n $c && $c != "(none)" ]]
}
apt_update_once() {
  (( apt_updated )) && return 0
  log "apt-get update"
  apt-get update -qq >&2
  apt_updated=1
}
apt_install() {
  log "apt-get install $*"
  # No recommends: needrestart & co. are useless here and can prompt.
  apt-get install -y -qq --no-install-recommends "$@" >&2
}

# 1. Engine and client (docker.io ships both).
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  apt_has docker.io || apt_update_once
  apt_has docker.io || die "apt has no docker.io package: $need_msg"
  apt_install docker.io
fi

# 2. Plugins. Prefer the distribution's own packages when they are v2.
install_plugins_from_apt() {
  local pkgs=() v
  if ! compose_ok; then
    if apt_has docker-compose-v2; then
      pkgs+=(docker-compose-v2)
    elif apt_has docker-compose; then
      v=$(apt-cache policy docker-compose | awk '/Candidate:/ {print $2; exit}')
      # Epoch-less major version; v1 (Debian 12) is not wanted.
      v=${v#*:}
      if (( ${v%%.*} >= 2 )); then pkgs+=(docker-compose); fi
    fi
  fi
  if ! buildx_ok && apt_has docker-buildx; then pkgs+=(docker-buildx); fi
  (( ${#pkgs[@]} )) && apt_install "${pkgs[@]}"
  return 0
}

# install_plugins_from_trixie: download the trixie .debs with apt itself, but
# with a private, throw-away sources list and state: apt checks the release
# signature and the package hashes for us, and the machine's apt setup is
# left exactly as it was.
install_plugins_from_trixie() {
  local want=() mirror keyring arch tmp
  compose_ok || want+=(docker-compose)
  buildx_ok || want+=(docker-buildx)
  (( ${#want[@]} )) || return 0

  # shellcheck source=lib/debian-mirror.sh
  source "$here/lib/debian-mirror.sh"
  mirror=$(debian_mirror) || die "cannot install ${want[*]} without a Debian mirror"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [[ -r $keyring ]] || { apt_update_once; apt_install debian-archive-keyring; }
  arch=$(dpkg --print-architecture)
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064  # expand $tmp now
  trap "rm -rf '$tmp'" EXIT
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs"
  # apt downloads as the unprivileged _apt user: let it reach the dirs.
  chmod 755 "$tmp"
  if id _apt >/dev/null 2>&1; then chown _apt "$tmp/debs"; fi
  printf 'deb [arch=%s signed-by=%s] %s trixie main\n' "$arch" "$keyring" "$mirror" >"$tmp/sources.list"
  local aptopts=(
    -o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache"
    -o "APT::Architectures::=$arch" -o Acquire::Languages=none
  )
  log "fetching trixie's ${want[*]} from $mirror"
  apt-get "${aptopts[@]}" -qq update >&2
  (cd "$tmp/debs" && apt-get "${aptopts[@]}" -qq download "${want[@]}" >&2)
  log "dpkg -i $(cd "$tmp/debs" && echo ./*.deb)"
  dpkg -i "$tmp/debs"/*.deb >&2
  rm -rf "$tmp"
  trap - EXIT
}

if ! compose_ok || ! buildx_ok; then
  install_plugins_from_apt
  install_plugins_from_trixie
  compose_ok || die "docker compose v2 is still not available"
  buildx_ok || die "docker buildx is still not available"
fi

# 3. Engine running? Start it ourselves: there may be no systemd (containers,
# CI VMs), and a plain background dockerd works everywhere.
if ! engine_ok; then
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    # A pid file left by a killed engine can block the start if its pid was reused.
    rm -f /var/run/docker.pid
    log "starting dockerd (log: /var/log/dockerd.log)"
    # setsid+nohup: survives the calling shell/make; stdin closed so no one waits on it.
    setsid nohup dockerd >>/var/log/dockerd.log 2>&1 </dev/null &
  fi
  wait_s=${DOCKERD_WAIT:-60}
  deadline=$((SECONDS + wait_s))
  until engine_ok; do
    if (( SECONDS >= deadline )); then
      tail -n 20 /var/log/dockerd.log >&2 2>/dev/null || true
      die "the Docker engine did not answer within ${wait_s}s (see /var/log/dockerd.log)"
    fi
    sleep 0.5
  done
  log "engine up: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
fi
