/*
 * The Lua sandbox against hostile rules: each must be stopped (budget,
 * memory cap, missing library, blocked function) and quarantined with
 * file:line, while the other rules go on producing their findings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/engine.h"
#include "offline/eval.h"
#include "rules/ruleset.h"
#include "base/util.h"

#include "ruledir.h"

/* A rules directory with the real catalogue and calendar, small limits,
 * one well-behaved deadline rule and the Lua file given. */
static void make_rules(const char *lua)
{
    char *cal;

    strcpy(dir, "/tmp/cw-luahost-XXXXXX");
    assert_non_null(mkdtemp(dir));
    cal = cw_path_join(dir, "calendar");
    mkdir(cal, 0700);
    free(cal);
    copy_file(CW_SRCDIR "/rules/catalogue.yaml", "catalogue.yaml");
    copy_file(CW_SRCDIR "/rules/calendar/2026.yaml", "calendar/2026.yaml");
    write_file("engine.yaml", "plugins: [deadline]\nlua: {memory_mb: 8, instructions: 200000}\n");
    write_file("a_good.lua",
               "deadline { id = \"CRIM-FILING\", title = \"t\", severity = \"high\", basis = \"b\",\n"
               "  start = { type = \"case.accepted\", when = { kind = \"criminal\" } },\n"
               "  stop = \"case.filed\", period = { days = 3 } }\n"
               "rule { id = \"GOOD\", title = \"g\", severity = \"low\", basis = \"b\",\n"
               "  on = { \"case.accepted\" },\n"
               "  check = function(case, ev) report { message = \"seen \" .. ev.id } end }\n");
    write_file("z_hostile.lua", lua);
}

static void remove_rules(void)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

typedef struct run {
    cw_world *w;
    cw_ruleset *rs;
    cw_engine *e;
    cw_findings fs;
} run;

static const char *const events[] = {
    "{\"id\":\"e1\",\"type\":\"case.accepted\",\"case\":\"C1\",\"unit\":\"370102\","
    "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{\"kind\":\"criminal\"}}",
    "{\"id\":\"e2\",\"type\":\"case.accepted\",\"case\":\"C2\",\"unit\":\"370102\","
    "\"at\":\"2026-03-03T09:30:00+08:00\",\"data\":{\"kind\":\"criminal\"}}",
};

/* Load the directory and judge two criminal cases never filed. */
static void judge(run *r)
{
    cw_load_opts lo = { CW_BUILDDIR "/plugins/.libs", NULL };
    cw_eval_opts o = { 0 };
    cw_eval_stats st = { 0 };
    cw_err err = { 0 };
    cw_eval *ev;

    memset(r, 0, sizeof *r);
    r->w = cw_world_new();
    if (cw_ruleset_load(&r->rs, r->w, dir, &lo, &err) < 0)
        fail_msg("rules did not load: %s", err.msg);
    r->e = cw_engine_new(r->w, r->rs);
    ev = cw_eval_new(r->e);
    o.now = 1773000000;         /* 2026-03-09 */
    for (size_t i = 0; i < sizeof events / sizeof *events; i++)
        assert_int_equal(cw_eval_add(ev, events[i], strlen(events[i]), "t", i + 1, &o, &st, &err), 0);
    cw_eval_run(ev, &o, &st);
    cw_eval_findings(ev, &r->fs);
    cw_eval_free(ev);
}

static void run_free(run *r)
{
    cw_findings_free(&r->fs);
    cw_engine_free(r->e);
    cw_ruleset_free(r->rs);
    cw_world_free(r->w);
}

static size_t count(const run *r, const char *rule)
{
    size_t n = 0;

    for (size_t i = 0; i < r->fs.n; i++)
        if (strcmp(r->fs.v[i].rule->info.id, rule) == 0)
            n++;
    return n;
}

/* The hostile rule H is quarantined for `why` at z_hostile.lua:line, and
 * the good rules still found both cases. */
