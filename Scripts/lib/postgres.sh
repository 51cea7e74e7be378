# shellcheck shell=bash
#
# Scripts/lib/postgres.sh: a throwaway PostgreSQL cluster for tests. Source it; do not run it.
#
#   source Scripts/lib/postgres.sh
#   trap pg_stop_throwaway EXIT
#   trap 'exit 130' INT TERM            # so that Ctrl-C and kill also run the EXIT trap
#   pg_start_throwaway "$(mktemp -d /tmp/marketplace-pg.XXXXXX)"
#   swift test ...                      # reads MARKETPLACE_TEST_DATABASE_URL (or PGHOST & co.)
#
# Functions:
#   pg_ensure_installed        find PostgreSQL $PG_WANTED_MAJOR (default 15) server binaries in PATH or
#                              /usr/lib/postgresql/*/bin, else install postgresql-$PG_WANTED_MAJOR with
#                              apt-get (as root, or through sudo). Exports PG_BIN.
#   pg_start_throwaway DIR     initdb into DIR/data (as the `postgres` account when run as root, since
#                              initdb and postgres refuse root), start postgres listening only on a unix
#                              socket in DIR (no TCP), tuned for speed over durability (fsync=off, ...),
#                              wait until it accepts connections, create database marketplace_test.
#                              DIR must be absent or empty; it becomes mode 0700 (trust authentication
#                              is safe only because nobody else can reach the socket).
#   pg_stop_throwaway          stop the cluster (fast, then immediate) and remove DIR. Idempotent and
#                              never fails, so it is safe in an EXIT trap.
#
# Exported by pg_start_throwaway (libpq reads the PG* ones; nothing else needs configuring):
#   PGHOST=DIR  PGPORT  PGUSER (postgres as root, else your login name)  PGDATABASE=marketplace_test
#   MARKETPLACE_TEST_DATABASE_URL   postgresql:///marketplace_test?host=DIR&port=PORT&user=USER
#   PG_THROWAWAY_DIR   PG_THROWAWAY_DATA (DIR/data)   PG_THROWAWAY_LOG (DIR/postgres.log)
#   PG_THROWAWAY_PID   the postmaster's pid
#   PG_THROWAWAY_OS_USER   the account the server runs as
#   PG_BIN             the PostgreSQL bin directory (pg_ctl, psql, ...)
#
# Settings (environment, optional):
#   PG_WANTED_MAJOR (15)   PG_THROWAWAY_PORT (5432; only names the socket file, no TCP port is opened)
#   PG_SERVER_USER (postgres)   the account that runs the server when this library runs as root
#
# Safe under `set -euo pipefail`; sets no shell options itself.

# --- helpers ---------------------------------------------------------------------------------------

_pg_log() { printf 'postgres.sh: %s\n' "$*" >&2; }

_pg_fail() {
  _pg_log "error: $*"
  return 1
}

# Runs "$@" as root: directly when we are root, else through sudo.
_pg_as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    _pg_fail "need root to run: $* (not root and no sudo)"
  fi
}

# Runs "$@" as the account that owns the cluster, from inside DIR (a cwd the server account may lack,
# like /root, makes initdb and pg_ctl complain).
_pg_as_server_user() {
  local dir=${PG_THROWAWAY_DIR:-/}
  if ((EUID == 0)); then
    (cd -- "$dir" && runuser -u "${PG_THROWAWAY_OS_USER:?}" -- "$@")
  else
    (cd -- "$dir" && "$@")
  fi
}

# Prints the major version of the server binaries in bin dir $1, or nothing.
_pg_major_of() {
  local version
  [[ -x $1/initdb && -x $1/pg_ctl && -x $1/postgres ]] || return 0
  version=$("$1/postgres" --version 2>/dev/null) || return 0
  # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
  if [[ $version =~ \(PostgreSQL\)\ ([0-9]+) ]]; then
    printf '%s' "${BASH_REMATCH[1]}"
  fi
}

# Prints the first bin dir holding PostgreSQL $PG_WANTED_MAJOR server binaries, or fails silently.
_pg_find_bin() {
  local want=${PG_WANTED_MAJOR:-15} candidate tool path
  local -a candidates=()
  for tool in initdb pg_ctl postgres; do
    if path=$(command -v "$tool" 2>/dev/null) && [[ $path == /* ]]; then
      candidates+=("$(dirname -- "$(readlink -f -- "$path")")")
    fi
  done
  candidates+=("/usr/lib/postgresql/$want/bin")
  for path in /usr/lib/postgresql/*/bin; do
    [[ -d $path ]] && candidates+=("$path")
  done
  for candidate in "${candidates[@]}"; do
    if [[ $(_pg_major_of "$candidate") == "$want" ]]; then
      printf '%s' "$candidate"
      return 0
    fi
  done
  return 1
}

# Percent-encodes $1 for a URI query value ('/' kept, so socket paths stay readable).
_pg_uri_escape() {
  local LC_ALL=C
  local s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9._~/-]) out+=$c ;;
      *) printf -v c '%%%02X' "'$c" && out+=$c ;;
    esac
  done
  printf '%s' "$out"
}

