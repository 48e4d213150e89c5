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
    cw_time_format(t, cw_group_tz(r->a->g), buf, sizeof buf);
    return json_string(buf);
}

json_t *cw_api_finding_json(req *r, const cw_store_finding *f)
{
    json_t *events = json_loads(f->events ? f->events : "[]", 0, NULL);
    cw_time now = cw_group_now(r->a->g);
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:o,s:s}",
                          "id", (json_int_t)f->id, "rule", f->rule, "case", f->case_id,
                          "subject", f->subject, "unit", f->unit, "severity", f->severity,
                          "state", f->state, "due", cw_api_time(r, f->due),
                          "raised", cw_api_time(r, f->raised), "message", f->message, "basis", f->basis,
                          "events", events ? events : json_array(), "review", f->review);

    json_object_set_new(o, "lead", f->lead > 0 ? json_integer((json_int_t)f->lead) : json_null());
    json_object_set_new(o, "warning_from", f->lead > 0 && f->due != CW_TIME_NONE ?
                        cw_api_time(r, f->due - f->lead) : json_null());
    json_object_set_new(o, "assignee", f->assignee ? json_pack("{s:s,s:s}", "kind",
                        f->assignee_kind ? f->assignee_kind : "unit", "id", f->assignee) : json_null());
    json_object_set_new(o, "rect_due", cw_api_time(r, f->rect_due));
    json_object_set_new(o, "rect_overdue", json_boolean(strcmp(f->review, "assigned") == 0 &&
                                                        f->rect_due != CW_TIME_NONE && f->rect_due < now));
    json_object_set_new(o, "resolved_at", cw_api_time(r, f->resolved_at));
    json_object_set_new(o, "exempt", json_boolean(f->exemption > 0));
    json_object_set_new(o, "rule_version", f->rule_version ? json_string(f->rule_version) : json_null());
    json_object_set_new(o, "program", f->program ? json_string(f->program) : json_null());
    json_object_set_new(o, "override", f->override_unit ? json_pack("{s:s,s:s}", "unit", f->override_unit,
                        "at", f->override_at ? f->override_at : "") : json_null());
    return o;
}

/* ---- GET /v1/findings ---------------------------------------------------------- */

typedef struct listing {
    req *r;
    json_t *arr;
    size_t n, limit;
    int sort;
    char next[48];
} listing;

static int list_row(void *ud, const cw_store_finding *f)
{
    listing *l = ud;

    if (l->n++ < l->limit) {
        json_array_append_new(l->arr, cw_api_finding_json(l->r, f));
        if (l->sort == CW_SORT_ID)
            snprintf(l->next, sizeof l->next, "%lld", (long long)f->id);
        else
            snprintf(l->next, sizeof l->next, "%lld_%lld", (long long)cw_store_sort_key(f, l->sort),
                     (long long)f->id);
    }
    return 0;
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

static bool bool_arg(req *r, const char *name, bool *out)
{
    const char *v = cw_api_arg(r, name);

    if (v == NULL)
        return true;
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
        *out = strcmp(v, "true") == 0;
        return true;
    }
    cw_api_error(r, 400, "bad_request", name, "%s is true or false", name);
    return false;
}

/* The cursor: an id (in id order) or "KEY_ID" (in another). */
static bool cursor_arg(req *r, int sort, cw_finding_query *q)
{
    const char *v = cw_api_arg(r, "cursor"), *us;
    char *end;

    if (v == NULL)
        return true;
    if (sort == CW_SORT_ID && cw_api_digits(v, 19)) {
        q->after_id = strtoll(v, NULL, 10);
        return true;
    }
    if (sort != CW_SORT_ID && (us = strchr(v, '_')) != NULL && cw_api_digits(us + 1, 19)) {
        q->after_key = strtoll(v, &end, 10);
        if (end == us && end != v) {
            q->after_id = strtoll(us + 1, NULL, 10);
            return true;
        }
    }
    cw_api_error(r, 400, "bad_request", "cursor", "cursor is the `next` of a previous page with the same sort");
    return false;
}

