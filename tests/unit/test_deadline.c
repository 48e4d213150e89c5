/*
 * The ruleset loader and the deadline model's mechanics. Legal
 * boundaries (due times, holidays, leads) are covered by the rule
 * fixtures in rules/tests; here: configuration errors, cross-case joins,
 * repeated subjects, extension caps, and the store underneath.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "eval.h"

static char dir[64];

static void write_file(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/cw-test-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    write_file("engine.yaml", "timezone: \"+08:00\"\n"
                              "catalogue: " CW_SRCDIR "/rules/catalogue.yaml\n"
                              "calendar: " CW_SRCDIR "/rules/calendar\n");
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static const char header[] =
    "rules:\n"
    "  - id: R1\n"
    "    title: t\n"
    "    model: deadline\n"
    "    severity: high\n"
    "    basis: b\n";

/* Load rules.yaml = header + params text; expect failure with needle. */
static void expect_load_error(const char *rules, const char *needle)
{
    cw_ruleset *rs = NULL;
    cw_err err = { 0 };
    char *report = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&report, &len);

    write_file("rules.yaml", rules);
    assert_int_not_equal(cw_ruleset_load(&rs, dir, f, &err), 0);
    fclose(f);
    assert_null(rs);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("'%s' not in '%s'", needle, err.msg);
    assert_non_null(strstr(report, needle));
    free(report);
}

static void test_config_errors_name_file_line_and_rule(void **state)
{
    char buf[1024];

    snprintf(buf, sizeof buf, "%s    params: {start: {type: no.such}, stop: {types: [case.filed]}, period: {days: 3}}\n", header);
    expect_load_error(buf, "rules.yaml:7: unknown event type 'no.such'");
    snprintf(buf, sizeof buf, "%s    params: {start: {type: case.accepted}, stop: {types: [case.filed]}}\n", header);
    expect_load_error(buf, "rule R1: params.period is required");
    snprintf(buf, sizeof buf, "%s    params: {start: {type: case.accepted}, stop: {types: [case.filed]}, period: {days: 3, hours: 2}}\n", header);
    expect_load_error(buf, "exactly one of days, hours");
    snprintf(buf, sizeof buf, "%s    params: {start: {type: case.accepted}, stop: {types: [case.filed]}, period: {days: 0}}\n", header);
    expect_load_error(buf, "positive");
    expect_load_error("rules:\n  - id: R1\n    title: t\n    model: nope\n    severity: high\n    basis: b\n",
                      "rules.yaml:4: rule R1: unknown model 'nope'");
    expect_load_error("rules:\n  - id: R1\n    title: t\n    model: deadline\n    severity: urgent\n    basis: b\n",
                      "severity 'urgent'");
    expect_load_error("rules:\n  - id: R1\n    model: deadline\n    severity: high\n    basis: b\n",
                      "rules.yaml:2: field 'title' is required");
    expect_load_error("rules:\n  - id: R1\n    title: t\n    model: deadline\n    severity: high\n    basis: b\n    colour: red\n",
                      "rules.yaml:7: rule: unknown field 'colour'");
    expect_load_error("rules: 3\n", "expected a top-level 'rules:' list");
}

static void test_duplicate_rule_id_and_all_problems_reported(void **state)
{
    static const char rule[] =
        "  - id: R1\n    title: t\n    model: deadline\n    severity: high\n    basis: b\n"
        "    params: {start: {type: case.accepted}, stop: {types: [case.filed]}, period: {days: 3}}\n";
    char buf[1024];
    cw_ruleset *rs = NULL;
    char *report = NULL;
    size_t len = 0;
    FILE *f;
    cw_err err;

    snprintf(buf, sizeof buf, "rules:\n%s%s  - id: R2\n    model: x\n", rule, rule);
    write_file("rules.yaml", buf);
    f = open_memstream(&report, &len);
    assert_int_not_equal(cw_ruleset_load(&rs, dir, f, &err), 0);
    fclose(f);
    assert_non_null(strstr(report, "rules.yaml:8: duplicate rule id R1 (first at"));
    assert_non_null(strstr(report, "rules.yaml:14: field 'title' is required"));
    free(report);
}

