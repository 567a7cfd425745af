#!/bin/bash
# cgroup-tidy.sh: removes berth-runtime's default parent cgroup "/berth" from
# every hierarchy where it is empty. berth-runtime keeps that parent between
# containers (as Docker keeps /docker): creating and removing it per
# container costs a cgroup mkdir and rmdir in every hierarchy. The scripts
# that start containers with the default cgroup path (test.sh, demo.sh,
# bench/run.sh) call this when they are done, so they leave the host as they
# found it; cgroup-v2-env.sh calls it because a v1 hierarchy with a child
# cgroup cannot move to v2. Only "/berth" itself is removed, and only when it
# is empty: a container's cgroup still under it (a running container, or one
# a `delete` never cleaned up) keeps it, and is reported.
for d in /sys/fs/cgroup/berth /sys/fs/cgroup/*/berth; do
  [ -d "$d" ] || continue
  rmdir "$d" 2>/dev/null || echo "cgroup-tidy: $d is not empty, left: $(ls -d "$d"/*/ 2>/dev/null | tr '\n' ' ')" >&2
done
exit 0
