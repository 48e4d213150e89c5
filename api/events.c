/*
 * POST /v1/events: one event, or {"events": [...]}. Each event is
 * validated, then stored, found a duplicate (same id, same content) or a
 * conflict (same id, other content: recorded, not applied), and the
 * answer comes only after the transaction committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "base/log.h"

enum { ST_INVALID, ST_NEW, ST_STORED, ST_DUPLICATE, ST_CONFLICT };

typedef struct item {
    const char *text;        /* the event's JSON, as sent */
    size_t len;
    json_t *obj;             /* parsed, for comparing contents */
    char id[CW_ID_MAX + 1];
    int status;
    cw_event_error ee;
    uint64_t seq;            /* stored or duplicate: its seq; conflict: the first */
} item;

/* The end of the JSON value starting at p (already known to be valid
 * JSON), so that each event of a batch is stored exactly as sent. */
static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static const char *skip_value(const char *p, const char *end)
{
    int depth = 0;

    p = skip_ws(p, end);
    do {
        if (p >= end)
            return end;
        if (*p == '"') {
            for (p++; p < end && *p != '"'; p++)
                if (*p == '\\')
                    p++;
            p++;
        } else if (*p == '{' || *p == '[') {
            depth++;
            p++;
        } else if (*p == '}' || *p == ']') {
            depth--;
            p++;
        } else if (depth > 0) {
            p++;
        } else {
            while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
                   *p != '\t' && *p != '\r')
                p++;
        }
    } while (depth > 0);
    return p;
}

/* The text of each element of the array value of key "events" in the
 * top-level object. */
static size_t split_batch(const char *p, const char *end, item *items, size_t max)
{
    size_t n = 0;

    p = skip_ws(p, end);
    if (p >= end || *p != '{')
        return 0;
    p++;
    for (;;) {
        const char *k, *ke;
        p = skip_ws(p, end);
        if (p >= end || *p != '"')
            return n;
        k = p + 1;
        p = skip_value(p, end);
        ke = p - 1;
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return n;
        p = skip_ws(p + 1, end);
        if (ke - k == 6 && memcmp(k, "events", 6) == 0 && p < end && *p == '[') {
            p++;
            for (;;) {
                const char *v;
                p = skip_ws(p, end);
                if (p >= end || *p == ']')
                    return n;
                v = p;
                p = skip_value(p, end);
                if (n < max) {
                    items[n].text = v;
                    items[n].len = (size_t)(p - v);
                }
                n++;
                p = skip_ws(p, end);
                if (p < end && *p == ',')
                    p++;
            }
        }
        p = skip_value(p, end);
        p = skip_ws(p, end);
        if (p < end && *p == ',')
            p++;
    }
}

typedef struct existing {
    item *items;
    size_t n;
    bool fill_seq_only;
} existing;

/* An event already stored under one of the items' ids. */
static int existing_row(void *ud, const char *id, uint64_t seq, const char *body, size_t len)
{
    existing *x = ud;
    json_t *old = NULL;

    for (size_t i = 0; i < x->n; i++) {
        item *it = &x->items[i];
        if (strcmp(it->id, id) != 0)
            continue;
        if (x->fill_seq_only) {
            if (it->status == ST_NEW) {
                it->status = ST_STORED;
                it->seq = seq;
            }
            continue;
        }
        if (it->status != ST_NEW)
            continue;
        if (old == NULL)
            old = json_loadb(body ? body : "", len, 0, NULL);
        it->seq = seq;
        it->status = old != NULL && json_equal(old, it->obj) ? ST_DUPLICATE : ST_CONFLICT;
    }
    json_decref(old);
    return 0;
}

/* The ids of the items of a status, into ids[]; returns how many. */
static size_t ids_of(const item *items, size_t n, int status, const char **ids)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        if (items[i].status == status)
            ids[k++] = items[i].id;
    return k;
}

/* The bodies of the items of a status, into b[]; returns how many. */
static size_t bodies_of(const item *items, size_t n, int status, cw_store_body *b)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        if (items[i].status == status)
            b[k++] = (cw_store_body){ items[i].text, items[i].len, items[i].id, items[i].seq };
    return k;
}

/* The same id twice in one batch: the first counts; the others are its
 * duplicates or conflicts (dup_of: the first's index). */
