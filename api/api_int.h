/*
 * Internals shared by the API's files: the request, the answer, the
 * worker resources, the metrics.
 */
#ifndef CW_API_INT_H
#define CW_API_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "api/api.h"
#include "store/store.h"
#include "event/evjson.h"
#include "base/util.h"

/* A database connection and a parser, lent to one request at a time. */
typedef struct worker {
    cw_db *db;
    cw_evparser *p;
    struct worker *next;
} worker;

#define LATENCY_BUCKETS 12

struct cw_api {
    struct MHD_Daemon *d;
    cw_group *g;             /* the engines (one unless serve --threads) */
    const cw_config *cfg;
    pthread_mutex_t mu;
    worker *idle;
    /* metrics */
    atomic_uint_fast64_t requests, latency[LATENCY_BUCKETS + 1];
    atomic_uint_fast64_t latency_us_sum;
    atomic_uint_fast64_t stored, duplicates, conflicts, invalid;
    atomic_uint_fast64_t status[6];    /* 1xx .. 5xx */
    /* the console's files (api/console.c); NULL: none */
    char *console;
    /* the live streams (api/stream.c) */
    struct cw_hub *hub;
    /* the open connections and their header deadlines (api/guard.c) */
    pthread_mutex_t conns_mu;
    pthread_cond_t conns_cv;
    pthread_t conns_thread;
    bool conns_stop;
    struct cw_apiconn *conns;
    /* the listening socket and the connections not yet handed to the
     * daemon (api/accept.c) */
    struct cw_acceptor *acceptor;
    atomic_uint_fast64_t header_timeouts, screened;
    /* libmicrohttpd's own messages, at most CW_API_LOG_PER_MINUTE */
    time_t log_window;
    unsigned log_lines;
    unsigned long log_dropped;
};

/* Bounds of a request before its body (api/guard.c). libmicrohttpd's
 * buffer (CW_API_CONN_MEMORY) is larger, so that past these it is this
 * code that answers, in JSON. */
#define CW_API_MAX_URL 8192
#define CW_API_MAX_HEADERS 32768
#define CW_API_CONN_MEMORY (256 * 1024)
#define CW_API_LOG_PER_MINUTE 20

extern const double cw_api_buckets[LATENCY_BUCKETS];

/* One request under way. */
typedef struct req {
    cw_api *a;
    struct MHD_Connection *conn;
    const char *method, *url, *version;
    char *raw;               /* owned: the URL as it came, escapes undecoded */
    bool seen;               /* the handler has been called (headers in) */
    bool has_length;         /* Content-Length or chunked */
    cw_buf body;
    bool too_big;
    double t0;
    const cw_token *who;     /* NULL: no token */
    bool token_given;        /* a bearer token came, known or not */
    bool loopback;
    worker *w;               /* taken on demand */
    /* the answer */
    unsigned status;
    char *text;              /* owned */
    size_t len;
    const char *ctype;
    const char *allow;       /* for 405 */
    char *allow_buf;         /* owned: the methods a path has */
    const char *cache;       /* Cache-Control; NULL: no-store */
    char *disposition;       /* owned: Content-Disposition, or NULL */
    const char *location;    /* Location of a redirect, or NULL */
    bool console;            /* a page of the console: its security headers */
    struct MHD_Response *resp;   /* an answer made by the handler (a stream), or NULL */
} req;

/* The checks of api/guard.c: the request's URL and headers (false
 * having answered 400/413/414/415/431); the offset of the first byte of
 * s that is not UTF-8, or SIZE_MAX; libmicrohttpd's messages, capped;
 * the connections' header deadline. */
bool cw_api_screen(req *r);
size_t cw_api_utf8_bad(const unsigned char *s, size_t n);
/* Make s UTF-8 in place: bytes that are not become '?', a sequence cut at
 * the end is dropped (a message that holds what a client sent, cut to
 * its buffer, must still be a JSON string). */
void cw_api_utf8_clean(char *s);
void cw_api_log_capped(cw_api *a, const char *what, const char *msg);
void cw_api_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code);
void cw_api_headers_in(cw_api *a, struct MHD_Connection *conn);
void cw_api_answered(cw_api *a, struct MHD_Connection *conn);
int cw_api_guard_start(cw_api *a, cw_err *err);
/* api/accept.c: listen (before the daemon starts), hand connections to
 * the daemon (once it runs), stop (before the daemon stops). */
int cw_api_acceptor_start(cw_api *a, const struct sockaddr_in *sin, cw_err *err);
int cw_api_acceptor_run(cw_api *a, cw_err *err);
void cw_api_acceptor_stop(cw_api *a);
void cw_api_guard_stop(cw_api *a);
void cw_api_guard_free(cw_api *a);

