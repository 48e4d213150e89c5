/*
 * Findings, reviews and cases for inspectors. An inspector sees only the
 * findings and cases of units under their prefix; anything else is "not
 * found", so that its existence does not leak.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/log.h"
#include "base/timeutil.h"

json_t *cw_api_time(req *r, cw_time t)
{
    char buf[40];

    if (t == CW_TIME_NONE)
        return json_null();
    cw_time_format(t, cw_service_tz(r->a->s), buf, sizeof buf);
    return json_string(buf);
}

json_t *cw_api_finding_json(req *r, const cw_store_finding *f)
{
    json_t *events = json_loads(f->events ? f->events : "[]", 0, NULL);

    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:o,s:s}",
                     "id", (json_int_t)f->id, "rule", f->rule, "case", f->case_id,
                     "subject", f->subject, "unit", f->unit, "severity", f->severity,
                     "state", f->state, "due", cw_api_time(r, f->due),
                     "raised", cw_api_time(r, f->raised), "message", f->message, "basis", f->basis,
                     "events", events ? events : json_array(), "review", f->review);
}

/* ---- GET /v1/findings ---------------------------------------------------------- */

typedef struct listing {
    req *r;
    json_t *arr;
    size_t n, limit;
    char next[32];
} listing;

static int list_row(void *ud, const cw_store_finding *f)
{
    listing *l = ud;

    if (l->n++ < l->limit) {
        json_array_append_new(l->arr, cw_api_finding_json(l->r, f));
        snprintf(l->next, sizeof l->next, "%lld", (long long)f->id);
    }
    return 0;
}

static bool one_of(const char *v, const char *const *set)
{
    for (int i = 0; set[i]; i++)
        if (strcmp(v, set[i]) == 0)
            return true;
    return false;
}

static bool digits(const char *v, size_t max)
{
    size_t n = strlen(v);

    return n > 0 && n <= max && strspn(v, "0123456789") == n;
}

/* A time filter: RFC 3339 into epoch seconds. */
static bool time_arg(req *r, const char *name, cw_time *out)
{
    const char *v = cw_api_arg(r, name);

    if (v == NULL)
        return true;
    if (cw_time_parse(v, strlen(v), out, NULL) == 0)
        return true;
    cw_api_error(r, 400, "bad_request", name, "%s must be an RFC 3339 time with offset "
                 "(2026-03-02T09:30:00+08:00)", name);
    return false;
}

typedef struct argcheck {
    const char *const *known;
    const char *bad;
} argcheck;

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    argcheck *ac = cls;

    (void)kind;
    (void)value;
    if (!one_of(key, ac->known)) {
        ac->bad = key;
        return MHD_NO;
    }
    return MHD_YES;
}

