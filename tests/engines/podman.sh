# Podman scenarios (sourced by run.sh). Podman has no daemon: every call gets
# the private root, runroot, tmpdir and config below, so the system's
# containers and images are never seen or touched.

IMG=localhost/berth-busybox:latest

podman_setup() {
  P=$T/podman
  mkdir -p "$P"/{root,runroot,tmp,volumes,networks}
  # The same containers.conf shape docs/engines.md documents: the runtime by
  # name, and listed as speaking --log-format=json.
  local name nproc
  name=$(basename "$RUNTIME")
  # Podman lowers its own nproc limit to pid_max, and the runtime inherits it.
  nproc=$(ulimit -Hu); (( nproc <= $(cat /proc/sys/kernel/pid_max) )) || nproc=$(cat /proc/sys/kernel/pid_max)
  cat > "$P/containers.conf" <<EOF
[containers]
netns = "none"
# Podman asks for nofile and nproc of 1048576; a root without CAP_SYS_RESOURCE (as in
# some CI sandboxes) cannot raise its hard limit that far.
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=$nproc:$nproc"]
log_driver = "k8s-file"

[engine]
runtime = "$name"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$P/events.log"
tmp_dir = "$P/tmp"
volume_path = "$P/volumes"
static_dir = "$P/root/libpod"
network_config_dir = "$P/networks"
runtime_supports_json = ["$name", "crun", "runc"]

[engine.runtimes]
$name = ["$RUNTIME"]
EOF
  cat > "$P/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$P/root"
runroot = "$P/runroot"
EOF
  export CONTAINERS_CONF=$P/containers.conf CONTAINERS_STORAGE_CONF=$P/storage.conf
  make_rootfs_tar "$P/rootfs.tar"
  pm import "$P/rootfs.tar" "$IMG" > "$P/import.log" 2>&1 || { cat "$P/import.log" >&2; return 1; }
}

# podman with every path pointing into $P (the flags too: conmon's exit
# command re-runs podman with the flags it was given, not the environment).
# Podman passes no --root to the runtime: the wrapper (lib.sh) adds one.
pm_args() {
  PM_ARGS=(podman --root "$P/root" --runroot "$P/runroot" --tmpdir "$P/tmp" --storage-driver vfs
    --cgroup-manager cgroupfs --events-backend file --network-config-dir "$P/networks"
    --volumepath "$P/volumes" --runtime "$RUNTIME")
}
pm() { pm_args; "${PM_ARGS[@]}" "$@"; }

# Runs a shell script in a fresh container: pmsh [podman-run-flags...] -- SCRIPT
pmsh() {
  local flags=()
  while [[ $1 != -- ]]; do flags+=("$1"); shift; done
  shift
  pm run --rm "${flags[@]}" "$IMG" sh -c "$1"
}

pm_logs_has() { pm logs "$1" 2>&1 | grep -q -- "$2"; }
pm_logs_count_is() { [[ $(pm logs "$1" 2>&1 | grep -c -- "$2") == "$3" ]]; }
pm_status_is() { [[ $(pm inspect -f '{{.State.Status}}' "$1") == "$2" ]]; }

podman_teardown() {
  [[ -n ${P:-} && -d $P ]] || return 0
  pm rm -a -f -t 0 >/dev/null 2>&1 || true
  pm rmi -a -f >/dev/null 2>&1 || true
  # vfs keeps no mounts, but a crashed run may leave the shm/secrets mounts.
  umount_ours
  unset CONTAINERS_CONF CONTAINERS_STORAGE_CONF
  P=
}

# --- scenarios -------------------------------------------------------------

pm_exit_codes() {
  expect_status "exit 0" 0 pm run --rm "$IMG" true
  expect_status "exit 3" 3 pm run --rm "$IMG" sh -c 'exit 3'
  # A missing executable is the runtime's error; Podman maps it to 127.
  local rc=0 err
  err=$(pm run --rm "$IMG" /no/such/binary 2>&1) || rc=$?
  expect_eq "missing binary exit" 127 "$rc"
  echo "podman printed: $err"
  expect_match "missing binary message" 'no/such/binary' "$err"
}

pm_env_user_workdir_hostname() {
  local out
  out=$(pmsh -e FOO=bar-baz --user 1:100 -w /tmp --hostname berth-host -- \
    'echo "$FOO|$(id -u):$(id -g)|$(pwd)|$(hostname)"')
  expect_eq "env|user|workdir|hostname" "bar-baz|1:100|/tmp|berth-host" "$out"
  out=$(pmsh --user nobody -- 'id -un')
  expect_eq "named user" nobody "$out"
}

