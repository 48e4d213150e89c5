/*
 * The HTTP server: request bodies, authentication, routing, answers.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/sha256.h"

const double cw_api_buckets[LATENCY_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5
};

/* ---- answers --------------------------------------------------------------- */

void cw_api_text(req *r, unsigned status, const char *ctype, char *text, size_t len)
{
    free(r->text);
    r->status = status;
    r->ctype = ctype;
    r->text = text;
    r->len = len;
}

void cw_api_json(req *r, unsigned status, json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT);
    size_t len = s ? strlen(s) : 0;

    json_decref(body);
    if (s == NULL) {
        s = cw_xstrdup("{\"error\":{\"code\":\"internal\",\"message\":\"could not write the answer\"}}");
        status = 500;
        len = strlen(s);
    }
    /* a final newline, for those who read with curl */
    s = cw_xrealloc(s, len + 2);
    s[len++] = '\n';
    s[len] = '\0';
    cw_api_text(r, status, "application/json; charset=utf-8", s, len);
}

void cw_api_error(req *r, unsigned status, const char *code, const char *field, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    json_t *e;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cw_api_utf8_clean(msg);
    e = json_pack("{s:s,s:s}", "code", code, "message", msg);
    if (field != NULL)
        json_object_set_new(e, "field", json_string(field));
    cw_api_json(r, status, json_pack("{s:o}", "error", e));
}

void cw_api_error_at(req *r, unsigned status, const char *code, size_t position, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cw_api_utf8_clean(msg);
    cw_api_json(r, status, json_pack("{s:{s:s,s:s,s:I}}", "error", "code", code, "message", msg,
                                     "position", (json_int_t)position));
}

const char *cw_api_arg(req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- workers ----------------------------------------------------------------- */

worker *cw_api_worker_take(cw_api *a, cw_err *err)
{
    worker *w = NULL;

    pthread_mutex_lock(&a->mu);
    if (a->idle != NULL) {
        w = a->idle;
        a->idle = w->next;
    }
    pthread_mutex_unlock(&a->mu);
    if (w == NULL) {
        w = cw_xcalloc(1, sizeof *w);
        if (cw_db_connect(&w->db, &a->cfg->db, false, err) < 0) {
            free(w);
            return NULL;
        }
        w->p = cw_evparser_new();
    }
    return w;
}

void cw_api_worker_give(cw_api *a, worker *w)
{
    pthread_mutex_lock(&a->mu);
    w->next = a->idle;
    a->idle = w;
    pthread_mutex_unlock(&a->mu);
}

void cw_api_worker_drop(worker *w)
{
    cw_db_close(w->db);
    cw_evparser_free(w->p);
    free(w);
}

cw_db *cw_api_db(req *r)
{
    cw_err err;

    if (r->w != NULL)
        return r->w->db;
    if ((r->w = cw_api_worker_take(r->a, &err)) == NULL) {
        cw_log(CW_LOG_ERROR, "api: %s", err.msg);
        cw_api_error(r, 503, "database_unavailable", NULL, "the database cannot be reached");
        return NULL;
    }
    return r->w->db;
}

void cw_api_db_failed(req *r, const cw_err *err)
{
    bool ours;

    cw_log(CW_LOG_ERROR, "api: %s %s: %s", r->method, r->url, err->msg);
    /* a statement the server refused on a live connection, other than a
     * deadlock or a lock wait (try again), is a fault of ours, not an
     * outage: 500. The connection is dropped either way: it may be left
     * inside a transaction. */
    ours = r->w != NULL && !cw_db_is_down(r->w->db) && !cw_db_is_retryable(r->w->db);
    if (r->w != NULL) {
        cw_api_worker_drop(r->w);
        r->w = NULL;
    }
    if (ours)
        cw_api_error(r, 500, "internal", NULL, "the database refused the request");
    else
        cw_api_error(r, 503, "database_unavailable", NULL, "the database failed: try again");
}

static void give_back(req *r)
{
    if (r->w == NULL)
        return;
    cw_api_worker_give(r->a, r->w);
    r->w = NULL;
}

/* ---- who is asking ------------------------------------------------------------- */

/* The token of the Authorization header (len bytes: a NUL inside never
 * shortens it), or NULL; *given says whether there was a bearer token. */
static const cw_token *authenticate(const cw_api *a, const char *header, size_t len, bool *given)
{
    const cw_token *found = NULL;
    uint8_t digest[32];

    *given = false;
    if (header == NULL || len < 7 || strncasecmp(header, "Bearer ", 7) != 0)
        return NULL;
    header += 7;
    len -= 7;
    while (len > 0 && *header == ' ')
        header++, len--;
    *given = true;
    if (len == 0 || memchr(header, '\0', len) != NULL)
        return NULL;
    cw_sha256(header, len, digest);
    /* every token is compared, matching or not, so the time taken says
     * nothing about which one almost matched */
    for (size_t i = 0; i < a->cfg->ntokens; i++)
        if (cw_digest_equal(digest, a->cfg->tokens[i].sha256) && found == NULL)
            found = &a->cfg->tokens[i];
    return found;
}

static bool is_loopback(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *x = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        return IN6_IS_ADDR_LOOPBACK(x) || (memcmp(x->s6_addr, v4mapped, 12) == 0 && x->s6_addr[12] == 127);
    }
    return sa->sa_family == AF_UNIX;
}