static void expect_stopped_after(const char *lua, int line, const char *why, uint64_t evals)
{
    char where[128];
    cw_rule *h;
    run r;

    make_rules(lua);
    judge(&r);
    h = cw_ruleset_find(r.rs, "H");
    assert_non_null(h);
    assert_int_equal(h->status, CW_RULE_QUARANTINED);
    assert_non_null(h->last_error);
    snprintf(where, sizeof where, "z_hostile.lua:%d:", line);
    if (strstr(h->last_error, where) == NULL || strstr(h->last_error, why) == NULL)
        fail_msg("quarantine reason '%s' lacks '%s' or '%s'", h->last_error, where, why);
    /* stopped where it went wrong, never run again */
    assert_int_equal(h->evals, evals);
    assert_int_equal(count(&r, "CRIM-FILING"), 2);
    assert_int_equal(count(&r, "GOOD"), 2);
    assert_int_equal(cw_ruleset_find(r.rs, "GOOD")->status, CW_RULE_ACTIVE);
    run_free(&r);
    remove_rules();
}

static void expect_stopped(const char *lua, int line, const char *why)
{
    expect_stopped_after(lua, line, why, 1);
}

#define HOSTILE(body) \
    "rule { id = \"H\", title = \"h\", severity = \"low\", basis = \"b\", on = { \"case.accepted\" },\n" \
    "  check = function(case, ev)\n" body "\n  end }\n"

static void test_infinite_loop(void **state)
{
    (void)state;
    expect_stopped(HOSTILE("    while true do end"), 3, "instruction budget of 200000 exceeded");
}

static void test_pcall_cannot_swallow_the_stop(void **state)
{
    (void)state;
    expect_stopped(HOSTILE("    for i = 1, 100 do pcall(function() while true do end end) end\n"
                           "    report { message = \"escaped\" }"),
                   3, "instruction budget");
}

static void test_memory_bomb(void **state)
{
    (void)state;
    expect_stopped(HOSTILE("    local t = {}\n"
                           "    for i = 1, 1e9 do t[i] = string.rep(\"x\", 4096) .. i end"),
                   4, "memory cap of 8192 KiB exceeded");
}

static void test_string_rep_bomb(void **state)
{
    (void)state;
    /* refused inside string.rep: the line that called it is named */
    expect_stopped(HOSTILE("    local s = string.rep(\"x\", 1 << 30)"), 3, "memory cap");
}

static void test_pcall_around_memory_bomb(void **state)
{
    (void)state;
    expect_stopped(HOSTILE("    while true do pcall(string.rep, \"x\", 1 << 30) end"), 3, "memory cap");
}

static void test_os_execute(void **state)
{
    (void)state;
    expect_stopped(HOSTILE("    os.execute(\"touch /tmp/cw-pwned\")"), 3, "global 'os'");
    assert_int_not_equal(access("/tmp/cw-pwned", F_OK), 0);
}

static void test_io_open(void **state)
{
    (void)state;
    expect_stopped(HOSTILE("    io.open(\"/etc/passwd\")"), 3, "global 'io'");
}

static void test_load(void **state)
{
    (void)state;
    expect_stopped(HOSTILE("    load(\"return 1\")()"), 3, "load is not available to rules");
}

static void test_require(void **state)
{
    (void)state;
    expect_stopped(HOSTILE("    require(\"os\")"), 3, "require is not available to rules");
}

static void test_debug_and_dump(void **state)
{
    (void)state;
    expect_stopped(HOSTILE("    local f = string.dump or debug.getinfo"), 3, "global 'debug'");
}

static void test_globals_are_frozen(void **state)
{
    (void)state;
    expect_stopped(HOSTILE("    counter = 1"), 3, "cannot set global 'counter'");
}

