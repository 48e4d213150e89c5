#!/usr/bin/env bash
# Install what casewarden needs to build, test and run, from Debian's
# packages: the build, MariaDB, and for the console's browser test
# chromium with a CJK font (else every Chinese label is an empty box in
# the screenshots) and Node.js with npm where the machine has none. Does
# nothing when everything is already there.
set -euo pipefail

pkgs=(build-essential autoconf automake libtool pkg-config
      liblua5.4-dev libyaml-dev libjansson-dev libmariadb-dev libmicrohttpd-dev
      libcmocka-dev libssl-dev libcurl4-openssl-dev mariadb-server mariadb-client curl jq
      galera-4 rsync                # the Galera cluster of tests/integration/galera.sh
      clips libclips-dev            # the benchmark's CLIPS peer (bench/clips)
      chromium fonts-wqy-microhei   # the console's browser tests, CJK screenshots
      clang-14 libclang-rt-14-dev   # the libFuzzer targets (scripts/fuzz)
      iproute2                      # ss: the tests pick ports nothing listens on
      wrk)                          # the load test (tests/integration/load.sh, scripts/load)
# a Node.js of the machine's own (with its npm) is used as it is
command -v npm >/dev/null || pkgs+=(nodejs npm)

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
