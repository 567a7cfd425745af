# containerd scenarios (sourced by run.sh): a private containerd and `ctr run
# --runc-binary`, i.e. the io.containerd.runc.v2 shim driving the runtime the
# way Kubernetes does through CRI.

CTR_IMG=docker.io/berth/busybox:latest
CTR_NS=berth-engines

containerd_setup() {
  C=$T/containerd
  mkdir -p "$C"/{root,state,opt,runc}
  # Only what a private daemon needs; CRI is off (it would want CNI and
  # a pause image), and containerd's `opt` plugin would otherwise use /opt.
  cat > "$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "$C/containerd.sock"
[ttrpc]
  address = "$C/containerd.sock.ttrpc"
[debug]
  address = "$C/debug.sock"
  level = "debug"
[plugins."io.containerd.internal.v1.opt"]
  path = "$C/opt"
EOF
  containerd --config "$C/config.toml" > "$C/containerd.log" 2>&1 &
  C_PID=$!
  wait_until 20 ctr_ version || { tail -20 "$C/containerd.log" >&2; return 1; }
  make_oci_archive "$C/busybox-oci.tar" "$CTR_IMG"
  ctr_ images import --no-unpack=false "$C/busybox-oci.tar" >/dev/null 2>&1 ||
    ctr_ images import "$C/busybox-oci.tar" >/dev/null
  ctr_ images ls -q | grep -qx "$CTR_IMG" || { echo "containerd: image import failed" >&2; return 1; }
}

ctr_() {
  CONTAINERD_SNAPSHOTTER=native ctr --address "$C/containerd.sock" --namespace "$CTR_NS" "$@"
}

# ctr run with the runtime under test; its state dir is ours, not /run/containerd/runc.
ctr_run() {
  ctr_ run --runc-binary "$RUNTIME" --runc-root "$C/runc" "$@"
}

containerd_teardown() {
  [[ -n ${C_PID:-} ]] || return 0
  local id
  for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true; done
  sleep 0.3
  for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks rm -f "$id" >/dev/null 2>&1 || true; done
  for id in $(ctr_ containers ls -q 2>/dev/null); do ctr_ containers rm "$id" >/dev/null 2>&1 || true; done
  ctr_ images rm "$CTR_IMG" >/dev/null 2>&1 || true
  ctr_ namespaces rm "$CTR_NS" >/dev/null 2>&1 || true
  kill "$C_PID" 2>/dev/null || true
  local i
  for i in $(seq 50); do kill -0 "$C_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$C_PID" 2>/dev/null || true
  wait "$C_PID" 2>/dev/null || true
  umount_ours
  C_PID=
}

ctr_task_status() {
  ctr_ tasks ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'
}
ctr_status_is() { [[ $(ctr_task_status "$1") == "$2" ]]; }

# The host path of the container's pids cgroup (ctr puts it at /NS/ID).
ctr_cgroup_procs() {
  cat "/sys/fs/cgroup/pids/$CTR_NS/$1/cgroup.procs" 2>/dev/null || cat "/sys/fs/cgroup/$CTR_NS/$1/cgroup.procs"
}

# --- scenarios -------------------------------------------------------------

ctr_sc_run() {
  local out
  out=$(ctr_run --rm --env FOO=from-ctr --cwd /tmp "$CTR_IMG" c-run \
    sh -c 'echo "$FOO|$(pwd)|$$|$(id -u)"; awk "/^NoNewPrivs/ {print \$2}" /proc/self/status')
  # ctr's default spec sets noNewPrivileges.
  expect_eq "env|cwd|pid 1|uid, no_new_privs" "from-ctr|/tmp|1|0
1" "$out"
  expect_status "exit code passes through" 4 ctr_run --rm "$CTR_IMG" c-exit sh -c 'exit 4'
}

