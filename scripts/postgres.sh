#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the test suite, on loopback only.
#
#   scripts/postgres.sh install|start|stop|status|logfile|psql [psql args...]
#
# `start` prints eval-able settings on stdout (everything else goes to stderr):
#   eval "$(scripts/postgres.sh start)"
#
# Env: JOURNEY_PG_PORT (default 55432), JOURNEY_PG_DIR (default /tmp/journey-pg-$PORT).
#
# The cluster lives in its own folder, not in the repo: when we run as root the
# server must run as the `postgres` OS user (initdb/postgres refuse root), and
# the repo may sit under a directory that user cannot traverse (e.g. /root).
# /tmp is world-traversable, so a postgres-owned folder there always works.
# Layout: $DIR/data (PGDATA), $DIR/server.log, and the unix socket in $DIR.
# Debian's own cluster (5432, /var/lib/postgresql) is never touched.
set -euo pipefail

PORT="${JOURNEY_PG_PORT:-55432}"
DIR="${JOURNEY_PG_DIR:-/tmp/journey-pg-$PORT}"
[[ "$DIR" = /* ]] || DIR="$PWD/$DIR"
DATA="$DIR/data"
LOG="$DIR/server.log"
DB=journey_test USER_=journey PASS=journey

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# Run a command as the cluster owner: `postgres` when we are root, else ourselves.
# `cd /` avoids "could not change directory" noise when cwd is unreadable for postgres.
as_pg() {
  if [[ $EUID -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pgbin() {  # newest installed server, or the one matching an existing cluster
  local v
  if [[ -f "$DATA/PG_VERSION" ]]; then
    v=$(cat "$DATA/PG_VERSION")
    [[ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]] && { echo "/usr/lib/postgresql/$v/bin"; return; }
  fi
  v=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [[ -n "$v" ]] || die "PostgreSQL is not installed (run: $0 install)"
  echo "$v"
}

cmd_install() {
  compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null && return 0
  local sudo=""; [[ $EUID -eq 0 ]] || sudo=sudo
  log "installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  # The package creates (and may start) Debian's default cluster on 5432; harmless.
  $sudo apt-get update -q >&2
  $sudo apt-get install -y -q postgresql >&2
}

# Live processes of our cluster: the postmaster and all its children chdir to PGDATA.
# (Checking /proc/PID/cwd, not just the PID, also rules out zombies and reused PIDs.)
cluster_pids() {
  local p
  for p in /proc/[0-9]*; do
    [[ "$(readlink "$p/cwd" 2>/dev/null)" == "$DATA" ]] && echo "${p#/proc/}"
  done
  return 0
}

running() {
  local pid
  pid=$(head -n1 "$DATA/postmaster.pid" 2>/dev/null) &&
    [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$DATA" ]]
}

clear_stale_pidfile() {
  # After a kill -9 (or a container restart) postmaster.pid stays behind. Postgres
  # refuses to start while its PID still exists -- which happens when the PID was
  # reused, or the dead postmaster is an unreaped zombie (containers whose PID 1
  # does not reap). Let orphaned backends exit first (they get SIGQUIT, the
  # postgres "quit now" signal), then drop the file and the socket lock file,
  # which holds the same PID.
  [[ -f "$DATA/postmaster.pid" ]] || return 0
  local i
  for i in {1..50}; do
    [[ -z "$(cluster_pids)" ]] && break
    ((i > 1)) || { log "stopping orphaned server processes"; kill -QUIT $(cluster_pids) 2>/dev/null || true; }
    sleep 0.2
  done
  [[ -z "$(cluster_pids)" ]] || die "orphaned processes still use $DATA: $(cluster_pids | xargs)"
  log "removing stale postmaster.pid and socket lock"
  rm -f "$DATA/postmaster.pid" "$DIR/.s.PGSQL.$PORT.lock"
}

init_cluster() {
  mkdir -p "$DIR"
  [[ $EUID -eq 0 ]] && chown postgres: "$DIR"
  chmod 700 "$DIR"
  as_pg test -w "$DIR" || die "$DIR is not writable by the cluster owner (parent not traversable?)"
  [[ -f "$DATA/PG_VERSION" ]] && return 0
  log "initdb $DATA"
  as_pg "$(pgbin)/initdb" -D "$DATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >/dev/null
  # Local socket auth is trust, but the socket lives in our 0700 folder.
  echo "include_if_exists 'journey.conf'" >>"$DATA/postgresql.conf"
}

write_conf() {  # rewritten on every start so env changes (port, dir) take effect
  as_pg tee "$DATA/journey.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
unix_socket_permissions = 0700
max_connections = 200
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

ensure_role_db() {
  as_pg "$(pgbin)/psql" -h "$DIR" -p "$PORT" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 >/dev/null <<SQL
SELECT format('CREATE ROLE %I', '$USER_') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$USER_')
\gexec
ALTER ROLE $USER_ LOGIN SUPERUSER PASSWORD '$PASS';
SELECT format('CREATE DATABASE %I OWNER %I', '$DB', '$USER_') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB')
\gexec
SQL
}

cmd_start() {
  cmd_install
  if running; then
    log "cluster already running ($DATA)"
  else
    init_cluster
    write_conf
    clear_stale_pidfile
    log "starting on 127.0.0.1:$PORT (log: $LOG)"
    as_pg "$(pgbin)/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >&2 ||
      { tail -n 20 "$LOG" >&2; die "server failed to start"; }
  fi
  ensure_role_db
  local version
  version=$(as_pg "$(pgbin)/psql" -h "$DIR" -p "$PORT" -U postgres -d postgres -Atc 'SELECT version()')
  cat <<EOF
export JOURNEY_TEST_POSTGRES_HOST=127.0.0.1
export JOURNEY_TEST_POSTGRES_PORT=$PORT
export JOURNEY_TEST_POSTGRES_DB=$DB
export JOURNEY_TEST_POSTGRES_USER=$USER_
export JOURNEY_TEST_POSTGRES_PASSWORD=$PASS
# $version
EOF
}

cmd_stop() {
  if running; then
    as_pg "$(pgbin)/pg_ctl" -D "$DATA" -m fast -w stop >&2
  else
    log "not running"
  fi
}

cmd_status() { "$(pgbin)/pg_isready" -q -h 127.0.0.1 -p "$PORT" || exit 1; }

cmd_psql() { PGPASSWORD="$PASS" exec "$(pgbin)/psql" -h 127.0.0.1 -p "$PORT" -U "$USER_" -d "$DB" "$@"; }

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  logfile) echo "$LOG" ;;
  psql) shift; cmd_psql "$@" ;;
  *) echo "usage: $0 {install|start|stop|status|logfile|psql [args...]}" >&2; exit 2 ;;
esac