static void same_batch(item *items, size_t n, size_t *dup_of)
{
    for (size_t i = 0; i < n; i++) {
        dup_of[i] = SIZE_MAX;
        if (items[i].status != ST_NEW)
            continue;
        for (size_t j = 0; j < i; j++)
            if (items[j].status == ST_NEW && strcmp(items[j].id, items[i].id) == 0) {
                items[i].status = json_equal(items[j].obj, items[i].obj) ? ST_DUPLICATE : ST_CONFLICT;
                dup_of[i] = j;
                break;
            }
    }
}

/* The seqs of the items just stored (status ST_NEW): they follow from the
 * insert's first id when the ids were consecutive, else they are asked. */
static int stored_seqs(cw_db *db, uint64_t seq, item *items, size_t n, const char **ids,
                       cw_err *err)
{
    existing x = { items, n, true };

    if (seq != 0 && cw_store_consecutive_seqs(db)) {
        for (size_t i = 0; i < n; i++)
            if (items[i].status == ST_NEW) {
                items[i].status = ST_STORED;
                items[i].seq = seq++;
            }
        return 0;
    }
    return cw_store_events_by_id(db, ids, ids_of(items, n, ST_NEW, ids), false, existing_row, &x, err);
}

/* Classify against what is stored, then store the new ones and the
 * conflicts in one transaction; without conflicts (the common case) the
 * INSERT is a transaction of its own, which saves two round trips. An
 * INSERT is only tried for ids not found. Returns 0, CW_ECONFLICT when
 * another request stored one of the ids meanwhile (try again), or
 * another error. */
static int store(cw_db *db, item *items, size_t n, cw_err *err)
{
    existing x = { items, n, false };
    const char **ids = cw_xmalloc(n * sizeof *ids);
    cw_store_body *b = cw_xmalloc(n * sizeof *b);
    size_t nnew = 0, nconflict = 0, *dup_of = cw_xmalloc(n * sizeof *dup_of);
    uint64_t first = 0;
    bool tx;
    int rc;

    rc = cw_store_events_by_id(db, ids, ids_of(items, n, ST_NEW, ids), true, existing_row, &x, err);
    if (rc < 0)
        goto out;
    same_batch(items, n, dup_of);
    for (size_t i = 0; i < n; i++) {
        nnew += items[i].status == ST_NEW;
        nconflict += items[i].status == ST_CONFLICT;
    }
    tx = nnew > 0 && nconflict > 0;
    if (tx && (rc = cw_db_begin(db, err)) < 0)
        goto out;
    if ((rc = cw_store_insert_events(db, b, bodies_of(items, n, ST_NEW, b), "api", &first, err)) < 0)
        goto fail;
    if (nnew > 0 && (rc = stored_seqs(db, first, items, n, ids, err)) < 0)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if (dup_of[i] != SIZE_MAX && items[dup_of[i]].status == ST_STORED)
            items[i].seq = items[dup_of[i]].seq;
    if ((rc = cw_store_insert_conflicts(db, b, bodies_of(items, n, ST_CONFLICT, b), "api", err)) < 0)
        goto fail;
    rc = tx ? cw_db_commit(db, err) : 0;
    goto out;
fail:
    if (tx)
        cw_db_rollback(db);
out:
    free(ids);
    free(b);
    free(dup_of);
    return rc;
}

static const char *const names[] = { "invalid", "new", "stored", "duplicate", "conflict" };

static json_t *result_json(const item *it, size_t index, bool with_index)
{
    json_t *o = json_object();

    if (with_index)
        json_object_set_new(o, "index", json_integer((json_int_t)index));
    if (it->id[0])
        json_object_set_new(o, "id", json_string(it->id));
    json_object_set_new(o, "result", json_string(names[it->status]));
    if (it->status == ST_STORED || it->status == ST_DUPLICATE)
        json_object_set_new(o, "seq", json_integer((json_int_t)it->seq));
    if (it->status == ST_CONFLICT && it->seq)
        json_object_set_new(o, "first_seq", json_integer((json_int_t)it->seq));
    if (it->status == ST_INVALID) {
        json_t *e = json_pack("{s:s,s:s}", "code", "invalid_event", "message", it->ee.msg);
        if (it->ee.field[0])
            json_object_set_new(e, "field", json_string(it->ee.field));
        if (!it->ee.field[0] && it->ee.offset)
            json_object_set_new(e, "position", json_integer((json_int_t)it->ee.offset));
        json_object_set_new(o, "error", e);
    }
    return o;
}