static void test_views_die_with_their_call(void **state)
{
    (void)state;
    expect_stopped_after("local kept\n"
                   "rule { id = \"H\", title = \"h\", severity = \"low\", basis = \"b\",\n"
                   "  on = { \"case.accepted\" },\n"
                   "  check = function(case, ev)\n"
                   "    if kept then return kept.id end\n"
                   "    kept = ev\n"
                   "  end }\n",
                   5, "only valid during the check", 2);
}

static void test_views_are_read_only(void **state)
{
    (void)state;
    expect_stopped(HOSTILE("    ev.data.kind = \"administrative\""), 3, "read-only");
}

/* A rule that tampers with a table every rule of its file shares is
 * stopped at the write, naming itself, the table and file:line; the rule
 * after it in the same file still finds both cases with the library
 * intact. */
#define SAME_FILE(tamper) \
    HOSTILE(tamper) \
    "rule { id = \"H2\", title = \"h2\", severity = \"low\", basis = \"b\", on = { \"case.accepted\" },\n" \
    "  check = function(case, ev)\n" \
    "    local s = string.format(\"%s/%d\", (\"x\"):upper(), math.floor(2.5))\n" \
    "    local t = {}\n" \
    "    table.insert(t, s)\n" \
    "    if s == \"X/2\" and #t == 1 and utf8.char(26696) == \"\\u{6848}\" then report { message = s } end\n" \
    "  end }\n"

static void expect_tamper_stopped(const char *lua, const char *table)
{
    char want[160];
    cw_rule *h;
    run r;

    make_rules(lua);
    judge(&r);
    h = cw_ruleset_find(r.rs, "H");
    assert_non_null(h);
    assert_int_equal(h->status, CW_RULE_QUARANTINED);
    snprintf(want, sizeof want, "rule H: the shared table '%s' is read-only", table);
    if (h->last_error == NULL || strstr(h->last_error, "z_hostile.lua:3:") == NULL ||
        strstr(h->last_error, want) == NULL)
        fail_msg("quarantine reason '%s' lacks 'z_hostile.lua:3:' or '%s'", h->last_error, want);
    assert_int_equal(cw_ruleset_find(r.rs, "H2")->status, CW_RULE_ACTIVE);
    assert_int_equal(count(&r, "H2"), 2);
    assert_int_equal(count(&r, "GOOD"), 2);
    run_free(&r);
    remove_rules();
}

static void test_string_metatable_is_read_only(void **state)
{
    (void)state;
    expect_tamper_stopped(SAME_FILE("    getmetatable(\"\").__index = function() return nil end"), "string metatable");
}

static void test_string_metatable_gives_no_library(void **state)
{
    (void)state;
    expect_tamper_stopped(SAME_FILE("    getmetatable(\"\").__index.upper = nil"), "string");
}

static void test_string_library_is_read_only(void **state)
{
    (void)state;
    expect_tamper_stopped(SAME_FILE("    string.format = function() return \"\" end"), "string");
}

static void test_table_library_is_read_only(void **state)
{
    (void)state;
    expect_tamper_stopped(SAME_FILE("    table.insert = nil"), "table");
}

static void test_math_library_is_read_only(void **state)
{
    (void)state;
    expect_tamper_stopped(SAME_FILE("    math.floor = function() return 0 end"), "math");
}

static void test_utf8_library_is_read_only(void **state)
{
    (void)state;
    expect_tamper_stopped(SAME_FILE("    utf8.char = tostring"), "utf8");
}

/* setmetatable cannot strip the proxy of its protection */
static void test_protected_metatables_stay(void **state)
{
    (void)state;
    expect_stopped(SAME_FILE("    setmetatable(string, nil)"), 3, "cannot change a protected metatable");
}

