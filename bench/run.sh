#!/usr/bin/env bash
# berth-runtime vs crun vs runc, in one interleaved run on this machine.
#
#   bench/run.sh [N]            N iterations per scenario (default 50); as root
#
# Environment:
#   BERTH_RUNTIME   berth binary (default build-bench/berth-runtime, else build/berth-runtime)
#   CRUN, RUNC      the other runtimes (default: from PATH); set to "" to leave one out
#   BENCH_PARALLEL  container counts for the parallel-create test (default "10,100"; "" skips it)
#   BENCH_NONET     0 skips the extra run without a network namespace (default 1)
#   BENCH_RAW       copy the per-iteration TSV (runtime scenario step iter ns maxrss_kb ok) here
#   BENCH_KEEP      1 keeps the temp dir (logs, roots) for a post-mortem
#
# It builds nothing of berth: it only compiles bench/driver.cpp, the timing
# driver, into its temp dir.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
n=${1:-50}
[[ $n =~ ^[0-9]+$ && $n -gt 0 ]] || { echo "usage: $0 [N]" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "bench: needs root" >&2; exit 1; }

berth=${BERTH_RUNTIME:-}
if [[ -z $berth ]]; then
  for b in "$top/build-bench/berth-runtime" "$top/build/berth-runtime"; do
    [[ -x $b ]] && { berth=$b; break; }
  done
fi
[[ -n $berth && -x $berth ]] || { echo "bench: no berth-runtime (set BERTH_RUNTIME)" >&2; exit 1; }
crun=${CRUN-$(command -v crun || true)}
runc=${RUNC-$(command -v runc || true)}

# State dirs belong on a tmpfs, as /run is on most hosts: on this machine /tmp
# and /run are ext4 mounted with `discard`, where every state-file rename
# that frees an inode blocks on a synchronous discard.
base=/tmp
[[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]] && base=/dev/shm
tmp=$(mktemp -d "$base/berth-bench.XXXXXX")
prefix=bb$$
cleanup() {
  local rc=$?
  # Anything a crashed or killed run left behind: containers, then cgroups
  # named like our ids (rmdir only removes empty cgroups, deepest first).
  for spec in "berth=$berth" "crun=$crun" "runc=$runc"; do
    local name=${spec%%=*} bin=${spec#*=}
    [[ -n $bin && -d $tmp/root-$name ]] || continue
    for id in $("$bin" --root "$tmp/root-$name" list -q 2>/dev/null || true); do
      "$bin" --root "$tmp/root-$name" delete --force "$id" >/dev/null 2>&1 || true
    done
  done
  local left
  left=$(find /sys/fs/cgroup/ -mindepth 1 -maxdepth 4 -type d -name "$prefix-*" 2>/dev/null | sort -r || true)
  if [[ -n $left ]]; then
    echo "bench: removing leftover cgroups:" $left >&2
    for d in $left; do rmdir "$d" 2>/dev/null || echo "bench: could not remove $d" >&2; done
  fi
  bash "$top/scripts/cgroup-tidy.sh"  # berth's default /berth parent, when empty
  if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "bench: kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The rootfs: the build's busybox bundle, or our own copy.
rootfs=
for r in "$(dirname "$berth")/bundle/rootfs" "$top"/build*/bundle/rootfs; do
  [[ -x $r/bin/busybox ]] && { rootfs=$r; break; }
done
if [[ -z $rootfs ]]; then
  "$top/scripts/make-bundle.sh" "$tmp/own-bundle" >/dev/null
  rootfs=$tmp/own-bundle/rootfs
fi

# One config for all three runtimes: `runc spec` without a terminal, running
# /bin/true, with no ambient capabilities.
write_config() {  # DIR NAMESPACES_JSON
  mkdir -p "$1"
  cat > "$1/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["/bin/true"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "$rootfs", "readonly": true},
  "hostname": "bench",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
     "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "linux": {
    "resources": {"devices": [{"allow": false, "access": "rwm"}]},
    "namespaces": [$2],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
}
EOF
}
write_config "$tmp/bundle" '{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}'
write_config "$tmp/bundle-nonet" '{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}'

g++ -std=c++20 -O2 -static -Wall -Wextra -o "$tmp/driver" "$here/driver.cpp"

args=(-n "$n" -w "$tmp" -b "$tmp/bundle" -f "$rootfs" -p "$prefix" -r "$tmp/raw.tsv" -P "${BENCH_PARALLEL-10,100}")
[[ ${BENCH_NONET:-1} == 0 ]] || args+=(-B "$tmp/bundle-nonet")
runtimes=("berth=$berth")
[[ -n $crun ]] && runtimes+=("crun=$crun")
[[ -n $runc ]] && runtimes+=("runc=$runc")

echo "berth-runtime vs crun vs runc -- $(date -u +%FT%TZ), $(uname -r), $(nproc) cpus"
echo "berth: $berth (built $(date -u -r "$berth" +%FT%TZ), tree at commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "state dirs: $tmp ($(stat -f -c %T "$tmp"))"
[[ -n $crun ]] && echo "crun:  $("$crun" --version | head -1)"
[[ -n $runc ]] && echo "runc:  $("$runc" --version | head -1)"
echo "rootfs: $rootfs"
"$tmp/driver" "${args[@]}" "${runtimes[@]}"
[[ -z ${BENCH_RAW:-} ]] || cp "$tmp/raw.tsv" "$BENCH_RAW"
