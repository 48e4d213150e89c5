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

const char cw_api_finding_cols[] =
    "id, rule, case_id, subject, unit, severity, state, due, raised, message, basis, events, review";

json_t *cw_api_time(req *r, const char *epoch)
{
    char buf[40];

    if (epoch == NULL)
        return json_null();
    cw_time_format(strtoll(epoch, NULL, 10), cw_service_tz(r->a->s), buf, sizeof buf);
    return json_string(buf);
}

json_t *cw_api_finding_json(req *r, char **row)
{
    json_t *events = json_loads(row[11] ? row[11] : "[]", 0, NULL);

    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:o,s:s}",
                     "id", (json_int_t)strtoll(row[0], NULL, 10), "rule", row[1], "case", row[2],
                     "subject", row[3], "unit", row[4], "severity", row[5], "state", row[6],
                     "due", cw_api_time(r, row[7]), "raised", cw_api_time(r, row[8]),
                     "message", row[9], "basis", row[10], "events", events ? events : json_array(),
                     "review", row[12]);
}

/* ---- GET /v1/findings ---------------------------------------------------------- */

typedef struct listing {
    req *r;
    json_t *arr;
    size_t n, limit;
    char next[32];
} listing;

static int list_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    listing *l = ud;

    (void)lens;
    (void)ncols;
    if (l->n++ < l->limit) {
        json_array_append_new(l->arr, cw_api_finding_json(l->r, row));
        snprintf(l->next, sizeof l->next, "%s", row[0]);
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

void cw_api_get_findings(req *r)
{
    static const char *const states[] = {
        "warning", "overdue", "late", "violation", "anomaly", "cleared", NULL
    };
    static const char *const reviews[] = { "open", "acknowledged", "resolved", "dismissed", NULL };
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
    cw_buf q = { 0 };
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
                            "violation, anomaly or cleared");
    if (review && !one_of(review, reviews))
        return cw_api_error(r, 400, "bad_request", "review", "review must be open, acknowledged, "
                            "resolved or dismissed");
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
    cw_buf_printf(&q, "SELECT %s FROM findings WHERE id > %s", cw_api_finding_cols, cursor ? cursor : "0");
    if (r->who && r->who->role == CW_ROLE_INSPECTOR && r->who->unit[0])
        cw_buf_printf(&q, " AND unit LIKE '%s%%'", r->who->unit);
    if (unit)
        cw_buf_printf(&q, " AND unit LIKE '%s%%'", unit);
    if (rule) {
        cw_buf_puts(&q, " AND rule = ");
        cw_db_quotes(db, &q, rule);
    }
    if (case_id) {
        cw_buf_puts(&q, " AND case_id = ");
        cw_db_quotes(db, &q, case_id);
    }
    if (state)
        cw_buf_printf(&q, " AND state = '%s'", state);
    if (review)
        cw_buf_printf(&q, " AND review = '%s'", review);
    if (sev)
        cw_buf_printf(&q, " AND severity = '%s'", sev);
    if (rf != CW_TIME_NONE)
        cw_buf_printf(&q, " AND raised >= %lld", (long long)rf);
    if (rt != CW_TIME_NONE)
        cw_buf_printf(&q, " AND raised <= %lld", (long long)rt);
    if (df != CW_TIME_NONE)
        cw_buf_printf(&q, " AND due >= %lld", (long long)df);
    if (dt != CW_TIME_NONE)
        cw_buf_printf(&q, " AND due <= %lld", (long long)dt);
    cw_buf_printf(&q, " ORDER BY id LIMIT %zu", l.limit + 1);
    l.arr = json_array();
    if (cw_db_query(db, q.p, false, list_row, &l, &err) < 0) {
        json_decref(l.arr);
        cw_buf_free(&q);
        return cw_api_db_failed(r, &err);
    }
    cw_buf_free(&q);
    cw_api_json(r, 200, json_pack("{s:o,s:o}", "findings", l.arr, "next",
                                  l.n > l.limit ? json_string(l.next) : json_null()));
}

/* ---- one finding ------------------------------------------------------------------ */

typedef struct one {
    req *r;
    json_t *f;
    char unit[16];
    char review[16];
    char rule[72], case_id[260], subject[700];
} one;

