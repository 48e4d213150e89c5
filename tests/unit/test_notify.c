/* notify.yaml's loader, routing, templates, quiet hours and signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/timeutil.h"
#include "notify/notify.h"

static cw_calendar *cal;

static const char good[] =
    "console: http://127.0.0.1:8080/console/\n"
    "delivery: {concurrency: 4, max_attempts: 3, backoff: 100ms, backoff_max: 2s}\n"
    "receivers:\n"
    "  - name: unit\n"
    "    url: http://127.0.0.1:9/unit\n"
    "    secret: topsecret\n"
    "    headers: {X-Source: casewarden}\n"
    "    quiet_hours: {working_hours: \"08:30-17:30\"}\n"
    "  - name: legal\n"
    "    url: http://127.0.0.1:9/legal\n"
    "    body: |\n"
    "      {\"text\": \"{{count}} 条: {{#findings}}{{message}}{{/findings}}\",\n"
    "       \"items\": [{{#findings}}{\"id\": {{id}}, \"msg\": {{message}}, \"k\": \"{{key}}\"}{{/findings}}],\n"
    "       \"key\": {{key}}, \"due\": {{due}}, \"link\": {{link}}}\n"
    "  - name: leader\n"
    "    url: https://example.org/leader\n"
    "route:\n"
    "  receiver: unit\n"
    "  group_by: [unit, rule]\n"
    "  group_wait: 2s\n"
    "  routes:\n"
    "    - match: {severity: [high, critical], transition: overdue}\n"
    "      receivers: [leader]\n"
    "      continue: true\n"
    "    - match: {unit: \"3702\"}\n"
    "      receiver: legal\n"
    "      group_by: [unit]\n"
    "      repeat_interval: 1d\n"
    "    - match: {rule: ADM-HANDLING}\n"
    "      routes:\n"
    "        - match: {transition: [late, cleared]}\n"
    "          receiver: legal\n"
    "escalations:\n"
    "  - name: overdue\n"
    "    levels:\n"
    "      - {delay: 0s, receivers: [unit]}\n"
    "      - {delay: 24h, when: not_acknowledged, receivers: [legal]}\n"
    "      - {delay: 2d, when: not_assigned, receivers: [leader]}\n";

static cw_notify *load(const char *text)
{
    cw_notify *n = NULL;
    cw_err err = { 0 };

    if (cw_notify_parse(&n, "notify.yaml", text, strlen(text), cal, 8 * 60, &err) < 0)
        fail_msg("%s", err.msg);
    return n;
}

static void refused(const char *text, const char *want)
{
    cw_notify *n = NULL;
    cw_err err = { 0 };

    assert_int_equal(cw_notify_parse(&n, "notify.yaml", text, strlen(text), cal, 8 * 60, &err),
                     CW_ECONFIG);
    assert_null(n);
    if (strstr(err.msg, want) == NULL)
        fail_msg("expected '%s' in: %s", want, err.msg);
}

static cw_notify_finding finding(const char *rule, const char *unit, const char *severity,
                                 const char *state)
{
    return (cw_notify_finding){ 42, rule, "A370102202600017", "", unit, severity, state, "open",
                                "行政案件办理超期", "治安管理处罚法", 1780000000, 1779000000, false };
}

static void loads(void **state)
{
    cw_notify *n = load(good);

    (void)state;
    assert_int_equal(n->nreceivers, 3);
    assert_int_equal(n->concurrency, 4);
    assert_int_equal(n->max_attempts, 3);
    assert_int_equal(n->backoff_ms, 100);
    assert_true(n->receivers[0].quiet);
    assert_int_equal(n->receivers[0].work_from, 8 * 60 + 30);
    assert_int_equal(n->nladders, 1);
    assert_int_equal(n->ladders[0].nlevels, 3);
    assert_int_equal(n->ladders[0].levels[1].delay_s, 86400);
    assert_int_equal(n->ladders[0].levels[0].when, CW_ESC_NOT_ACKNOWLEDGED);
    assert_int_equal(n->ladders[0].levels[2].when, CW_ESC_NOT_ASSIGNED);
    assert_int_equal(n->ladders[0].m.transitions, 1u << CW_TR_OVERDUE);
    assert_int_equal(n->root.repeat_s, 0);
    assert_int_equal(n->root.kids[1].repeat_s, 86400);
    cw_notify_free(n);
}

static void routes(void **state)
{
    cw_notify *n = load(good);
    cw_notify_hit h[8];
    cw_notify_finding f;
    size_t k;

    (void)state;
    /* high and overdue: the leader; a child matched, so not the top's
     * receiver (Alertmanager's rule) */
    f = finding("DET-24H", "370102", "high", "overdue");
    k = cw_notify_route_finding(n, &f, CW_TR_OVERDUE, h, 8);
    assert_int_equal(k, 1);
    assert_string_equal(n->receivers[h[0].receiver].name, "leader");
    assert_string_equal(h[0].group, "370102/DET-24H");
    /* in 3702: the leader, and (continue) the next route that matches */
    f = finding("DET-24H", "370211", "high", "overdue");
    k = cw_notify_route_finding(n, &f, CW_TR_OVERDUE, h, 8);
    assert_int_equal(k, 2);
    assert_string_equal(n->receivers[h[0].receiver].name, "leader");
    assert_string_equal(n->receivers[h[1].receiver].name, "legal");
    f = finding("DET-24H", "370102", "high", "overdue");
    /* the same raised: not the leader's route */
    k = cw_notify_route_finding(n, &f, CW_TR_RAISED, h, 8);
    assert_int_equal(k, 1);
    assert_string_equal(n->receivers[h[0].receiver].name, "unit");
    /* unit 3702...: first match wins, its own group_by */
    f = finding("DET-24H", "370211", "medium", "warning");
    k = cw_notify_route_finding(n, &f, CW_TR_RAISED, h, 8);
    assert_int_equal(k, 1);
    assert_string_equal(n->receivers[h[0].receiver].name, "legal");
    assert_string_equal(h[0].group, "370211");
    /* a nested route: ADM-HANDLING late goes to legal; raised falls back
     * to the ADM-HANDLING route, which inherits the top's receiver */
    f = finding("ADM-HANDLING", "370102", "medium", "late");
    k = cw_notify_route_finding(n, &f, CW_TR_LATE, h, 8);
    assert_int_equal(k, 1);
    assert_string_equal(n->receivers[h[0].receiver].name, "legal");
    k = cw_notify_route_finding(n, &f, CW_TR_RAISED, h, 8);
    assert_int_equal(k, 1);
    assert_string_equal(n->receivers[h[0].receiver].name, "unit");
    /* ladders match on their own */
    f = finding("ADM-HANDLING", "370102", "medium", "overdue");
    assert_true(cw_notify_match_finding(&n->ladders[0].m, &f, CW_TR_OVERDUE));
    assert_false(cw_notify_match_finding(&n->ladders[0].m, &f, CW_TR_RAISED));
    cw_notify_free(n);
}

