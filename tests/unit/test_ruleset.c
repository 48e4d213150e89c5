/*
 * Effective periods of rules (docs/RULES.md, "What every rule has"): the
 * same id declared again for a period that does not overlap is another
 * version of the rule, as the 2012 and the 2025 laws. The day of the act
 * judged (the start event of a deadline, the checked event of a rule{})
 * in the deployment's time zone picks the version; both bounds are
 * included; a gap between versions is allowed and judged by neither;
 * overlapping versions make the directory refuse to load, naming both
 * declarations by file:line. Per-unit overrides (rules/overrides.yaml):
 * the longest prefix wins, for each version; a Lua rule's params; refusals
 * with file:line. A rule's version follows its parameters and data, not
 * its place; the trace of explain is kept only when asked, for its case.
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

/* A rules directory with the real catalogue and the 2025 and 2026
 * calendars, and no rules yet. */
static void make_dir(void)
{
    char *cal;

    strcpy(dir, "/tmp/cw-ruleset-XXXXXX");
    assert_non_null(mkdtemp(dir));
    cal = cw_path_join(dir, "calendar");
    assert_int_equal(mkdir(cal, 0700), 0);
    free(cal);
    copy_file(CW_SRCDIR "/rules/catalogue.yaml", "catalogue.yaml");
    copy_file(CW_SRCDIR "/rules/calendar/2025.yaml", "calendar/2025.yaml");
    copy_file(CW_SRCDIR "/rules/calendar/2026.yaml", "calendar/2026.yaml");
    write_file("engine.yaml", "timezone: \"+08:00\"\nplugins: [deadline]\n");
}

static void remove_dir(void)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Load the directory: 0 or the error, with the message in err. */
static int load(cw_world *w, cw_ruleset **rs, cw_err *err)
{
    cw_load_opts lo = { CW_BUILDDIR "/plugins/.libs", NULL };

    memset(err, 0, sizeof *err);
    *rs = NULL;
    return cw_ruleset_load(rs, w, dir, &lo, err);
}

/* The directory must refuse to load, with every `want` in the message. */
static void expect_refused(const char *want1, const char *want2, const char *want3)
{
    cw_world *w = cw_world_new();
    cw_ruleset *rs;
    cw_err err;

    assert_int_not_equal(load(w, &rs, &err), 0);
    assert_null(rs);
    if (strstr(err.msg, want1) == NULL || (want2 && strstr(err.msg, want2) == NULL) ||
        (want3 && strstr(err.msg, want3) == NULL))
        fail_msg("refused with '%s', expected '%s' '%s' '%s'", err.msg, want1,
                 want2 ? want2 : "", want3 ? want3 : "");
    cw_world_free(w);
}

typedef struct run {
    cw_world *w;
    cw_ruleset *rs;
    cw_engine *e;
    cw_findings fs;
} run;

static cw_time T(const char *s)
{
    cw_time t;

    if (cw_time_parse(s, strlen(s), &t, NULL) < 0)
        fail_msg("cannot parse '%s'", s);
    return t;
}

