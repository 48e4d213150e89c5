/*
 * GET /v1/stream: Server-Sent Events of finding changes in the caller's
 * scope, read from the change log (finding_changes), so the stream shows
 * what any process wrote. The event id is the change's id: a client that
 * reconnects with Last-Event-ID (or ?last_event_id=) gets every change
 * after it.
 *
 * A stream does not hold a thread while it waits: when it has nothing to
 * send its connection is suspended, and one hub thread per server polls
 * the log's highest id and resumes the suspended streams when it grows
 * (and every keep-alive interval, so that a stream sends a comment line
 * and a closed connection is noticed). The streams are bounded in number
 * (api.max_streams, 503 past it) and each in length (api.stream_max_s,
 * then it ends and the client reconnects where it was).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "base/log.h"

#define POLL_MS 250
#define KEEPALIVE_S 15
#define BATCH 100

typedef struct stream {
    cw_api *a;
    struct MHD_Connection *conn;
    char scope[16];
    int64_t last;            /* the last change sent (or skipped) */
    int64_t checked;         /* the hub's highest id when we last read */
    cw_buf out;              /* bytes to send */
    size_t off;
    double started, sent;
    bool suspended, failed;
    struct stream *next, *prev;
} stream;

struct cw_hub {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool running, stopping;
    stream *all;
    unsigned n;
    int64_t max_id;          /* the log's highest id, as last read */
    int64_t resumed_at;      /* the highest id the streams were woken for */
    cw_db *db;
};

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resume the suspended streams that have something to do: every one when
 * the log grew (or the server stops), else those due a keep-alive or at
 * the end of their life. The hub's lock is held. */
static void resume(struct cw_hub *h, bool all, unsigned max_s)
{
    double now = mono_s();

    for (stream *s = h->all; s; s = s->next)
        if (s->suspended && (all || now - s->sent >= KEEPALIVE_S || now - s->started >= max_s)) {
            s->suspended = false;
            MHD_resume_connection(s->conn);
        }
}