static void errors(void **state)
{
    (void)state;
    refused("receivers:\n  - {name: a, url: http://x/}\nroute: {receiver: b}\n",
            "notify.yaml:3: no receiver named 'b'");
    refused("receivers:\n  - {name: a, url: ftp://x/}\nroute: {receiver: a}\n",
            "notify.yaml:2: receiver a: url 'ftp://x/' must start with http:// or https://");
    refused("receivers:\n  - {name: a, url: http://x/}\n  - {name: a, url: http://y/}\nroute: {receiver: a}\n",
            "notify.yaml:3: receiver 'a' is defined twice (first at line 2)");
    refused("receivers:\n  - {name: a, url: http://x/, colour: red}\nroute: {receiver: a}\n",
            "notify.yaml:2: receiver: unknown key 'colour'");
    refused("receivers:\n  - name: a\n    url: http://x/\n    body: |\n      {\"m\": \"{{mesage}}\"}\n"
            "route: {receiver: a}\n", "unknown name {{mesage}}");
    refused("receivers:\n  - name: a\n    url: http://x/\n    body: |\n      {\"m\": {{message}}\n"
            "route: {receiver: a}\n", "notify.yaml:4: receiver a: body: the template does not give JSON");
    /* a placeholder meant to be raw JSON inside a string cannot break out */
    refused("receivers:\n  - name: a\n    url: http://x/\n    body: '{\"m\": \"{{#findings}}\", \"n\": \"{{/findings}}\"}'\n"
            "route: {receiver: a}\n", "ends in another JSON string");
    refused("receivers:\n  - {name: a, url: http://x/}\nroute:\n  receiver: a\n  routes:\n"
            "    - match: {transition: overdu}\n", "notify.yaml:6: match.transition: 'overdu'");
    refused("receivers:\n  - {name: a, url: http://x/}\nroute: {receiver: a, repeat_interval: 0s}\n",
            "notify.yaml:3: repeat_interval must be at least 1s");
    refused("receivers:\n  - {name: a, url: http://x/}\nroute: {receiver: a, group_wait: soon}\n",
            "group_wait: 'soon' is not a duration");
    refused("receivers:\n  - {name: a, url: http://x/}\nroute: {receiver: a}\nescalations:\n"
            "  - name: e\n    levels:\n      - {delay: 1h, when: forgotten, receivers: [a]}\n",
            "notify.yaml:7: escalation e: when: 'forgotten'");
    refused("receivers:\n  - {name: a, url: http://x/, quiet_hours: {working_hours: \"18:00-08:00\"}}\n"
            "route: {receiver: a}\n", "working_hours: '18:00-08:00'");
}

