#!/bin/bash
# cgroup-v2-env.sh CMD...: runs CMD with a pure cgroup v2 view on this hybrid
# cgroup v1 host, then puts the host back exactly as it was.
#
# How: a v1 controller whose hierarchy has no child cgroups moves to the
# unified (v2) hierarchy when its v1 hierarchy is unmounted. This script
# unmounts cpu, cpuset, blkio, pids, freezer and devices (not memory: the
# workplace's own cgroups live there; not cpuacct, which has no v2
# counterpart: v2's cpu controller does its accounting), runs CMD in a
# private mount namespace where a cgroup2 is mounted at /sys/fs/cgroup, and
# afterwards (always: trap EXIT) disables the moved controllers in every
# cgroup.subtree_control, remounts the v1 hierarchies (retrying: a controller
# only leaves v2 once the kernel has freed its last v2 cgroup, which it does
# lazily after rmdir) and compares `mount | grep cgroup` with the start.
#
# It refuses to run when one of those v1 hierarchies has child cgroups (they
# would keep the controller on v1, and unmounting would hide them), when
# another instance runs, or when a container runtime is running. While it
# runs, /tmp/berth-cgroup-v2-running says so. While it runs, nobody else on the host can create
# cgroups on the moved v1 hierarchies: do not run containers beside it.
# Exit status: CMD's, or 70 when the host could not be restored exactly.
set -euo pipefail

CG=/sys/fs/cgroup
UNI=$CG/unified
MOVE=(cpu cpuset blkio pids freezer devices)

v2name() {  # the v2 controller a v1 one becomes ("" = v1 only, nothing to disable)
  case $1 in
    blkio) echo io ;;
    freezer | devices) echo "" ;;
    *) echo "$1" ;;
  esac
}