void cw_api_get_findings(req *r, const char *arg)
{
    (void)arg;
    static const char *const states[] = {
        "warning", "overdue", "late", "violation", "anomaly", "cleared", "withdrawn", NULL
    };
    static const char *const reviews[] = { "open", "acknowledged", "assigned", "resolved",
                                           "dismissed", "reopened", NULL };
    static const char *const sevs[] = { "low", "medium", "high", "critical", NULL };
    static const char *const known[] = {
        "rule", "state", "review", "unit", "case", "severity", "raised_from", "raised_to",
        "due_from", "due_to", "limit", "cursor", NULL
    };
    const char *rule = cw_api_arg(r, "rule"), *state = cw_api_arg(r, "state"),
               *review = cw_api_arg(r, "review"), *unit = cw_api_arg(r, "unit"),
               *case_id = cw_api_arg(r, "case"), *sev = cw_api_arg(r, "severity"),
               *lim = cw_api_arg(r, "limit"), *cursor = cw_api_arg(r, "cursor");
    cw_time rf = CW_TIME_NONE, rt = CW_TIME_NONE, df = CW_TIME_NONE, dt = CW_TIME_NONE;
    listing l = { r, NULL, 0, 100, "" };
    cw_finding_query q = { 0 };
    argcheck ac = { known, NULL };
    cw_db *db;
    cw_err err;

    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_arg, &ac);
    if (ac.bad != NULL)
        return cw_api_error(r, 400, "bad_request", ac.bad, "unknown filter '%s' (rule, state, review, "
                            "unit, case, severity, raised_from, raised_to, due_from, due_to, limit, "
                            "cursor)", ac.bad);
    if (state && !one_of(state, states))
        return cw_api_error(r, 400, "bad_request", "state", "state must be warning, overdue, late, "
                            "violation, anomaly, cleared or withdrawn");
    if (review && !one_of(review, reviews))
        return cw_api_error(r, 400, "bad_request", "review", "review must be open, acknowledged, "
                            "assigned, resolved, dismissed or reopened");
    if (sev && !one_of(sev, sevs))
        return cw_api_error(r, 400, "bad_request", "severity", "severity must be low, medium, high "
                            "or critical");
    if (unit && !digits(unit, 12))
        return cw_api_error(r, 400, "bad_request", "unit", "unit is a unit code prefix (1-12 digits)");
    if (cursor && !digits(cursor, 19))
        return cw_api_error(r, 400, "bad_request", "cursor", "cursor is the `next` of a previous page");
    if (lim) {
        char *end;
        unsigned long v = strtoul(lim, &end, 10);
        if (*end || v == 0 || v > r->a->cfg->page_max)
            return cw_api_error(r, 400, "bad_request", "limit", "limit must be 1-%u", r->a->cfg->page_max);
        l.limit = v;
    }
    if (!time_arg(r, "raised_from", &rf) || !time_arg(r, "raised_to", &rt) ||
        !time_arg(r, "due_from", &df) || !time_arg(r, "due_to", &dt))
        return;
    if ((db = cw_api_db(r)) == NULL)
        return;
    q.scope = r->who && r->who->role == CW_ROLE_INSPECTOR ? r->who->unit : NULL;
    q.unit = unit;
    q.rule = rule;
    q.case_id = case_id;
    q.state = state;
    q.review = review;
    q.severity = sev;
    q.raised_from = rf;
    q.raised_to = rt;
    q.due_from = df;
    q.due_to = dt;
    q.after_id = cursor ? strtoll(cursor, NULL, 10) : 0;
    q.limit = (unsigned)l.limit + 1;
    l.arr = json_array();
    if (cw_store_findings(db, &q, list_row, &l, &err) < 0) {
        json_decref(l.arr);
        return cw_api_db_failed(r, &err);
    }
    cw_api_json(r, 200, json_pack("{s:o,s:o}", "findings", l.arr, "next",
                                  l.n > l.limit ? json_string(l.next) : json_null()));
}

/* ---- one finding ------------------------------------------------------------------ */

typedef struct one {
    req *r;
    json_t *f;
    char unit[16];
} one;

static int one_row(void *ud, const cw_store_finding *f)
{
    one *o = ud;

    o->f = cw_api_finding_json(o->r, f);
    snprintf(o->unit, sizeof o->unit, "%s", f->unit);
    return 0;
}

static int append_review(void *ud, const cw_store_review *v)
{
    one *o = ud;

    json_array_append_new(json_object_get(o->f, "reviews"),
                          json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:o}", "id", (json_int_t)v->id,
                                    "action", v->action, "from", v->from, "to", v->to, "who", v->who,
                                    "comment", v->comment, "at", cw_api_time(o->r, v->at)));
    return 0;
}

static int append_event(void *ud, const char *id, uint64_t seq, const char *body, size_t len)
{
    json_t *arr = ud, *ev = json_loadb(body ? body : "", len, 0, NULL);

    (void)id;
    json_array_append_new(arr, json_pack("{s:I,s:o}", "seq", (json_int_t)seq, "event",
                                         ev ? ev : json_null()));
    return 0;
}

/* The finding with its evidence and review history, or NULL having
 * answered 404/503. */