static bool sort_arg(req *r, int *sort)
{
    static const struct { const char *name; int sort; } sorts[] = {
        { "id", CW_SORT_ID }, { "due", CW_SORT_DUE }, { "-due", -CW_SORT_DUE }, { "raised", CW_SORT_RAISED },
        { "-raised", -CW_SORT_RAISED }, { "rect_due", CW_SORT_RECT_DUE }, { "-rect_due", -CW_SORT_RECT_DUE },
    };
    const char *v = cw_api_arg(r, "sort");

    *sort = CW_SORT_ID;
    if (v == NULL)
        return true;
    for (size_t i = 0; i < sizeof sorts / sizeof *sorts; i++)
        if (strcmp(v, sorts[i].name) == 0) {
            *sort = sorts[i].sort;
            return true;
        }
    cw_api_error(r, 400, "bad_request", "sort", "sort is id, due, -due, raised, -raised, rect_due or -rect_due");
    return false;
}

/* The lists of a query, kept until the answer is written. */
enum { L_RULE, L_STATE, L_REVIEW, L_UNIT, L_CASE, L_SEV, L_ASSIGNEE, L_COUNTS, NLISTS };

static cw_strs strs(const cw_apilist *l)
{
    return (cw_strs){ l->v, l->n };
}

typedef struct facets {
    json_t *obj;
} facets;

static int facet_row(void *ud, const char *value, uint64_t n)
{
    json_object_set_new(ud, value, json_integer((json_int_t)n));
    return 0;
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
    static const char *const facets_by[] = { "rule", "unit", "state", "review", "severity", NULL };
    static const char *const known[] = {
        "rule", "state", "review", "unit", "case", "severity", "assignee", "raised_from", "raised_to",
        "due_from", "due_to", "rect_due_from", "rect_due_to", "rect_overdue", "exempt", "sort", "limit",
        "cursor", "counts", NULL
    };
    const char *exempt = cw_api_arg(r, "exempt");
    cw_apilist ls[NLISTS] = { 0 };
    listing l = { r, NULL, 0, 100, 0, "" };
    cw_finding_query q = { 0 };
    json_t *out, *counts = NULL;
    uint64_t total = 0;
    cw_db *db;
    cw_err err;

    q.raised_from = q.raised_to = q.due_from = q.due_to = q.rect_due_from = q.rect_due_to = CW_TIME_NONE;
    if (!cw_api_known_args(r, known) || !cw_api_list(r, "rule", NULL, CW_API_ASCII, &ls[L_RULE]) ||
        !cw_api_list(r, "state", states, 0, &ls[L_STATE]) || !cw_api_list(r, "review", reviews, 0, &ls[L_REVIEW]) ||
        !cw_api_list(r, "unit", NULL, 12, &ls[L_UNIT]) || !cw_api_list(r, "case", NULL, 0, &ls[L_CASE]) ||
        !cw_api_list(r, "severity", sevs, 0, &ls[L_SEV]) || !cw_api_list(r, "assignee", NULL, 0, &ls[L_ASSIGNEE]) ||
        !cw_api_list(r, "counts", facets_by, 0, &ls[L_COUNTS]))
        goto out;
    if (!cw_api_limit(r, &l.limit))
        goto out;
    if (exempt && strcmp(exempt, "false") != 0 && strcmp(exempt, "true") != 0 && strcmp(exempt, "any") != 0) {
        cw_api_error(r, 400, "bad_request", "exempt", "exempt is false (the default: exempted findings left "
                     "out), true (only those) or any");
        goto out;
    }
    q.exempt = exempt == NULL || strcmp(exempt, "false") == 0 ? CW_EXEMPT_NO :
               strcmp(exempt, "true") == 0 ? CW_EXEMPT_ONLY : CW_EXEMPT_ANY;
    if (!time_arg(r, "raised_from", &q.raised_from) || !time_arg(r, "raised_to", &q.raised_to) ||
        !time_arg(r, "due_from", &q.due_from) || !time_arg(r, "due_to", &q.due_to) ||
        !time_arg(r, "rect_due_from", &q.rect_due_from) || !time_arg(r, "rect_due_to", &q.rect_due_to) ||
        !bool_arg(r, "rect_overdue", &q.rect_overdue) || !sort_arg(r, &q.sort) || !cursor_arg(r, q.sort, &q))
        goto out;
    if ((db = cw_api_db(r)) == NULL)
        goto out;
    q.scope = cw_api_scope(r);
    q.unit = strs(&ls[L_UNIT]);
    q.rule = strs(&ls[L_RULE]);
    q.case_id = strs(&ls[L_CASE]);
    q.state = strs(&ls[L_STATE]);
    q.review = strs(&ls[L_REVIEW]);
    q.severity = strs(&ls[L_SEV]);
    q.assignee = strs(&ls[L_ASSIGNEE]);
    q.now = cw_group_now(r->a->g);
    q.limit = (unsigned)l.limit + 1;
    l.sort = q.sort;
    l.arr = json_array();
    if (cw_store_findings(db, &q, list_row, &l, &err) < 0 || cw_store_findings_total(db, &q, &total, &err) < 0) {
        json_decref(l.arr);
        cw_api_db_failed(r, &err);
        goto out;
    }
    if (ls[L_COUNTS].n > 0) {
        counts = json_object();
        for (size_t i = 0; i < ls[L_COUNTS].n; i++) {
            json_t *by = json_object();
            json_object_set_new(counts, ls[L_COUNTS].v[i], by);
            if (cw_store_findings_facet(db, &q, ls[L_COUNTS].v[i], facet_row, by, &err) < 0) {
                json_decref(l.arr);
                json_decref(counts);
                cw_api_db_failed(r, &err);
                goto out;
            }
        }
    }
    out = json_pack("{s:o,s:o,s:I}", "findings", l.arr, "next", l.n > l.limit ? json_string(l.next) : json_null(),
                    "total", (json_int_t)total);
    if (counts)
        json_object_set_new(out, "counts", counts);
    cw_api_json(r, 200, out);
out:
    for (int i = 0; i < NLISTS; i++)
        cw_apilist_free(&ls[i]);
}