void cw_api_post_events(req *r, const char *arg)
{
    (void)arg;
    cw_api *a = r->a;
    const char *body = r->body.p ? r->body.p : "";
    json_error_t je;
    json_t *root, *arr;
    item *items = NULL;
    size_t n;
    bool batch;
    cw_db *db;
    cw_err err = { 0 };
    int rc, tries = 0;
    size_t counts[5] = { 0 };

    root = json_loadb(body, r->body.n, 0, &je);
    if (root == NULL) {
        cw_api_error_at(r, 400, "malformed_json", (size_t)je.position, "%s at line %d, column %d (byte %d)",
                        je.text, je.line, je.column, je.position);
        return;
    }
    arr = json_is_object(root) ? json_object_get(root, "events") : NULL;
    batch = arr != NULL;
    if (!json_is_object(root) || (batch && !json_is_array(arr))) {
        json_decref(root);
        cw_api_error(r, 400, "bad_request", batch ? "events" : NULL,
                     "send one event object, or {\"events\": [event, ...]}");
        return;
    }
    n = batch ? json_array_size(arr) : 1;
    if (n == 0) {
        json_decref(root);
        cw_api_error(r, 400, "bad_request", "events", "the batch is empty");
        return;
    }
    if (n > a->cfg->max_batch) {
        json_decref(root);
        cw_api_error(r, 413, "batch_too_large", "events", "a batch holds at most %u events, this one %zu",
                     a->cfg->max_batch, n);
        return;
    }
    items = cw_xcalloc(n, sizeof *items);
    if (batch) {
        if (split_batch(body, body + r->body.n, items, n) != n) {
            json_decref(root);
            free(items);
            cw_api_error(r, 400, "bad_request", "events", "could not read the events of the batch");
            return;
        }
    } else {
        items[0].text = body;
        items[0].len = r->body.n;
    }
    if ((db = cw_api_db(r)) == NULL)
        goto out;
    {
        const cw_catalogue *cat = cw_group_catalogue_acquire(a->g);
        cw_evparser_set_now(r->w->p, cw_group_now(a->g));
        for (size_t i = 0; i < n; i++) {
            item *it = &items[i];
            cw_pevent pe;
            it->obj = batch ? json_array_get(arr, i) : root;
            if (cw_evparse(r->w->p, cat, it->text, it->len, &pe, &it->ee) < 0) {
                it->status = ST_INVALID;
                /* it quotes the event, cut to its buffer */
                cw_api_utf8_clean(it->ee.msg);
                snprintf(it->id, sizeof it->id, "%s", it->ee.id);
                continue;
            }
            memcpy(it->id, pe.id.p, pe.id.len);
            it->id[pe.id.len] = '\0';
            it->status = ST_NEW;
        }
        cw_group_catalogue_release(a->g);
    }
    for (size_t i = 0; i < n; i++)
        if (items[i].status == ST_NEW)
            break;
        else if (i + 1 == n)
            goto answer;    /* nothing valid to store */
    /* another request may store one of the ids meanwhile: then again */
    /* and on a Galera cluster, two nodes' inserts into one partition (or
     * the log's counter) conflict at certification: the transaction again,
     * after a short wait */
    rc = CW_ECONFLICT;
    while ((rc == CW_ECONFLICT || (rc < 0 && cw_db_is_retryable(db))) && tries++ < 8) {
        if (rc != CW_ECONFLICT) {
            struct timespec ts = { 0, (2L << tries) * 1000000L };
            nanosleep(&ts, NULL);
        }
        for (size_t i = 0; i < n; i++)
            if (items[i].status != ST_INVALID)
                items[i].status = ST_NEW;
        rc = store(db, items, n, &err);
    }
    if (rc != 0) {
        if (rc == CW_ECONFLICT)
            cw_api_error(r, 503, "busy", NULL, "the same events are being stored by another request; "
                         "try again");
        else if (cw_db_is_retryable(db))
            cw_api_error(r, 503, "busy", NULL, "the database kept refusing the write as conflicting "
                         "with others (%s); try again", err.msg);
        else
            cw_api_db_failed(r, &err);
        goto out;
    }
answer:
    for (size_t i = 0; i < n; i++)
        counts[items[i].status]++;
    atomic_fetch_add(&a->stored, counts[ST_STORED]);
    atomic_fetch_add(&a->duplicates, counts[ST_DUPLICATE]);
    atomic_fetch_add(&a->conflicts, counts[ST_CONFLICT]);
    atomic_fetch_add(&a->invalid, counts[ST_INVALID]);
    if (counts[ST_STORED] > 0)
        cw_group_notify(a->g);
    if (!batch) {
        item *it = &items[0];
        if (it->status == ST_INVALID) {
            if (it->ee.field[0] == '\0')
                cw_api_error_at(r, 400, "malformed_json", it->ee.offset, "%s (byte %zu)", it->ee.msg,
                                it->ee.offset);
            else if (it->ee.id[0])
                cw_api_error(r, 422, "invalid_event", it->ee.field, "event %s: %s: %s", it->ee.id,
                             it->ee.field, it->ee.msg);
            else
                cw_api_error(r, 422, "invalid_event", it->ee.field, "%s: %s", it->ee.field, it->ee.msg);
        } else if (it->status == ST_CONFLICT) {
            cw_api_error(r, 409, "conflict", "id", "event %s is already stored (seq %llu) with other "
                         "content; this one is recorded as a conflict and not applied", it->id,
                         (unsigned long long)it->seq);
        } else {
            cw_api_json(r, it->status == ST_STORED ? 201 : 200, result_json(it, 0, false));
        }
    } else {
        json_t *res = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(res, result_json(&items[i], i, true));
        cw_api_json(r, 200, json_pack("{s:o,s:I,s:I,s:I,s:I}", "results", res,
                                      "stored", (json_int_t)counts[ST_STORED],
                                      "duplicate", (json_int_t)counts[ST_DUPLICATE],
                                      "conflict", (json_int_t)counts[ST_CONFLICT],
                                      "invalid", (json_int_t)counts[ST_INVALID]));
    }
out:
    json_decref(root);
    free(items);
}

