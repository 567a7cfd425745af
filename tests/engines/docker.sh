# Docker scenarios (sourced by run.sh): a private dockerd (its own data root,
# exec root, socket, pidfile and config, and its own managed containerd under
# the exec root) with the runtime under test added as "berth".

DK_IMG=berth-busybox:latest

docker_setup() {
  D=$T/docker
  mkdir -p "$D"/{data,exec,config}
  # An empty daemon.json of our own so /etc/docker/daemon.json is never read.
  echo '{}' > "$D/daemon.json"
  dockerd --config-file "$D/daemon.json" --data-root "$D/data" --exec-root "$D/exec" \
    --host "unix://$D/docker.sock" --pidfile "$D/docker.pid" \
    --iptables=false --ip-masq=false --bridge=none --storage-driver vfs \
    --add-runtime "berth=$RUNTIME" > "$D/dockerd.log" 2>&1 &
  D_PID=$!
  wait_until 40 dk version || { tail -30 "$D/dockerd.log" >&2; return 1; }
  make_rootfs_tar "$D/rootfs.tar"
  dk import --change 'CMD ["/bin/sh"]' "$D/rootfs.tar" "$DK_IMG" >/dev/null
}

# Debian's client, explicitly: /usr/local/bin may hold another docker.
dk() {
  DOCKER_HOST="unix://$D/docker.sock" DOCKER_CONFIG="$D/config" /usr/bin/docker "$@"
}

dkrun() { dk run --runtime berth --network none "$@"; }

docker_teardown() {
  [[ -n ${D_PID:-} ]] || return 0
  local ids
  ids=$(dk ps -aq 2>/dev/null || true)
  [[ -z $ids ]] || dk rm -f $ids >/dev/null 2>&1 || true
  dk rmi -f "$DK_IMG" >/dev/null 2>&1 || true
  kill "$D_PID" 2>/dev/null || true
  local i
  for i in $(seq 100); do kill -0 "$D_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$D_PID" 2>/dev/null || true
  wait "$D_PID" 2>/dev/null || true
  umount_ours
  D_PID=
}

dk_status_is() { [[ $(dk inspect -f '{{.State.Status}}' "$1") == "$2" ]]; }
dk_logs_has() { dk logs "$1" 2>&1 | grep -q -- "$2"; }

# --- scenarios -------------------------------------------------------------

dk_sc_run() {
  local out
  out=$(dkrun --rm -e FOO=from-docker -u 1:100 -w /tmp --hostname dk-host "$DK_IMG" \
    sh -c 'echo "$FOO|$(id -u):$(id -g)|$(pwd)|$(hostname)|$$"')
  expect_eq "env|user|workdir|hostname|pid 1" "from-docker|1:100|/tmp|dk-host|1" "$out"
  expect_status "exit code" 9 dkrun --rm "$DK_IMG" sh -c 'exit 9'
  out=$(dkrun --rm --read-only --tmpfs /scratch --cap-drop CHOWN --memory 64m "$DK_IMG" \
    sh -c 'touch /x 2>/dev/null && echo rw || echo ro; chown 1 /scratch 2>/dev/null && echo chown || echo nochown; cat /sys/fs/cgroup/memory/memory.limit_in_bytes')
  expect_eq "read-only, cap-drop, memory" "ro
nochown
67108864" "$out"
}

dk_sc_kill_rm() {
  local id
  id=$(dkrun -d "$DK_IMG" sh -c 'trap "echo got-USR1" USR1; trap "echo got-TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done')
  wait_until 15 dk_logs_has "$id" ready
  dk kill -s USR1 "$id" >/dev/null
  wait_until 10 dk_logs_has "$id" got-USR1
  dk stop -t 10 "$id" >/dev/null
  expect_eq "stop ran the TERM trap" 7 "$(dk inspect -f '{{.State.ExitCode}}' "$id")"
  dk rm "$id" >/dev/null
  id=$(dkrun -d "$DK_IMG" sleep 1000)
  local pid
  pid=$(dk inspect -f '{{.State.Pid}}' "$id")
  dk rm -f "$id" >/dev/null
  wait_until 5 bash -c "[ ! -d /proc/$pid ]"
}

dk_sc_bad_input() {
  local rc=0 out
  out=$(dkrun --rm -w /etc/passwd "$DK_IMG" true 2>&1) || rc=$?
  echo "docker printed: $out"
  ((rc != 0)) || fail "workdir on a file was accepted"
  expect_one_line_error "error names the cwd" '(/etc/passwd|[Nn]ot a directory|cwd|chdir)' "$out"
  rc=0
  out=$(dkrun --rm "$DK_IMG" /no/such/binary 2>&1) || rc=$?
  echo "docker printed: $out"
  expect_eq "missing binary exit" 127 "$rc"
  expect_one_line_error "error names the binary" '/no/such/binary' "$out"
}

# docker update sends `update --resources -` with the new limits as JSON on stdin.
dk_sc_update() {
  local id
  id=$(dkrun -d --memory 64m --memory-swap 128m --cpus 0.5 "$DK_IMG" sleep 1000)
  wait_until 10 dk_status_is "$id" running
  dk update --memory 96m --memory-swap 192m --cpus 0.25 --pids-limit 33 "$id" >/dev/null
  # Read on the host, from the cgroups the init is in: this checks update
  # alone (docker.run checks the limits as seen inside).
  local pid out c f
  pid=$(dk inspect -f '{{.State.Pid}}' "$id")
  out=$(for c in memory:memory.limit_in_bytes cpu:cpu.cfs_quota_us pids:pids.max; do
          f=/sys/fs/cgroup/${c%%:*}$(awk -F: -v c="${c%%:*}" '$2 ~ "(^|,)" c "(,|$)" { print $3 }' /proc/$pid/cgroup)/${c#*:}
          cat "$f"
        done)
  expect_eq "updated memory, cpu quota, pids" "100663296
25000
33" "$out"
  dk rm -f "$id" >/dev/null
}

# docker top asks containerd for the pids, which the shim gets from `ps --format json`.
dk_sc_top() {
  local id out
  id=$(dkrun -d "$DK_IMG" sh -c 'sleep 1000 & while :; do sleep 1; done')
  wait_until 10 dk_status_is "$id" running
  sleep 0.3
  out=$(dk top "$id")
  echo "$out"
  expect_match "top lists the sleeper" 'sleep 1000' "$out"
  dk rm -f "$id" >/dev/null
}

dk_sc_exec() {
  local id out
  id=$(dkrun -d "$DK_IMG" sleep 1000)
  out=$(dk exec -e X=7 -w /tmp "$id" sh -c 'echo "$X $(pwd)"')
  expect_eq "exec env and cwd" "7 /tmp" "$out"
  dk rm -f "$id" >/dev/null
}

docker_scenarios() {
  scenario docker run dk_sc_run
  scenario docker kill_stop_rm dk_sc_kill_rm
  scenario docker bad_input_one_line dk_sc_bad_input
  scenario docker exec dk_sc_exec exec
  scenario docker update dk_sc_update update exec
  scenario docker top dk_sc_top ps
}