static int one_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    one *o = ud;

    (void)lens;
    (void)ncols;
    o->f = cw_api_finding_json(o->r, row);
    snprintf(o->unit, sizeof o->unit, "%s", row[4]);
    snprintf(o->review, sizeof o->review, "%s", row[12]);
    snprintf(o->rule, sizeof o->rule, "%s", row[1]);
    snprintf(o->case_id, sizeof o->case_id, "%s", row[2]);
    snprintf(o->subject, sizeof o->subject, "%s", row[3]);
    return 0;
}

static int append_review(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    json_t *arr = ud;

    (void)lens;
    (void)ncols;
    json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s}",
                                         "id", (json_int_t)strtoll(row[0], NULL, 10),
                                         "action", row[1], "from", row[2], "to", row[3],
                                         "who", row[4], "comment", row[5], "at", row[6]));
    return 0;
}

static int append_event(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    json_t *arr = ud, *ev = json_loadb(row[1] ? row[1] : "", row[1] ? lens[1] : 0, 0, NULL);

    (void)ncols;
    json_array_append_new(arr, json_pack("{s:I,s:o}", "seq", (json_int_t)strtoll(row[0], NULL, 10),
                                         "event", ev ? ev : json_null()));
    return 0;
}

/* The finding with its evidence and review history, or NULL having
 * answered 404/503. */
static json_t *load_finding(req *r, cw_db *db, const char *id, one *o)
{
    cw_buf q = { 0 };
    json_t *events, *ev = json_array(), *reviews = json_array();
    cw_err err;
    int rc;

    o->r = r;
    cw_buf_printf(&q, "SELECT %s FROM findings WHERE id = %s", cw_api_finding_cols, id);
    rc = cw_db_query(db, q.p, false, one_row, o, &err);
    if (rc < 0) {
        cw_api_db_failed(r, &err);
        goto fail;
    }
    if (o->f == NULL || !cw_api_in_scope(r, o->unit)) {
        cw_api_error(r, 404, "not_found", NULL, "no finding %s", id);
        goto fail;
    }
    events = json_object_get(o->f, "events");
    if (json_array_size(events) > 0) {
        size_t i;
        json_t *v;
        q.n = 0;
        cw_buf_puts(&q, "SELECT seq, body FROM events WHERE id IN (");
        json_array_foreach(events, i, v) {
            if (i)
                cw_buf_put(&q, ",", 1);
            cw_db_quotes(db, &q, json_string_value(v) ? json_string_value(v) : "");
        }
        cw_buf_puts(&q, ") ORDER BY seq");
        if (cw_db_query(db, q.p, false, append_event, ev, &err) < 0) {
            cw_api_db_failed(r, &err);
            goto fail;
        }
    }
    q.n = 0;
    cw_buf_printf(&q, "SELECT id, action, previous, review, who, comment, "
                      "DATE_FORMAT(at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ') FROM finding_reviews "
                      "WHERE finding_id = %s ORDER BY id", id);
    if (cw_db_query(db, q.p, false, append_review, reviews, &err) < 0) {
        cw_api_db_failed(r, &err);
        goto fail;
    }
    cw_buf_free(&q);
    json_object_set_new(o->f, "evidence", ev);
    json_object_set_new(o->f, "reviews", reviews);
    return o->f;
fail:
    cw_buf_free(&q);
    json_decref(ev);
    json_decref(reviews);
    json_decref(o->f);
    o->f = NULL;
    return NULL;
}

static bool finding_id(req *r, const char *id)
{
    if (digits(id, 19))
        return true;
    cw_api_error(r, 404, "not_found", NULL, "no finding %s", id);
    return false;
}

void cw_api_get_finding(req *r, const char *id)
{
    one o = { 0 };
    json_t *f;
    cw_db *db;

    if (!finding_id(r, id) || (db = cw_api_db(r)) == NULL)
        return;
    if ((f = load_finding(r, db, id, &o)) != NULL)
        cw_api_json(r, 200, f);
}

/* ---- POST /v1/findings/{id}/review ------------------------------------------------ */

