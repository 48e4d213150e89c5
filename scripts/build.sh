#!/usr/bin/env bash
# Configure and build one flavour out of tree: scripts/build.sh release|asan|tsan
# The build lands in _build/<flavour>; prints the path of the binary dir.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
flavour=${1:-release}
case "$flavour" in
    release) conf=(CFLAGS="-O2 -g") ;;
    asan)    conf=(--enable-sanitizers CFLAGS="-O1 -g") ;;
    # ThreadSanitizer: where the HTTP threads meet the engine's loop
    tsan)    conf=(CFLAGS="-O1 -g -fsanitize=thread -fno-omit-frame-pointer" LDFLAGS="-fsanitize=thread") ;;
    *) echo "build: unknown flavour '$flavour' (release, asan or tsan)" >&2; exit 2 ;;
esac
cd "$top"
# the console's chart library (api/console/package.json), vendored by the build
if [ ! -f api/console/node_modules/echarts/dist/echarts.min.js ] && command -v npm >/dev/null; then
    (cd api/console && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
        echo "build: npm ci in api/console failed: the console's reports will have no charts" >&2
fi
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
    autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
mkdir -p "_build/$flavour"
cd "_build/$flavour"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ]; then
    "$top/configure" -q "${conf[@]}" >/dev/null
fi
make -s -j"$(nproc)" all >/dev/null
make -s -j"$(nproc)" check TESTS= >/dev/null
echo "$top/_build/$flavour"