/* Answers. */
void cw_api_json(req *r, unsigned status, json_t *body);  /* takes body */
void cw_api_error(req *r, unsigned status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* An error in a body at byte `position` (Error.position). */
void cw_api_error_at(req *r, unsigned status, const char *code, size_t position, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void cw_api_text(req *r, unsigned status, const char *ctype, char *text, size_t len); /* takes text */

/* The database connection of this request (503 answered when there is
 * none: returns NULL). */
cw_db *cw_api_db(req *r);
/* A worker from the pool (a new one connected when none is idle; NULL
 * with err when that fails), given back, or dropped when its connection
 * failed. */
worker *cw_api_worker_take(cw_api *a, cw_err *err);
void cw_api_worker_give(cw_api *a, worker *w);
void cw_api_worker_drop(worker *w);
/* The request's worker is broken (lost connection): drop it. */
void cw_api_db_failed(req *r, const cw_err *err);
const char *cw_api_arg(req *r, const char *name);

/* Handlers: arg is the path segment of the route's "{}", or "". */
void cw_api_post_events(req *r, const char *arg);
void cw_api_get_findings(req *r, const char *arg);
void cw_api_get_finding(req *r, const char *id);
void cw_api_get_explain(req *r, const char *id);
void cw_api_post_review(req *r, const char *id);
void cw_api_get_case(req *r, const char *case_id);
void cw_api_get_rules(req *r, const char *arg);
void cw_api_post_reload(req *r, const char *arg);
void cw_api_post_suggest(req *r, const char *arg);
void cw_api_healthz(req *r, const char *arg);
void cw_api_readyz(req *r, const char *arg);
void cw_api_metrics(req *r, const char *arg);
void cw_api_post_exemption(req *r, const char *id);
void cw_api_delete_exemption(req *r, const char *id);
void cw_api_get_problems(req *r, const char *arg);
void cw_api_get_quality(req *r, const char *arg);
void cw_api_get_backlog(req *r, const char *arg);
void cw_api_get_stream(req *r, const char *arg);
void cw_api_get_console(req *r, const char *path);
void cw_api_get_whoami(req *r, const char *arg);
void cw_api_get_notifications(req *r, const char *arg);
/* What was sent about finding id, and its escalation ladders, into f
 * ("notifications", "escalations"). */
int cw_api_finding_notifications(req *r, cw_db *db, int64_t id, json_t *f, cw_err *err);

/* The streams' hub: started and stopped with the server. */
int cw_api_hub_start(cw_api *a, cw_err *err);
/* Before the daemon stops: the hub's thread ends, every suspended stream
 * is resumed to end. */
void cw_api_hub_stop(cw_api *a);
/* After the daemon stopped (its streams are gone). */
void cw_api_hub_free(cw_api *a);
/* The console's directory: api.console, else console/ beside the
 * program, else the installed one; NULL when there is none. */
char *cw_api_console_dir(const cw_config *cfg);

/* The unit prefix the caller is limited to, or NULL (every unit). */
const char *cw_api_scope(const req *r);
/* The caller's name, for audit rows. */
const char *cw_api_who(const req *r);

/* Values of a query parameter, repeated (a=x&a=y) or comma-separated
 * (a=x,y). */
typedef struct cw_apilist {
    const char **v;
    size_t n, cap;
    char **own;
    size_t nown, capown;
} cw_apilist;
/* Collect the values of `name`; each must be one of `set` (when not
 * NULL), or digits of at most `digits` (when set > 0), or, with digits
 * CW_API_ASCII, an identifier of an ASCII column (letters, digits, - _ .,
 * at most 64), or at most 64 characters. false: answered 400 naming the
 * parameter. */
#define CW_API_ASCII ((size_t)-1)
bool cw_api_list(req *r, const char *name, const char *const *set, size_t digits, cw_apilist *out);
void cw_apilist_free(cw_apilist *l);
/* The parameters the request may have: false (answered 400) for another. */
bool cw_api_known_args(req *r, const char *const *known);
/* A JSON body, or NULL having answered 400. */
json_t *cw_api_body(req *r);
/* `limit` into *out (unchanged when absent), or false having answered 400. */
bool cw_api_limit(req *r, size_t *out);
/* Whether s is NULL or white space only. */
bool cw_api_blank(const char *s);
/* Whether v is digits only, 1 to max of them. */
bool cw_api_digits(const char *v, size_t max);
/* A finding id in the path, or false having answered 404. */
bool cw_api_finding_id(req *r, const char *id, int64_t *out);
/* The finding as GET /v1/findings/{id} answers it, or NULL having
 * answered 404/503. */
json_t *cw_api_load_finding(req *r, cw_db *db, int64_t id);

/* Whether the caller's scope covers unit (inspectors: their prefix). */
bool cw_api_in_scope(const req *r, const char *unit);
/* A finding row as JSON. */
json_t *cw_api_finding_json(req *r, const cw_store_finding *f);
/* RFC 3339 in the deployment's offset, or null for CW_TIME_NONE. */
json_t *cw_api_time(req *r, cw_time t);

#endif
