# rules/calendar/NNNN.yaml -> rows for the calendar_override table of
# bench/db/sql/00-schema.sql: one "INSERT ... VALUES" statement per file,
# a ('YYYY-MM-DD','holiday'|'workday') row per day. The files list
# `holidays:` as {date: D, ...} or {from: D, to: D, ...}, and `workdays:`
# as dates; see rules/calendar.
function row(d, kind) {
    printf "%s('%s','%s')", (n++ ? "," : "INSERT INTO calendar_override (day, kind) VALUES "), d, kind
}
# Every day from a to b (YYYY-MM-DD, a <= b): civil dates, no library.
function days(a, b,    y, m, d, dim) {
    y = substr(a, 1, 4) + 0; m = substr(a, 6, 2) + 0; d = substr(a, 9, 2) + 0
    for (;;) {
        cur = sprintf("%04d-%02d-%02d", y, m, d)
        row(cur, "holiday")
        if (cur >= b) return
        dim = (m == 2) ? ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28) \
            : (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31
        if (++d > dim) { d = 1; if (++m > 12) { m = 1; y++ } }
    }
}
FNR == 1 { if (n) print ";"; n = 0; section = "" }
/^[a-z_]+:/ { section = $1; sub(/:.*/, "", section) }
section == "holidays" && /date:/ { match($0, /date: *[0-9-]+/); d = substr($0, RSTART, RLENGTH); sub(/date: */, "", d); days(d, d) }
section == "holidays" && /from:/ {
    match($0, /from: *[0-9-]+/); a = substr($0, RSTART, RLENGTH); sub(/from: */, "", a)
    match($0, /to: *[0-9-]+/); b = substr($0, RSTART, RLENGTH); sub(/to: */, "", b)
    days(a, b)
}
section == "workdays" && /^ *- *[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]/ { match($0, /[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]/); row(substr($0, RSTART, RLENGTH), "workday") }
END { if (n) print ";" }