pm_volumes() {
  local v=$T/vol.$RANDOM
  mkdir -p "$v"; echo host-data > "$v/in"
  local out
  out=$(pmsh -v "$v:/data" -- 'cat /data/in; echo from-container > /data/out')
  expect_eq "rw volume read" host-data "$out"
  expect_eq "rw volume write reaches host" from-container "$(cat "$v/out")"
  local rc=0
  out=$(pmsh -v "$v:/data:ro" -- 'cat /data/in; echo x > /data/out2 2>&1 || echo write-refused') || rc=$?
  expect_eq "ro volume" "host-data
write-refused" "$out"
  [[ ! -e $v/out2 ]] || fail "ro volume was written"
  rm -rf "$v"
}

pm_tmpfs() {
  local out
  out=$(pmsh --tmpfs /scratch:rw,size=1m,mode=1777 -- \
    'awk "\$2 == \"/scratch\" { print \$3, \$4 }" /proc/mounts; echo x > /scratch/f && cat /scratch/f')
  expect_match "tmpfs mounted" '^tmpfs rw,.*size=1024k' "$out"
  expect_match "tmpfs writable" 'x$' "$out"
}

pm_read_only() {
  local out
  out=$(pmsh --read-only -- 'touch /rootfile 2>/dev/null && echo root-writable || echo root-ro; touch /tmp/f && echo tmp-ok')
  expect_eq "read-only root, tmpfs /tmp" "root-ro
tmp-ok" "$out"
}

# cgroup v1 here: the runtime bind-mounts the container's own cgroup at each
# hierarchy's root inside the container, so the limits are read from inside.
pm_limits() {
  local out
  out=$(pmsh --memory 64m --pids-limit 20 --cpus 0.5 -- \
    'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>&1 || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max')
  expect_eq "memory, pids, cpu limits" "67108864
20
50000
100000" "$out"
  # The pids limit bites: 30 sleepers cannot all start under pids.max=10.
  # A non-interactive sh exits when a fork fails, so an inner sh spawns them
  # and the outer one counts with a glob (no fork). stderr is closed rather
  # than sent to /dev/null, which default_devices tests.
  out=$(pmsh --pids-limit 10 -- 'sh -c "for i in \$(seq 30); do sleep 30 & done" 2>&-; set -- /proc/[0-9]*; echo running=$#' 2>&1 || true)
  echo "$out"
  local running
  running=$(sed -n 's/.*running=\([0-9]*\).*/\1/p' <<<"$out")
  [[ -n $running && $running -le 10 && $running -ge 5 ]] || fail "pids limit 10 not enforced: $out"
}