const char *cw_api_scope(const req *r)
{
    return r->who && (r->who->role & CW_ROLE_SCOPED) ? r->who->unit : NULL;
}

const char *cw_api_who(const req *r)
{
    return r->who ? r->who->name : "loopback";
}

bool cw_api_in_scope(const req *r, const char *unit)
{
    const char *prefix = cw_api_scope(r);

    return prefix == NULL || strncmp(unit ? unit : "", prefix, strlen(prefix)) == 0;
}

/* ---- routing ---------------------------------------------------------------------- */

static bool method_is(const req *r, const char *m)
{
    return strcmp(r->method, m) == 0;
}

/* Who may do what: the roles for each route, and whether loopback needs
 * no token at all. */
static bool allowed(req *r, unsigned roles, bool open_on_loopback)
{
    if (open_on_loopback && r->loopback)
        return true;
    if (r->who == NULL && r->token_given) {
        cw_api_error(r, 401, "unauthorized", NULL, "invalid token");
        return false;
    }
    if (r->who == NULL) {
        cw_api_error(r, 401, "unauthorized", NULL, "a bearer token is required "
                     "(Authorization: Bearer TOKEN)");
        return false;
    }
    if (open_on_loopback || (r->who->role & roles) != 0)
        return true;
    cw_api_error(r, 403, "forbidden", NULL, "the %s role may not do this",
                 cw_role_name(r->who->role));
    return false;
}

static void not_allowed_method(req *r, const char *allow)
{
    r->allow = allow;
    cw_api_error(r, 405, "method_not_allowed", NULL, "%s is not allowed here (allowed: %s)",
                 r->method, allow);
}

static bool json_body(req *r)
{
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");

    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
        cw_api_error(r, 415, "unsupported_media_type", NULL,
                     "send the body as application/json (got %s)", ct ? ct : "no Content-Type");
        return false;
    }
    return true;
}

/*
 * The routes: a path pattern ("{}" is one path segment, handed to the
 * handler), its method, who may call it, and whether it takes a JSON
 * body. A path that matches with another method answers 405 naming the
 * methods it has.
 */
#define INSPECT (CW_ROLE_INSPECTOR | CW_ROLE_REVIEWER | CW_ROLE_ADMIN)
#define EXEMPT (CW_ROLE_REVIEWER | CW_ROLE_ADMIN)
#define ANYONE (~0u)

