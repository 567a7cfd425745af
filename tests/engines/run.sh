#!/usr/bin/env bash
# Drives berth-runtime (or any OCI runtime) through real engines: Podman,
# containerd (ctr + the io.containerd.runc.v2 shim) and Docker. Every daemon is
# private (root, state and sockets under one temp dir) and everything is
# stopped and removed at the end, also on failure or Ctrl-C.
#
#   tests/engines/run.sh [--build DIR] [podman] [containerd] [docker]
#
# Environment:
#   BERTH_ENGINE_RUNTIME   runtime to test (default: DIR/berth-runtime); runc checks the tests
#   BERTH_ENGINE_ONLY      regex over ENGINE.SCENARIO to run a subset
#   BERTH_ENGINE_KEEP_LOGS DIR to copy failing scenarios' logs and runtime command lines to
#   BERTH_ENGINE_INSTALL=0 do not apt-get install missing engines (skip them instead)
# Exit status: 0 when no scenario failed (skips are listed, not failures).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build
engines=()
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    podman|containerd|docker) engines+=("$1"); shift ;;
    *) echo "usage: $0 [--build DIR] [podman] [containerd] [docker]" >&2; exit 2 ;;
  esac
done
((${#engines[@]})) || engines=(podman containerd docker)

[[ $(id -u) == 0 ]] || { echo "engines: run as root" >&2; exit 1; }
REAL_RUNTIME=${BERTH_ENGINE_RUNTIME:-$build/berth-runtime}
# Absolute: shims run the runtime from the bundle dir.
REAL_RUNTIME=$(command -v "$REAL_RUNTIME" || true)
[[ -z $REAL_RUNTIME ]] || REAL_RUNTIME=$(realpath "$REAL_RUNTIME")
[[ -x $REAL_RUNTIME ]] || { echo "engines: runtime ${BERTH_ENGINE_RUNTIME:-$build/berth-runtime} not found (build it first)" >&2; exit 1; }
build=$(realpath "$build")
ROOTFS=$build/bundle/rootfs
[[ -x $ROOTFS/bin/busybox ]] || { echo "engines: $ROOTFS missing (build the 'bundle' target)" >&2; exit 1; }

# shellcheck source=lib.sh
source "$here/lib.sh"

T=$(mktemp -d /tmp/berth-engines.XXXXXX)
export T
make_runtime_wrapper

for e in "${engines[@]}"; do
  # shellcheck disable=SC1090
  source "$here/$e.sh"
done

# Paths outside $T the engines create on their own: their cgroup parents,
# containerd's shim socket and fifo dirs, runtimes' default state dirs.
for d in /sys/fs/cgroup/*/; do
  record_foreign_paths "${d}libpod_parent" "${d}docker" "${d}berth-engines"
done
record_foreign_paths /run/containerd /run/docker /run/runc /run/berth /run/libpod /var/run/docker.sock /etc/docker

# Runs on every exit path: each engine's own teardown (remove containers and
# images, stop the daemon), then a hard sweep of whatever still mentions $T.
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local e
  for e in "${engines[@]}"; do "${e}_teardown" || true; done
  kill_ours
  sleep 0.5
  umount_ours
  local leaked=0
  check_no_leftovers || leaked=1
  remove_foreign_paths || leaked=1
  rm -rf "$T" 2>/dev/null || { umount_ours; rm -rf "$T" || leaked=1; }
  ((leaked == 0)) || { log "FAIL: leftovers after the engine tests"; rc=1; }
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The installable engines, from Debian.
declare -A engine_packages=([podman]="podman conmon" [containerd]="containerd" [docker]="docker.io containerd")
declare -A engine_binary=([podman]=podman [containerd]=containerd [docker]=dockerd)
ensure_engine() {
  local e=$1
  command -v "${engine_binary[$e]}" >/dev/null && return 0
  [[ ${BERTH_ENGINE_INSTALL:-1} == 1 ]] || return 1
  log "installing ${engine_packages[$e]}"
  bash "$repo/scripts/engines-setup.sh" "$e" >&2
}

log "runtime under test: $REAL_RUNTIME (via ${RUNTIME}); temp dir $T"
overall=0
for e in "${engines[@]}"; do
  if ! ensure_engine "$e"; then
    ENGINE_RESULTS+=("SKIP $e.* (${engine_binary[$e]} not installed)")
    continue
  fi
  log "== $e"
  start=$SECONDS
  if "${e}_setup"; then
    "${e}_scenarios"
  else
    ENGINE_FAILED=1
    ENGINE_RESULTS+=("FAIL $e.setup (daemon or image import failed)")
  fi
  "${e}_teardown" || { ENGINE_FAILED=1; ENGINE_RESULTS+=("FAIL $e.teardown"); }
  log "== $e done in $((SECONDS - start))s"
done
print_results
exit "$ENGINE_FAILED"