/* ---- one finding ------------------------------------------------------------------ */

typedef struct one {
    req *r;
    json_t *f;
    char unit[16], review[16];
} one;

static int one_row(void *ud, const cw_store_finding *f)
{
    one *o = ud;

    o->f = cw_api_finding_json(o->r, f);
    snprintf(o->unit, sizeof o->unit, "%s", f->unit);
    snprintf(o->review, sizeof o->review, "%s", f->review);
    return 0;
}

static int append_review(void *ud, const cw_store_review *v)
{
    one *o = ud;
    json_t *row = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:o}", "id", (json_int_t)v->id, "action", v->action,
                            "from", v->from, "to", v->to, "who", v->who, "comment", v->comment, "at",
                            cw_api_time(o->r, v->at));
    json_t *ev = v->evidence ? json_loads(v->evidence, 0, NULL) : NULL;

    if (v->assignee)
        json_object_set_new(row, "assignee", json_pack("{s:s,s:s}", "kind",
                            v->assignee_kind ? v->assignee_kind : "unit", "id", v->assignee));
    if (v->rect_due != CW_TIME_NONE)
        json_object_set_new(row, "rect_due", cw_api_time(o->r, v->rect_due));
    if (ev)
        json_object_set_new(row, "evidence", ev);
    json_array_append_new(json_object_get(o->f, "reviews"), row);
    return 0;
}

static int append_exemption(void *ud, const cw_store_exemption *x)
{
    one *o = ud;
    cw_time now = cw_group_now(o->r->a->g);
    bool in_force = x->lifted_at == CW_TIME_NONE && x->expires > now;
    json_t *row = json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:b}", "id", (json_int_t)x->id,
                            "finding", (json_int_t)x->finding_id, "scope", x->subject ? "finding" : "rule",
                            "reason", x->reason, "approver", x->approver, "by", x->who,
                            "at", cw_api_time(o->r, x->at), "expires", cw_api_time(o->r, x->expires),
                            "in_force", in_force);

    if (x->lifted_at != CW_TIME_NONE)
        json_object_set_new(row, "lifted", json_pack("{s:o,s:s,s:s}", "at", cw_api_time(o->r, x->lifted_at),
                            "by", x->lifted_by ? x->lifted_by : "", "comment", x->lift_comment ? x->lift_comment : ""));
    json_array_append_new(json_object_get(o->f, "exemptions"), row);
    if (in_force && json_is_null(json_object_get(o->f, "exemption")))
        json_object_set(o->f, "exemption", row);
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