static const struct route {
    const char *method, *path;
    unsigned roles;
    bool open_on_loopback, body;
    void (*fn)(req *r, const char *arg);
} routes[] = {
    { "GET", "/healthz", ANYONE, true, false, cw_api_healthz },
    { "GET", "/readyz", ANYONE, true, false, cw_api_readyz },
    { "GET", "/metrics", ANYONE, true, false, cw_api_metrics },
    { "POST", "/v1/events", CW_ROLE_INGEST | CW_ROLE_ADMIN, false, true, cw_api_post_events },
    { "POST", "/v1/sanctions/suggest", INSPECT | CW_ROLE_HANDLER, false, true, cw_api_post_suggest },
    { "GET", "/v1/findings", INSPECT, false, false, cw_api_get_findings },
    { "GET", "/v1/findings/{}", INSPECT, false, false, cw_api_get_finding },
    { "POST", "/v1/findings/{}/review", INSPECT, false, true, cw_api_post_review },
    { "GET", "/v1/findings/{}/explain", INSPECT, false, false, cw_api_get_explain },
    { "GET", "/v1/cases/{}", INSPECT, false, false, cw_api_get_case },
    { "POST", "/v1/findings/{}/exemption", EXEMPT, false, true, cw_api_post_exemption },
    { "DELETE", "/v1/findings/{}/exemption", EXEMPT, false, false, cw_api_delete_exemption },
    { "GET", "/v1/rules", INSPECT, false, false, cw_api_get_rules },
    { "POST", "/v1/rules/reload", CW_ROLE_ADMIN, false, false, cw_api_post_reload },
    { "GET", "/v1/events/problems", CW_ROLE_INGEST | CW_ROLE_ADMIN, false, false, cw_api_get_problems },
    { "GET", "/v1/notifications", CW_ROLE_ADMIN, false, false, cw_api_get_notifications },
    { "GET", "/v1/reports/quality", INSPECT, false, false, cw_api_get_quality },
    { "GET", "/v1/reports/backlog", INSPECT, false, false, cw_api_get_backlog },
    { "GET", "/v1/stream", INSPECT, false, false, cw_api_get_stream },
    { "GET", "/v1/whoami", ANYONE, false, false, cw_api_get_whoami },
    /* the console logs in with a token of its own: its files are public */
    { "GET", "/console", ANYONE, true, false, cw_api_get_console },
    { "GET", "/console/{*}", ANYONE, true, false, cw_api_get_console },
};

/* Whether url matches pattern; the segment standing for "{}" into arg
 * (or, for a final "{*}", the rest of the path, possibly empty). */
static bool path_match(const char *pattern, const char *url, char *arg, size_t size)
{
    const char *hole = strstr(pattern, "{}"), *rest = strstr(pattern, "{*}"), *end;
    size_t pre;

    arg[0] = '\0';
    if (rest != NULL) {
        pre = (size_t)(rest - pattern);
        if (strncmp(pattern, url, pre) != 0 || strlen(url + pre) >= size)
            return false;
        snprintf(arg, size, "%s", url + pre);
        return true;
    }
    if (hole == NULL)
        return strcmp(pattern, url) == 0;
    pre = (size_t)(hole - pattern);
    if (strncmp(pattern, url, pre) != 0)
        return false;
    url += pre;
    if ((end = strchr(url, '/')) == NULL)
        end = url + strlen(url);
    if (end == url || (size_t)(end - url) >= size || strcmp(hole + 2, end) != 0)
        return false;
    memcpy(arg, url, (size_t)(end - url));
    arg[end - url] = '\0';
    return true;
}

static void route(req *r)
{
    char arg[256], allow[64] = "";
    size_t n = 0;

    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        const struct route *rt = &routes[i];
        if (!path_match(rt->path, r->url, arg, sizeof arg))
            continue;
        if (!method_is(r, rt->method)) {
            n += (size_t)snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "", rt->method);
            continue;
        }
        if (!allowed(r, rt->roles, rt->open_on_loopback))
            return;
        if (rt->body && !r->has_length) {
            cw_api_error(r, 411, "length_required", NULL, "send the body with a Content-Length");
            return;
        }
        if (!rt->body || json_body(r))
            rt->fn(r, arg);
        return;
    }
    if (n > 0) {
        r->allow_buf = cw_xstrdup(allow);
        return not_allowed_method(r, r->allow_buf);
    }
    cw_api_error(r, 404, "not_found", NULL, "no such resource: %s", r->url);
}

