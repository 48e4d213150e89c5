#!/usr/bin/env bash
# Install what casewarden needs to build, test and run, from Debian's
# packages. Does nothing when everything is already there.
set -euo pipefail

pkgs=(build-essential autoconf automake libtool pkg-config
      liblua5.4-dev libyaml-dev libjansson-dev libmariadb-dev libmicrohttpd-dev
      libcmocka-dev mariadb-server mariadb-client curl jq
      clips libclips-dev)           # the benchmark's CLIPS peer (bench/clips)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "deps: need root to install packages (run as root or with sudo)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
