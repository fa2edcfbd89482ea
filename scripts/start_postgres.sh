#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for the plan-store tests and print its URL.
#
#   url=$(bash scripts/start_postgres.sh)      # → postgresql+psycopg://postgres@127.0.0.1:55432/geo_app_test
#   bash scripts/start_postgres.sh --stop      # stop it and remove its data directory
#
# Why a script: CI runs as root on a fresh Debian machine, and postgres refuses to run as root,
# so the cluster is created in a temp dir owned by a non-root user (Debian's `postgres`, or one
# made here). Only loopback (127.0.0.1) is listened on; authentication is `trust` because the
# cluster is private to this machine and deleted on --stop.
# Idempotent: if our server already answers on the port, it is reused (database created if missing).
# Only the URL goes to stdout; every log line goes to stderr.
#
# Environment: GEO_APP_PG_PORT (55432), GEO_APP_PG_DIR (/tmp/geo_app_pg_$PORT),
#              GEO_APP_PG_DB (geo_app_test), GEO_APP_PG_BINDIR (try this bin dir first),
#              GEO_APP_PG_NO_INSTALL=1 (never apt-get install).
set -euo pipefail

PORT="${GEO_APP_PG_PORT:-55432}"
HOST=127.0.0.1
DB="${GEO_APP_PG_DB:-geo_app_test}"
BASE="${GEO_APP_PG_DIR:-/tmp/geo_app_pg_${PORT}}"
DATA="$BASE/data"
LOG="$BASE/server.log"

log() { echo "start_postgres: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- find working server binaries -------------------------------------------------------
bin_works() {  # $1 = directory holding runnable initdb, pg_ctl and postgres
    local d="$1" b
    for b in initdb pg_ctl postgres; do
        [ -x "$d/$b" ] || return 1
        "$d/$b" --version >/dev/null 2>&1 || return 1
    done
}

client() {  # $1 = pg_isready | psql: next to the server binaries, else on PATH
    if [ -x "$BINDIR/$1" ]; then echo "$BINDIR/$1"; else command -v "$1"; fi
}

find_bindir() {
    local d cands=()
    [ -n "${GEO_APP_PG_BINDIR:-}" ] && cands+=("$GEO_APP_PG_BINDIR")
    # Debian layout, newest major version first.
    while IFS= read -r d; do cands+=("$d"); done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r)
    # Whatever is on PATH (e.g. /usr/local/bin symlinks) and pg_config's idea of it.
    if command -v initdb >/dev/null 2>&1; then cands+=("$(dirname "$(command -v initdb)")"); fi
    if command -v pg_config >/dev/null 2>&1; then cands+=("$(pg_config --bindir 2>/dev/null || true)"); fi
    for d in "${cands[@]}"; do
        [ -n "$d" ] || continue
        if bin_works "$d"; then echo "$d"; return 0; fi
        log "skipping $d (binaries missing or not runnable)"
    done
    return 1
}

BINDIR="$(find_bindir || true)"
if [ -z "$BINDIR" ]; then
    if [ "$(id -u)" = 0 ] && [ -z "${GEO_APP_PG_NO_INSTALL:-}" ] && command -v apt-get >/dev/null 2>&1; then
        log "no PostgreSQL server binaries found; installing Debian's postgresql package"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >&2 \
            || die "apt-get install postgresql failed"
        BINDIR="$(find_bindir || true)"
    fi
    [ -n "$BINDIR" ] || die "no working initdb/pg_ctl/postgres found (looked in /usr/lib/postgresql/*/bin and PATH)"
fi
log "using server binaries in $BINDIR ($("$BINDIR/postgres" --version))"
PG_ISREADY="$(client pg_isready)" || die "pg_isready not found"
PSQL="$(client psql)" || die "psql not found"

# ---- who runs the server --------------------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
    RUN_USER=postgres
    if ! id "$RUN_USER" >/dev/null 2>&1; then
        RUN_USER=geo_pg
        if ! id "$RUN_USER" >/dev/null 2>&1; then
            log "creating system user $RUN_USER (postgres will not run as root)"
            useradd --system --no-create-home --shell /bin/sh "$RUN_USER" >&2 \
                || die "could not create user $RUN_USER"
        fi
    fi
    as_user() {
        if command -v runuser >/dev/null 2>&1; then runuser -u "$RUN_USER" -- "$@"
        else su -s /bin/sh "$RUN_USER" -c "$(printf '%q ' "$@")"; fi
    }
else
    RUN_USER="$(id -un)"
    as_user() { "$@"; }
fi
DB_USER="$RUN_USER"   # initdb -U makes the superuser's name equal to the OS user that owns the cluster
URL="postgresql+psycopg://${DB_USER}@${HOST}:${PORT}/${DB}"

ready() { "$PG_ISREADY" -q -h "$HOST" -p "$PORT" -d postgres >/dev/null 2>&1; }
psql_q() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U "$DB_USER" -d postgres -tA -c "$1"; }

ensure_db() {
    local have
    have="$(psql_q "SELECT 1 FROM pg_database WHERE datname = '${DB}'" 2>/dev/null)" \
        || die "a server answers on ${HOST}:${PORT} but user ${DB_USER} cannot log in without a password"
    if [ "$have" != 1 ]; then
        log "creating database $DB"
        psql_q "CREATE DATABASE \"${DB}\" ENCODING 'UTF8' TEMPLATE template0" >&2 \
            || die "could not create database $DB"
    fi
}

stop_server() {
    if [ -f "$DATA/postmaster.pid" ]; then
        log "stopping server in $DATA"
        as_user "$BINDIR/pg_ctl" -D "$DATA" -m fast -w stop >&2 || true
    fi
    rm -rf "$BASE"
}

if [ "${1:-}" = "--stop" ]; then
    stop_server
    exit 0
fi

# ---- already running? -------------------------------------------------------------------------
if ready; then
    log "a server already answers on ${HOST}:${PORT}; reusing it"
    ensure_db
    echo "$URL"
    exit 0
fi

# ---- fresh cluster --------------------------------------------------------------------------
if [ -f "$DATA/postmaster.pid" ]; then   # a dead or hung server of ours: stop what is left of it
    log "found an old cluster in $DATA that does not answer; replacing it"
    as_user "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
fi
rm -rf "$BASE"
mkdir -p "$BASE"
chmod 700 "$BASE"
[ "$(id -u)" = 0 ] && chown "$RUN_USER" "$BASE"

log "initdb in $DATA (owner $RUN_USER)"
as_user "$BINDIR/initdb" -D "$DATA" -U "$DB_USER" --auth=trust --encoding=UTF8 --locale=C >"$BASE/initdb.log" 2>&1 \
    || { cat "$BASE/initdb.log" >&2; die "initdb failed"; }

log "starting server on ${HOST}:${PORT} (log: $LOG)"
# fsync off: this cluster only holds test data and is thrown away.
as_user "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
    -o "-c listen_addresses=${HOST} -p ${PORT} -c unix_socket_directories=${BASE} -c fsync=off -c max_connections=50" \
    start >&2 || { cat "$LOG" >&2 2>/dev/null || true; die "pg_ctl start failed"; }

for _ in $(seq 1 60); do
    ready && break
    sleep 0.5
done
ready || { cat "$LOG" >&2 2>/dev/null || true; die "server did not become ready on ${HOST}:${PORT}"; }

ensure_db
log "ready"
echo "$URL"
