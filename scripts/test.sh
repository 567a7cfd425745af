#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root):
#   1. set-up (packages) and build;
#   2. the cgroup tests (unit_cgroups and the Cgroups.* integration tests) on a pure
#      cgroup v2 view (scripts/cgroup-v2-env.sh moves the controllers over and always
#      moves them back), before anything else runs containers;
#   3. unit + integration tests on this host's cgroups (v1 here), never beside step 2;
#   4. Podman, containerd and Docker driving berth-runtime (tests/engines);
#   5. unit + integration tests again with AddressSanitizer + UBSan.
# BERTH_TEST_SKIP_ENGINES=1 and BERTH_TEST_SKIP_ASAN=1 skip steps 4 and 5 while iterating.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[[ $(id -u) == 0 ]] || { echo "test.sh: run as root (containers need it)" >&2; exit 1; }
bash "$here/scripts/setup.sh"
# Tests that run `spec` configs use berth's default cgroup path: leave no
# /berth parent behind, pass or fail.
trap 'bash "$here/scripts/cgroup-tidy.sh"' EXIT

# The cgroup tests on a pure cgroup v2 view. First, on a clean host: moving a
# controller to v2 needs its v1 hierarchy free of child cgroups, and nothing
# else may start containers meanwhile (cgroup-v2-env.sh announces itself with
# /tmp/berth-cgroup-v2-running and refuses while berth-runtime runs).
cgroup_v2_pass() {
  local build=$1
  echo "== cgroup tests on pure cgroup v2"
  bash "$here/scripts/cgroup-v2-env.sh" /bin/sh -c '
    set -e
    "$1/tests/unit_cgroups"
    "$1/tests/integration_tests" --gtest_filter="Cgroups.*"' sh "$build"
}

run_suite() {
  local build=$1; shift
  BUILD_DIR=$build bash "$here/scripts/build.sh" "$@"
  cgroup_v2_pass "$build"
  echo "== unit and integration tests on this host's cgroups"
  (cd "$build" && ctest --output-on-failure --timeout 300 -j1 -LE engines)
}

echo "== build and test (RelWithDebInfo)"
run_suite "$here/build"
# Podman, containerd and Docker driving berth-runtime (tests/engines), once, on
# the RelWithDebInfo build; BERTH_TEST_SKIP_ENGINES=1 skips them.
if [[ ${BERTH_TEST_SKIP_ENGINES:-0} != 1 ]]; then
  echo "== engine tests"
  bash "$here/scripts/engines-setup.sh"
  (cd "$here/build" && ctest --output-on-failure -L engines)
fi
if [[ ${BERTH_TEST_SKIP_ASAN:-0} != 1 ]]; then
  echo "== build and test with ASan/UBSan"
  # Unit and integration suites (real containers) under the sanitizers; the
  # 60 s fuzz run is left to the first pass (it is a sanitized libFuzzer
  # binary there already) and the engines to their own pass above.
  BUILD_DIR=$here/build-asan bash "$here/scripts/build.sh" -DBERTH_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
  (cd "$here/build-asan" && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure --timeout 300 -j1 -LE 'engines|fuzz')
fi
echo "== all tests passed"