static json_t *load_finding(req *r, cw_db *db, int64_t id, one *o)
{
    json_t *events, *ev = json_array();
    const char **ids = NULL;
    cw_err err;
    size_t n;

    o->r = r;
    if (cw_store_finding_get(db, id, one_row, o, &err) < 0) {
        cw_api_db_failed(r, &err);
        goto fail;
    }
    if (o->f == NULL || !cw_api_in_scope(r, o->unit)) {
        cw_api_error(r, 404, "not_found", NULL, "no finding %lld", (long long)id);
        goto fail;
    }
    events = json_object_get(o->f, "events");
    if ((n = json_array_size(events)) > 0) {
        ids = cw_xmalloc(n * sizeof *ids);
        for (size_t i = 0; i < n; i++) {
            const char *s = json_string_value(json_array_get(events, i));
            ids[i] = s ? s : "";
        }
        if (cw_store_events_by_id(db, ids, n, true, append_event, ev, &err) < 0) {
            cw_api_db_failed(r, &err);
            goto fail;
        }
    }
    json_object_set_new(o->f, "evidence", ev);
    ev = NULL;
    json_object_set_new(o->f, "reviews", json_array());
    if (cw_store_reviews(db, id, append_review, o, &err) < 0) {
        cw_api_db_failed(r, &err);
        goto fail;
    }
    free(ids);
    return o->f;
fail:
    free(ids);
    json_decref(ev);
    json_decref(o->f);
    o->f = NULL;
    return NULL;
}

static bool finding_id(req *r, const char *id, int64_t *out)
{
    if (digits(id, 18)) {
        *out = strtoll(id, NULL, 10);
        return true;
    }
    cw_api_error(r, 404, "not_found", NULL, "no finding %s", id);
    return false;
}

void cw_api_get_finding(req *r, const char *id)
{
    one o = { 0 };
    json_t *f;
    int64_t fid;
    cw_db *db;

    if (!finding_id(r, id, &fid) || (db = cw_api_db(r)) == NULL)
        return;
    if ((f = load_finding(r, db, fid, &o)) != NULL)
        cw_api_json(r, 200, f);
}

/* ---- POST /v1/findings/{id}/review ------------------------------------------------ */

void cw_api_post_review(req *r, const char *id)
{
    json_error_t je;
    json_t *body, *f;
    const char *action, *comment;
    const cw_review_move *m;
    one o = { 0 };
    int64_t fid;
    cw_db *db;
    cw_err err;
    int rc;

    if (!finding_id(r, id, &fid))
        return;
    body = json_loadb(r->body.p ? r->body.p : "", r->body.n, 0, &je);
    if (body == NULL)
        return cw_api_error(r, 400, "malformed_json", NULL, "%s at line %d, column %d (byte %d)",
                            je.text, je.line, je.column, je.position);
    action = json_string_value(json_object_get(body, "action"));
    comment = json_string_value(json_object_get(body, "comment"));
    if ((m = cw_review_move_find(action)) == NULL) {
        json_decref(body);
        return cw_api_error(r, 422, "invalid_review", "action", "action must be %s",
                            cw_review_actions());
    }
    if (json_object_get(body, "comment") && comment == NULL) {
        json_decref(body);
        return cw_api_error(r, 422, "invalid_review", "comment", "comment must be a string");
    }
    if (m->comment && (comment == NULL || strspn(comment, " \t\r\n") == strlen(comment))) {
        json_decref(body);
        return cw_api_error(r, 422, "invalid_review", "comment", "a comment is required to %s",
                            m->action);
    }
    if ((db = cw_api_db(r)) == NULL) {
        json_decref(body);
        return;
    }
    rc = cw_store_review_apply(db, fid, r->who && r->who->role == CW_ROLE_INSPECTOR ? r->who->unit : NULL,
                         m, r->who ? r->who->name : "loopback", comment,
                         cw_service_now(r->a->s), &err);
    if (rc == CW_ENOTFOUND)
        cw_api_error(r, 404, "not_found", NULL, "no finding %s", id);
    else if (rc == CW_ECONFLICT)
        cw_api_error(r, 409, "invalid_transition", "action", "%s", err.msg);
    else if (rc < 0)
        cw_api_db_failed(r, &err);
    else if ((f = load_finding(r, db, fid, &o)) != NULL)
        cw_api_json(r, 200, f);
    json_decref(body);
}

/* ---- GET /v1/cases/{case} ------------------------------------------------------------ */

typedef struct tl {
    json_t **ev;
    cw_time *at;
    uint64_t *seq;
    size_t n, cap;
} tl;