static void renders(void **state)
{
    cw_notify *n = load(good);
    cw_notify_item it[2];
    cw_notify_msg m = { "legal", "370211", "grp:1", NULL, 0, it, 2 };
    json_error_t je;
    json_t *j;
    char *body;

    (void)state;
    it[0].f = finding("R1", "370211", "medium", "warning");
    it[0].f.message = "换行\n引号\"反斜杠\\";
    it[0].transition = CW_TR_RAISED;
    it[0].key = "42:raised:legal:1";
    it[1].f = finding("R1", "370211", "medium", "warning");
    it[1].f.id = 43;
    it[1].transition = CW_TR_OVERDUE;
    it[1].key = "43:overdue:legal:2";
    body = cw_notify_render(n, &n->receivers[1], &m, NULL);
    j = json_loads(body, 0, &je);
    if (j == NULL)
        fail_msg("%s: %s", body, je.text);
    assert_string_equal(json_string_value(json_object_get(j, "text")),
                        "2 条: 换行\n引号\"反斜杠\\; 行政案件办理超期");
    assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0),
                                                          "msg")), "换行\n引号\"反斜杠\\");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 1),
                                                          "k")), "43:overdue:legal:2");
    assert_string_equal(json_string_value(json_object_get(j, "key")), "grp:1");
    assert_string_equal(json_string_value(json_object_get(j, "due")), "2026-05-29T04:26:40+08:00");
    assert_string_equal(json_string_value(json_object_get(j, "link")),
                        "http://127.0.0.1:8080/console/#/case/A370102202600017?finding=42");
    json_decref(j);
    free(body);
    /* the default body is JSON too */
    body = cw_notify_render(n, &n->receivers[0], &m, NULL);
    j = json_loads(body, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 2);
    json_decref(j);
    free(body);
    cw_notify_free(n);
}

static cw_time at(const char *s)
{
    cw_time t;
    int off;

    assert_int_equal(cw_time_parse(s, strlen(s), &t, &off), 0);
    return t;
}