/* The libraries read as before: pairs walks them, methods on strings work. */
static void test_libraries_still_read(void **state)
{
    run r;

    (void)state;
    make_rules(HOSTILE("    local n = 0\n"
                       "    for k, v in pairs(string) do n = n + 1 end\n"
                       "    if n > 10 and (\"abc\"):sub(2, 2) == \"b\" and #\"x\" == 1 then\n"
                       "      report { message = tostring(n) } end"));
    judge(&r);
    assert_int_equal(cw_ruleset_find(r.rs, "H")->status, CW_RULE_ACTIVE);
    assert_int_equal(count(&r, "H"), 2);
    run_free(&r);
    remove_rules();
}

/* A file that misbehaves while loading makes the whole ruleset refuse to
 * load: a bad ruleset never replaces a good one. */
static void test_bad_file_refuses_the_ruleset(void **state)
{
    cw_load_opts lo = { CW_BUILDDIR "/plugins/.libs", NULL };
    cw_world *w = cw_world_new();
    cw_ruleset *rs = NULL;
    cw_err err = { 0 };

    (void)state;
    make_rules("while true do end\n");
    assert_int_not_equal(cw_ruleset_load(&rs, w, dir, &lo, &err), 0);
    assert_null(rs);
    assert_non_null(strstr(err.msg, "z_hostile.lua:1: instruction budget"));
    cw_world_free(w);
    remove_rules();
}

static void test_syntax_error_names_the_line(void **state)
{
    cw_load_opts lo = { CW_BUILDDIR "/plugins/.libs", NULL };
    cw_world *w = cw_world_new();
    cw_ruleset *rs = NULL;
    cw_err err = { 0 };

    (void)state;
    make_rules("-- fine\n\nrule { id = \"X\" \n  title = 3 }\n");
    assert_int_not_equal(cw_ruleset_load(&rs, w, dir, &lo, &err), 0);
    if (strstr(err.msg, "z_hostile.lua:4:") == NULL)
        fail_msg("syntax error without its line: %s", err.msg);
    cw_world_free(w);
    remove_rules();
}

/* The clock a rule sees is the event's, not the machine's. */
static void test_now_is_the_event_time(void **state)
{
    run r;

    (void)state;
    make_rules("rule { id = \"NOW\", title = \"n\", severity = \"low\", basis = \"b\",\n"
               "  on = { \"case.accepted\" },\n"
               "  check = function(case, ev) report { message = datetime(now()) } end }\n");
    judge(&r);
    assert_int_equal(count(&r, "NOW"), 2);
    for (size_t i = 0; i < r.fs.n; i++)
        if (strcmp(r.fs.v[i].rule->info.id, "NOW") == 0 && strcmp(r.fs.v[i].case_id, "C1") == 0)
            assert_string_equal(r.fs.v[i].message, "2026-03-02 09:30:00");
    run_free(&r);
    remove_rules();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_infinite_loop),
        cmocka_unit_test(test_pcall_cannot_swallow_the_stop),
        cmocka_unit_test(test_memory_bomb),
        cmocka_unit_test(test_string_rep_bomb),
        cmocka_unit_test(test_pcall_around_memory_bomb),
        cmocka_unit_test(test_os_execute),
        cmocka_unit_test(test_io_open),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_require),
        cmocka_unit_test(test_debug_and_dump),
        cmocka_unit_test(test_globals_are_frozen),
        cmocka_unit_test(test_views_die_with_their_call),
        cmocka_unit_test(test_views_are_read_only),
        cmocka_unit_test(test_string_metatable_is_read_only),
        cmocka_unit_test(test_string_metatable_gives_no_library),
        cmocka_unit_test(test_string_library_is_read_only),
        cmocka_unit_test(test_table_library_is_read_only),
        cmocka_unit_test(test_math_library_is_read_only),
        cmocka_unit_test(test_utf8_library_is_read_only),
        cmocka_unit_test(test_protected_metatables_stay),
        cmocka_unit_test(test_libraries_still_read),
        cmocka_unit_test(test_bad_file_refuses_the_ruleset),
        cmocka_unit_test(test_syntax_error_names_the_line),
        cmocka_unit_test(test_now_is_the_event_time),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
