#!/usr/bin/env bash
# Makes an OCI bundle at $1 whose rootfs is Debian's static busybox with its
# applet links. config.json is left to the caller (tests write their own);
# a default one is written only when none exists.
set -euo pipefail
bundle=${1:?usage: make-bundle.sh DIR}
busybox=/bin/busybox
[[ -x $busybox ]] || { echo "make-bundle: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }

rootfs=$bundle/rootfs
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home,run,var}
chmod 1777 "$rootfs/tmp"
install -m 0755 "$busybox" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [[ $applet == busybox ]] && continue
  ln -sf busybox "$rootfs/bin/$applet"
done
cat > "$rootfs/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/:/bin/false
nobody:x:65534:65534:nobody:/:/bin/false
P
cat > "$rootfs/etc/group" <<'G'
root:x:0:
daemon:x:1:
users:x:100:
nogroup:x:65534:
G
echo "berth" > "$rootfs/etc/hostname"
touch "$rootfs/bin/busybox"
