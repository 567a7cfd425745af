#!/usr/bin/env bash
# Installs the container engines the engine tests drive, from Debian:
#   scripts/engines-setup.sh [podman] [containerd] [docker]   (default: all)
# Idempotent. Debian's packages start no daemon here (no systemd, and
# policy-rc.d forbids it); should one start anyway, the tests never use it:
# they run private daemons with their own sockets.
set -euo pipefail
declare -A pkgs=([podman]="podman conmon" [containerd]="containerd" [docker]="docker.io containerd")
want=("$@")
((${#want[@]})) || want=(podman containerd docker)
missing=()
for e in "${want[@]}"; do
  [[ -n ${pkgs[$e]:-} ]] || { echo "engines-setup: unknown engine $e" >&2; exit 2; }
  for p in ${pkgs[$e]}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
done
if ((${#missing[@]})); then
  echo "engines-setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "engines-setup: all engine packages present"
fi