ctr_sc_kill() {
  local dir=$T/ctr-kill.$RANDOM
  mkdir -p "$dir"
  ctr_run -d --mount "type=bind,src=$dir,dst=/out,options=rbind:rw" "$CTR_IMG" c-kill \
    sh -c 'trap "echo got-TERM > /out/sig; exit 7" TERM; echo ready > /out/ready; while :; do sleep 0.1; done' >/dev/null
  wait_until 10 test -s "$dir/ready"
  expect_eq "task running" RUNNING "$(ctr_task_status c-kill)"
  ctr_ tasks kill -s SIGTERM c-kill
  wait_until 10 ctr_status_is c-kill STOPPED
  expect_eq "trap ran" got-TERM "$(cat "$dir/sig")"
  local out
  out=$(ctr_ tasks rm c-kill 2>&1 || true)
  echo "tasks rm: $out"
  expect_match "exit status 7" '7' "$out"
  ctr_ containers rm c-kill
  rm -rf "$dir"
}

# kill --all reaches every process, not only the init: the init here ignores
# TERM (pid 1 without a handler), its two sleepers do not.
ctr_sc_kill_all() {
  ctr_run -d "$CTR_IMG" c-killall sh -c 'sleep 1000 & sleep 1000 & while :; do sleep 1; done' >/dev/null
  wait_until 10 bash -c "[ \$( (cat /sys/fs/cgroup/pids/$CTR_NS/c-killall/cgroup.procs || cat /sys/fs/cgroup/$CTR_NS/c-killall/cgroup.procs) 2>/dev/null | wc -l) -ge 3 ]"
  local before after
  before=$(ctr_cgroup_procs c-killall | wc -l)
  ctr_ tasks kill --all -s SIGKILL c-killall
  wait_until 10 ctr_status_is c-killall STOPPED
  after=$(ctr_cgroup_procs c-killall | wc -l || true)
  echo "processes before $before, after $after"
  ((before >= 3)) || fail "expected at least 3 processes, saw $before"
  expect_eq "no process left" 0 "${after:-0}"
  ctr_ tasks rm c-killall >/dev/null 2>&1 || true
  ctr_ containers rm c-killall
}

ctr_sc_bad_input() {
  local rc=0 out
  out=$(ctr_run --rm --cwd /etc/passwd "$CTR_IMG" c-bad true 2>&1) || rc=$?
  echo "ctr printed: $out"
  ((rc != 0)) || fail "cwd on a file was accepted"
  expect_one_line_error "error names the cwd" '(/etc/passwd|[Nn]ot a directory|cwd|chdir)' "$out"
  ctr_ containers rm c-bad >/dev/null 2>&1 || true
}

ctr_sc_exec() {
  ctr_run -d "$CTR_IMG" c-exec sleep 1000 >/dev/null
  wait_until 10 ctr_status_is c-exec RUNNING
  local out
  out=$(ctr_ tasks exec --exec-id e1 --cwd /tmp c-exec env X=42 sh -c 'echo "$X $(pwd)"; cat /proc/1/cmdline | tr "\0" " "')
  expect_match "exec sees env, cwd and the container's pid 1" '^42 /tmp
sleep 1000' "$out"
  expect_status "exec exit code" 3 ctr_ tasks exec --exec-id e2 c-exec sh -c 'exit 3'
  ctr_ tasks kill -s SIGKILL c-exec; wait_until 10 ctr_status_is c-exec STOPPED
  ctr_ tasks rm c-exec >/dev/null; ctr_ containers rm c-exec
}

ctr_sc_ps() {
  ctr_run -d "$CTR_IMG" c-ps sh -c 'sleep 1000 & while :; do sleep 1; done' >/dev/null
  wait_until 10 ctr_status_is c-ps RUNNING
  sleep 0.3
  local out n
  out=$(ctr_ tasks ps c-ps)
  echo "$out"
  n=$(tail -n +2 <<<"$out" | grep -c .)
  ((n >= 2)) || fail "ps lists $n processes, expected at least 2"
  ctr_ tasks kill -a -s SIGKILL c-ps; wait_until 10 ctr_status_is c-ps STOPPED
  ctr_ tasks rm c-ps >/dev/null; ctr_ containers rm c-ps
}

