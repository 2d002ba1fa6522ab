#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: installs Debian's server when missing, creates a cluster in
# a temporary folder as the postgres user, serves it on loopback only, and removes it on stop.
#
#   eval "$(scripts/test-postgres.sh start)"   # exports LOOPWORK_TEST_POSTGRES_URL and _DIR
#   scripts/test-postgres.sh stop "$LOOPWORK_TEST_POSTGRES_DIR"
#   scripts/test-postgres.sh halt DIR; scripts/test-postgres.sh resume DIR   # same port, same data
#
# `start` prints only the export lines on stdout; progress goes to stderr.
set -euo pipefail

server_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

install_server() {
  echo "test-postgres: installing postgresql" >&2
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends postgresql >&2
}

start() {
  local bin
  bin=$(server_bin) || { install_server; bin=$(server_bin); } || { echo "test-postgres: no initdb after installing postgresql" >&2; exit 1; }
  id postgres >/dev/null 2>&1 || { echo "test-postgres: no postgres user (the postgresql package creates it)" >&2; exit 1; }
  local dir
  dir=$(mktemp -d /tmp/loopwork-postgres.XXXXXX)
  chown postgres "$dir" 2>/dev/null || sudo chown postgres "$dir"
  chmod 700 "$dir"
  as_postgres "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  # A port chosen at random, tried again if taken: several runs may share a machine.
  local port attempt
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 30000))
    echo "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" \
      | as_postgres tee "$dir/server.options" >/dev/null
    if serve "$bin" "$dir"; then
      echo "export LOOPWORK_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
      echo "export LOOPWORK_TEST_POSTGRES_DIR=$dir"
      echo "export LOOPWORK_TEST_POSTGRES_BIN=$bin"
      return 0
    fi
    echo "test-postgres: port $port failed (attempt $attempt), trying another" >&2
  done
  cat "$dir/server.log" >&2 || true
  exit 1
}

# Starts the cluster in DIR with the options `start` chose for it. The server must not keep the
# caller's descriptors: a caller that waits for one to close (Foundation's Process waits for a
# socket it gives each child) would wait for as long as the server runs.
serve() {
  local bin=$1 dir=$2 fd
  for fd in $(ls /proc/$$/fd); do
    [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true
  done
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "$(cat "$dir/server.options")" start >&2
}

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

# Stops the server but keeps its data, for tests of a database that goes away and comes back.
halt() {
  local dir=${1:?usage: test-postgres.sh halt DIR}
  as_postgres "$(server_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >&2
}

resume() {
  local dir=${1:?usage: test-postgres.sh resume DIR}
  serve "$(server_bin)" "$dir"
}

stop() {
  local dir=${1:?usage: test-postgres.sh stop DIR}
  local bin
  bin=$(server_bin) || exit 0
  [ -d "$dir/data" ] && as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  halt) halt "${2:-}" ;;
  resume) resume "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR | halt DIR | resume DIR" >&2; exit 2 ;;
esac