/* The actions the finding's review allows, for the console's buttons. */
static json_t *actions_of(const char *review)
{
    char buf[128], *p, *save = NULL;
    json_t *arr = json_array();

    cw_review_allowed(review, buf, sizeof buf);
    for (p = strtok_r(buf, ", ", &save); p; p = strtok_r(NULL, ", ", &save))
        if (strcmp(p, "none") != 0)
            json_array_append_new(arr, json_string(p));
    return arr;
}

json_t *cw_api_load_finding(req *r, cw_db *db, int64_t id)
{
    json_t *events, *ev = json_array();
    const char **ids = NULL;
    one o = { 0 };
    cw_err err;
    size_t n;

    o.r = r;
    if (cw_store_finding_get(db, id, cw_group_now(r->a->g), one_row, &o, &err) < 0) {
        cw_api_db_failed(r, &err);
        goto fail;
    }
    if (o.f == NULL || !cw_api_in_scope(r, o.unit)) {
        cw_api_error(r, 404, "not_found", NULL, "no finding %lld", (long long)id);
        goto fail;
    }
    events = json_object_get(o.f, "events");
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
    json_object_set_new(o.f, "evidence", ev);
    ev = NULL;
    json_object_set_new(o.f, "reviews", json_array());
    json_object_set_new(o.f, "exemptions", json_array());
    json_object_set_new(o.f, "exemption", json_null());
    json_object_set_new(o.f, "actions", actions_of(o.review));
    if (cw_store_reviews(db, id, append_review, &o, &err) < 0 ||
        cw_store_exemptions(db, id, append_exemption, &o, &err) < 0 ||
        cw_api_finding_notifications(r, db, id, o.f, &err) < 0) {
        cw_api_db_failed(r, &err);
        goto fail;
    }
    free(ids);
    return o.f;
fail:
    free(ids);
    json_decref(ev);
    json_decref(o.f);
    return NULL;
}

void cw_api_get_finding(req *r, const char *id)
{
    json_t *f;
    int64_t fid;
    cw_db *db;

    if (!cw_api_finding_id(r, id, &fid) || (db = cw_api_db(r)) == NULL)
        return;
    if ((f = cw_api_load_finding(r, db, fid)) != NULL)
        cw_api_json(r, 200, f);
}

/* ---- GET /v1/findings/{id}/explain ------------------------------------------------ */

/* The reasoning behind the finding: its case judged again by the running
 * engine with the rules' steps recorded (casewarden explain), for its
 * rule and subject; the finding as GET /v1/findings/{id} has it. */
void cw_api_get_explain(req *r, const char *id)
{
    one o = { 0 };
    json_t *x;
    int64_t fid;
    char *out = NULL;
    cw_db *db;
    cw_err err;
    int rc;

    if (!cw_api_finding_id(r, id, &fid) || (db = cw_api_db(r)) == NULL)
        return;
    o.r = r;
    if (cw_store_finding_get(db, fid, cw_group_now(r->a->g), one_row, &o, &err) < 0)
        return cw_api_db_failed(r, &err);
    if (o.f == NULL || !cw_api_in_scope(r, o.unit)) {
        json_decref(o.f);
        return cw_api_error(r, 404, "not_found", NULL, "no finding %lld", (long long)fid);
    }
    rc = cw_group_explain(r->a->g, json_string_value(json_object_get(o.f, "case")),
                          json_string_value(json_object_get(o.f, "rule")),
                          json_string_value(json_object_get(o.f, "subject")), &out, &err);
    if (rc == CW_ENOTFOUND) {
        json_decref(o.f);
        return cw_api_error(r, 404, "not_found", NULL, "%s", err.msg);
    }
    if (rc < 0) {
        json_decref(o.f);
        return cw_api_error(r, 503, "unavailable", NULL, "%s", err.msg);
    }
    if ((x = json_loads(out, 0, NULL)) == NULL)
        x = json_object();
    free(out);
    json_object_set_new(x, "finding", o.f);
    cw_api_json(r, 200, x);
}