ctr_sc_pause() {
  local dir=$T/ctr-pause.$RANDOM
  mkdir -p "$dir"
  ctr_run -d --mount "type=bind,src=$dir,dst=/out,options=rbind:rw" "$CTR_IMG" c-pause \
    sh -c 'i=0; while :; do i=$((i+1)); echo $i > /out/n; sleep 0.05; done' >/dev/null
  wait_until 10 test -s "$dir/n"
  ctr_ tasks pause c-pause
  expect_eq "paused" PAUSED "$(ctr_task_status c-pause)"
  local a b
  a=$(read_counter "$dir/n"); sleep 0.5; b=$(read_counter "$dir/n")
  expect_eq "frozen" "$a" "$b"
  ctr_ tasks resume c-pause
  expect_eq "running" RUNNING "$(ctr_task_status c-pause)"
  sleep 0.5; b=$(read_counter "$dir/n")
  ((b > a)) || fail "no progress after resume ($a -> $b)"
  ctr_ tasks kill -a -s SIGKILL c-pause; wait_until 10 ctr_status_is c-pause STOPPED
  ctr_ tasks rm c-pause >/dev/null; ctr_ containers rm c-pause; rm -rf "$dir"
}

ctr_sc_metrics() {
  ctr_run -d "$CTR_IMG" c-metrics sleep 1000 >/dev/null
  wait_until 10 ctr_status_is c-metrics RUNNING
  local out
  out=$(ctr_ tasks metrics --format json c-metrics)
  echo "$out" | head -c 600; echo
  local pids
  pids=$(jq -r '(.pids.current // .Pids.Current // .pids.Current) // empty' <<<"$out" 2>/dev/null || true)
  expect_match "metrics count the process" '^[1-9]' "$pids"
  ctr_ tasks kill -s SIGKILL c-metrics; wait_until 10 ctr_status_is c-metrics STOPPED
  ctr_ tasks rm c-metrics >/dev/null; ctr_ containers rm c-metrics
}

ctr_sc_terminal() {
  local out
  out=$(script -qec "CONTAINERD_SNAPSHOTTER=native ctr --address $C/containerd.sock --namespace $CTR_NS run --runc-binary $RUNTIME --runc-root $C/runc --rm -t $CTR_IMG c-tty sh -c 'test -t 0 && test -t 1 && echo is-a-tty'" /dev/null < /dev/null 2>&1 || true)
  echo "$out"
  expect_match "ctr run -t gives a terminal" 'is-a-tty' "$out"
  ctr_run -d "$CTR_IMG" c-ttyexec sleep 1000 >/dev/null
  wait_until 10 ctr_status_is c-ttyexec RUNNING
  out=$(script -qec "CONTAINERD_SNAPSHOTTER=native ctr --address $C/containerd.sock --namespace $CTR_NS tasks exec -t --exec-id t1 c-ttyexec sh -c 'test -t 0 && tty'" /dev/null < /dev/null 2>&1 || true)
  echo "$out"
  expect_match "ctr exec -t gives a pty" '/dev/pts/[0-9]+' "$out"
  ctr_ tasks kill -s SIGKILL c-ttyexec; wait_until 10 ctr_status_is c-ttyexec STOPPED
  ctr_ tasks rm c-ttyexec >/dev/null; ctr_ containers rm c-ttyexec
}

containerd_scenarios() {
  scenario containerd run ctr_sc_run
  scenario containerd kill ctr_sc_kill
  scenario containerd kill_all ctr_sc_kill_all
  scenario containerd bad_input_one_line ctr_sc_bad_input
  scenario containerd metrics ctr_sc_metrics
  scenario containerd exec ctr_sc_exec exec
  scenario containerd ps ctr_sc_ps ps
  scenario containerd pause_resume ctr_sc_pause pause resume
  scenario containerd terminal ctr_sc_terminal create:--console-socket exec:--console-socket
}