_pg_server_start() {
  local data=${PG_THROWAWAY_DATA:?} log=${PG_THROWAWAY_LOG:?} i
  if ! _pg_as_server_user "$PG_BIN/pg_ctl" start --silent --wait --timeout=60 \
    --pgdata="$data" --log="$log"; then
    _pg_log "postgres did not start; last lines of $log:"
    tail -n 30 -- "$log" >&2 || true
    return 1
  fi
  # pg_ctl --wait returns once the postmaster says it is ready; confirm over the socket.
  for ((i = 0; i < 300; i++)); do
    if "$PG_BIN/pg_isready" --quiet --host="$PGHOST" --port="$PGPORT" --username="$PGUSER" \
      --dbname=postgres; then
      break
    fi
    sleep 0.1
  done
  ((i < 300)) || _pg_fail "postgres in $PG_THROWAWAY_DIR not ready after 30 s (see $log)" || return 1
  read -r PG_THROWAWAY_PID <"$data/postmaster.pid" || _pg_fail "cannot read $data/postmaster.pid" ||
    return 1
  export PG_THROWAWAY_PID
}

# Stops the server if it runs: fast shutdown (disconnects clients, rolls back), then immediate, then
# SIGKILL of the remembered postmaster pid. Never fails.
_pg_server_stop() {
  local data=${PG_THROWAWAY_DATA:-} pid=${PG_THROWAWAY_PID:-}
  [[ -n $data && -f $data/postmaster.pid ]] || return 0
  _pg_as_server_user "$PG_BIN/pg_ctl" stop --silent --wait --timeout=30 --pgdata="$data" \
    --mode=fast >/dev/null 2>&1 && return 0
  _pg_log "fast shutdown failed; trying immediate"
  _pg_as_server_user "$PG_BIN/pg_ctl" stop --silent --wait --timeout=10 --pgdata="$data" \
    --mode=immediate >/dev/null 2>&1 && return 0
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    _pg_log "immediate shutdown failed; killing postmaster $pid"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  return 0
}

# --- public ----------------------------------------------------------------------------------------

pg_ensure_installed() {
  local want=${PG_WANTED_MAJOR:-15} bin tool sharedir
  if ! bin=$(_pg_find_bin); then
    if ! command -v apt-get >/dev/null 2>&1; then
      _pg_fail "PostgreSQL $want server binaries not found, and no apt-get to install them"
      return 1
    fi
    _pg_log "PostgreSQL $want not found; installing postgresql-$want with apt-get"
    # On Debian 12, postgresql-15 contains the contrib extensions (btree_gist); postgresql-contrib is
    # only a metapackage that depends on it.
    _pg_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    _pg_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "postgresql-$want" >&2 || return 1
    bin=$(_pg_find_bin) || _pg_fail "installed postgresql-$want but found no server binaries" ||
      return 1
  fi
  for tool in initdb pg_ctl postgres pg_isready psql createdb pg_config; do
    [[ -x $bin/$tool ]] || _pg_fail "$bin/$tool is missing" || return 1
  done
  sharedir=$("$bin/pg_config" --sharedir) || return 1
  [[ -f $sharedir/extension/btree_gist.control ]] ||
    _pg_fail "btree_gist is missing from $sharedir (install postgresql-$want)" || return 1
  PG_BIN=$bin
  export PG_BIN
}