# The runtime supplies the default devices (config-linux.md) and they must be
# usable: Podman's spec denies every device in the cgroup and lists none, so
# the runtime has to allow its own defaults, as runc and crun do.
pm_default_devices() {
  local out
  out=$(pmsh -- 'for d in null zero full random urandom tty ptmx; do [ -c /dev/$d ] || echo "no /dev/$d"; done
    echo x > /dev/null && echo null-w; head -c 4 /dev/zero | wc -c; head -c 4 /dev/urandom | wc -c
    echo x 2>&- > /dev/full || echo full-enospc')
  expect_eq "default devices usable" "null-w
4
4
full-enospc" "$out"
}

pm_caps() {
  local out
  out=$(pmsh --cap-drop CHOWN -- 'chown 1 /tmp 2>/dev/null && echo chown-ok || echo chown-refused; grep CapEff /proc/self/status')
  expect_match "cap-drop CHOWN" '^chown-refused' "$out"
  local eff
  eff=$(awk '/CapEff/ {print $2}' <<<"$out")
  ! cap_bit_set "$eff" 0 || fail "CAP_CHOWN still effective: $eff"
  eff=$(pmsh --cap-add SYS_ADMIN -- 'awk "/CapEff/ {print \$2}" /proc/self/status')
  cap_bit_set "$eff" 21 || fail "CAP_SYS_ADMIN not added: $eff"
  # SYS_ADMIN is what mount needs: the effect, not only the bit.
  out=$(pmsh --cap-add SYS_ADMIN --security-opt seccomp=unconfined -- 'mkdir /m && mount -t tmpfs t /m && echo mounted')
  expect_eq "mount with SYS_ADMIN" mounted "$out"
  out=$(pmsh -- 'mkdir /m && mount -t tmpfs t /m 2>/dev/null && echo mounted || echo refused')
  expect_eq "mount without SYS_ADMIN" refused "$out"
}

pm_privileged() {
  local out
  out=$(pmsh --privileged -- 'awk "/^(CapEff|Seccomp):/ {print \$2}" /proc/self/status; ls /dev | wc -l')
  echo "$out"
  local eff seccomp ndev
  { read -r eff; read -r seccomp; read -r ndev; } <<<"$out"
  cap_bit_set "$eff" 21 && cap_bit_set "$eff" 38 || fail "privileged lacks caps: $eff"
  expect_eq "privileged seccomp off" 0 "$seccomp"
  ((ndev > 30)) || fail "privileged /dev has only $ndev entries (host devices missing)"
}

pm_no_new_privs() {
  expect_eq "no-new-privileges" 1 "$(pmsh --security-opt no-new-privileges -- 'awk "/NoNewPrivs/ {print \$2}" /proc/self/status')"
  expect_eq "default new privs" 0 "$(pmsh -- 'awk "/NoNewPrivs/ {print \$2}" /proc/self/status')"
}

pm_seccomp() {
  expect_eq "default seccomp filter" 2 "$(pmsh -- 'awk "/^Seccomp:/ {print \$2}" /proc/self/status')"
  expect_eq "seccomp unconfined" 0 "$(pmsh --security-opt seccomp=unconfined -- 'awk "/^Seccomp:/ {print \$2}" /proc/self/status')"
  # A custom profile: everything allowed except mkdir/mkdirat, refused with EPERM.
  local prof=$T/seccomp-nomkdir.json
  cat > "$prof" <<'EOF'
{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],
 "syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}
EOF
  local out
  out=$(pmsh --security-opt seccomp="$prof" -- 'mkdir /tmp/d 2>&1; echo rc=$?')
  expect_match "custom profile refuses mkdir" 'Operation not permitted' "$out"
  expect_match "custom profile rc" 'rc=1' "$out"
}

pm_detach_logs() {
  local id
  id=$(pm run -d "$IMG" sh -c 'echo hello-from-detached; sleep 1000')
  wait_until 10 pm_logs_has "$id" hello-from-detached
  expect_eq "state" running "$(pm inspect -f '{{.State.Status}}' "$id")"
  local pid
  pid=$(pm inspect -f '{{.State.Pid}}' "$id")
  # busybox sh execs its last command, so the init is the sleep by now.
  expect_match "State.Pid is the container's process" 'sleep 1000|sh -c' "$(tr '\0' ' ' < /proc/$pid/cmdline)"
  pm rm -f -t 0 "$id" >/dev/null
}

pm_stop_kill_signals() {
  local id
  id=$(pm run -d "$IMG" sh -c 'trap "echo got-USR1" USR1; trap "echo got-TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done')
  wait_until 10 pm_logs_has "$id" ready
  pm kill -s USR1 "$id" >/dev/null
  wait_until 10 pm_logs_has "$id" got-USR1
  expect_eq "still running after USR1" running "$(pm inspect -f '{{.State.Status}}' "$id")"
  pm stop -t 10 "$id" >/dev/null
  expect_eq "stop ran the TERM trap" 7 "$(pm inspect -f '{{.State.ExitCode}}' "$id")"
  expect_match "TERM trap output" 'got-TERM' "$(pm logs "$id")"
  # kill defaults to SIGKILL: 137.
  pm start "$id" >/dev/null
  wait_until 10 pm_status_is "$id" running
  pm kill "$id" >/dev/null
  wait_until 10 pm_status_is "$id" exited
  expect_eq "killed exit code" 137 "$(pm inspect -f '{{.State.ExitCode}}' "$id")"
  pm rm "$id" >/dev/null
}

pm_rm_force_running() {
  local id pid
  id=$(pm run -d "$IMG" sleep 1000)
  pid=$(pm inspect -f '{{.State.Pid}}' "$id")
  [[ -d /proc/$pid ]] || fail "no init process $pid"
  pm rm -f -t 0 "$id" >/dev/null
  wait_until 5 bash -c "[ ! -d /proc/$pid ]"
  expect_eq "container gone" "" "$(pm ps -a -q --filter id="$id")"
}

pm_restart() {
  local id
  id=$(pm run -d "$IMG" sh -c 'echo started; sleep 1000')
  wait_until 10 pm_logs_has "$id" started
  local pid1 pid2
  pid1=$(pm inspect -f '{{.State.Pid}}' "$id")
  pm restart -t 0 "$id" >/dev/null
  wait_until 10 pm_logs_count_is "$id" started 2
  pid2=$(pm inspect -f '{{.State.Pid}}' "$id")
  [[ $pid1 != "$pid2" ]] || fail "restart kept pid $pid1"
  expect_eq "running after restart" running "$(pm inspect -f '{{.State.Status}}' "$id")"
  pm rm -f -t 0 "$id" >/dev/null
}

pm_top() {
  local id out
  id=$(pm run -d "$IMG" sleep 1000)
  out=$(pm top "$id" pid args)
  echo "$out"
  expect_match "top shows the process" 'sleep 1000' "$out"
  pm rm -f -t 0 "$id" >/dev/null
}

pm_bad_input() {
  # Podman checks the workdir (and cpusets) itself; what reaches the runtime
  # is a setting the kernel refuses (an rlimit above our hard limit; root
  # here lacks CAP_SYS_RESOURCE) and a missing executable. Each must come
  # back as one readable line.
  local rc=0 err
  err=$(pm run --rm -w /etc/passwd "$IMG" true 2>&1) || rc=$?
  echo "podman printed: $err"
  ((rc != 0)) || fail "workdir on a file was accepted"
  expect_one_line_error "error names the cwd" '(/etc/passwd|[Nn]ot a directory|cwd|chdir)' "$err"
  rc=0
  local big=$(( $(ulimit -Hn) + 1000 ))
  err=$(pm run --rm --ulimit "nofile=$big:$big" "$IMG" true 2>&1) || rc=$?
  echo "podman printed: $err"
  if ((rc == 0)); then
    echo "nofile=$big was allowed (this root may raise limits): not a refusal here"
  else
    expect_one_line_error "error names the rlimit" '(rlimit|RLIMIT_NOFILE|nofile)' "$err"
  fi
  rc=0
  err=$(pm run --rm "$IMG" /no/such/binary 2>&1) || rc=$?
  echo "podman printed: $err"
  expect_one_line_error "error names the binary" '/no/such/binary' "$err"
}

pm_exec() {
  local id out
  id=$(pm run -d "$IMG" sleep 1000)
  out=$(pm exec -e X=1 -w /tmp "$id" sh -c 'echo "$X $(pwd) $(hostname)"; ls /proc | grep -c "^[0-9]"')
  expect_match "exec env and cwd" '^1 /tmp ' "$out"
  expect_status "exec exit code" 5 pm exec "$id" sh -c 'exit 5'
  pm rm -f -t 0 "$id" >/dev/null
}

# -t / -it need a real terminal on podman's side: script(1) provides one.
pm_terminal() {
  local out
  local cmd
  pm_args; cmd=$(printf '%q ' "${PM_ARGS[@]}")
  out=$(script -qec "$cmd run --rm -t $IMG sh -c 'test -t 0 && test -t 1 && echo is-a-tty; stty size'" /dev/null < /dev/null 2>&1 || true)
  echo "$out"
  expect_match "run -t gives a terminal" 'is-a-tty' "$out"
  out=$(printf 'echo typed-$((6*7))\nexit\n' | script -qec "$cmd run --rm -it $IMG sh" /dev/null 2>&1 || true)
  echo "$out"
  expect_match "run -it reads input" 'typed-42' "$out"
  # exec -it: a second terminal into a running container.
  local id
  id=$(pm run -d "$IMG" sleep 1000)
  out=$(printf 'tty; echo exec-$((6*7))\nexit\n' | script -qec "$cmd exec -it $id sh" /dev/null 2>&1 || true)
  echo "$out"
  expect_match "exec -it reads input" 'exec-42' "$out"
  expect_match "exec -it has a pty" '/dev/pts/[0-9]+' "$out"
  pm rm -f -t 0 "$id" >/dev/null
}

pm_pause() {
  local id
  id=$(pm run -d "$IMG" sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done')
  sleep 0.5
  pm pause "$id" >/dev/null
  expect_eq "paused" paused "$(pm inspect -f '{{.State.Status}}' "$id")"
  local pid a b
  pid=$(pm inspect -f '{{.State.Pid}}' "$id")
  a=$(read_counter /proc/$pid/root/tmp/n); sleep 0.5; b=$(read_counter /proc/$pid/root/tmp/n)
  expect_eq "counter frozen" "$a" "$b"
  pm unpause "$id" >/dev/null
  sleep 0.5
  b=$(read_counter /proc/$pid/root/tmp/n)
  ((b > a)) || fail "counter did not advance after unpause ($a -> $b)"
  pm rm -f -t 0 "$id" >/dev/null
}

podman_scenarios() {
  scenario podman exit_codes pm_exit_codes
  scenario podman env_user_workdir_hostname pm_env_user_workdir_hostname
  scenario podman volumes_rw_ro pm_volumes
  scenario podman tmpfs pm_tmpfs
  scenario podman read_only pm_read_only
  scenario podman default_devices pm_default_devices
  scenario podman memory_pids_cpu pm_limits
  scenario podman cap_add_drop pm_caps
  scenario podman privileged pm_privileged
  scenario podman no_new_privileges pm_no_new_privs
  scenario podman seccomp_default_custom pm_seccomp
  scenario podman detach_logs pm_detach_logs
  scenario podman stop_kill_signals pm_stop_kill_signals
  scenario podman rm_force_running pm_rm_force_running
  scenario podman restart pm_restart
  scenario podman top pm_top
  scenario podman bad_input_one_line pm_bad_input
  scenario podman exec pm_exec exec
  scenario podman terminal pm_terminal create:--console-socket exec:--console-socket
  scenario podman pause_unpause pm_pause pause resume
}
