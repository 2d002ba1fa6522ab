#!/usr/bin/env bash
# Container test: builds the repository's Dockerfile with the `docker build` of the Deploying article (Sources/Loopwork/Loopwork.docc) and runs
# the image with `docker run`, then checks every demo endpoint with curl, the image's HEALTHCHECK
# command, and a clean SIGTERM stop. CI runs it after the unit and integration tests.
#
# Engine: Debian's docker.io, started by this script as its own private dockerd (own --data-root,
# --exec-root, socket and pidfile under a scratch folder; DOCKER_HOST points at it; stopped by its
# pid at the end). Chosen over podman because it is the engine the documented commands name, so the
# test runs exactly what users type, and it needs no engine configuration carried in the repo
# (podman here needs runc instead of crun and lowered ulimits in a containers.conf). Debian's
# docker.io has no BuildKit, so builds use DOCKER_BUILDKIT=0 and the Dockerfile keeps to classic
# syntax. No registry is reachable, so the two base images the Dockerfile names are made locally
# first (scripts/container/base-images.sh).
#
# Usage: scripts/container-test.sh [--keep-base-images] [BUILD_CONTEXT]
#   BUILD_CONTEXT        directory holding the Dockerfile and the package (default: the repo root)
#   --keep-base-images   (or LOOPWORK_KEEP_BASE_IMAGES=1) keep the engine's storage with the two
#                        base images in $LOOPWORK_CONTAINER_STATE (default
#                        /var/tmp/loopwork-container-state) for faster reruns; the test image and
#                        containers are still removed. Without it (CI) everything is removed.
# Needs root (it starts a daemon and installs docker.io/debootstrap/curl when missing) and 12 GB
# free. Any failure exits non-zero with the reason; cleanup runs on every exit.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
keep=${LOOPWORK_KEEP_BASE_IMAGES:-0}
context=
for arg in "$@"; do
  case $arg in
    --keep-base-images) keep=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "container-test: unknown option $arg" >&2; exit 2 ;;
    *) [ -z "$context" ] || { echo "container-test: only one BUILD_CONTEXT" >&2; exit 2; }; context=$arg ;;
  esac
done
context=$(cd "${context:-$repo_root}" && pwd)
image=loopwork-demo
container=loopwork-demo-test
required_gb=${LOOPWORK_CONTAINER_MIN_GB:-12}   # override only to test the check itself

say() { echo "container-test: $*" >&2; }
die() { echo "container-test: FAILED: $*" >&2; exit 1; }
passed=0
pass() { passed=$((passed + 1)); say "ok   $*"; }

phase_start=$SECONDS
phase_name=
timings=()
phase() { # ends the current phase (recording its time) and starts the next
  [ -z "$phase_name" ] || timings+=("$(printf '%-34s %4ds' "$phase_name" $((SECONDS - phase_start)))")
  phase_name=$1; phase_start=$SECONDS
  [ -z "$phase_name" ] || say "== $phase_name"
}

[ "$(id -u)" -eq 0 ] || die "must run as root: it starts its own dockerd and builds base images with debootstrap/chroot"
[ -f "$context/Dockerfile" ] || die "no Dockerfile in $context"

# --- scratch space and disk check ---------------------------------------------------------------
# Scratch lives on the root file system by default: the toolchain is hard-linked into the swift
# base image, which needs the same file system as the toolchain.
if [ "$keep" = 1 ]; then
  scratch=${LOOPWORK_CONTAINER_STATE:-/var/tmp/loopwork-container-state}
  mkdir -p "$scratch"
else
  mkdir -p "${LOOPWORK_CONTAINER_TMP:-/var/tmp}"
  scratch=$(mktemp -d "${LOOPWORK_CONTAINER_TMP:-/var/tmp}/loopwork-container.XXXXXX")
fi
avail_kb=$(df -Pk "$scratch" | awk 'NR == 2 { print $4 }')
scratch_fs=$(df -Pk "$scratch" | awk 'NR == 2 { print $6 }')
if [ "$avail_kb" -lt $((required_gb * 1024 * 1024)) ]; then
  [ "$keep" = 1 ] || rmdir "$scratch"
  die "only $((avail_kb / 1024 / 1024)) GB free on $scratch_fs (scratch $scratch); the container test needs at least $required_gb GB (engine storage ~4.5 GB, base images, the release build). Free space or point LOOPWORK_CONTAINER_TMP at a larger file system (the same one as the Swift toolchain)."
