# Shared helpers for the engine tests (sourced by run.sh and the per-engine
# suites). Everything an engine test creates lives under $T, a private temp
# dir, so cleanup is "stop what we started, then rm -rf $T" plus the few
# cgroup and /run paths the engines insist on, which are recorded before the
# daemons start and removed only when we created them.

# --- results --------------------------------------------------------------

declare -ga ENGINE_RESULTS=()
ENGINE_FAILED=0

log() { printf '[engines] %s\n' "$*" >&2; }

# The runtime's verbs, from its --help, so scenarios that need a verb the
# runtime does not have yet are skipped with a reason instead of failing.
runtime_has_verb() {
  local verb=${1%%:*} flag=
  [[ $1 == *:* ]] && flag=${1#*:}
  # Captured first: grep -q would close the pipe early and pipefail would
  # count the runtime's SIGPIPE as a miss.
  local help
  help=$("$REAL_RUNTIME" --help 2>&1 || true)
  grep -Eq "^[[:space:]]+$verb([[:space:]]|,|$)" <<<"$help" || return 1
  [[ -z $flag ]] && return 0
  help=$("$REAL_RUNTIME" "$verb" --help 2>&1 || true)
  grep -q -- "$flag" <<<"$help"
}

# scenario ENGINE NAME FUNCTION [needs-verb...]
# Runs FUNCTION in a subshell with errexit; its output goes to a per-scenario
# log. A scenario fails by returning non-zero (fail() or any failing command).
scenario() {
  local engine=$1 name=$2 fn=$3; shift 3
  local verb
  # BERTH_ENGINE_ONLY: a regex over ENGINE.NAME to run a subset while iterating.
  if [[ -n ${BERTH_ENGINE_ONLY:-} && ! $engine.$name =~ $BERTH_ENGINE_ONLY ]]; then
    return 0
  fi
  for verb in "$@"; do
    if ! runtime_has_verb "$verb"; then
      ENGINE_RESULTS+=("SKIP $engine.$name (runtime lacks '$verb')")
      log "SKIP $engine.$name: runtime lacks '$verb'"
      return 0
    fi
  done
  local out=$T/logs/$engine.$name.log
  mkdir -p "$T/logs"
  : > "$RUNTIME_TRACE"
  local start=$SECONDS rc=0
  # Not `( ... ) || rc=$?`: inside a || list bash ignores errexit, and a
  # failed check would not stop the scenario.
  ( set -eEuo pipefail; "$fn" ) > "$out" 2>&1
  rc=$?
  local took=$((SECONDS - start))
  # BERTH_ENGINE_KEEP_LOGS=DIR keeps every scenario's output and runtime argv.
  if [[ -n ${BERTH_ENGINE_KEEP_LOGS:-} ]]; then
    mkdir -p "$BERTH_ENGINE_KEEP_LOGS"
    cp "$out" "$BERTH_ENGINE_KEEP_LOGS/" 2>/dev/null || true
    cp "$RUNTIME_TRACE" "$BERTH_ENGINE_KEEP_LOGS/$engine.$name.runtime-argv" 2>/dev/null || true
  fi
  if ((rc == 0)); then
    ENGINE_RESULTS+=("PASS $engine.$name (${took}s)")
    log "PASS $engine.$name (${took}s)"
  else
    ENGINE_FAILED=1
    ENGINE_RESULTS+=("FAIL $engine.$name (${took}s)")
    log "FAIL $engine.$name (rc=$rc, ${took}s); scenario output:"
    sed 's/^/    | /' "$out" | tail -n 40 >&2
    if [[ -s $RUNTIME_TRACE ]]; then
      log "runtime command lines for this scenario (last 15):"
      tail -n 15 "$RUNTIME_TRACE" | sed 's/^/    > /' >&2
    fi
    cp "$RUNTIME_TRACE" "$T/logs/$engine.$name.runtime-argv" 2>/dev/null || true
  fi
}

print_results() {
  local line
  echo "== engine scenarios with runtime $REAL_RUNTIME"
  for line in "${ENGINE_RESULTS[@]}"; do echo "  $line"; done
}

# --- assertions (inside scenarios) ---------------------------------------

fail() { echo "FAIL: $*" >&2; return 1; }

# expect_eq WHAT EXPECTED ACTUAL
expect_eq() {
  [[ "$2" == "$3" ]] || fail "$1: expected [$2], got [$3]"
  echo "ok: $1 = [$3]"
}

# expect_match WHAT REGEX ACTUAL
expect_match() {
  [[ "$3" =~ $2 ]] || fail "$1: expected to match /$2/, got [$3]"
  echo "ok: $1 ~ /$2/"
}

expect_no_match() {
  [[ ! "$3" =~ $2 ]] || fail "$1: expected not to match /$2/, got [$3]"
  echo "ok: $1 !~ /$2/"
}

# expect_status WHAT EXPECTED-EXIT COMMAND...
expect_status() {
  local what=$1 want=$2; shift 2
  local rc=0
  "$@" || rc=$?
  ((rc == want)) || fail "$what: expected exit $want, got $rc from: $*"
  echo "ok: $what exits $want"
}

# wait_until SECONDS COMMAND...: polls until COMMAND succeeds.
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { echo "timed out waiting for: $*" >&2; return 1; }
    sleep 0.2
  done
}

