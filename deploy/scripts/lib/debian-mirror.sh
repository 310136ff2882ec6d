# shellcheck shell=bash
# Debian mirror discovery, sourced by ensure-docker.sh and offline/build.sh.
#
# No mirror host name is written in this repository on purpose: the mirror is
# whatever this machine's apt already uses (so proxies, snapshot pins and
# local mirrors keep working), or what the caller puts in DEBIAN_MIRROR /
# DEBIAN_SECURITY_MIRROR.

# _apt_deb_uris: print "URI<TAB>SUITE" for every enabled binary (deb) entry in
# the machine's apt sources, deb822 files first, then one-line lists.
_apt_deb_uris() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    # deb822: stanzas separated by blank lines; keep Types/URIs/Suites/Enabled.
    awk '
      function flush() {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled !~ /^[ \t]*(no|false)/) {
          n = split(uris, u, /[ \t]+/); m = split(suites, s, /[ \t]+/)
          for (i = 1; i <= n; i++) for (j = 1; j <= m; j++)
            if (u[i] != "" && s[j] != "") print u[i] "\t" s[j]
        }
        types = uris = suites = enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "types:"   { sub(/^[^:]*:[ \t]*/, ""); types = $0; next }
      tolower($1) == "uris:"    { sub(/^[^:]*:[ \t]*/, ""); uris = $0; next }
      tolower($1) == "suites:"  { sub(/^[^:]*:[ \t]*/, ""); suites = $0; next }
      tolower($1) == "enabled:" { sub(/^[^:]*:[ \t]*/, ""); enabled = tolower($0); next }
      END { flush() }
    ' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    # one-line format: deb [options] URI SUITE COMPONENT...
    awk '$1 == "deb" {
           i = 2
           if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
           if (i + 1 <= NF) print $i "\t" $(i + 1)
         }' "$f"
  done
}

# debian_mirror: the Debian archive base URL (ends in /debian), e.g. to fetch
# trixie packages. Fails with a hint when none is configured (e.g. on Ubuntu).
debian_mirror() {
  if [[ -n ${DEBIAN_MIRROR:-} ]]; then
    printf '%s\n' "${DEBIAN_MIRROR%/}"
    return 0
  fi
  local uri suite
  while IFS=$'\t' read -r uri suite; do
    uri=${uri%/}
    # Only plain http(s) archives whose path is the Debian archive itself.
    [[ $uri =~ ^https?://.+/debian$ && $suite != *-security ]] || continue
    printf '%s\n' "$uri"
    return 0
  done < <(_apt_deb_uris)
  echo "error: no Debian mirror found in /etc/apt/sources*; set DEBIAN_MIRROR=<http URL of a Debian archive, ending in /debian>" >&2
  return 1
}

# debian_security_mirror: the security archive base URL, or nothing if there
# is none (security updates are then simply not added).
debian_security_mirror() {
  if [[ -n ${DEBIAN_SECURITY_MIRROR+set} ]]; then
    printf '%s\n' "${DEBIAN_SECURITY_MIRROR%/}"
    return 0
  fi
  local uri suite
  while IFS=$'\t' read -r uri suite; do
    uri=${uri%/}
    [[ $uri =~ ^https?://.+/debian-security$ ]] || continue
    printf '%s\n' "$uri"
    return 0
  done < <(_apt_deb_uris)
  return 0
}
