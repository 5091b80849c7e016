#!/usr/bin/env bash
# Install Debian packages with apt-get, as root or through sudo: scripts/apt-install.sh PACKAGE...
set -euo pipefail

if ! command -v apt-get >/dev/null; then
    echo "apt-get is not available: install $* with your system's package manager" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    echo "Installing $* needs root: sudo apt-get install $*" >&2
    exit 1
fi

echo "Installing $* with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq "$@" >/dev/null