/* ---- libmicrohttpd --------------------------------------------------------------- */

/* Called once the request line is in: the request starts here, with the
 * URL as it came, before libmicrohttpd decodes its escapes. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    req *r = cw_xcalloc(1, sizeof *r);

    r->a = cls;
    r->conn = conn;
    r->raw = cw_xstrdup(uri ? uri : "");
    r->t0 = cw_mono_s();
    return r;
}

/* The path of the raw URL, without the query (which may hold anything),
 * printable bytes only, for the access log. */
static void log_path(const req *r, char *out, size_t size)
{
    size_t n = 0;

    for (const char *p = r->raw; *p && *p != '?' && n + 5 < size; p++) {
        unsigned char c = (unsigned char)*p;
        if (c > 0x20 && c < 0x7f)
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, size - n, "\\x%02x", c);
    }
    out[n] = '\0';
}

static void access_log(const req *r, double dt)
{
    char path[256];

    log_path(r, path, sizeof path);
    cw_log(CW_LOG_INFO, "http: %s %s %u %.1f ms %s", r->method ? r->method : "-", path, r->status,
           dt * 1e3, r->who ? r->who->name : r->loopback ? "loopback" : "-");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    cw_api *a = cls;
    req *r = *con_cls;
    struct MHD_Response *resp;
    enum MHD_Result ret;
    const char *auth;
    size_t auth_len = 0;
    double dt;

    if (r == NULL)
        *con_cls = r = on_uri(a, url, conn);
    if (!r->seen) {
        r->seen = true;
        r->method = method;
        r->url = url;
        r->version = version;
        cw_api_headers_in(a, conn);
        if (cw_api_screen(r))
            return MHD_YES;
        atomic_fetch_add(&a->screened, 1);
        /* answered before the body: libmicrohttpd reads no more of it */
        goto answer;
    }
    if (*upload_size > 0) {
        if (r->too_big || r->body.n + *upload_size > a->cfg->max_body) {
            r->too_big = true;
            cw_buf_free(&r->body);
        } else {
            cw_buf_put(&r->body, upload, *upload_size);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    auth = NULL;
    if (MHD_lookup_connection_value_n(conn, MHD_HEADER_KIND, "Authorization", 13, &auth, &auth_len) != MHD_YES)
        auth = NULL;
    r->who = authenticate(a, auth, auth_len, &r->token_given);
    r->loopback = is_loopback(conn);
    if (r->too_big)
        cw_api_error(r, 413, "payload_too_large", NULL, "the body is larger than %zu bytes",
                     a->cfg->max_body);
    else
        route(r);
answer:
    give_back(r);
    if (r->resp != NULL) {
        resp = r->resp;
        r->resp = NULL;
    } else {
        resp = MHD_create_response_from_buffer(r->len, r->text, MHD_RESPMEM_MUST_FREE);
        r->text = NULL;
    }
    MHD_add_response_header(resp, "Content-Type", r->ctype ? r->ctype : "text/plain");
    MHD_add_response_header(resp, "Cache-Control", r->cache ? r->cache : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->disposition)
        MHD_add_response_header(resp, "Content-Disposition", r->disposition);
    if (r->location)
        MHD_add_response_header(resp, "Location", r->location);
    if (r->console) {
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'; form-action 'none'");
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    }
    if (r->allow)
        MHD_add_response_header(resp, "Allow", r->allow);
    if (r->status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"casewarden\"");
    /* every 503 is passing (the database, the engine starting or behind,
     * a busy stream): the client may try again shortly */
    if (r->status == 503)
        MHD_add_response_header(resp, "Retry-After", "2");
    ret = MHD_queue_response(conn, r->status, resp);
    MHD_destroy_response(resp);
    dt = cw_mono_s() - r->t0;
    atomic_fetch_add(&a->requests, 1);
    atomic_fetch_add(&a->latency_us_sum, (uint_fast64_t)(dt * 1e6));
    {
        int b = 0;
        while (b < LATENCY_BUCKETS && dt > cw_api_buckets[b])
            b++;
        atomic_fetch_add(&a->latency[b], 1);
    }
    if (r->status >= 100 && r->status < 600)
        atomic_fetch_add(&a->status[r->status / 100], 1);
    access_log(r, dt);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    req *r = *con_cls;

    (void)toe;
    cw_api_answered(cls, conn);
    if (r == NULL)
        return;
    give_back(r);
    cw_buf_free(&r->body);
    free(r->text);
    free(r->raw);
    free(r->allow_buf);
    free(r->disposition);
    if (r->resp)
        MHD_destroy_response(r->resp);
    free(r);
    *con_cls = NULL;
}

/* libmicrohttpd's messages: one per dropped or timed-out connection, so a
 * client that opens many of them could fill the log; capped. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    cw_api_log_capped(cls, "http", msg);
}

int cw_api_start(cw_api **out, cw_group *g, const cw_config *cfg, cw_err *err)
{
    cw_api *a = cw_xcalloc(1, sizeof *a);
    struct sockaddr_in sin;

    *out = NULL;
    a->g = g;
    a->cfg = cfg;
    pthread_mutex_init(&a->mu, NULL);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)cfg->listen_port);
    if (inet_pton(AF_INET, strcmp(cfg->listen_host, "localhost") == 0 ? "127.0.0.1" : cfg->listen_host,
                  &sin.sin_addr) != 1) {
        free(a);
        return cw_err_set(err, CW_ECONFIG, "listen: '%s' is not an IPv4 address", cfg->listen_host);
    }
    a->console = cw_api_console_dir(cfg);
    if (cw_api_guard_start(a, err) < 0) {
        free(a->console);
        free(a);
        return err->code;
    }
    if (cw_api_acceptor_start(a, &sin, err) < 0) {
        cw_api_guard_stop(a);
        cw_api_guard_free(a);
        free(a->console);
        free(a);
        return err->code;
    }
    if (cw_api_hub_start(a, err) < 0) {
        cw_api_acceptor_stop(a);
        cw_api_guard_stop(a);
        cw_api_guard_free(a);
        free(a->console);
        free(a);
        return err->code;
    }
    /* streams wait suspended for changes (api/stream.c) */
    /* connections come from api/accept.c, which listens */
    a->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                            MHD_ALLOW_SUSPEND_RESUME | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC,
                            0, NULL, NULL, on_request, a,
                            MHD_OPTION_EXTERNAL_LOGGER, on_log, a,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->connection_limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, a,
                            MHD_OPTION_NOTIFY_CONNECTION, cw_api_on_connection, a,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CW_API_CONN_MEMORY,
                            MHD_OPTION_END);
    if (a->d == NULL || cw_api_acceptor_run(a, err) < 0) {
        cw_api_acceptor_stop(a);
        if (a->d)
            MHD_stop_daemon(a->d);
        cw_api_hub_stop(a);
        cw_api_hub_free(a);
        cw_api_guard_stop(a);
        cw_api_guard_free(a);
        free(a->console);
        free(a);
        return cw_err_set(err, CW_EIO, "cannot start the HTTP server on %s:%u", cfg->listen_host,
                          cfg->listen_port);
    }
    *out = a;
    return 0;
}

void cw_api_stop(cw_api *a)
{
    if (a == NULL)
        return;
    /* suspended streams are resumed and ended first: a daemon may not
     * stop with connections suspended */
    cw_api_acceptor_stop(a);
    cw_api_hub_stop(a);
    MHD_stop_daemon(a->d);
    cw_api_hub_free(a);
    cw_api_guard_stop(a);
    cw_api_guard_free(a);
    free(a->console);
    while (a->idle) {
        worker *w = a->idle;
        a->idle = w->next;
        cw_api_worker_drop(w);
    }
    pthread_mutex_destroy(&a->mu);
    free(a);
}