# Reads a counter file a container rewrites in a loop (`echo $i > f`
# truncates first, so a read can land between truncate and write).
read_counter() {
  local v= i
  for i in $(seq 50); do
    v=$(cat "$1" 2>/dev/null || true)
    [[ -n $v ]] && break
    sleep 0.02
  done
  echo "$v"
}

# A capability mask (hex, from /proc/PID/status) has bit N set.
cap_bit_set() {
  local mask=$((16#$1)) bit=$2
  (( (mask >> bit) & 1 ))
}

# The engine's report of a runtime error must be readable: the cause in one
# line, no raw JSON log lines. expect_one_line_error WHAT CAUSE-REGEX OUTPUT
expect_one_line_error() {
  local lines
  lines=$(grep -E -c -- "$2" <<<"$3" || true)
  ((lines >= 1)) || fail "$1: no line names the cause /$2/: [$3]"
  expect_no_match "$1: no raw JSON log" '"level":|"msg":' "$3"
  echo "ok: $1: $(grep -E -m1 -- "$2" <<<"$3")"
}

# --- the runtime under test ------------------------------------------------

# Puts a wrapper named like the runtime in $T/bin that
#  - appends each command line (and the working directory) to $RUNTIME_TRACE,
#    so a failing scenario shows exactly what the engine asked for;
#  - adds --root $T/runtime-state when the engine passes no --root (Podman
#    never does, and conmon's cleanup drops even --runtime-flag), so the
#    runtime's state stays private instead of landing in its default /run dir;
#  - execs the real binary.
# The wrapper keeps the runtime's basename because Podman decides by name
# whether a runtime speaks --log-format=json.
make_runtime_wrapper() {
  local base
  base=$(basename "$REAL_RUNTIME")
  mkdir -p "$T/bin" "$T/runtime-state"
  RUNTIME_TRACE=$T/runtime-argv.log
  : > "$RUNTIME_TRACE"
  RUNTIME=$T/bin/$base
  cat > "$RUNTIME" <<EOF
#!/bin/sh
printf '%s cwd=%s:' "\$(date +%T.%N)" "\$PWD" >> '$RUNTIME_TRACE'
for a in "\$@"; do printf ' %s' "\$a" >> '$RUNTIME_TRACE'; done
echo >> '$RUNTIME_TRACE'
case " \$* " in
  *" --root "*|*" --root="*) exec '$REAL_RUNTIME' "\$@" ;;
  *) exec '$REAL_RUNTIME' --root '$T/runtime-state' "\$@" ;;
esac
EOF
  chmod 0755 "$RUNTIME"
}

# --- the image -------------------------------------------------------------

# A tar of the busybox rootfs (the same one the integration tests use), with
# numeric owners so it unpacks identically everywhere.
make_rootfs_tar() {
  local out=$1
  tar --numeric-owner --owner=0 --group=0 -C "$ROOTFS" -cf "$out" .
}