/* ---- POST /v1/findings/{id}/review ------------------------------------------------ */

/* A rectification due: RFC 3339, or a date (the end of that local day). */
static bool due_value(req *r, const char *v, cw_time *out)
{
    cw_day d;

    if (v && cw_time_parse(v, strlen(v), out, NULL) == 0)
        return true;
    if (v && cw_day_parse(v, strlen(v), &d) == 0) {
        *out = cw_day_end(d, cw_group_tz(r->a->g));
        return true;
    }
    cw_api_error(r, 422, "invalid_review", "due", "due is the rectification due date: YYYY-MM-DD (the end of "
                 "that day) or an RFC 3339 time");
    return false;
}

/* The assignee of an assign: {"kind": "unit"|"officer", "id": "..."}. */
static bool assignee_value(req *r, json_t *v, cw_review_input *in)
{
    const char *kind = json_string_value(json_object_get(v, "kind"));
    const char *id = json_string_value(json_object_get(v, "id"));

    if (!json_is_object(v) || kind == NULL || id == NULL ||
        (strcmp(kind, "unit") != 0 && strcmp(kind, "officer") != 0)) {
        cw_api_error(r, 422, "invalid_review", "assignee", "assign needs an assignee {\"kind\": \"unit\" or "
                     "\"officer\", \"id\": ...}");
        return false;
    }
    if (strcmp(kind, "unit") == 0 ? !cw_api_digits(id, 12) || strlen(id) < 2 :
        cw_api_blank(id) || strlen(id) > 64) {
        cw_api_error(r, 422, "invalid_review", "assignee.id", "%s", strcmp(kind, "unit") == 0 ?
                     "a unit is its code, 2-12 digits" : "an officer is their id, 1-64 characters");
        return false;
    }
    in->assignee_kind = kind;
    in->assignee = id;
    return true;
}

/* evidence: a list of references (file numbers, document ids), as JSON. */
static bool evidence_value(req *r, json_t *v, char **out)
{
    size_t i;
    json_t *x;

    *out = NULL;
    if (v == NULL)
        return true;
    if (!json_is_array(v) || json_array_size(v) > 20)
        goto bad;
    json_array_foreach(v, i, x) {
        if (!json_is_string(x) || cw_api_blank(json_string_value(x)) || strlen(json_string_value(x)) > 200)
            goto bad;
    }
    *out = json_dumps(v, JSON_COMPACT);
    return true;
bad:
    cw_api_error(r, 422, "invalid_review", "evidence", "evidence is a list of at most 20 references (text, "
                 "1-200 characters each)");
    return false;
}