/* Shipped rules over events given as JSON lines. */
typedef struct world {
    cw_ruleset *rs;
    cw_store *st;
    cw_event_parser *p;
    cw_findings got;
    uint64_t seq;
} world;

static void world_open(world *w)
{
    cw_err err;

    memset(w, 0, sizeof *w);
    if (cw_ruleset_load(&w->rs, CW_SRCDIR "/rules", stderr, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(cw_eval_store_new(w->rs, &w->st, &err), 0);
    assert_int_equal(cw_event_parser_new(&w->p, w->rs->cat), 0);
}

static void add(world *w, const char *json)
{
    cw_event_error e;
    cw_event *ev;
    cw_err err;

    if (cw_event_parse(w->p, json, strlen(json), &ev, &e) < 0)
        fail_msg("%s: %s", e.field, e.err.msg);
    ev->seq = ++w->seq;
    assert_int_equal(cw_store_add(w->st, ev, NULL, &err), 0);
}

static void eval_at(world *w, const char *now)
{
    cw_time t;

    cw_findings_clear(&w->got);
    assert_int_equal(cw_time_parse(now, strlen(now), &t, NULL), 0);
    assert_int_equal(cw_eval_all(w->rs, w->st, t, cw_findings_emit, &w->got), 0);
    cw_findings_sort(&w->got);
}

/* The one finding of rule/subject, or NULL. */
static const cw_finding *find(const world *w, const char *rule, const char *subject)
{
    const cw_finding *hit = NULL;

    for (size_t i = 0; i < w->got.n; i++)
        if (strcmp(w->got.v[i].rule, rule) == 0 && strcmp(w->got.v[i].subject, subject) == 0) {
            assert_null(hit);
            hit = &w->got.v[i];
        }
    return hit;
}

static void world_close(world *w)
{
    cw_findings_clear(&w->got);
    cw_event_parser_free(w->p);
    cw_store_free(w->st);
    cw_ruleset_free(w->rs);
}

static void test_alarm_accepted_in_another_case(void **state)
{
    world w;
    const cw_finding *f;

    world_open(&w);
    add(&w, "{\"id\":\"a1\",\"type\":\"alarm.received\",\"case\":\"J1\",\"unit\":\"370102\","
            "\"at\":\"2026-03-02T10:00:00+08:00\",\"data\":{\"alarm\":\"J1\",\"category\":\"criminal\"}}");
    add(&w, "{\"id\":\"a2\",\"type\":\"alarm.received\",\"case\":\"J2\",\"unit\":\"370102\","
            "\"at\":\"2026-03-02T10:00:00+08:00\",\"data\":{\"alarm\":\"J2\",\"category\":\"administrative\"}}");
    /* J1 is accepted late, from a case with its own number */
    add(&w, "{\"id\":\"c1\",\"type\":\"case.accepted\",\"case\":\"A1\",\"unit\":\"370102\","
            "\"at\":\"2026-03-03T10:00:01+08:00\",\"data\":{\"kind\":\"criminal\",\"alarm\":\"J1\"}}");
    eval_at(&w, "2026-03-03T12:00:00+08:00");
    f = find(&w, "ALARM-ACCEPT", "J1");
    assert_non_null(f);
    assert_string_equal(f->case_id, "J1");
    assert_int_equal(f->state, CW_ST_LATE);
    assert_int_equal(f->nevents, 2);
    assert_string_equal(f->events[1], "c1");
    f = find(&w, "ALARM-ACCEPT", "J2");
    assert_non_null(f);
    assert_int_equal(f->state, CW_ST_OVERDUE);
    world_close(&w);
}

static void test_repeated_subject_gets_its_own_finding(void **state)
{
    world w;
    const cw_finding *f;

    world_open(&w);
    add(&w, "{\"id\":\"s1\",\"type\":\"evidence.seized\",\"case\":\"A1\",\"unit\":\"370102\","
            "\"at\":\"2026-03-02T10:00:00+08:00\",\"data\":{\"item\":\"K1\",\"description\":\"phone\"}}");
    add(&w, "{\"id\":\"s2\",\"type\":\"evidence.stored\",\"case\":\"A1\",\"unit\":\"370102\","
            "\"at\":\"2026-03-02T11:00:00+08:00\",\"data\":{\"item\":\"K1\"}}");
    add(&w, "{\"id\":\"s3\",\"type\":\"evidence.seized\",\"case\":\"A1\",\"unit\":\"370102\","
            "\"at\":\"2026-03-05T10:00:00+08:00\",\"data\":{\"item\":\"K1\",\"description\":\"phone\"}}");
    eval_at(&w, "2026-03-07T00:00:00+08:00");
    assert_null(find(&w, "PROPERTY-24H", "K1"));
    f = find(&w, "PROPERTY-24H", "K1#2");
    assert_non_null(f);
    assert_int_equal(f->state, CW_ST_OVERDUE);
    assert_string_equal(f->events[0], "s3");
    world_close(&w);
}

static void test_out_of_order_arrival_is_ordered_by_time(void **state)
{
    world w;
    const cw_finding *f;

    world_open(&w);
    /* the filing arrives before the acceptance it follows */
    add(&w, "{\"id\":\"f1\",\"type\":\"case.filed\",\"case\":\"A1\",\"unit\":\"370102\","
            "\"at\":\"2026-03-09T10:00:00+08:00\"}");
    add(&w, "{\"id\":\"c1\",\"type\":\"case.accepted\",\"case\":\"A1\",\"unit\":\"370102\","
            "\"at\":\"2026-03-02T10:00:00+08:00\",\"data\":{\"kind\":\"criminal\"}}");
    eval_at(&w, "2026-03-20T00:00:00+08:00");
    f = find(&w, "CRIM-FILING", "");
    assert_non_null(f);
    assert_int_equal(f->state, CW_ST_LATE);
    assert_string_equal(f->events[1], "f1");
    world_close(&w);
}

static void test_store_lookup_and_case_iteration(void **state)
{
    world w;
    size_t n;
    int t;

    world_open(&w);
    add(&w, "{\"id\":\"c1\",\"type\":\"case.accepted\",\"case\":\"A1\",\"unit\":\"370102\","
            "\"at\":\"2026-03-02T10:00:00+08:00\",\"data\":{\"kind\":\"criminal\",\"alarm\":\"J9\"}}");
    add(&w, "{\"id\":\"c2\",\"type\":\"case.accepted\",\"case\":\"A2\",\"unit\":\"370102\","
            "\"at\":\"2026-03-02T10:00:00+08:00\",\"data\":{\"kind\":\"criminal\",\"alarm\":\"J9\"}}");
    t = cw_catalogue_type_id(w.rs->cat, "case.accepted");
    assert_non_null(cw_store_lookup(w.st, t, "alarm", "J9", &n));
    assert_int_equal(n, 2);
    assert_null(cw_store_lookup(w.st, t, "alarm", "J0", &n));
    assert_int_equal(n, 0);
    assert_null(cw_store_lookup(w.st, t, "cause", "x", &n));   /* not indexed */
    assert_int_equal(cw_store_ncases(w.st), 2);
    assert_string_equal(cw_store_case_at(w.st, 1)->id, "A2");
    assert_non_null(cw_store_case(w.st, "A1"));
    assert_null(cw_store_case(w.st, "A3"));
    assert_int_equal(cw_store_nevents(w.st), 2);
    world_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors_name_file_line_and_rule),
        cmocka_unit_test(test_duplicate_rule_id_and_all_problems_reported),
        cmocka_unit_test(test_alarm_accepted_in_another_case),
        cmocka_unit_test(test_repeated_subject_gets_its_own_finding),
        cmocka_unit_test(test_out_of_order_arrival_is_ordered_by_time),
        cmocka_unit_test(test_store_lookup_and_case_iteration),
    };
    return cmocka_run_group_tests_name("deadline", tests, setup, teardown);
}