void cw_api_post_review(req *r, const char *id)
{
    static const struct {
        const char *action, *to;
        const char *from[4];
        bool comment;
    } moves[] = {
        { "acknowledge", "acknowledged", { "open", NULL }, false },
        { "resolve", "resolved", { "open", "acknowledged", NULL }, true },
        { "dismiss", "dismissed", { "open", "acknowledged", NULL }, true },
        { "reopen", "open", { "acknowledged", "resolved", "dismissed", NULL }, true },
    };
    json_error_t je;
    json_t *body, *f;
    const char *action, *comment;
    size_t m;
    one o = { 0 };
    cw_buf q = { 0 };
    cw_db *db;
    cw_err err;
    bool ok = false;

    if (!finding_id(r, id))
        return;
    body = json_loadb(r->body.p ? r->body.p : "", r->body.n, 0, &je);
    if (body == NULL)
        return cw_api_error(r, 400, "malformed_json", NULL, "%s at line %d, column %d (byte %d)",
                            je.text, je.line, je.column, je.position);
    action = json_string_value(json_object_get(body, "action"));
    comment = json_string_value(json_object_get(body, "comment"));
    for (m = 0; action && m < sizeof moves / sizeof *moves; m++)
        if (strcmp(action, moves[m].action) == 0)
            break;
    if (action == NULL || m == sizeof moves / sizeof *moves) {
        json_decref(body);
        return cw_api_error(r, 422, "invalid_review", "action", "action must be acknowledge, resolve, "
                            "dismiss or reopen");
    }
    if (json_object_get(body, "comment") && comment == NULL) {
        json_decref(body);
        return cw_api_error(r, 422, "invalid_review", "comment", "comment must be a string");
    }
    if (moves[m].comment && (comment == NULL || strspn(comment, " \t\r\n") == strlen(comment))) {
        json_decref(body);
        return cw_api_error(r, 422, "invalid_review", "comment", "a comment is required to %s",
                            moves[m].action);
    }
    if ((db = cw_api_db(r)) == NULL) {
        json_decref(body);
        return;
    }
    /* the review and the finding's new state, in one transaction */
    if (cw_db_begin(db, &err) < 0)
        goto dberr;
    o.r = r;
    cw_buf_printf(&q, "SELECT %s FROM findings WHERE id = %s FOR UPDATE", cw_api_finding_cols, id);
    if (cw_db_query(db, q.p, false, one_row, &o, &err) < 0)
        goto dberr;
    if (o.f == NULL || !cw_api_in_scope(r, o.unit)) {
        cw_db_rollback(db);
        cw_api_error(r, 404, "not_found", NULL, "no finding %s", id);
        goto out;
    }
    for (int k = 0; moves[m].from[k]; k++)
        ok = ok || strcmp(moves[m].from[k], o.review) == 0;
    if (!ok) {
        cw_db_rollback(db);
        cw_api_error(r, 409, "invalid_transition", "action", "a finding under review '%s' cannot be %s",
                     o.review, moves[m].to);
        goto out;
    }
    q.n = 0;
    cw_buf_printf(&q, "INSERT INTO finding_reviews (finding_id, rule, case_id, subject, action, previous,"
                      " review, who, comment) VALUES (%s,", id);
    cw_db_quotes(db, &q, o.rule);
    cw_buf_put(&q, ",", 1);
    cw_db_quotes(db, &q, o.case_id);
    cw_buf_put(&q, ",", 1);
    cw_db_quotes(db, &q, o.subject);
    cw_buf_printf(&q, ",'%s','%s','%s',", moves[m].action, o.review, moves[m].to);
    cw_db_quotes(db, &q, r->who ? r->who->name : "loopback");
    cw_buf_put(&q, ",", 1);
    cw_db_quotes(db, &q, comment ? comment : "");
    cw_buf_puts(&q, ")");
    if (cw_db_exec(db, q.p, &err) < 0)
        goto dberr;
    q.n = 0;
    cw_buf_printf(&q, "UPDATE findings SET review = '%s' WHERE id = %s", moves[m].to, id);
    if (cw_db_exec(db, q.p, &err) < 0 || cw_db_commit(db, &err) < 0)
        goto dberr;
    json_decref(o.f);
    memset(&o, 0, sizeof o);
    if ((f = load_finding(r, db, id, &o)) != NULL)
        cw_api_json(r, 200, f);
    goto out;
dberr:
    cw_db_rollback(db);
    json_decref(o.f);
    o.f = NULL;
    cw_api_db_failed(r, &err);
out:
    cw_buf_free(&q);
    json_decref(body);
}

