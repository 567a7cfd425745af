#!/usr/bin/env bash
# The main job: set up, build, and run a container from the embedded busybox
# bundle, showing what the process inside sees: its own pid 1, hostname and
# mount table, next to the host's.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/setup.sh"
bash "$here/scripts/build.sh"
runtime=$here/build/berth-runtime

bundle=$(mktemp -d /tmp/berth-demo.XXXXXX)
root=$(mktemp -d /tmp/berth-demo-state.XXXXXX)
trap 'rm -rf "$bundle" "$root"; bash "$here/scripts/cgroup-tidy.sh"' EXIT
cp -a "$here/build/bundle/rootfs" "$bundle/rootfs"
"$runtime" spec --bundle "$bundle"
# A non-interactive demo: no terminal, a script instead of the default shell.
sed -i -e 's/"terminal": true/"terminal": false/' \
       -e 's/"hostname": "[^"]*"/"hostname": "berth-demo"/' "$bundle/config.json"
cat > "$bundle/rootfs/demo.sh" <<'SH'
echo "inside the container:"
echo "  my pid:        $$"
echo "  hostname:      $(hostname)"
echo "  uid:           $(id -u)"
echo "  processes:     $(ls -d /proc/[0-9]* | wc -l)"
echo "  network:       $(ls /sys/class/net | tr '\n' ' ')"
echo "  mount table:"
sed 's/^/    /' /proc/self/mounts
SH
python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["sh", "/demo.sh"]
json.dump(c, open(p, "w"), indent="\t")
PY
echo "on the host: pid $$, hostname $(hostname), $(wc -l < /proc/self/mounts) mounts, $(ls -d /proc/[0-9]* | wc -l) processes"
"$runtime" --root "$root" run --bundle "$bundle" berth-demo