static void quiet_hours(void **state)
{
    cw_notify *n = load(good);
    const cw_notify_receiver *unit = &n->receivers[0], *legal = &n->receivers[1];

    (void)state;
    /* in working hours: at once */
    assert_int_equal(cw_notify_release_at(n, unit, at("2026-10-09T10:00:00+08:00"), false),
                     at("2026-10-09T10:00:00+08:00"));
    /* Friday evening before the 调休 Saturday: Saturday morning */
    assert_int_equal(cw_notify_release_at(n, unit, at("2026-10-09T18:00:00+08:00"), false),
                     at("2026-10-10T08:30:00+08:00"));
    /* the eve of 国庆: after the seven days off */
    assert_int_equal(cw_notify_release_at(n, unit, at("2026-09-30T20:00:00+08:00"), false),
                     at("2026-10-08T08:30:00+08:00"));
    /* a plain Saturday before a 调休 Sunday */
    assert_int_equal(cw_notify_release_at(n, unit, at("2026-09-19T10:00:00+08:00"), false),
                     at("2026-09-20T08:30:00+08:00"));
    /* early on a working day: its start */
    assert_int_equal(cw_notify_release_at(n, unit, at("2026-10-08T06:00:00+08:00"), false),
                     at("2026-10-08T08:30:00+08:00"));
    /* high goes at once; a receiver without quiet hours too */
    assert_int_equal(cw_notify_release_at(n, unit, at("2026-09-30T20:00:00+08:00"), true),
                     at("2026-09-30T20:00:00+08:00"));
    assert_int_equal(cw_notify_release_at(n, legal, at("2026-09-30T20:00:00+08:00"), false),
                     at("2026-09-30T20:00:00+08:00"));
    cw_notify_free(n);
}

static void conditions(void **state)
{
    cw_notify_finding f = finding("R", "370102", "high", "overdue");

    (void)state;
    assert_true(cw_notify_condition_holds(CW_ESC_STILL_OVERDUE, &f));
    assert_true(cw_notify_condition_holds(CW_ESC_NOT_ACKNOWLEDGED, &f));
    f.review = "acknowledged";
    assert_true(cw_notify_condition_holds(CW_ESC_STILL_OVERDUE, &f));
    assert_false(cw_notify_condition_holds(CW_ESC_NOT_ACKNOWLEDGED, &f));
    assert_true(cw_notify_condition_holds(CW_ESC_NOT_ASSIGNED, &f));
    f.review = "assigned";
    assert_false(cw_notify_condition_holds(CW_ESC_NOT_ASSIGNED, &f));
    f.review = "resolved";
    assert_false(cw_notify_condition_holds(CW_ESC_STILL_OVERDUE, &f));
    f.review = "open";
    f.exempted = true;
    assert_false(cw_notify_condition_holds(CW_ESC_STILL_OVERDUE, &f));
    f.exempted = false;
    f.state = "late";
    assert_false(cw_notify_condition_holds(CW_ESC_STILL_OVERDUE, &f));
    /* reminders go while a finding is open */
    f = finding("R", "370102", "medium", "warning");
    assert_true(cw_notify_is_open(&f));
    f.review = "assigned";
    assert_true(cw_notify_is_open(&f));
    f.review = "resolved";
    assert_false(cw_notify_is_open(&f));
    f.review = "open";
    f.state = "cleared";
    assert_false(cw_notify_is_open(&f));
    f.state = "overdue";
    f.exempted = true;
    assert_false(cw_notify_is_open(&f));
}

static void signature(void **state)
{
    char sig[72];

    (void)state;
    /* python3: hmac.new(b'topsecret', b'1780000000.{"a":1}', sha256) */
    cw_notify_sign("topsecret", 1780000000, "{\"a\":1}", 7, sig);
    assert_string_equal(sig, "sha256=dc26bc2f460bca1d94afb3257da616ea36175cf1010ac2560d475a9adbb6e86e");
}

static int setup(void **state)
{
    cw_err err;

    (void)state;
    if (cw_calendar_new(&cal, 8 * 60, &err) < 0 ||
        cw_calendar_load_dir(cal, CW_SRCDIR "/rules/calendar", &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cw_calendar_free(cal);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loads), cmocka_unit_test(routes), cmocka_unit_test(errors),
        cmocka_unit_test(renders), cmocka_unit_test(quiet_hours), cmocka_unit_test(conditions),
        cmocka_unit_test(signature),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
