#!/usr/bin/env bash
# Graceful drain under load, on loopback: N keep-alive clients POST /tasks in a loop against the
# release demo, SIGTERM after S seconds; every request sent on an open connection must be answered
# and every acknowledged task must have completed (the demo's "background task totals" line).
#
# Usage: Benchmarks/drain.sh [--clients 32] [--seconds 2] [--workers 1] [--demo PATH]
# Prints `cut=0 acknowledged=N tasks_completed=N` and exits 0 on success, 1 otherwise.
# Bounded: the demo gets 30 s to exit after SIGTERM, the clients 30 s to finish.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
clients=32 seconds=2 workers=1 demo=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) clients="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --demo) demo="$2"; shift 2 ;;
    *) echo "drain: unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ -z "$demo" ]]; then
  "$root/scripts/bootstrap.sh"
  swift build --package-path "$root" -c release --product loopwork-demo >&2
  demo="$root/.build/release/loopwork-demo"
fi

log=$(mktemp)
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
"$demo" --host 127.0.0.1 --port 0 --workers "$workers" --log-level info >"$log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -o 'address=[^ ]*' "$log" | head -1 | sed 's/.*://') || true
  [[ -n "$port" ]] && break
  kill -0 "$pid" 2>/dev/null || { echo "drain: the demo exited:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$port" ]] || { echo "drain: the demo did not report its port" >&2; exit 1; }

summary=$(python3 "$root/Benchmarks/drain/drain_load.py" "$port" "$clients" "$seconds" "$pid")
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  echo "drain: the demo did not exit within 30 s of SIGTERM" >&2
  exit 1
fi
wait "$pid" && status=0 || status=$?

totals=$(grep 'background task totals' "$log" | tail -1 || true)
field() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$totals"; }
acknowledged=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["acknowledged"])' "$summary")
cut=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["cut"])' "$summary")
completed=$(field completed)
echo "cut=$cut acknowledged=$acknowledged tasks_completed=${completed:-?}"
echo "drain: clients=$clients seconds=$seconds workers=$workers exit=$status endings=$summary" >&2
echo "drain: $totals" >&2
grep -E 'shutting down|connections drained|closing connections still busy|stopped' "$log" | sed 's/^/drain: /' >&2 || true
[[ "$status" == 0 && "$cut" == 0 && -n "$completed" && "$acknowledged" == "$completed" ]]