# Assembles an OCI image-layout tarball by hand (no registry, no umoci):
# one uncompressed layer, an image config, a manifest and index.json with a
# ref name that `ctr images import` turns into the image name.
# make_oci_archive OUT.tar IMAGE-NAME
make_oci_archive() {
  local out=$1 name=$2 dir
  dir=$(mktemp -d "$T/oci.XXXX")
  mkdir -p "$dir/blobs/sha256"
  make_rootfs_tar "$dir/layer.tar"
  local layer_digest layer_size
  layer_digest=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
  layer_size=$(stat -c %s "$dir/layer.tar")
  mv "$dir/layer.tar" "$dir/blobs/sha256/$layer_digest"

  printf '%s' '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:'"$layer_digest"'"]},"history":[{"created_by":"berth engine tests"}]}' \
    > "$dir/config.json"
  local config_digest config_size
  config_digest=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
  config_size=$(stat -c %s "$dir/config.json")
  mv "$dir/config.json" "$dir/blobs/sha256/$config_digest"

  printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$config_digest"'","size":'"$config_size"'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'"$layer_digest"'","size":'"$layer_size"'}]}' \
    > "$dir/manifest.json"
  local manifest_digest manifest_size
  manifest_digest=$(sha256sum "$dir/manifest.json" | cut -d' ' -f1)
  manifest_size=$(stat -c %s "$dir/manifest.json")
  mv "$dir/manifest.json" "$dir/blobs/sha256/$manifest_digest"

  printf '%s' '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$manifest_digest"'","size":'"$manifest_size"',"annotations":{"org.opencontainers.image.ref.name":"'"$name"'"},"platform":{"architecture":"amd64","os":"linux"}}]}' \
    > "$dir/index.json"
  printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$dir/oci-layout"
  tar -C "$dir" -cf "$out" oci-layout index.json blobs
  rm -rf "$dir"
}

# --- leftovers ---------------------------------------------------------------

# Paths outside $T that engines create on their own (cgroup parents, the
# containerd shim socket dir). Recorded before the daemons start; at the end
# the ones we created are removed (empty cgroups only, deepest first) and any
# that cannot be removed are reported as leaks.
ENGINE_FOREIGN_PATHS=()
record_foreign_paths() {
  local p
  for p in "$@"; do
    [[ -e $p ]] || ENGINE_FOREIGN_PATHS+=("$p")
  done
}

remove_foreign_paths() {
  local p leaked=0 d
  for p in "${ENGINE_FOREIGN_PATHS[@]}"; do
    [[ -e $p ]] || continue
    if [[ $p == /sys/fs/cgroup/* ]]; then
      # Engines keep their parent (and Podman its conmon cgroup); a container
      # cgroup still there after the engine removed the container was left
      # by the runtime's delete.
      local left
      left=$(find "$p" -mindepth 1 -type d ! -name conmon 2>/dev/null | head -5)
      if [[ -n $left ]]; then
        log "LEAK: container cgroups left under $p: $(tr '\n' ' ' <<<"$left")"
        leaked=1
      fi
      # Children first; rmdir only succeeds on empty cgroups, so a cgroup
      # still holding processes stays and is reported.
      while read -r d; do rmdir "$d" 2>/dev/null || true; done < <(find "$p" -depth -type d 2>/dev/null)
    else
      find "$p" -depth \( -type s -o -type d -empty \) -delete 2>/dev/null || true
      rmdir "$p" 2>/dev/null || true
    fi
    if [[ -e $p ]]; then
      log "LEAK: $p is still there: $(find "$p" -mindepth 1 -maxdepth 2 2>/dev/null | head -5 | tr '\n' ' ')"
      leaked=1
    fi
  done
  return $leaked
}

# Fails when anything of ours is still mounted or running.
check_no_leftovers() {
  local bad=0
  if grep -F " $T" /proc/self/mountinfo >/dev/null; then
    log "LEAK: mounts under $T:"; grep -F " $T" /proc/self/mountinfo | cut -d' ' -f5 | head >&2
    bad=1
  fi
  local pids
  pids=$(pgrep -f "$T" || true)
  if [[ -n $pids ]]; then
    log "LEAK: processes mentioning $T:"; ps -o pid,args -p $pids >&2 || true
    bad=1
  fi
  return $bad
}

# Kills (SIGKILL) processes whose command line mentions $T, i.e. only ones we
# started: daemons, shims, conmon, container inits started from our bundles.
kill_ours() {
  local pids
  pids=$(pgrep -f "$T" || true)
  [[ -z $pids ]] || kill -9 $pids 2>/dev/null || true
}

# Unmounts everything under $T, deepest first.
umount_ours() {
  local m
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v t="$T" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}
