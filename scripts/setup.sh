#!/usr/bin/env bash
# Installs everything berth needs to build and test on Debian 12. Idempotent:
# packages already present are skipped, so a second run is fast.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev googletest
  libcap-dev libseccomp-dev liburing-dev
  busybox-static
  ccache runc crun uidmap iproute2 procps util-linux jq
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