/* ---- GET /v1/events/problems ------------------------------------------------------ */

typedef struct problems {
    json_t *arr;
    size_t n, limit;
    char next[64];
} problems;

static int problem_row(void *ud, const cw_store_problem *p)
{
    problems *l = ud;
    json_t *o;

    if (l->n++ >= l->limit)
        return 0;
    o = json_pack("{s:s,s:o,s:s,s:s}", "kind", p->kind, "event_id",
                  p->event_id ? json_string(p->event_id) : json_null(), "field", p->field, "message", p->message);
    if (strcmp(p->kind, "invalid") == 0)
        json_object_set_new(o, "seq", json_integer((json_int_t)p->n));
    else
        json_object_set_new(o, "first_seq", json_integer((json_int_t)p->first_seq));
    {
        char at[40];
        time_t secs = (time_t)(p->at_us / 1000000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        snprintf(at, sizeof at, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)(p->at_us % 1000000));
        json_object_set_new(o, "recorded", json_string(at));
    }
    json_array_append_new(l->arr, o);
    snprintf(l->next, sizeof l->next, "%lld_%d_%lld", (long long)p->at_us, strcmp(p->kind, "invalid") ? 1 : 0,
             (long long)p->n);
    return 0;
}

void cw_api_get_problems(req *r, const char *arg)
{
    (void)arg;
    static const char *const known[] = { "kind", "limit", "cursor", NULL };
    static const char *const kinds[] = { "invalid", "conflict", NULL };
    const char *cur = cw_api_arg(r, "cursor");
    problems l = { NULL, 0, 100, "" };
    cw_apilist kl = { 0 };
    long long t = 0, n = 0;
    unsigned mask = 0;
    int k = -1;
    cw_db *db;
    cw_err err;

    if (!cw_api_known_args(r, known) || !cw_api_list(r, "kind", kinds, 0, &kl))
        goto out;
    for (size_t i = 0; i < kl.n; i++)
        mask |= strcmp(kl.v[i], "invalid") == 0 ? 1u : 2u;
    if (mask == 0)
        mask = 3;
    if (!cw_api_limit(r, &l.limit))
        goto out;
    if (cur) {
        int used = 0;
        if (sscanf(cur, "%lld_%d_%lld%n", &t, &k, &n, &used) != 3 || cur[used] != '\0' || (k != 0 && k != 1)) {
            cw_api_error(r, 400, "bad_request", "cursor", "cursor is the `next` of a previous page");
            goto out;
        }
    }
    if ((db = cw_api_db(r)) == NULL)
        goto out;
    l.arr = json_array();
    if (cw_store_problems(db, mask, t, k, n, (unsigned)l.limit + 1, problem_row, &l, &err) < 0) {
        json_decref(l.arr);
        cw_api_db_failed(r, &err);
        goto out;
    }
    cw_api_json(r, 200, json_pack("{s:o,s:o}", "problems", l.arr, "next",
                                  l.n > l.limit ? json_string(l.next) : json_null()));
out:
    cw_apilist_free(&kl);
}
