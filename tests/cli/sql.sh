#!/usr/bin/env bash
# Prepared statements only: tests/cli/sqlcheck.py finds no SQL text built
# from data in the tree (engine/store speaks SQL, through bound arguments),
# and does find it in copies of the store with such a statement planted.
# Usage: sql.sh PATH/TO/casewarden (unused)    Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/../harness.sh"
chk=$top/tests/cli/sqlcheck.py

python3 "$chk" "$top" >"$tmp/out" 2>&1 && ok || { bad "the tree builds SQL from data:"; cat "$tmp/out"; }
grep -qE '^checked 1[0-9] files of engine/store, [1-9][0-9]* helpers; 0 problems$' "$tmp/out" && ok ||
    bad "the checker did not check the store: $(tail -1 "$tmp/out")"

# plant: a copy of the store with one bad statement; it must be named
plant() {   # plant NAME FILE WHAT C-TEXT: FILE of the copy gets C-TEXT appended
    local name=$1 file=$2 what=$3
    rm -rf "$tmp/t"; mkdir -p "$tmp/t/engine" "$tmp/t/api"
    cp -r "$top/engine/store" "$tmp/t/engine/store"
    printf '%s\n' "$4" >>"$tmp/t/$file"
    if python3 "$chk" "$tmp/t" >"$tmp/out" 2>&1; then bad "$name: not found"; return; fi
    grep -q "^$file:[0-9]*: .*$what" "$tmp/out" && ok || bad "$name: not named: $(cat "$tmp/out")"
}
plant "a filter printed into the text" engine/store/findings.c "not a literal" \
    'static void bad1(cw__qb *b, const cw_finding_query *q) { cw_buf_printf(&b->sql, " AND f.rule = '\''%s'\''", q->rule.v[0]); }'
plant "a statement from snprintf" engine/store/events.c "not a literal or a built statement" \
    'static int bad2(cw_db *db, const char *id, cw_err *err) { char sql[256]; snprintf(sql, sizeof sql, "DELETE FROM events WHERE id = '\''%s'\''", id); return cw_db_exec(db, sql, err); }'
plant "a value appended to a statement" engine/store/changes.c "interface and puts its argument into SQL" \
    'int cw_store_bad3(cw_db *db, const char *who, cw_err *err) { cw__qb b = { 0 }; cw_buf_puts(&b.sql, who); return cw_db_pquery(db, b.sql.p, b.a, b.n, NULL, NULL, err); }'
plant "a helper called with data" engine/store/findings.c "goes into SQL" \
    'static void bad4(cw__qb *b, const cw_finding_query *q) { in_list(b, q->rule.v[0], &q->rule); }'
plant "escaping" engine/store/db.c "escaping" \
    'static void bad5(MYSQL *m, char *to, const char *v) { mysql_real_escape_string(m, to, v, strlen(v)); }'
plant "MariaDB outside the store" api/x.c "outside engine/store/db.c" \
    'static int bad6(MYSQL *m, const char *q) { return mysql_query(m, q); }'
plant "SQL outside the store" api/x.c "SQL outside engine/store" \
    'static const char *bad7 = "SELECT id FROM findings WHERE 1";'
finish