fi
say "scratch $scratch: $((avail_kb / 1024 / 1024)) GB free on $scratch_fs"

# --- cleanup on every exit ----------------------------------------------------------------------
docker_pid=
# dockerd changes the host's network set-up (docker0 bridge, iptables chains and rules, FORWARD
# policy, ip_forward) and leaves it behind when stopped; undo that unless it was there before.
docker_net_preexisting=1   # until snapshot_host_network has looked, touch nothing
forward_policy=
ip_forward=
snapshot_host_network() {
  docker_net_preexisting=0
  if ip link show docker0 >/dev/null 2>&1 || iptables -n -L DOCKER >/dev/null 2>&1; then docker_net_preexisting=1; fi
  forward_policy=$(iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" { print $3 }')
  ip_forward=$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null || true)
}
restore_host_network() {
  local table line args chain
  [ "$docker_net_preexisting" = 0 ] || return 0
  ip link delete docker0 2>/dev/null || true
  command -v iptables-save >/dev/null 2>&1 || return 0
  for table in filter nat; do
    # Rules docker added to the built-in chains go one by one; its own chains are then emptied
    # and removed.
    while read -r line; do
      read -ra args <<< "${line/#-A/-D}"
      iptables -t "$table" "${args[@]}" 2>/dev/null || true
    done < <(iptables-save -t "$table" 2>/dev/null | grep -E '^-A (INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) ' | grep -E 'DOCKER|docker0')
    for chain in $(iptables-save -t "$table" 2>/dev/null | awk -F'[: ]' '/^:DOCKER/ { print $2 }'); do
      iptables -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $(iptables-save -t "$table" 2>/dev/null | awk -F'[: ]' '/^:DOCKER/ { print $2 }'); do
      iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
  [ -z "$forward_policy" ] || iptables -P FORWARD "$forward_policy" 2>/dev/null || true
  [ -z "$ip_forward" ] || echo "$ip_forward" > /proc/sys/net/ipv4/ip_forward 2>/dev/null || true
}
cleanup() {
  local rc=$? m
  trap - EXIT INT TERM
  phase ""
  say "cleaning up"
  if [ -n "$docker_pid" ] && kill -0 "$docker_pid" 2>/dev/null; then
    if [ "$rc" -ne 0 ] && "$DOCKER" inspect "$container" >/dev/null 2>&1; then
      say "container logs (last 40 lines):"; "$DOCKER" logs --tail 40 "$container" >&2 2>&1 || true
    fi
    "$DOCKER" rm -f "$container" >/dev/null 2>&1 || true
    if [ "$keep" = 1 ]; then
      "$DOCKER" rmi -f "$image" >/dev/null 2>&1 || true
      "$DOCKER" container prune -f >/dev/null 2>&1 || true
      "$DOCKER" image prune -f >/dev/null 2>&1 || true
    else
      # Everything goes with the data root below; removing images first frees the overlay mounts.
      "$DOCKER" ps -aq | xargs -r "$DOCKER" rm -f >/dev/null 2>&1 || true
      "$DOCKER" images -aq | xargs -r "$DOCKER" rmi -f >/dev/null 2>&1 || true
    fi
    kill -TERM "$docker_pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$docker_pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$docker_pid" 2>/dev/null; then
      say "dockerd (pid $docker_pid) did not stop in 30 s; killing it"
      kill -KILL "$docker_pid" 2>/dev/null || true
    fi
  fi
  restore_host_network
  # Never delete through a mount point (overlay layers, a chroot's /proc).
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v s="$scratch/" 'index($2, s) == 1 { print $2 }' /proc/self/mounts | sort -r)
  if awk -v s="$scratch/" 'index($2, s) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
    say "mounts remain under $scratch; not deleting it"; [ "$rc" -ne 0 ] || rc=1
  elif [ "$keep" = 1 ]; then
    rm -rf "$scratch/exec" "$scratch/docker.sock" "$scratch/docker.pid"
    say "kept engine storage with the base images in $scratch ($(du -sh "$scratch" 2>/dev/null | cut -f1))"
  else
    rm -rf "$scratch"
  fi
  if [ ${#timings[@]} -gt 0 ]; then
    say "phase timings:"; printf '  %s\n' "${timings[@]}" >&2
  fi
  if [ "$rc" -eq 0 ]; then say "PASSED"; else say "FAILED (exit $rc)"; fi
  # A closing line CI can read: every check above, and the one that failed (if any).
  echo "container-test: $passed passed, $([ "$rc" -eq 0 ] && echo 0 || echo 1) failed"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- engine -------------------------------------------------------------------------------------
phase "engine set-up"
missing=()
command -v dockerd >/dev/null 2>&1 && [ -x /usr/bin/docker ] || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v git >/dev/null 2>&1 || missing+=(git)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
fi
# The client from the same docker.io package as the daemon (another docker client earlier on PATH
# may speak a different API version).
DOCKER=/usr/bin/docker
export DOCKER DOCKER_BUILDKIT=0
mkdir -p "$scratch/data" "$scratch/exec"
export DOCKER_HOST="unix://$scratch/docker.sock"
rm -f "$scratch/docker.sock" "$scratch/docker.pid"
snapshot_host_network
dockerd --data-root "$scratch/data" --exec-root "$scratch/exec" -H "$DOCKER_HOST" \
  --pidfile "$scratch/docker.pid" > "$scratch/dockerd.log" 2>&1 &
docker_pid=$!
for _ in $(seq 1 60); do
  "$DOCKER" version >/dev/null 2>&1 && break
  kill -0 "$docker_pid" 2>/dev/null || { tail -n 30 "$scratch/dockerd.log" >&2; docker_pid=; die "dockerd exited during start-up (log above)"; }
  sleep 0.5
done
"$DOCKER" version >/dev/null 2>&1 || { tail -n 30 "$scratch/dockerd.log" >&2; die "dockerd did not answer on $DOCKER_HOST within 30 s (log above)"; }
say "dockerd $("$DOCKER" version --format '{{.Server.Version}}') running (pid $docker_pid), storage $scratch/data"

# --- base images ---------------------------------------------------------------------------------
phase "base images"
"$repo_root/scripts/container/base-images.sh" "$scratch/base" || die "making the base images failed"

# --- the documented build and run -----------------------------------------------------------------
phase "docker build"
( cd "$context" && "$DOCKER" build -t "$image" . ) >&2 || die "docker build failed"

phase "image checks"
size_bytes=$("$DOCKER" image inspect -f '{{.Size}}' "$image")
size_mb=$(( (size_bytes + 999999) / 1000000 ))
say "runtime image $image: $size_mb MB ($size_bytes bytes)"
# No compiler or Swift runtime in the runtime image: only the static binary, libuv and libpq
# (not linked: the binary loads libpq.so.5 when --postgres asks for it, so it must be installed).
"$DOCKER" run --rm "$image" sh -c '
  set -e
  for tool in swift swiftc clang cc gcc ld; do
    if command -v "$tool" >/dev/null 2>&1; then echo "unexpected $tool in the runtime image"; exit 1; fi
  done
  if [ -e /opt/swift ] || ls /usr/lib/swift >/dev/null 2>&1; then echo "Swift toolchain files in the runtime image"; exit 1; fi
  libs=$(ldd /usr/local/bin/loopwork-demo)
  echo "$libs"
  if echo "$libs" | grep -q "not found"; then echo "unresolved shared libraries"; exit 1; fi
  if echo "$libs" | grep -q "libswift"; then echo "the Swift runtime is linked dynamically"; exit 1; fi
  echo "$libs" | grep -q "libuv.so" || { echo "libuv is not linked"; exit 1; }
  if echo "$libs" | grep -q "libpq.so"; then echo "libpq is linked, not loaded on demand"; exit 1; fi
  ldconfig -p | grep -q "libpq.so.5 " || { echo "libpq5 is not installed for --postgres"; exit 1; }
  [ "$(id -u)" != 0 ] || { echo "runs as root"; exit 1; }
' >&2 || die "runtime image content check failed"
pass "runtime image holds no compiler or Swift toolchain; the binary links libuv, no Swift runtime; libpq5 is there to load"
# 100 MB until the demo linked libpq: libpq5 brings OpenSSL, Kerberos, LDAP and SASL (about 10 MB
# installed), which no slimming of our own layer can take back out.
[ "$size_mb" -lt 110 ] || die "runtime image is $size_mb MB; the goal is under 110 MB"
pass "runtime image size $size_mb MB (< 110 MB)"

phase "docker run and endpoints"
port=
for _ in $(seq 1 50); do
  candidate=$(( 20000 + RANDOM % 40000 ))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[ -n "$port" ] || die "found no free local port"
"$DOCKER" run -d --name "$container" -p "127.0.0.1:$port:8080" "$image" >/dev/null || die "docker run failed"
base=http://127.0.0.1:$port
ready=0
for _ in $(seq 1 60); do
  [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$container")" = true ] || die "the container exited on start (exit $("$DOCKER" inspect -f '{{.State.ExitCode}}' "$container"))"
  if curl -fsS -o /dev/null --max-time 2 "$base/healthz" 2>/dev/null; then ready=1; break; fi
  sleep 0.5
done
[ "$ready" = 1 ] || die "the container did not answer on $base/healthz within 30 s"

check() { # name expected actual
  if [ "$2" = "$3" ]; then pass "$1"; else die "$1: expected [$2], got [$3]"; fi
}
check "GET /plaintext" "Hello, World!" "$(curl -fsS --max-time 5 "$base/plaintext")"
check "GET /json" '{"message":"Hello, World!"}' "$(curl -fsS --max-time 5 "$base/json" | tr -d '\n')"
echo_headers=$scratch/echo-headers
payload="loopwork container test $RANDOM"
check "POST /echo body" "$payload" "$(curl -fsS --max-time 5 -D "$echo_headers" --data-binary "$payload" "$base/echo")"
check "POST /echo X-Echo-Length" "${#payload}" "$(awk 'tolower($1) == "x-echo-length:" { gsub("\r", "", $2); print $2 }' "$echo_headers")"
check "GET /healthz" 200 "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$base/healthz")"
check "GET /files/hello.txt (the bundled static folder)" "Hello from a file served by Loopwork." \
  "$(curl -fsS --max-time 5 "$base/files/hello.txt")"
check "GET /download?bytes=1000000 (streamed)" 1000000 \
  "$(curl -fsS -o /dev/null -w '%{size_download}' --max-time 10 "$base/download?bytes=1000000")"
task_body=$scratch/task-body
check "POST /tasks status" 202 "$(curl -sS -o "$task_body" -w '%{http_code}' --max-time 5 -X POST "$base/tasks")"
check "POST /tasks body" '{"status":"ok"}' "$(tr -d '\n' < "$task_body")"
stats=$(curl -fsS --max-time 5 "$base/stats" | tr -d ' \n')
case $stats in *'"completed":'[0-9]*) pass "GET /stats ($stats)" ;; *) die "GET /stats: unexpected [$stats]" ;; esac

