/*
 * A deadline whose completing event lives in another case (join, as
 * ALARM-ACCEPT): whatever the order the two events arrive in, and
 * whether the case of the first has left memory, or the engine was
 * written to a snapshot and read back in between, the finding is the one
 * a time-ordered run (eval) gives. The acceptance arrives first here,
 * its case leaves memory with the clock far ahead, then the alarm comes.
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

#include "base/util.h"
#include "core/engine_int.h"
#include "event/evjson.h"
#include "offline/eval.h"
#include "rules/ruleset.h"

#include "ruledir.h"

#define NOW "2026-06-01T00:00:00+08:00"

static const char *const events[] = {
    /* the acceptance, 25.5 h after the alarm: late */
    "{\"id\":\"b1\",\"type\":\"case.accepted\",\"case\":\"A1\",\"unit\":\"370103\","
    "\"at\":\"2026-04-21T23:30:00+08:00\",\"data\":{\"kind\":\"administrative\","
    "\"cause\":\"PSAL-50\",\"alarm\":\"J1\"}}",
    /* another case, weeks later: the clock moves on, A1 may leave memory */
    "{\"id\":\"z1\",\"type\":\"alarm.received\",\"case\":\"J9\",\"unit\":\"370103\","
    "\"at\":\"2026-05-31T10:00:00+08:00\",\"data\":{\"alarm\":\"J9\",\"category\":\"administrative\"}}",
    /* the alarm, arriving last */
    "{\"id\":\"a1\",\"type\":\"alarm.received\",\"case\":\"J1\",\"unit\":\"370103\","
    "\"at\":\"2026-04-20T22:00:00+08:00\",\"data\":{\"alarm\":\"J1\",\"category\":\"administrative\"}}",
    NULL
};