static int case_event(void *ud, const cw_store_event *row)
{
    tl *t = ud;
    json_t *ev = json_loadb(row->body, row->len, 0, NULL);
    const char *at = json_string_value(json_object_get(ev, "at"));
    cw_time when = CW_TIME_NONE;

    if (ev == NULL)
        return 0;
    if (at)
        cw_time_parse(at, strlen(at), &when, NULL);
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->ev = cw_xrealloc(t->ev, t->cap * sizeof *t->ev);
        t->at = cw_xrealloc(t->at, t->cap * sizeof *t->at);
        t->seq = cw_xrealloc(t->seq, t->cap * sizeof *t->seq);
    }
    t->ev[t->n] = ev;
    t->at[t->n] = when;
    t->seq[t->n] = row->seq;
    t->n++;
    return 0;
}

static void tl_free(tl *t)
{
    for (size_t i = 0; i < t->n; i++)
        json_decref(t->ev[i]);
    free(t->ev);
    free(t->at);
    free(t->seq);
}

/* The timeline is ordered by `at`, then arrival: insertion sort, as
 * timelines are short and nearly ordered. */
static void tl_sort(tl *t)
{
    for (size_t i = 1; i < t->n; i++)
        for (size_t j = i; j > 0 && t->at[j] < t->at[j - 1]; j--) {
            json_t *e = t->ev[j];
            cw_time a = t->at[j];
            uint64_t s = t->seq[j];
            t->ev[j] = t->ev[j - 1], t->at[j] = t->at[j - 1], t->seq[j] = t->seq[j - 1];
            t->ev[j - 1] = e, t->at[j - 1] = a, t->seq[j - 1] = s;
        }
}

static const char *ev_str(json_t *ev, const char *key)
{
    return json_string_value(json_object_get(ev, key));
}

/* The unit that owns the case (docs/DESIGN.md "Findings"): the receiving
 * unit of its latest case.transferred_unit, else the unit of its first
 * case.accepted, else of its first event. The same rule as the engine's. */
static const char *tl_owner(const tl *t)
{
    const char *owner = NULL, *accepted = NULL;

    for (size_t i = 0; i < t->n; i++) {
        const char *type = ev_str(t->ev[i], "type");
        if (type && strcmp(type, "case.transferred_unit") == 0)
            owner = ev_str(t->ev[i], "unit");
        else if (type && strcmp(type, "case.accepted") == 0 && accepted == NULL)
            accepted = ev_str(t->ev[i], "unit");
    }
    if (owner == NULL)
        owner = accepted;
    if (owner == NULL && t->n > 0)
        owner = ev_str(t->ev[0], "unit");
    return owner;
}

static int found_row(void *ud, const cw_store_finding *f)
{
    json_t **pair = ud;

    json_array_append_new(pair[0], cw_api_finding_json((req *)pair[1], f));
    return 0;
}

void cw_api_get_case(req *r, const char *case_id)
{
    tl t = { 0 };
    json_t *events, *findings, *pair[2];
    const char *unit;
    cw_db *db;
    cw_err err;

    if (cw_check_case(case_id, strlen(case_id)) != NULL)
        return cw_api_error(r, 404, "not_found", NULL, "no case %s", case_id);
    if ((db = cw_api_db(r)) == NULL)
        return;
    if (cw_store_case_events(db, case_id, case_event, &t, &err) < 0) {
        tl_free(&t);
        return cw_api_db_failed(r, &err);
    }
    tl_sort(&t);
    unit = tl_owner(&t);
    if (t.n == 0 || !cw_api_in_scope(r, unit)) {
        tl_free(&t);
        return cw_api_error(r, 404, "not_found", NULL, "no case %s", case_id);
    }
    events = json_array();
    for (size_t i = 0; i < t.n; i++)
        json_array_append_new(events, json_pack("{s:I,s:O}", "seq", (json_int_t)t.seq[i], "event",
                                                t.ev[i]));
    findings = json_array();
    pair[0] = findings;
    pair[1] = (json_t *)r;
    if (cw_store_case_findings(db, case_id, found_row, pair, &err) < 0) {
        json_decref(events);
        json_decref(findings);
        tl_free(&t);
        return cw_api_db_failed(r, &err);
    }
    cw_api_json(r, 200, json_pack("{s:s,s:s,s:o,s:o}", "case", case_id, "unit", unit ? unit : "",
                                  "timeline", events, "findings", findings));
    tl_free(&t);
}