die() { echo "cgroup-v2-env: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: $0 CMD [ARGS...]"
[ "$(id -u)" = 0 ] || die "must run as root"
[ "$(stat -f -c %T "$UNI" 2>/dev/null)" = cgroup2fs ] || die "$UNI is not a cgroup2 mount (not a hybrid host?)"

exec 9>/run/lock/berth-cgroup-v2-env.lock
flock -n 9 || die "another cgroup-v2-env.sh is running"
# Containers started beside us would make v1 cgroups (or lose their limits):
# refuse while a runtime runs, and announce the pass to the other engineers.
MARK=/tmp/berth-cgroup-v2-running
busy=""
for rt in berth-runtime runc crun; do  # one name each: pgrep caps patterns at 15 chars
  busy+=$(pgrep -a -x -r D,R,S,T,t "$rt" || true)  # zombies run nothing
done
[ -z "$busy" ] || die "refusing: container runtimes are running: $busy"

# Sorted: remounted hierarchies come back at the end of the mount table.
mounts_before=$(mount | grep cgroup | sort)
root_subtree_before=$(cat "$UNI/cgroup.subtree_control")

# berth-runtime keeps its default parent /berth; empty, it is ours to remove.
bash "$(dirname "$0")/cgroup-tidy.sh"
# Which ones to move: mounted, and without child cgroups.
to_move=()
for c in "${MOVE[@]}"; do
  mountpoint -q "$CG/$c" || continue
  child=$(find "$CG/$c" -mindepth 1 -maxdepth 1 -type d -print -quit)
  [ -z "$child" ] || die "refusing: the v1 $c hierarchy has child cgroups ($child)"
  to_move+=("$c")
done

moved=()
restore() {
  local rc=$? ok=1
  trap - EXIT INT TERM
  rm -f "$MARK"
  # 0. berth-runtime keeps its default parent /berth (with the controllers it
  #    enabled there); empty, it is ours to remove, and it must go before the
  #    root's subtree_control can be given back.
  bash "$(dirname "$0")/cgroup-tidy.sh"
  # 1. Disable the moved controllers wherever they were enabled (deepest
  #    first: a parent cannot disable what a child still delegates).
  local dir ctl v2
  while IFS= read -r dir; do
    for c in "${moved[@]}"; do
      v2=$(v2name "$c")
      [ -n "$v2" ] || continue
      if grep -qw "$v2" "$dir/cgroup.subtree_control" 2>/dev/null; then
        echo "-$v2" >"$dir/cgroup.subtree_control" 2>/dev/null ||
          echo "cgroup-v2-env: cannot disable $v2 in $dir" >&2
      fi
    done
  done < <(find "$UNI" -depth -type d 2>/dev/null)
  # 2. Give the unified root's subtree_control back what it had: drop any
  #    controller CMD enabled there (e.g. hugetlb by a v2 manager).
  for ctl in $(cat "$UNI/cgroup.subtree_control"); do
    grep -qw "$ctl" <<<"$root_subtree_before" || echo "-$ctl" >"$UNI/cgroup.subtree_control" 2>/dev/null ||
      echo "cgroup-v2-env: cannot disable $ctl in $UNI" >&2
  done
  # 3. Remount, retrying while the kernel still holds the controller on v2.
  for c in "${moved[@]}"; do
    local i
    for i in $(seq 1 100); do
      mount -t cgroup -o "$c" cgroup "$CG/$c" 2>/dev/null && break
      sleep 0.1
    done
    mountpoint -q "$CG/$c" || { echo "cgroup-v2-env: could not remount the v1 $c hierarchy" >&2; ok=0; }
  done
  # 4. Exactly as before?
  local after
  after=$(mount | grep cgroup | sort)
  if [ "$after" != "$mounts_before" ]; then
    echo "cgroup-v2-env: cgroup mounts differ from the start:" >&2
    diff <(echo "$mounts_before") <(echo "$after") >&2 || true
    ok=0
  fi
  if [ "$(cat "$UNI/cgroup.subtree_control")" != "$root_subtree_before" ]; then
    echo "cgroup-v2-env: $UNI/cgroup.subtree_control differs from the start" >&2
    ok=0
  fi
  [ "$ok" = 1 ] || rc=70
  exit "$rc"
}
echo "cgroup-v2-env.sh (pid $$) moved the cgroup controllers to v2: do not start containers" >"$MARK"
trap restore EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for c in "${to_move[@]}"; do
  # Busy: something outside our reach holds the hierarchy open (here the
  # workplace's pid 1 keeps cpu). That controller stays on v1; tests that
  # need it on v2 skip.
  if ! umount "$CG/$c" 2>/dev/null; then
    echo "cgroup-v2-env: $CG/$c is busy; $c stays on cgroup v1" >&2
    continue
  fi
  v2=$(v2name "$c")
  if [ -z "$v2" ]; then
    moved+=("$c")
    continue
  fi
  # The kernel frees a v1 hierarchy only once its last cgroup is released,
  # and removed cgroups are released asynchronously: after a burst of
  # containers (a benchmark) that takes seconds.
  for _ in $(seq 1 300); do
    grep -qw "$v2" "$UNI/cgroup.controllers" && break
    sleep 0.1
  done
  if ! grep -qw "$v2" "$UNI/cgroup.controllers"; then
    echo "cgroup-v2-env: $v2 did not appear on cgroup v2 within 30 s of unmounting v1 $c; $c stays on v1" >&2
    for _ in $(seq 1 100); do
      mount -t cgroup -o "$c" cgroup "$CG/$c" 2>/dev/null && break
      sleep 0.1
    done
    mountpoint -q "$CG/$c" || die "could not remount the v1 $c hierarchy"
    continue
  fi
  moved+=("$c")
done

echo "cgroup-v2-env: on v2: $(cat "$UNI/cgroup.controllers")" >&2
set +e
unshare -m --propagation private -- /bin/sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"' sh "$@"
rc=$?
set -e
exit "$rc"
