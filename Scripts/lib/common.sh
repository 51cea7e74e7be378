# Shared helpers for Scripts/*: sourced, not run.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

_apt_updated=0
# ensure_packages PKG... : installs the Debian packages not installed yet.
ensure_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  if [ "$_apt_updated" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    _apt_updated=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The C libraries and tools every build needs.
BUILD_PACKAGES=(pkg-config libnghttp2-dev libprotobuf-c-dev zlib1g-dev libpq-dev libsodium-dev libmimalloc-dev)

# Builds marketplace-server in release mode (installing what that and its embedded PostgreSQL
# need) and sets SERVER_BIN to it.
build_release_server() {
  ensure_packages "${BUILD_PACKAGES[@]}" postgresql-15
  log "building marketplace-server (release)"
  (cd "$REPO_ROOT" && swift build -c release --product marketplace-server)
  SERVER_BIN="$(cd "$REPO_ROOT" && swift build -c release --show-bin-path)/marketplace-server"
}

# embedded_data_dir_args ARG... : prints `--data-dir DIR` (one word per line) when the server,
# given ARGs, would run its embedded cluster somewhere the unprivileged `postgres` account (which
# runs it when we are root) cannot reach, as in a checkout under /root (0700): then the cluster
# lives under /var/lib/marketplace. Prints nothing when the caller chose a database or a
# directory, or asked for --help.
embedded_data_dir_args() {
  [ "$(id -u)" -eq 0 ] || return 0
  [ -z "${MARKETPLACE_DATABASE_URL:-}${MARKETPLACE_DATA_DIR:-}" ] || return 0
  [[ " $* " != *" --database-url"* && " $* " != *" --data-dir"* && " $* " != *" --help"* ]] || return 0
  ! runuser -u postgres -- test -x "$REPO_ROOT" || return 0
  local data_dir=/var/lib/marketplace
  mkdir -p "$data_dir"
  chmod 755 "$data_dir"
  log "the postgres account cannot reach $REPO_ROOT; the embedded cluster lives in $data_dir"
  printf '%s\n' --data-dir "$data_dir"
}
