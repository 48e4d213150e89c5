/*
 * Events from the database for diff --db and export: the stored events
 * of the cases a selection takes, in the order of the log (gseq), read in
 * batches through the store, so that nothing holds the whole database.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/dbevents.h"
#include "base/strtab.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "service/config.h"

#define BATCH 20000
#define PROGRESS_EVERY 100000

typedef struct pass {
    const cw_dbsel *sel;
    cw_strtab *cases;        /* selected; NULL: every case */
    bool collecting;         /* first pass: fill cases */
    cw_dbevent_fn fn;
    void *ud;
    uint64_t last, read, given, next_note;
    int rc;
    const char *verb;
    FILE *progress;
    time_t t0;
} pass;

/* The envelope fields the selection looks at, from one body. */
static bool envelope(const char *body, size_t len, char *case_id, size_t csize, char *unit,
                     size_t usize, cw_time *at)
{
    json_t *o = json_loadb(body, len, 0, NULL);
    const char *c, *u, *t;
    bool ok;

    if (o == NULL)
        return false;
    c = json_string_value(json_object_get(o, "case"));
    u = json_string_value(json_object_get(o, "unit"));
    t = json_string_value(json_object_get(o, "at"));
    ok = c != NULL && u != NULL && t != NULL && cw_time_parse(t, strlen(t), at, NULL) == 0;
    if (ok) {
        snprintf(case_id, csize, "%s", c);
        snprintf(unit, usize, "%s", u);
    }
    json_decref(o);
    return ok;
}

static void note(pass *p, bool last)
{
    if (p->progress == NULL || (!last && p->read < p->next_note))
        return;
    p->next_note = p->read + PROGRESS_EVERY;
    fprintf(p->progress, "casewarden %s: %s%llu events read%s, %llu taken (%lld s)\n", p->verb,
            p->collecting ? "selecting cases: " : "", (unsigned long long)p->read,
            p->collecting ? "" : " from the database", (unsigned long long)p->given,
            (long long)(time(NULL) - p->t0));
}

static int row(void *ud, const cw_store_event *ev)
{
    pass *p = ud;
    char case_id[256], unit[64];
    cw_time at;

    p->last = ev->gseq;
    p->read++;
    if (p->collecting) {
        if (envelope(ev->body, ev->len, case_id, sizeof case_id, unit, sizeof unit, &at) &&
            case_id[0] != '\0' &&
            (p->sel->unit == NULL || strncmp(unit, p->sel->unit, strlen(p->sel->unit)) == 0) &&
            (p->sel->from == CW_TIME_NONE || at >= p->sel->from) &&
            (p->sel->to == CW_TIME_NONE || at <= p->sel->to)) {
            cw_strtab_intern(p->cases, case_id, strlen(case_id));
            p->given++;
        }
    } else {
        if (p->cases != NULL &&
            (!envelope(ev->body, ev->len, case_id, sizeof case_id, unit, sizeof unit, &at) ||
             case_id[0] == '\0' || cw_strtab_find(p->cases, case_id, strlen(case_id)) == UINT32_MAX))
            goto done;
        p->given++;
        if ((p->rc = p->fn(p->ud, ev)) != 0)
            return p->rc;
    }
done:
    note(p, false);
    return 0;
}

static int run_pass(cw_db *db, pass *p, cw_err *err)
{
    uint64_t before;

    p->last = p->read = p->given = 0;
    p->next_note = PROGRESS_EVERY;
    do {
        before = p->read;
        if (cw_store_events_after(db, p->last, BATCH, row, p, err) < 0)
            return -1;
        if (p->rc != 0)
            return p->rc;
    } while (p->read - before == BATCH);
    note(p, true);
    return 0;
}

int cw_cli_db_events(const char *verb, const cw_config *cfg, const cw_dbsel *sel, cw_dbevent_fn fn,
                     void *ud, FILE *progress, size_t *ncases, cw_err *err)
{
    pass p = { sel, NULL, false, fn, ud, 0, 0, 0, 0, 0, verb, progress, time(NULL) };
    cw_db *db;
    int rc;

    if (cw_db_connect(&db, &cfg->db, false, err) < 0 || cw_store_check_schema(db, cfg->db.name, err) < 0)
        return -1;
    *ncases = 0;
    if (sel->unit != NULL || sel->from != CW_TIME_NONE || sel->to != CW_TIME_NONE) {
        p.cases = cw_strtab_new();
        p.collecting = true;
        if ((rc = run_pass(db, &p, err)) != 0)
            goto out;
        *ncases = cw_strtab_count(p.cases) - 1;     /* id 0, the empty string, is no case */
        p.collecting = false;
    }
    rc = run_pass(db, &p, err);
out:
    cw_strtab_free(p.cases);
    cw_db_close(db);
    return rc;
}

int cw_cli_db_case_events(const cw_config *cfg, const char *case_id, cw_dbevent_fn fn, void *ud,
                          cw_err *err)
{
    cw_db *db;
    int rc;

    if (cw_db_connect(&db, &cfg->db, false, err) < 0 || cw_store_check_schema(db, cfg->db.name, err) < 0)
        return -1;
    rc = cw_store_case_events(db, case_id, fn, ud, err);
    cw_db_close(db);
    return rc;
}