# sed reads the whole log: `head` would close the pipe early and, under pipefail, fail the run
# with docker's SIGPIPE (141) whenever the log is longer than what it shows.
say "container log (first lines):"; "$DOCKER" logs "$container" 2>&1 | sed -n '1,5s/^/  | /p' >&2

phase "healthcheck"
# Run the image's own HEALTHCHECK command inside the container, then wait for the engine's verdict.
mapfile -t hc < <("$DOCKER" inspect -f '{{range $i, $a := .Config.Healthcheck.Test}}{{if $i}}{{$a}}{{"\n"}}{{end}}{{end}}' "$container" | sed '/^$/d')
[ ${#hc[@]} -gt 0 ] || die "the image has no HEALTHCHECK"
"$DOCKER" exec "$container" "${hc[@]}" >&2 || die "the HEALTHCHECK command (${hc[*]}) failed inside the container"
pass "HEALTHCHECK command succeeds: ${hc[*]}"
# It must also be able to fail, or it proves nothing.
if "$DOCKER" exec "$container" "${hc[0]}" --health-check "http://127.0.0.1:1/healthz" >/dev/null 2>&1; then
  die "the health check reports success for a port nothing listens on"
fi
pass "health check fails for a dead URL"
status=
for _ in $(seq 1 60); do
  status=$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$container")
  [ "$status" = starting ] || break
  sleep 1
done
check "engine health status" healthy "$status"

phase "docker stop (SIGTERM)"
stop_start=$(date +%s%N)
"$DOCKER" stop -t 10 "$container" >/dev/null || die "docker stop failed"
stop_ms=$(( ($(date +%s%N) - stop_start) / 1000000 ))
exit_code=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$container")
say "stopped in $stop_ms ms, exit code $exit_code"
check "exit code after SIGTERM" 0 "$exit_code"
[ "$stop_ms" -lt 5000 ] || die "stopping took $stop_ms ms: SIGTERM was not handled well within the 10 s grace period"
pass "docker stop: exit 0 in $stop_ms ms"

phase ""
say "runtime image size: $size_mb MB"