static void *hub_main(void *arg)
{
    cw_api *a = arg;
    struct cw_hub *h = a->hub;
    cw_err err;

    pthread_mutex_lock(&h->mu);
    while (!h->stopping) {
        struct timespec until;
        int64_t max = -1;
        bool any = h->n > 0;

        pthread_mutex_unlock(&h->mu);
        /* the log is read only while someone listens */
        if (any && h->db == NULL && cw_db_connect(&h->db, &a->cfg->db, false, &err) < 0)
            h->db = NULL;
        if (any && h->db && cw_store_changes_max(h->db, &max, &err) < 0) {
            cw_log(CW_LOG_WARN, "stream: %s", err.msg);
            cw_db_close(h->db);
            h->db = NULL;
        }
        pthread_mutex_lock(&h->mu);
        if (max > h->max_id)
            h->max_id = max;
        resume(h, h->max_id > h->resumed_at, a->cfg->stream_max_s);
        h->resumed_at = h->max_id;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += POLL_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        if (!h->stopping)
            pthread_cond_timedwait(&h->cv, &h->mu, &until);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

int cw_api_hub_start(cw_api *a, cw_err *err)
{
    struct cw_hub *h = cw_xcalloc(1, sizeof *h);

    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    a->hub = h;
    if (pthread_create(&h->thread, NULL, hub_main, a) != 0) {
        pthread_cond_destroy(&h->cv);
        pthread_mutex_destroy(&h->mu);
        free(h);
        a->hub = NULL;
        return cw_err_set(err, CW_EIO, "stream: cannot start the hub thread");
    }
    h->running = true;
    return 0;
}

void cw_api_hub_stop(cw_api *a)
{
    struct cw_hub *h = a->hub;

    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    h->stopping = true;
    resume(h, true, 0);
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    if (h->running)
        pthread_join(h->thread, NULL);
    h->running = false;
}

void cw_api_hub_free(cw_api *a)
{
    struct cw_hub *h = a->hub;

    if (h == NULL)
        return;
    cw_db_close(h->db);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
    a->hub = NULL;
}

/* ---- one stream ------------------------------------------------------------------------ */

typedef struct fill {
    stream *s;
    req r;                   /* for the finding's JSON: the server and its clock */
} fill;

static int change_event(void *ud, const cw_store_change *c)
{
    fill *f = ud;
    json_t *o = json_pack("{s:I,s:s,s:{s:o,s:o},s:{s:s,s:s},s:o}", "change", (json_int_t)c->id, "what", c->what,
                          "from", "state", c->from_state ? json_string(c->from_state) : json_null(), "review",
                          c->from_review ? json_string(c->from_review) : json_null(), "to", "state", c->to_state,
                          "review", c->to_review, "finding", cw_api_finding_json(&f->r, &c->f));
    char *text = json_dumps(o, JSON_COMPACT);

    json_decref(o);
    cw_buf_printf(&f->s->out, "id: %lld\nevent: finding\ndata: %s\n\n", (long long)c->id, text ? text : "{}");
    free(text);
    f->s->last = c->id;
    return 0;
}

/* Read what is new for this stream into its buffer. */
static void fetch(stream *s)
{
    fill f = { s, { 0 } };
    worker *w;
    cw_err err;

    f.r.a = s->a;
    if ((w = cw_api_worker_take(s->a, &err)) == NULL) {
        s->failed = true;
        return;
    }
    if (cw_store_changes(w->db, s->last, s->scope, cw_group_now(s->a->g), BATCH, change_event, &f, &err) < 0) {
        cw_log(CW_LOG_WARN, "stream: %s", err.msg);
        cw_api_worker_drop(w);
        s->failed = true;
        return;
    }
    cw_api_worker_give(s->a, w);
}

static ssize_t copy_out(stream *s, char *buf, size_t max)
{
    size_t n = s->out.n - s->off;

    if (n > max)
        n = max;
    memcpy(buf, s->out.p + s->off, n);
    s->off += n;
    if (s->off == s->out.n) {
        s->out.n = 0;
        s->off = 0;
    }
    s->sent = mono_s();
    return (ssize_t)n;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    stream *s = cls;
    struct cw_hub *h = s->a->hub;

    (void)pos;
    for (int round = 0; round < 4; round++) {
        int64_t seen;
        bool ending;

        if (s->off < s->out.n)
            return copy_out(s, buf, max);
        pthread_mutex_lock(&h->mu);
        seen = h->max_id;
        ending = h->stopping || s->failed || mono_s() - s->started >= s->a->cfg->stream_max_s;
        pthread_mutex_unlock(&h->mu);
        if (ending)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (seen > s->checked) {
            s->checked = seen;
            fetch(s);
            if (s->failed)
                cw_buf_puts(&s->out, ": the database is unavailable; reconnect\n\n");
            continue;
        }
        if (mono_s() - s->sent >= KEEPALIVE_S) {
            cw_buf_puts(&s->out, ": keep-alive\n\n");
            continue;
        }
        pthread_mutex_lock(&h->mu);
        /* suspend only when the hub has seen nothing newer meanwhile, and
         * is not stopping: else it would not resume us */
        if (h->max_id == s->checked && !h->stopping) {
            s->suspended = true;
            MHD_suspend_connection(s->conn);
            pthread_mutex_unlock(&h->mu);
            return 0;
        }
        pthread_mutex_unlock(&h->mu);
    }
    return 0;
}

static void stream_free(void *cls)
{
    stream *s = cls;
    struct cw_hub *h = s->a->hub;

    pthread_mutex_lock(&h->mu);
    if (s->prev)
        s->prev->next = s->next;
    else
        h->all = s->next;
    if (s->next)
        s->next->prev = s->prev;
    h->n--;
    pthread_mutex_unlock(&h->mu);
    cw_buf_free(&s->out);
    free(s);
}

void cw_api_get_stream(req *r, const char *arg)
{
    (void)arg;
    static const char *const known[] = { "last_event_id", NULL };
    const char *last = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Last-Event-ID");
    struct cw_hub *h = r->a->hub;
    int64_t max = 0;
    stream *s;
    cw_db *db;
    cw_err err;

    if (!cw_api_known_args(r, known))
        return;
    if (last == NULL)
        last = cw_api_arg(r, "last_event_id");
    if (last && !cw_api_digits(last, 18))
        return cw_api_error(r, 400, "bad_request", "last_event_id", "Last-Event-ID is the id of an event "
                            "this stream sent");
    if ((db = cw_api_db(r)) == NULL)
        return;
    if (last == NULL && cw_store_changes_max(db, &max, &err) < 0)
        return cw_api_db_failed(r, &err);
    pthread_mutex_lock(&h->mu);
    if (h->n >= r->a->cfg->max_streams || h->stopping) {
        pthread_mutex_unlock(&h->mu);
        return cw_api_error(r, 503, "too_many_streams", NULL, "%u streams are open, the most this server "
                            "serves (api.max_streams): try again later", h->n);
    }
    s = cw_xcalloc(1, sizeof *s);
    s->a = r->a;
    s->conn = r->conn;
    snprintf(s->scope, sizeof s->scope, "%s", cw_api_scope(r) ? cw_api_scope(r) : "");
    s->last = last ? strtoll(last, NULL, 10) : max;
    /* read at once: changes may wait behind a Last-Event-ID */
    s->checked = -1;
    s->started = s->sent = mono_s();
    s->next = h->all;
    if (h->all)
        h->all->prev = s;
    h->all = s;
    h->n++;
    if (h->max_id < max)
        h->max_id = max;
    pthread_mutex_unlock(&h->mu);
    /* the client retries after 3 s when the stream ends */
    cw_buf_puts(&s->out, "retry: 3000\n: connected\n\n");
    r->resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
    r->status = 200;
    r->ctype = "text/event-stream; charset=utf-8";
    if (r->resp == NULL) {
        stream_free(s);
        return cw_api_error(r, 500, "internal", NULL, "the stream could not be opened");
    }
}