void cw_api_post_review(req *r, const char *id)
{
    json_t *body, *f;
    const char *action, *comment;
    const cw_review_move *m;
    cw_review_input in = { 0 };
    char *evidence = NULL;
    int64_t fid;
    cw_db *db;
    cw_err err;
    int rc;

    if (!cw_api_finding_id(r, id, &fid) || (body = cw_api_body(r)) == NULL)
        return;
    action = json_string_value(json_object_get(body, "action"));
    comment = json_string_value(json_object_get(body, "comment"));
    in.rect_due = CW_TIME_NONE;
    in.at = cw_group_now(r->a->g);
    in.who = cw_api_who(r);
    if ((m = cw_review_move_find(action)) == NULL) {
        cw_api_error(r, 422, "invalid_review", "action", "action must be %s", cw_review_actions());
        goto out;
    }
    if (json_object_get(body, "comment") && comment == NULL) {
        cw_api_error(r, 422, "invalid_review", "comment", "comment must be a string");
        goto out;
    }
    if (m->comment && cw_api_blank(comment)) {
        cw_api_error(r, 422, "invalid_review", "comment", "a comment is required to %s", m->action);
        goto out;
    }
    if (comment && strlen(comment) > 4000) {
        cw_api_error(r, 422, "invalid_review", "comment", "a comment has at most 4000 bytes");
        goto out;
    }
    if (m->assign) {
        if (!assignee_value(r, json_object_get(body, "assignee"), &in) ||
            !due_value(r, json_string_value(json_object_get(body, "due")), &in.rect_due))
            goto out;
        if (in.rect_due <= in.at) {
            cw_api_error(r, 422, "invalid_review", "due", "the rectification due must be later than now");
            goto out;
        }
    } else if (json_object_get(body, "assignee") || json_object_get(body, "due")) {
        cw_api_error(r, 422, "invalid_review", json_object_get(body, "due") ? "due" : "assignee",
                     "only assign takes an assignee and a due date");
        goto out;
    }
    if (json_object_get(body, "evidence") && strcmp(m->action, "resolve") != 0) {
        cw_api_error(r, 422, "invalid_review", "evidence", "only resolve takes evidence references");
        goto out;
    }
    if (!evidence_value(r, json_object_get(body, "evidence"), &evidence))
        goto out;
    in.comment = comment;
    in.evidence = evidence;
    if ((db = cw_api_db(r)) == NULL)
        goto out;
    rc = cw_store_review_apply(db, fid, cw_api_scope(r), m, &in, &err);
    if (rc == CW_ENOTFOUND)
        cw_api_error(r, 404, "not_found", NULL, "no finding %s", id);
    else if (rc == CW_ECONFLICT)
        cw_api_error(r, 409, "invalid_transition", "action", "%s", err.msg);
    else if (rc < 0)
        cw_api_db_failed(r, &err);
    else if ((f = cw_api_load_finding(r, db, fid)) != NULL)
        cw_api_json(r, 200, f);
out:
    free(evidence);
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

/* The timeline in pages of `limit` events (default and most: page_max),
 * `cursor` the `next` of the previous page; the findings come whole with
 * every page. */
void cw_api_get_case(req *r, const char *case_id)
{
    static const char *const known[] = { "limit", "cursor", NULL };
    const char *cur = cw_api_arg(r, "cursor");
    size_t limit = r->a->cfg->page_max, from = 0, to;
    tl t = { 0 };
    json_t *events, *findings, *pair[2];
    const char *unit;
    cw_db *db;
    cw_err err;

    if (cw_check_case(case_id, strlen(case_id)) != NULL)
        return cw_api_error(r, 404, "not_found", NULL, "no case %s", case_id);
    if (!cw_api_known_args(r, known))
        return;
    if (!cw_api_limit(r, &limit))
        return;
    if (cur) {
        if (!cw_api_digits(cur, 9))
            return cw_api_error(r, 400, "bad_request", "cursor", "cursor is the `next` of a previous page");
        from = strtoul(cur, NULL, 10);
    }
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
    to = from + limit < t.n ? from + limit : t.n;
    for (size_t i = from; i < to; i++)
        json_array_append_new(events, json_pack("{s:I,s:O}", "seq", (json_int_t)t.seq[i], "event",
                                                t.ev[i]));
    findings = json_array();
    pair[0] = findings;
    pair[1] = (json_t *)r;
    if (cw_store_case_findings(db, case_id, cw_group_now(r->a->g), found_row, pair, &err) < 0) {
        json_decref(events);
        json_decref(findings);
        tl_free(&t);
        return cw_api_db_failed(r, &err);
    }
    {
        char next[24];
        snprintf(next, sizeof next, "%zu", to);
        cw_api_json(r, 200, json_pack("{s:s,s:s,s:o,s:I,s:o,s:o}", "case", case_id, "unit", unit ? unit : "",
                                      "timeline", events, "total", (json_int_t)t.n, "next",
                                      to < t.n ? json_string(next) : json_null(), "findings", findings));
    }
    tl_free(&t);
}
