#!/usr/bin/env bash
# The engine's layers (docs/DESIGN.md "Layout") as the sources include
# them: each folder may include only the layers below it, engine/ never
# includes api/ or cli/, and the core never includes the store. Every
# include of ours is path-qualified ("core/engine.h"). The link side of
# the same rule: tests/unit/test_engine links the core and what is below
# it only, so a core that called the store or the Lua host would not link.
# Usage: layers.sh [CASEWARDEN]    Ends with "N passed, N failed".
set -uo pipefail
# shellcheck source=tests/harness.sh
. "$(dirname "$0")/../harness.sh"

# folder: the folders its files may include (besides its own)
allowed() {
    case $1 in
        engine/base) echo "casewarden" ;;
        engine/law) echo "casewarden base" ;;
        engine/event) echo "casewarden base law" ;;
        engine/core) echo "casewarden base law event" ;;
        engine/rules|engine/rules/lua) echo "casewarden base law event core rules" ;;
        engine/offline) echo "casewarden base law event core rules lease" ;;
        engine/lease) echo "" ;;
        engine/store) echo "casewarden base lease" ;;
        engine/notify) echo "casewarden base law" ;;
        engine/service) echo "casewarden base law event core rules offline store lease notify" ;;
        engine/report) echo "casewarden base store" ;;
        api) echo "casewarden base law event core rules store lease service report notify" ;;
    esac
}

cd "$top" || exit 1
for dir in engine/base engine/law engine/event engine/core engine/rules engine/rules/lua \
           engine/offline engine/lease engine/store engine/notify engine/service engine/report api; do
    own=${dir#engine/}
    own=${own%%/*}
    ok_list=" $(allowed "$dir") $own "
    violations=0
    for f in "$dir"/*.[ch]; do
        [ -e "$f" ] || continue
        while IFS= read -r inc; do
            case $inc in
                */*) layer=${inc%%/*} ;;
                *) bad "$f includes \"$inc\" without its layer's folder"; violations=$((violations + 1)); continue ;;
            esac
            case $ok_list in
                *" $layer "*) ;;
                *) bad "$f includes \"$inc\": $dir may not depend on $layer"; violations=$((violations + 1)) ;;
            esac
        done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
    done
    [ "$violations" -eq 0 ] && ok
done

# the core's unit test is linked without the store, the Lua host and
# MariaDB: its link line in the build says so
grep -q '^tests_unit_test_engine_LDADD = $(CW_CORE_LIBS)' tests/local.mk && ok \
    || bad "tests/unit/test_engine is not linked with the core libraries alone"
grep -q 'MARIADB_LIBS\|LUA_LIBS' engine/core/local.mk engine/event/local.mk engine/law/local.mk \
    engine/base/local.mk
case $? in
    0) bad "a layer below the store links MariaDB or Lua" ;;
    1) ok ;;
    *) bad "the layers' local.mk files could not be read" ;;
esac

finish
