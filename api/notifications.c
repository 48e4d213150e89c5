/*
 * GET /v1/notifications: the delivery log of notifications (receiver,
 * findings, status, attempts), newest first; and what a finding's own
 * page lists of what was sent about it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "api/api_int.h"

/* Wall-clock milliseconds as RFC 3339 (UTC), or null. */
static json_t *ms_time(int64_t ms)
{
    char at[40];
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    if (ms <= 0)
        return json_null();
    gmtime_r(&secs, &tm);
    snprintf(at, sizeof at, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)(ms % 1000));
    return json_string(at);
}

/* A message as the API shows it; with_body adds what was (or will be) sent. */
static json_t *message_json(req *r, const cw_store_message *m, bool with_body)
{
    json_t *ids = json_array(), *o;
    const char *p = m->findings;

    while (*p) {
        char *end;
        long long id = strtoll(p, &end, 10);
        if (end == p)
            break;
        json_array_append_new(ids, json_integer(id));
        p = *end == ',' ? end + 1 : end;
    }
    o = json_pack("{s:I,s:s,s:s,s:s,s:o,s:i,s:s,s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)m->id,
                  "key", m->key, "receiver", m->receiver, "group", m->group, "ladder",
                  m->ladder ? json_string(m->ladder) : json_null(), "level", m->level, "status", m->status,
                  "items", m->items, "attempts", m->attempts, "findings", ids, "http_status",
                  m->http_status ? json_integer(m->http_status) : json_null(), "last_error",
                  m->last_error ? json_string(m->last_error) : json_null(), "created", ms_time(m->created_ms),
                  "sent", ms_time(m->sent_ms), "next_attempt",
                  strcmp(m->status, "queued") == 0 || strcmp(m->status, "grouping") == 0 ? ms_time(m->next_ms)
                                                                                          : json_null());
    json_object_set_new(o, "held_until", m->not_before != CW_TIME_NONE && strcmp(m->status, "held") == 0
                                             ? cw_api_time(r, m->not_before) : json_null());
    if (with_body) {
        json_error_t je;
        json_t *b = m->body && m->body[0] ? json_loads(m->body, 0, &je) : NULL;
        json_object_set_new(o, "body", b ? b : json_null());
    }
    return o;
}

typedef struct mlist {
    req *r;
    json_t *arr;
    size_t n, limit;
    int64_t last;
    bool bodies;
} mlist;

static int message_row(void *ud, const cw_store_message *m)
{
    mlist *l = ud;

    if (l->n++ >= l->limit)
        return 0;
    json_array_append_new(l->arr, message_json(l->r, m, l->bodies));
    l->last = m->id;
    return 0;
}

void cw_api_get_notifications(req *r, const char *arg)
{
    (void)arg;
    static const char *const known[] = { "receiver", "finding", "status", "limit", "cursor", "body", NULL };
    static const char *const statuses[] = { "grouping", "held", "queued", "sent", "dead", NULL };
    const char *cur = cw_api_arg(r, "cursor"), *fid = cw_api_arg(r, "finding"), *body = cw_api_arg(r, "body");
    cw_apilist rcv = { 0 }, st = { 0 };
    cw_notification_query q = { 0 };
    mlist l = { r, NULL, 0, 50, 0, false };
    uint64_t total = 0;
    cw_db *db;
    cw_err err;

    if (!cw_api_known_args(r, known) || !cw_api_list(r, "receiver", NULL, 0, &rcv) ||
        !cw_api_list(r, "status", statuses, 0, &st) || !cw_api_limit(r, &l.limit))
        goto out;
    if (fid && (!cw_api_digits(fid, 18) || (q.finding = strtoll(fid, NULL, 10)) <= 0)) {
        cw_api_error(r, 400, "bad_request", "finding", "finding is a finding's id");
        goto out;
    }
    if (cur && (!cw_api_digits(cur, 18) || (q.after_id = strtoll(cur, NULL, 10)) <= 0)) {
        cw_api_error(r, 400, "bad_request", "cursor", "cursor is the `next` of a previous page");
        goto out;
    }
    if (body && strcmp(body, "true") != 0 && strcmp(body, "false") != 0) {
        cw_api_error(r, 400, "bad_request", "body", "body is true or false");
        goto out;
    }
    l.bodies = body && strcmp(body, "true") == 0;
    q.receiver = (cw_strs){ rcv.v, rcv.n };
    q.status = (cw_strs){ st.v, st.n };
    q.limit = (unsigned)l.limit + 1;
    if ((db = cw_api_db(r)) == NULL)
        goto out;
    l.arr = json_array();
    if (cw_store_notifications(db, &q, message_row, &l, &err) < 0 ||
        cw_store_notifications_total(db, &q, &total, &err) < 0) {
        json_decref(l.arr);
        cw_api_db_failed(r, &err);
        goto out;
    }
    {
        char next[32];
        snprintf(next, sizeof next, "%lld", (long long)l.last);
        cw_api_json(r, 200, json_pack("{s:o,s:I,s:o}", "notifications", l.arr, "total", (json_int_t)total,
                                      "next", l.n > l.limit ? json_string(next) : json_null()));
    }
out:
    cw_apilist_free(&rcv);
    cw_apilist_free(&st);
}

typedef struct ladders {
    req *r;
    json_t *arr;
} ladders;

static int ladder_row(void *ud, const cw_store_ladder *e)
{
    ladders *l = ud;

    json_array_append_new(l->arr, json_pack("{s:s,s:i,s:s,s:o,s:o,s:o}", "ladder", e->ladder, "levels_done",
                                            e->level, "status", e->status, "started", cw_api_time(l->r, e->started),
                                            "next_level_at", cw_api_time(l->r, e->next_at), "reason",
                                            e->reason ? json_string(e->reason) : json_null()));
    return 0;
}

int cw_api_finding_notifications(req *r, cw_db *db, int64_t id, json_t *f, cw_err *err)
{
    cw_notification_query q = { .finding = id, .limit = 100 };
    mlist l = { r, json_array(), 0, 100, 0, false };
    ladders ls = { r, json_array() };
    int rc;

    if ((rc = cw_store_notifications(db, &q, message_row, &l, err)) < 0 ||
        (rc = cw_store_ladders_of(db, id, false, cw_group_now(r->a->g), ladder_row, &ls, err)) < 0) {
        json_decref(l.arr);
        json_decref(ls.arr);
        return rc;
    }
    json_object_set_new(f, "notifications", l.arr);
    json_object_set_new(f, "escalations", ls.arr);
    return 0;
}