static int setup(void **state)
{
    char *cal;

    (void)state;
    strcpy(dir, "/tmp/cw-join-XXXXXX");
    assert_non_null(mkdtemp(dir));
    cal = cw_path_join(dir, "calendar");
    assert_int_equal(mkdir(cal, 0700), 0);
    free(cal);
    copy_file(CW_SRCDIR "/rules/catalogue.yaml", "catalogue.yaml");
    copy_file(CW_SRCDIR "/rules/calendar/2026.yaml", "calendar/2026.yaml");
    write_file("engine.yaml", "timezone: \"+08:00\"\nplugins: [deadline]\n");
    write_file("rules.lua",
               "deadline { id = \"ALARM\", title = \"接警后未及时受案\", severity = \"high\", basis = \"b\",\n"
               "  start = \"alarm.received\", stop = \"case.accepted\", join = \"alarm\",\n"
               "  subject = \"alarm\", period = { hours = 24 }, lead = { hours = 4 } }\n");
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static cw_time T(const char *s)
{
    cw_time t;

    if (cw_time_parse(s, strlen(s), &t, NULL) < 0)
        fail_msg("cannot parse '%s'", s);
    return t;
}

static cw_ruleset *load(cw_world *w)
{
    cw_load_opts lo = { CW_BUILDDIR "/plugins/.libs", NULL };
    cw_ruleset *rs = NULL;
    cw_err err = { 0 };

    if (cw_ruleset_load(&rs, w, dir, &lo, &err) < 0)
        fail_msg("rules did not load: %s", err.msg);
    return rs;
}

/* The state eval gives case J1, in time order. */
static void eval_state(char *out, size_t size)
{
    cw_world *w = cw_world_new();
    cw_ruleset *rs = load(w);
    cw_engine *e = cw_engine_new(w, rs);
    cw_eval *ev = cw_eval_new(e);
    cw_eval_opts o = { 0 };
    cw_eval_stats st = { 0 };
    cw_findings fs = { 0 };
    cw_err err;

    snprintf(out, size, "none");
    o.now = T(NOW);
    for (size_t i = 0; events[i] != NULL; i++)
        if (cw_eval_add(ev, events[i], strlen(events[i]), "t", i + 1, &o, &st, &err) != 0)
            fail_msg("event %zu refused: %s", i + 1, err.msg);
    cw_eval_run(ev, &o, &st);
    cw_eval_findings(ev, &fs);
    for (size_t i = 0; i < fs.n; i++)
        if (strcmp(fs.v[i].case_id, "J1") == 0)
            snprintf(out, size, "%s", cw_state_name(fs.v[i].state));
    cw_findings_free(&fs);
    cw_eval_free(ev);
    cw_engine_free(e);
    cw_ruleset_free(rs);
    cw_world_free(w);
}

/* ---- the engine as serve drives it, with a loader keeping images ---- */

#define MAXCASES 8

typedef struct shelf {
    char id[MAXCASES][16];
    uint8_t *image[MAXCASES];
    size_t len[MAXCASES];
    int n, saves;
} shelf;

static int shelf_save(void *ud, cw_engine *e, const char *case_id, const void *image, size_t len)
{
    shelf *sh = ud;
    int i;

    (void)e;
    for (i = 0; i < sh->n && strcmp(sh->id[i], case_id) != 0; i++)
        ;
    if (i == sh->n) {
        assert_true(sh->n < MAXCASES);
        snprintf(sh->id[sh->n++], sizeof sh->id[0], "%s", case_id);
    }
    free(sh->image[i]);
    sh->image[i] = cw_xmalloc(len ? len : 1);
    memcpy(sh->image[i], image, len);
    sh->len[i] = len;
    sh->saves++;
    return 0;
}

static int shelf_load(void *ud, cw_engine *e, const char *case_id)
{
    shelf *sh = ud;

    for (int i = 0; i < sh->n; i++)
        if (strcmp(sh->id[i], case_id) == 0)
            return cw_engine_load_image(e, sh->image[i], sh->len[i]);
    return 0;
}

static void shelf_free(shelf *sh)
{
    for (int i = 0; i < sh->n; i++)
        free(sh->image[i]);
}

typedef struct seen {
    char state[16];         /* J1's, "none" when withdrawn or never written */
} seen;

static int on_upsert(void *ud, const cw_finding *f, const char *events_json, uint64_t digest)
{
    seen *s = ud;

    (void)events_json;
    (void)digest;
    if (strcmp(f->case_id, "J1") == 0)
        snprintf(s->state, sizeof s->state, "%s", cw_state_name(f->state));
    return 0;
}

static int on_remove(void *ud, const char *rule, const char *case_id, const char *subject)
{
    seen *s = ud;

    (void)rule;
    (void)subject;
    if (strcmp(case_id, "J1") == 0)
        snprintf(s->state, sizeof s->state, "none");
    return 0;
}

typedef struct served {
    cw_world *w;
    cw_ruleset *rs;
    cw_engine *e;
    cw_evparser *p;
    shelf sh;
    seen s;
    uint8_t *rec;
    size_t cap;
} served;

static cw_engine *engine(served *x)
{
    cw_loader l = { shelf_load, shelf_save, &x->sh, NULL };
    cw_engine *e = cw_engine_new(x->w, x->rs);

    cw_engine_set_loader(e, &l, 86400);
    return e;
}

static void serve_open(served *x)
{
    memset(x, 0, sizeof *x);
    snprintf(x->s.state, sizeof x->s.state, "none");
    x->w = cw_world_new();
    x->rs = load(x->w);
    x->e = engine(x);
    x->p = cw_evparser_new();
}

static void serve_close(served *x)
{
    cw_engine_free(x->e);
    cw_evparser_free(x->p);
    cw_ruleset_free(x->rs);
    cw_world_free(x->w);
    shelf_free(&x->sh);
    free(x->rec);
}

/* Event i arrives as the seq-th of the log, and is judged. */
static void feed(served *x, size_t i, uint64_t seq)
{
    cw_event_error ee;
    cw_pevent pe;
    cw_case *c;
    cw_err err;
    bool in_order;

    assert_int_equal(cw_evparse(x->p, x->rs->cat, events[i], strlen(events[i]), &pe, &ee), 0);
    assert_true(cw_engine_encode(x->e, &pe, seq, &x->rec, &x->cap, &err) > 0);
    cw_engine_store(x->e, cw_engine_case_sid(x->e, pe.case_id.p, pe.case_id.len), x->rec, &c,
                    &in_order);
    cw_engine_catch_up(x->e, c, !in_order);
}

static void flush(served *x)
{
    cw_sink sink = { on_upsert, on_remove, &x->s };
    size_t changes;

    cw_engine_tick(x->e, T(NOW));
    assert_int_equal(cw_engine_flush(x->e, T(NOW), &sink, &changes), 0);
    cw_engine_flush_end(x->e, true);
}

/* The acceptance and the case that moves the clock, written; A1 leaves
 * memory. */
static void before_the_alarm(served *x)
{
    serve_open(x);
    feed(x, 0, 1);
    feed(x, 1, 2);
    flush(x);
    cw__sweep(x->e);
    assert_null(cw_engine_case(x->e, "A1"));
    assert_true(x->sh.saves >= 1);
}

static void test_alarm_after_its_acceptance(void **state)
{
    char want[16];
    served x;

    (void)state;
    eval_state(want, sizeof want);
    assert_string_equal(want, "late");
    before_the_alarm(&x);
    feed(&x, 2, 3);
    flush(&x);
    assert_string_equal(x.s.state, want);
    serve_close(&x);
}

static void test_alarm_after_a_restore(void **state)
{
    char want[16];
    cw_buf b = { 0 };
    served x;

    (void)state;
    eval_state(want, sizeof want);
    before_the_alarm(&x);
    /* written to a snapshot, and read back by another engine */
    assert_int_equal(cw_engine_snapshot(x.e, &b), 0);
    cw_engine_free(x.e);
    x.e = engine(&x);
    assert_int_equal(cw_engine_restore(x.e, b.p, b.n), 0);
    cw_buf_free(&b);
    flush(&x);
    assert_null(cw_engine_case(x.e, "A1"));
    feed(&x, 2, 3);
    flush(&x);
    assert_string_equal(x.s.state, want);
    serve_close(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alarm_after_its_acceptance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alarm_after_a_restore, setup, teardown),
    };

    return cmocka_run_group_tests_name("join", tests, NULL, NULL);
}