pg_start_throwaway() {
  local dir=${1:-} port=${PG_THROWAWAY_PORT:-5432} run_as locale quoted_dir
  [[ -n $dir ]] || _pg_fail "usage: pg_start_throwaway DIR" || return 1
  [[ -z ${PG_THROWAWAY_DIR:-} ]] ||
    _pg_fail "a throwaway cluster already runs in $PG_THROWAWAY_DIR; pg_stop_throwaway first" ||
    return 1
  [[ -n ${PG_BIN:-} ]] || pg_ensure_installed || return 1

  [[ $dir == /* ]] || dir=$PWD/$dir
  [[ $dir != *$'\n'* ]] || _pg_fail "a directory name with a newline: $dir" || return 1
  # A unix socket path ("DIR/.s.PGSQL.PORT") holds at most 107 bytes.
  ((${#dir} + ${#port} + 10 <= 107)) ||
    _pg_fail "$dir is too long for a unix socket path; use a shorter one (e.g. mktemp -d /tmp/pg.XXXX)" ||
    return 1
  if [[ -e $dir ]]; then
    [[ -d $dir && -z $(ls -A -- "$dir") ]] || _pg_fail "$dir exists and is not an empty directory" ||
      return 1
  fi
  mkdir -p -- "$dir" || return 1
  dir=$(cd -- "$dir" && pwd -P) || return 1
  ((${#dir} + ${#port} + 10 <= 107)) || _pg_fail "$dir is too long for a unix socket path" || return 1
  # Marks DIR as ours: pg_stop_throwaway removes only a directory that carries it. From here on,
  # pg_stop_throwaway (the caller's EXIT trap) cleans up whatever a failure below leaves behind.
  : >"$dir/.marketplace-throwaway" || return 1
  export PG_THROWAWAY_DIR=$dir

  if ((EUID == 0)); then
    run_as=${PG_SERVER_USER:-postgres}
    id -u -- "$run_as" >/dev/null 2>&1 ||
      _pg_fail "running as root, but there is no '$run_as' account to run PostgreSQL" || return 1
    chown -- "$run_as:" "$dir" || return 1
    runuser -u "$run_as" -- test -w "$dir" -a -x "$dir" ||
      _pg_fail "'$run_as' cannot write $dir (is a parent directory closed to it?); try one under /tmp" ||
      return 1
  else
    run_as=$(id -un) || return 1
  fi
  chmod 0700 -- "$dir" || return 1

  export PG_THROWAWAY_DATA=$dir/data
  export PG_THROWAWAY_LOG=$dir/postgres.log
  export PG_THROWAWAY_OS_USER=$run_as
  export PGHOST=$dir PGPORT=$port PGUSER=$run_as PGDATABASE=marketplace_test

  # C.UTF-8 (built into Debian 12's glibc) makes lower()/upper() Unicode-aware, which the case-insensitive
  # email and city indexes rely on; plain C only folds ASCII.
  locale=C
  case $'\n'"$(locale -a 2>/dev/null || true)"$'\n' in
    *$'\n'[Cc].[Uu][Tt][Ff]8$'\n'* | *$'\n'[Cc].[Uu][Tt][Ff]-8$'\n'*) locale=C.UTF-8 ;;
  esac
  if ! _pg_as_server_user "$PG_BIN/initdb" --pgdata="$PG_THROWAWAY_DATA" --auth=trust \
    --encoding=UTF8 --locale="$locale" --no-sync --no-instructions \
    >"$dir/initdb.log" 2>&1; then
    _pg_log "initdb failed:"
    cat -- "$dir/initdb.log" >&2 || true
    return 1
  fi

  quoted_dir=${dir//\'/\'\'}
  cat >>"$PG_THROWAWAY_DATA/postgresql.conf" <<EOF || return 1

# --- throwaway test cluster (Scripts/lib/postgres.sh): unix socket only, speed over durability ---
listen_addresses = ''
unix_socket_directories = '$quoted_dir'
port = $port
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = 1GB
checkpoint_timeout = 30min
jit = off
# Suites run in parallel, each on databases and connections of its own.
max_connections = 300
timezone = 'UTC'
log_timezone = 'UTC'
lc_messages = 'C'
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF

  _pg_server_start || return 1
  "$PG_BIN/createdb" --host="$PGHOST" --port="$PGPORT" --username="$PGUSER" marketplace_test ||
    _pg_fail "createdb marketplace_test failed" || return 1

  MARKETPLACE_TEST_DATABASE_URL="postgresql:///marketplace_test?host=$(_pg_uri_escape "$dir")"
  MARKETPLACE_TEST_DATABASE_URL+="&port=$port&user=$(_pg_uri_escape "$run_as")"
  export MARKETPLACE_TEST_DATABASE_URL
  _pg_log "PostgreSQL $("$PG_BIN/pg_config" --version | sed 's/^PostgreSQL //') ready:" \
    "socket in $dir, pid $PG_THROWAWAY_PID, user $PGUSER, database marketplace_test"
}

pg_stop_throwaway() {
  local dir=${PG_THROWAWAY_DIR:-}
  [[ -n $dir ]] || return 0
  _pg_server_stop
  if [[ -f $dir/.marketplace-throwaway ]]; then
    rm -rf -- "$dir" || _pg_log "could not remove $dir"
  else
    _pg_log "not removing $dir: it lacks the .marketplace-throwaway marker"
  fi
  unset PG_THROWAWAY_DIR PG_THROWAWAY_DATA PG_THROWAWAY_LOG PG_THROWAWAY_PID PG_THROWAWAY_OS_USER
  unset PGHOST PGPORT PGUSER PGDATABASE MARKETPLACE_TEST_DATABASE_URL
  return 0
}