/* Load the directory and judge the events (JSON lines) as of now. */
static void judge(run *r, const char *const *events, const char *now)
{
    cw_eval_opts o = { 0 };
    cw_eval_stats st = { 0 };
    cw_err err;
    cw_eval *ev;

    memset(r, 0, sizeof *r);
    r->w = cw_world_new();
    if (load(r->w, &r->rs, &err) < 0)
        fail_msg("rules did not load: %s", err.msg);
    r->e = cw_engine_new(r->w, r->rs);
    ev = cw_eval_new(r->e);
    o.now = T(now);
    for (size_t i = 0; events[i] != NULL; i++)
        if (cw_eval_add(ev, events[i], strlen(events[i]), "t", i + 1, &o, &st, &err) != 0)
            fail_msg("event %zu refused: %s", i + 1, err.msg);
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

/* The one finding of rule id on case_id; fails when there is not exactly
 * one. */
static const cw_finding *only(const run *r, const char *id, const char *case_id)
{
    const cw_finding *f = NULL;

    for (size_t i = 0; i < r->fs.n; i++)
        if (strcmp(r->fs.v[i].rule->info.id, id) == 0 &&
            strcmp(r->fs.v[i].case_id, case_id) == 0) {
            if (f != NULL)
                fail_msg("case %s has two findings of %s", case_id, id);
            f = &r->fs.v[i];
        }
    if (f == NULL)
        fail_msg("case %s has no finding of %s", case_id, id);
    return f;
}

static size_t count(const run *r, const char *id, const char *case_id)
{
    size_t n = 0;

    for (size_t i = 0; i < r->fs.n; i++)
        if (strcmp(r->fs.v[i].rule->info.id, id) == 0 &&
            (case_id == NULL || strcmp(r->fs.v[i].case_id, case_id) == 0))
            n++;
    return n;
}

/* Finding f comes from the version declared at line of rules.lua, with
 * state and due (NULL: none) as given. */
static void expect_version(const cw_finding *f, int line, const char *title, const char *state,
                           const char *due)
{
    char buf[40];

    assert_int_equal(f->rule->info.line, line);
    assert_string_equal(f->rule->info.title, title);
    if (strncmp(f->message, title, strlen(title)) != 0)
        fail_msg("message '%s' does not start with the version's title '%s'", f->message, title);
    assert_string_equal(cw_state_name(f->state), state);
    if (due == NULL) {
        assert_true(f->due == CW_TIME_NONE);
    } else {
        cw_time_format(f->due, 8 * 60, buf, sizeof buf);
        assert_string_equal(buf, due);
    }
}

#define ACCEPTED(c, at) \
    "{\"id\":\"a-" c "\",\"type\":\"case.accepted\",\"case\":\"" c "\",\"unit\":\"370102\"," \
    "\"at\":\"" at "\",\"data\":{\"kind\":\"criminal\"}}"
#define FILED(c, at) \
    "{\"id\":\"f-" c "\",\"type\":\"case.filed\",\"case\":\"" c "\",\"unit\":\"370102\"," \
    "\"at\":\"" at "\"}"

/* Two versions of a deadline: 3 days up to 31 Dec 2025 (line 1), 7 days
 * from 1 Jan 2026 (line 6). */
static const char versions_lua[] =
    "deadline { id = \"FILING\", title = \"旧版\", severity = \"high\", basis = \"2012\",\n"
    "  effective = { to = \"2025-12-31\" },\n"
    "  start = { type = \"case.accepted\", when = { kind = \"criminal\" } },\n"
    "  stop = \"case.filed\", period = { days = 3 } }\n"
    "\n"
    "deadline { id = \"FILING\", title = \"新版\", severity = \"high\", basis = \"2025\",\n"
    "  effective = { from = \"2026-01-01\" },\n"
    "  start = { type = \"case.accepted\", when = { kind = \"criminal\" } },\n"
    "  stop = \"case.filed\", period = { days = 7 } }\n";

/* The day of the start event picks the version, both bounds included, in
 * the deployment's time zone whatever the offset the event is written in.
 *
 * Old version, 3 days: accepted 31 Dec 2025 -> 3 Jan 2026, in the New
 * Year holiday (1-3 Jan) -> Sun 4 Jan, a make-up working day.
 * New version, 7 days: accepted 1 Jan 2026 -> Thu 8 Jan, a working day. */
static void test_adjacent_versions_of_a_deadline(void **state)
{
    static const char *const events[] = {
        ACCEPTED("C1", "2025-12-31T23:59:59+08:00"),    /* last second of the old */
        ACCEPTED("C2", "2026-01-01T00:00:00+08:00"),    /* first second of the new */
        ACCEPTED("C3", "2025-12-31T15:59:59Z"),         /* 23:59:59 at +08:00: old */
        ACCEPTED("C4", "2025-12-31T16:00:00Z"),         /* 00:00:00 at +08:00: new */
        ACCEPTED("C5", "2025-12-31T00:00:00+08:00"),
        ACCEPTED("C6", "2026-01-01T23:59:59+08:00"),
        NULL,
    };
    run r;

    (void)state;
    make_dir();
    write_file("rules.lua", versions_lua);
    judge(&r, events, "2026-02-01T00:00:00+08:00");
    expect_version(only(&r, "FILING", "C1"), 1, "旧版", "overdue", "2026-01-04T23:59:59+08:00");
    expect_version(only(&r, "FILING", "C2"), 6, "新版", "overdue", "2026-01-08T23:59:59+08:00");
    expect_version(only(&r, "FILING", "C3"), 1, "旧版", "overdue", "2026-01-04T23:59:59+08:00");
    expect_version(only(&r, "FILING", "C4"), 6, "新版", "overdue", "2026-01-08T23:59:59+08:00");
    expect_version(only(&r, "FILING", "C5"), 1, "旧版", "overdue", "2026-01-04T23:59:59+08:00");
    expect_version(only(&r, "FILING", "C6"), 6, "新版", "overdue", "2026-01-08T23:59:59+08:00");
    assert_int_equal(count(&r, "FILING", NULL), 6);
    /* both are found by id; each version is its own rule */
    assert_non_null(cw_ruleset_find(r.rs, "FILING"));
    assert_int_equal(r.rs->nrules, 2);
    run_free(&r);
    remove_dir();
}

/* A deadline started under the old version stays the old one's, even
 * when the step that meets it, or the time it is judged at, lies in the
 * new period: the period judges the act, not the clock. */
static void test_old_version_judges_to_the_end(void **state)
{
    static const char *const events[] = {
        /* old: due Sun 4 Jan; filed Mon 5 Jan: late by the old rule */
        ACCEPTED("C1", "2025-12-31T10:00:00+08:00"),
        FILED("C1", "2026-01-05T00:00:00+08:00"),
        /* old: filed on the make-up Sunday it rolled to: on time, silent */
        ACCEPTED("C2", "2025-12-31T10:00:00+08:00"),
        FILED("C2", "2026-01-04T23:59:59+08:00"),
        /* new: filed on day 5, in time for the 7 days, late for 3 */
        ACCEPTED("C3", "2026-01-01T10:00:00+08:00"),
        FILED("C3", "2026-01-06T10:00:00+08:00"),
        NULL,
    };
    run r;

    (void)state;
    make_dir();
    write_file("rules.lua", versions_lua);
    judge(&r, events, "2026-02-01T00:00:00+08:00");
    expect_version(only(&r, "FILING", "C1"), 1, "旧版", "late", "2026-01-04T23:59:59+08:00");
    assert_int_equal(count(&r, "FILING", "C2"), 0);
    assert_int_equal(count(&r, "FILING", "C3"), 0);
    assert_int_equal(count(&r, "FILING", NULL), 1);
    run_free(&r);
    remove_dir();
}

/* rule{} checks: the day of the event checked picks the version. */
static void test_adjacent_versions_of_a_check(void **state)
{
    static const char *const events[] = {
        ACCEPTED("C1", "2025-12-31T23:59:59+08:00"),
        ACCEPTED("C2", "2026-01-01T00:00:00+08:00"),
        ACCEPTED("C3", "2025-12-31T16:00:00Z"),
        NULL,
    };
    run r;

    (void)state;
    make_dir();
    write_file("checks.lua",
               "rule { id = \"SEEN\", title = \"旧\", severity = \"low\", basis = \"2012\",\n"
               "  effective = { from = \"2013-01-01\", to = \"2025-12-31\" },\n"
               "  on = { \"case.accepted\" },\n"
               "  check = function(case, ev) report { message = \"旧: \" .. ev.id } end }\n"
               "rule { id = \"SEEN\", title = \"新\", severity = \"low\", basis = \"2025\",\n"
               "  effective = { from = \"2026-01-01\", to = \"2099-12-31\" },\n"
               "  on = { \"case.accepted\" },\n"
               "  check = function(case, ev) report { message = \"新: \" .. ev.id } end }\n");
    judge(&r, events, "2026-02-01T00:00:00+08:00");
    expect_version(only(&r, "SEEN", "C1"), 1, "旧", "violation", NULL);
    assert_string_equal(only(&r, "SEEN", "C1")->message, "旧: a-C1");
    expect_version(only(&r, "SEEN", "C2"), 5, "新", "violation", NULL);
    assert_string_equal(only(&r, "SEEN", "C2")->message, "新: a-C2");
    expect_version(only(&r, "SEEN", "C3"), 5, "新", "violation", NULL);
    assert_int_equal(count(&r, "SEEN", NULL), 3);
    run_free(&r);
    remove_dir();
}

/* A gap between two versions is allowed (docs/RULES.md asks only that
 * they do not overlap); an act in the gap is judged by neither. */
static void test_gap_between_versions(void **state)
{
    static const char *const events[] = {
        ACCEPTED("C1", "2025-12-30T23:59:59+08:00"),    /* last day of the old */
        ACCEPTED("C2", "2025-12-31T00:00:00+08:00"),    /* gap */
        ACCEPTED("C3", "2026-01-01T23:59:59+08:00"),    /* gap */
        ACCEPTED("C4", "2026-01-02T00:00:00+08:00"),    /* first day of the new */
        NULL,
    };
    run r;

    (void)state;
    make_dir();
    write_file("rules.lua",
               "deadline { id = \"FILING\", title = \"旧版\", severity = \"high\", basis = \"2012\",\n"
               "  effective = { to = \"2025-12-30\" },\n"
               "  start = { type = \"case.accepted\", when = { kind = \"criminal\" } },\n"
               "  stop = \"case.filed\", period = { days = 3 } }\n"
               "deadline { id = \"FILING\", title = \"新版\", severity = \"high\", basis = \"2025\",\n"
               "  effective = { from = \"2026-01-02\" },\n"
               "  start = { type = \"case.accepted\", when = { kind = \"criminal\" } },\n"
               "  stop = \"case.filed\", period = { days = 7 } }\n");
    judge(&r, events, "2026-02-01T00:00:00+08:00");
    /* Tue 30 Dec + 3 = Fri 2 Jan (holiday) -> Sat 3 Jan (holiday) -> Sun
     * 4 Jan, a make-up working day. Fri 2 Jan + 7 = Fri 9 Jan. */
    expect_version(only(&r, "FILING", "C1"), 1, "旧版", "overdue", "2026-01-04T23:59:59+08:00");
    assert_int_equal(count(&r, "FILING", "C2"), 0);
    assert_int_equal(count(&r, "FILING", "C3"), 0);
    expect_version(only(&r, "FILING", "C4"), 5, "新版", "overdue", "2026-01-09T23:59:59+08:00");
    run_free(&r);
    remove_dir();
}

/* A version for one day only: that day is in, the days either side out. */
static void test_one_day_period(void **state)
{
    static const char *const events[] = {
        ACCEPTED("C1", "2026-03-01T23:59:59+08:00"),
        ACCEPTED("C2", "2026-03-02T00:00:00+08:00"),
        ACCEPTED("C3", "2026-03-02T23:59:59+08:00"),
        ACCEPTED("C4", "2026-03-03T00:00:00+08:00"),
        NULL,
    };
    run r;

    (void)state;
    make_dir();
    write_file("rules.lua",
               "deadline { id = \"FILING\", title = \"一日\", severity = \"high\", basis = \"b\",\n"
               "  effective = { from = \"2026-03-02\", to = \"2026-03-02\" },\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n");
    judge(&r, events, "2026-04-01T00:00:00+08:00");
    assert_int_equal(count(&r, "FILING", "C1"), 0);
    expect_version(only(&r, "FILING", "C2"), 1, "一日", "overdue", "2026-03-05T23:59:59+08:00");
    expect_version(only(&r, "FILING", "C3"), 1, "一日", "overdue", "2026-03-05T23:59:59+08:00");
    assert_int_equal(count(&r, "FILING", "C4"), 0);
    run_free(&r);
    remove_dir();
}

#define SUMMONS(id, c, type, p, at) \
    "{\"id\":\"" id "\",\"type\":\"summons." type "\",\"case\":\"" c "\",\"unit\":\"370102\"," \
    "\"at\":\"" at "\",\"data\":{\"person\":\"" p "\"}}"

/* Findings are keyed by (rule, case, subject), and versions share the
 * id: a person's second summons is P1#2 whichever version judges it, and
 * an end meets the earliest open summons of its person, as within one
 * version. Old: 8 h to 31 Dec 2025; new: 12 h from 1 Jan 2026. */
static void test_versions_number_subjects_as_one_rule(void **state)
{
    static const char *const events[] = {
        /* C1: summoned under each version; the one end meets the first */
        SUMMONS("s1", "C1", "started", "P1", "2025-12-31T20:00:00+08:00"),
        SUMMONS("s2", "C1", "started", "P1", "2026-01-01T09:00:00+08:00"),
        SUMMONS("s3", "C1", "ended", "P1", "2026-01-01T10:00:00+08:00"),
        /* C2: the first ends in time; the second, 13 h, is late */
        SUMMONS("t1", "C2", "started", "P2", "2025-12-31T20:00:00+08:00"),
        SUMMONS("t2", "C2", "ended", "P2", "2025-12-31T23:00:00+08:00"),
        SUMMONS("t3", "C2", "started", "P2", "2026-01-01T09:00:00+08:00"),
        SUMMONS("t4", "C2", "ended", "P2", "2026-01-01T22:00:00+08:00"),
        NULL,
    };
    const cw_finding *f;
    run r;

    (void)state;
    make_dir();
    write_file("rules.lua",
               "deadline { id = \"SUMMONS\", title = \"旧版\", severity = \"high\", basis = \"2012\",\n"
               "  effective = { to = \"2025-12-31\" }, subject = \"person\",\n"
               "  start = \"summons.started\", stop = \"summons.ended\", period = { hours = 8 } }\n"
               "deadline { id = \"SUMMONS\", title = \"新版\", severity = \"high\", basis = \"2025\",\n"
               "  effective = { from = \"2026-01-01\" }, subject = \"person\",\n"
               "  start = \"summons.started\", stop = \"summons.ended\", period = { hours = 12 } }\n");
    judge(&r, events, "2026-01-05T00:00:00+08:00");
    assert_int_equal(count(&r, "SUMMONS", "C1"), 2);
    for (size_t i = 0; i < r.fs.n; i++) {
        f = &r.fs.v[i];
        if (strcmp(f->case_id, "C1") != 0)
            continue;
        if (strcmp(f->subject, "P1") == 0) {
            /* 20:00 + 8 h; ended 10:00 the next day */
            expect_version(f, 1, "旧版", "late", "2026-01-01T04:00:00+08:00");
            assert_true(f->raised == T("2026-01-01T10:00:00+08:00"));
        } else if (strcmp(f->subject, "P1#2") == 0) {
            /* 09:00 + 12 h, never ended */
            expect_version(f, 4, "新版", "overdue", "2026-01-01T21:00:00+08:00");
        } else {
            fail_msg("unexpected subject '%s' on C1", f->subject);
        }
    }
    f = only(&r, "SUMMONS", "C2");
    assert_string_equal(f->subject, "P2#2");
    expect_version(f, 4, "新版", "late", "2026-01-01T21:00:00+08:00");
    run_free(&r);
    remove_dir();
}

/* Versions sharing a single day overlap: refused, naming both places. */
static void test_overlap_by_one_day_is_refused(void **state)
{
    (void)state;
    make_dir();
    write_file("rules.lua",
               "deadline { id = \"FILING\", title = \"旧版\", severity = \"high\", basis = \"2012\",\n"
               "  effective = { to = \"2026-01-01\" },\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n"
               "\n"
               "deadline { id = \"FILING\", title = \"新版\", severity = \"high\", basis = \"2025\",\n"
               "  effective = { from = \"2026-01-01\" },\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 7 } }\n");
    expect_refused("rules.lua:5: rule FILING: duplicate rule id", "rules.lua:1", "overlap");
    remove_dir();
}

/* The same in two files: the later file's declaration is the one refused,
 * and it names the first file. */
static void test_overlap_across_files_is_refused(void **state)
{
    (void)state;
    make_dir();
    write_file("a.lua",
               "-- the 2012 version\n"
               "rule { id = \"SEEN\", title = \"旧\", severity = \"low\", basis = \"2012\",\n"
               "  effective = { from = \"2013-01-01\", to = \"2026-06-30\" },\n"
               "  on = { \"case.accepted\" }, check = function(case, ev) end }\n");
    write_file("b.lua",
               "\n\n"
               "rule { id = \"SEEN\", title = \"新\", severity = \"low\", basis = \"2025\",\n"
               "  effective = { from = \"2026-01-01\" },\n"
               "  on = { \"case.accepted\" }, check = function(case, ev) end }\n");
    expect_refused("b.lua:3: rule SEEN: duplicate rule id", "a.lua:2", "overlap");
    remove_dir();
}

/* A rule without `effective` is in force on every day, so any second
 * declaration of its id overlaps it. */
static void test_unbounded_version_overlaps_everything(void **state)
{
    (void)state;
    make_dir();
    write_file("rules.lua",
               "deadline { id = \"FILING\", title = \"t\", severity = \"high\", basis = \"b\",\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n"
               "deadline { id = \"FILING\", title = \"t\", severity = \"high\", basis = \"b\",\n"
               "  effective = { from = \"2099-01-01\" },\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n");
    expect_refused("rules.lua:3: rule FILING: duplicate rule id", "rules.lua:1", "overlap");
    remove_dir();

    make_dir();
    write_file("rules.lua",
               "deadline { id = \"FILING\", title = \"t\", severity = \"high\", basis = \"b\",\n"
               "  effective = { to = \"1999-12-31\" },\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n"
               "deadline { id = \"FILING\", title = \"t\", severity = \"high\", basis = \"b\",\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n");
    expect_refused("rules.lua:4: rule FILING: duplicate rule id", "rules.lua:1", "overlap");
    remove_dir();
}

/* A third version overlapping the first of two good ones is refused too,
 * whatever the order of declaration. */
static void test_overlap_with_an_earlier_version(void **state)
{
    (void)state;
    make_dir();
    write_file("rules.lua",
               "deadline { id = \"FILING\", title = \"a\", severity = \"high\", basis = \"b\",\n"
               "  effective = { from = \"2026-01-01\" },\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 7 } }\n"
               "deadline { id = \"FILING\", title = \"b\", severity = \"high\", basis = \"b\",\n"
               "  effective = { from = \"2013-01-01\", to = \"2025-12-31\" },\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n"
               "deadline { id = \"FILING\", title = \"c\", severity = \"high\", basis = \"b\",\n"
               "  effective = { from = \"2006-03-01\", to = \"2013-01-01\" },\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n");
    expect_refused("rules.lua:7: rule FILING: duplicate rule id", "rules.lua:4", "overlap");
    remove_dir();
}

/* Malformed periods are refused at the declaration. */
static void test_bad_effective_is_refused(void **state)
{
    (void)state;
    make_dir();
    write_file("rules.lua",
               "\n"
               "deadline { id = \"FILING\", title = \"t\", severity = \"high\", basis = \"b\",\n"
               "  effective = { from = \"2026-01-02\", to = \"2026-01-01\" },\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n");
    expect_refused("rules.lua:2: rule FILING", "effective.from is after effective.to", NULL);
    remove_dir();

    make_dir();
    write_file("rules.lua",
               "deadline { id = \"FILING\", title = \"t\", severity = \"high\", basis = \"b\",\n"
               "  effective = { from = \"2026-02-30\" },\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n");
    expect_refused("rules.lua:1: rule FILING", "effective.from must be a date", NULL);
    remove_dir();

    make_dir();
    write_file("rules.lua",
               "deadline { id = \"FILING\", title = \"t\", severity = \"high\", basis = \"b\",\n"
               "  effective = { since = \"2026-01-01\" },\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n");
    expect_refused("rules.lua:1: rule FILING", "unknown key 'since'", NULL);
    remove_dir();
}

/* ---- per-unit overrides (rules/overrides.yaml) ---------------------------- */

#define ACCEPTED_AT(c, u, at) \
    "{\"id\":\"a-" c "\",\"type\":\"case.accepted\",\"case\":\"" c "\",\"unit\":\"" u "\"," \
    "\"at\":\"" at "\",\"data\":{\"kind\":\"criminal\"}}"

/* Each version of a rule takes the override of the longest prefix its
 * case's unit starts with: 370102 over 3701, 3701 over the declaration. */
static void test_override_most_specific_wins(void **state)
{
    static const char *const events[] = {
        ACCEPTED_AT("C1", "370102", "2026-03-02T09:00:00+08:00"),  /* 370102: 9 days */
        ACCEPTED_AT("C2", "370101", "2026-03-02T09:00:00+08:00"),  /* 3701: 4 days */
        ACCEPTED_AT("C3", "370200", "2026-03-02T09:00:00+08:00"),  /* declared: 7 days */
        ACCEPTED_AT("C4", "370101", "2025-12-01T09:00:00+08:00"),  /* old version, 3701: 4 */
        ACCEPTED_AT("C5", "370103", "2026-03-02T09:00:00+08:00"),  /* disabled there */
        NULL,
    };
    run r;
    char buf[40];

    (void)state;
    make_dir();
    write_file("rules.lua", versions_lua);
    write_file("overrides.yaml",
               "overrides:\n"
               "  - {unit: \"3701\", rule: FILING, set: {period: {days: 4}, severity: low}}\n"
               "  - {unit: \"370102\", rule: FILING, set: {period: {days: 9}}}\n"
               "  - {unit: \"370103\", rule: FILING, set: {enabled: false}}\n");
    judge(&r, events, "2026-04-01T00:00:00+08:00");
    cw_time_format(only(&r, "FILING", "C1")->due, 480, buf, sizeof buf);
    assert_string_equal(buf, "2026-03-11T23:59:59+08:00");
    assert_string_equal(only(&r, "FILING", "C1")->rule->override_unit, "370102");
    assert_string_equal(only(&r, "FILING", "C1")->rule->info.severity, "high");
    cw_time_format(only(&r, "FILING", "C2")->due, 480, buf, sizeof buf);
    assert_string_equal(buf, "2026-03-06T23:59:59+08:00");
    assert_string_equal(only(&r, "FILING", "C2")->rule->override_unit, "3701");
    assert_string_equal(only(&r, "FILING", "C2")->rule->info.severity, "low");
    cw_time_format(only(&r, "FILING", "C3")->due, 480, buf, sizeof buf);
    assert_string_equal(buf, "2026-03-09T23:59:59+08:00");
    assert_null(only(&r, "FILING", "C3")->rule->override);
    /* the old version, 1 Dec 2025 + 4 days: Fri 5 Dec */
    cw_time_format(only(&r, "FILING", "C4")->due, 480, buf, sizeof buf);
    assert_string_equal(buf, "2025-12-05T23:59:59+08:00");
    assert_string_equal(only(&r, "FILING", "C4")->rule->info.title, "旧版");
    assert_int_equal(count(&r, "FILING", "C5"), 0);
    /* two versions, each with its 3701 and 370102 rules */
    assert_int_equal(r.rs->nrules, 6);
    run_free(&r);
    remove_dir();
}

/* A Lua check's params, read with param(): an override changes them for
 * its units only. */
static void test_override_lua_params(void **state)
{
    static const char *const events[] = {
        ACCEPTED_AT("C1", "370102", "2026-03-02T09:00:00+08:00"),
        ACCEPTED_AT("C2", "370201", "2026-03-02T09:00:00+08:00"),
        NULL,
    };
    run r;

    (void)state;
    make_dir();
    write_file("rules.lua",
               "rule { id = \"LIMIT\", title = \"t\", severity = \"low\", basis = \"b\",\n"
               "  on = { \"case.accepted\" }, params = { hour = 8 },\n"
               "  check = function(case, ev)\n"
               "    if tonumber(string.sub(datetime(ev.at), 12, 13)) >= param(\"hour\") then\n"
               "      report { message = \"after \" .. param(\"hour\") }\n"
               "    end\n"
               "  end }\n");
    write_file("overrides.yaml", "overrides:\n  - {unit: \"3701\", rule: LIMIT, set: {hour: 10}}\n");
    judge(&r, events, "2026-04-01T00:00:00+08:00");
    assert_int_equal(count(&r, "LIMIT", "C1"), 0);      /* 09 is before 10 */
    assert_string_equal(only(&r, "LIMIT", "C2")->message, "after 8");
    run_free(&r);
    remove_dir();
}

static void test_override_refused_with_file_line(void **state)
{
    (void)state;
    make_dir();
    write_file("rules.lua", versions_lua);
    write_file("overrides.yaml",
               "overrides:\n"
               "  - unit: \"3701\"\n"
               "    rule: FILING\n"
               "    set: {perod: {days: 4}}\n");
    expect_refused("overrides.yaml:4: rule FILING for unit 3701: 'perod' is not a parameter",
                   "(its parameters: period, start, stop)", NULL);
    write_file("overrides.yaml", "overrides:\n  - {unit: \"3701\", rule: NOPE, set: {severity: low}}\n");
    expect_refused("overrides.yaml:2: no rule NOPE", NULL, NULL);
    remove_dir();
}

/* ---- rule versions (provenance) ---------------------------------------------- */

static void version_of(const char *lua, char out[17])
{
    cw_world *w = cw_world_new();
    cw_ruleset *rs;
    cw_err err;

    write_file("rules.lua", lua);
    if (load(w, &rs, &err) < 0)
        fail_msg("rules did not load: %s", err.msg);
    memcpy(out, cw_ruleset_find(rs, "V")->version, 17);
    cw_ruleset_free(rs);
    cw_world_free(w);
}

/* The version covers the declaration and its parameters, not where the
 * declaration stands; the calendar is part of it. */
static void test_rule_version(void **state)
{
    char a[17], b[17], c[17], d[17];

    (void)state;
    make_dir();
    version_of("deadline { id = \"V\", title = \"t\", severity = \"low\", basis = \"b\",\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n", a);
    version_of("\n\n-- moved\ndeadline { id = \"V\", title = \"t\", severity = \"low\", basis = \"b\",\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n", b);
    version_of("deadline { id = \"V\", title = \"t\", severity = \"low\", basis = \"b\",\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 4 } }\n", c);
    assert_int_equal(strlen(a), 16);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    write_file("calendar/2027.yaml", "year: 2027\nholidays: []\nworkdays: []\n");
    version_of("deadline { id = \"V\", title = \"t\", severity = \"low\", basis = \"b\",\n"
               "  start = \"case.accepted\", stop = \"case.filed\", period = { days = 3 } }\n", d);
    assert_string_not_equal(a, d);
    remove_dir();
}

/* ---- the trace of explain: only for the case asked, only when asked ------ */

static void test_trace_only_when_asked(void **state)
{
    static const char *const events[] = {
        ACCEPTED_AT("C1", "370102", "2026-03-02T09:00:00+08:00"),
        ACCEPTED_AT("C2", "370102", "2026-03-02T09:00:00+08:00"),
        NULL,
    };
    cw_eval_opts o = { 0 };
    cw_eval_stats st = { 0 };
    cw_world *w;
    cw_ruleset *rs;
    cw_engine *e;
    cw_eval *ev;
    cw_err err;
    const cw_trace *t;

    (void)state;
    make_dir();
    write_file("rules.lua",
               "rule { id = \"X\", title = \"t\", severity = \"low\", basis = \"b\",\n"
               "  on = { \"case.accepted\" },\n"
               "  check = function(case, ev) if explain(\"单位\", ev.unit) == \"x\" then report {} end end }\n");
    for (int pass = 0; pass < 2; pass++) {
        w = cw_world_new();
        assert_int_equal(load(w, &rs, &err), 0);
        e = cw_engine_new(w, rs);
        if (pass == 1)
            cw_engine_trace(e, "C2");
        ev = cw_eval_new(e);
        o.now = T("2026-04-01T00:00:00+08:00");
        for (size_t i = 0; events[i] != NULL; i++)
            assert_int_equal(cw_eval_add(ev, events[i], strlen(events[i]), "t", i + 1, &o, &st, &err), 0);
        cw_eval_run(ev, &o, &st);
        t = cw_engine_trace_of(e);
        if (pass == 0) {
            assert_null(t);
        } else {
            assert_non_null(t);
            assert_int_equal(t->n, 1);      /* C2's call, not C1's */
            assert_string_equal(t->v[0].kind, "condition");
            assert_string_equal(t->v[0].text, "单位: 370102");
            assert_int_equal(t->calls[0], 1);
        }
        cw_eval_free(ev);
        cw_engine_free(e);
        cw_ruleset_free(rs);
        cw_world_free(w);
    }
    remove_dir();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adjacent_versions_of_a_deadline),
        cmocka_unit_test(test_old_version_judges_to_the_end),
        cmocka_unit_test(test_adjacent_versions_of_a_check),
        cmocka_unit_test(test_gap_between_versions),
        cmocka_unit_test(test_one_day_period),
        cmocka_unit_test(test_versions_number_subjects_as_one_rule),
        cmocka_unit_test(test_overlap_by_one_day_is_refused),
        cmocka_unit_test(test_overlap_across_files_is_refused),
        cmocka_unit_test(test_unbounded_version_overlaps_everything),
        cmocka_unit_test(test_overlap_with_an_earlier_version),
        cmocka_unit_test(test_bad_effective_is_refused),
        cmocka_unit_test(test_override_most_specific_wins),
        cmocka_unit_test(test_override_lua_params),
        cmocka_unit_test(test_override_refused_with_file_line),
        cmocka_unit_test(test_rule_version),
        cmocka_unit_test(test_trace_only_when_asked),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