/* ---- GET /v1/cases/{case} ------------------------------------------------------------ */

typedef struct tl {
    json_t **ev;
    cw_time *at;
    uint64_t *seq;
    size_t n, cap;
} tl;

static int case_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    tl *t = ud;
    json_t *ev = json_loadb(row[1] ? row[1] : "", row[1] ? lens[1] : 0, 0, NULL);
    const char *at = json_string_value(json_object_get(ev, "at"));
    cw_time when = CW_TIME_NONE;

    (void)ncols;
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
    t->seq[t->n] = strtoull(row[0], NULL, 10);
    t->n++;
    return 0;
}

static int found_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    json_t **pair = ud;

    (void)lens;
    (void)ncols;
    json_array_append_new(pair[0], cw_api_finding_json((req *)pair[1], row));
    return 0;
}

void cw_api_get_case(req *r, const char *case_id)
{
    tl t = { 0 };
    cw_buf q = { 0 };
    json_t *events, *findings, *pair[2];
    const char *unit = NULL;
    cw_time last = CW_TIME_NONE;
    cw_db *db;
    cw_err err;

    if (cw_check_case(case_id, strlen(case_id)) != NULL)
        return cw_api_error(r, 404, "not_found", NULL, "no case %s", case_id);
    if ((db = cw_api_db(r)) == NULL)
        return;
    cw_buf_puts(&q, "SELECT seq, body FROM events WHERE case_id = ");
    cw_db_quotes(db, &q, case_id);
    cw_buf_puts(&q, " ORDER BY seq");
    if (cw_db_query(db, q.p, false, case_row, &t, &err) < 0) {
        cw_buf_free(&q);
        return cw_api_db_failed(r, &err);
    }
    /* the timeline is ordered by `at`, then arrival: insertion sort,
     * timelines are short and nearly ordered */
    for (size_t i = 1; i < t.n; i++)
        for (size_t j = i; j > 0 && t.at[j] < t.at[j - 1]; j--) {
            json_t *e = t.ev[j];
            cw_time a = t.at[j];
            uint64_t s = t.seq[j];
            t.ev[j] = t.ev[j - 1], t.at[j] = t.at[j - 1], t.seq[j] = t.seq[j - 1];
            t.ev[j - 1] = e, t.at[j - 1] = a, t.seq[j - 1] = s;
        }
    for (size_t i = 0; i < t.n; i++)
        if (last == CW_TIME_NONE || t.at[i] >= last) {
            last = t.at[i];
            unit = json_string_value(json_object_get(t.ev[i], "unit"));
        }
    if (t.n == 0 || !cw_api_in_scope(r, unit)) {
        for (size_t i = 0; i < t.n; i++)
            json_decref(t.ev[i]);
        free(t.ev);
        free(t.at);
        free(t.seq);
        cw_buf_free(&q);
        return cw_api_error(r, 404, "not_found", NULL, "no case %s", case_id);
    }
    events = json_array();
    for (size_t i = 0; i < t.n; i++)
        json_array_append_new(events, json_pack("{s:I,s:o}", "seq", (json_int_t)t.seq[i], "event", t.ev[i]));
    findings = json_array();
    pair[0] = findings;
    pair[1] = (json_t *)r;
    q.n = 0;
    cw_buf_printf(&q, "SELECT %s FROM findings WHERE case_id = ", cw_api_finding_cols);
    cw_db_quotes(db, &q, case_id);
    cw_buf_puts(&q, " ORDER BY rule, subject");
    if (cw_db_query(db, q.p, false, found_row, pair, &err) < 0) {
        json_decref(events);
        json_decref(findings);
        free(t.ev);
        free(t.at);
        free(t.seq);
        cw_buf_free(&q);
        return cw_api_db_failed(r, &err);
    }
    cw_api_json(r, 200, json_pack("{s:s,s:s,s:o,s:o}", "case", case_id, "unit", unit ? unit : "",
                                  "timeline", events, "findings", findings));
    free(t.ev);
    free(t.at);
    free(t.seq);
    cw_buf_free(&q);
}
