/*
 * Internals shared by the API's files: the request, the answer, the
 * worker resources, the metrics.
 */
#ifndef CW_API_INT_H
#define CW_API_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

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
    cw_service *s;
    const cw_config *cfg;
    pthread_mutex_t mu;
    worker *idle;
    /* metrics */
    atomic_uint_fast64_t requests, latency[LATENCY_BUCKETS + 1];
    atomic_uint_fast64_t latency_us_sum;
    atomic_uint_fast64_t stored, duplicates, conflicts, invalid;
    atomic_uint_fast64_t status[6];    /* 1xx .. 5xx */
};

extern const double cw_api_buckets[LATENCY_BUCKETS];

/* One request under way. */
typedef struct req {
    cw_api *a;
    struct MHD_Connection *conn;
    const char *method, *url;
    cw_buf body;
    bool too_big;
    double t0;
    const cw_token *who;     /* NULL: no token */
    bool loopback;
    worker *w;               /* taken on demand */
    /* the answer */
    unsigned status;
    char *text;              /* owned */
    size_t len;
    const char *ctype;
    const char *allow;       /* for 405 */
    char *allow_buf;         /* owned: the methods a path has */
} req;

/* Answers. */
void cw_api_json(req *r, unsigned status, json_t *body);  /* takes body */
void cw_api_error(req *r, unsigned status, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void cw_api_text(req *r, unsigned status, const char *ctype, char *text, size_t len); /* takes text */

/* The database connection of this request (503 answered when there is
 * none: returns NULL). */
cw_db *cw_api_db(req *r);
/* The request's worker is broken (lost connection): drop it. */
void cw_api_db_failed(req *r, const cw_err *err);
const char *cw_api_arg(req *r, const char *name);

/* Handlers: arg is the path segment of the route's "{}", or "". */
void cw_api_post_events(req *r, const char *arg);
void cw_api_get_findings(req *r, const char *arg);
void cw_api_get_finding(req *r, const char *id);
void cw_api_post_review(req *r, const char *id);
void cw_api_get_case(req *r, const char *case_id);
void cw_api_get_rules(req *r, const char *arg);
void cw_api_post_reload(req *r, const char *arg);
void cw_api_post_suggest(req *r, const char *arg);
void cw_api_healthz(req *r, const char *arg);
void cw_api_readyz(req *r, const char *arg);
void cw_api_metrics(req *r, const char *arg);

/* Whether the caller's scope covers unit (inspectors: their prefix). */
bool cw_api_in_scope(const req *r, const char *unit);
/* A finding row as JSON. */
json_t *cw_api_finding_json(req *r, const cw_store_finding *f);
/* RFC 3339 in the deployment's offset, or null for CW_TIME_NONE. */
json_t *cw_api_time(req *r, cw_time t);

#endif
