/*
 * What a request must be before any handler sees it: its URL and headers
 * well-formed UTF-8 without NUL or control bytes, one body length at most,
 * no content coding, sizes within bounds; and how long a client may take
 * to send its headers. libmicrohttpd 0.9.75 is lenient on each of these
 * (the first of two Content-Length headers wins, Content-Encoding is
 * ignored, there is no deadline for the headers), so they are refused
 * here, each as a JSON error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "api/api_int.h"
#include "base/clock.h"
#include "base/log.h"

/* ---- UTF-8 ---------------------------------------------------------------- */

size_t cw_api_utf8_bad(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i], need, min, cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            need = 1, min = 0x80, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            need = 2, min = 0x800, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            need = 3, min = 0x10000, cp = c & 0x07;
        else
            return i;
        if (n - i <= need)
            return i;
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += need + 1;
    }
    return SIZE_MAX;
}

/* Whether s (n bytes) has a NUL or another control byte (tab allowed
 * when tab is set). */
static bool has_control(const unsigned char *s, size_t n, bool tab)
{
    for (size_t i = 0; i < n; i++)
        if ((s[i] < 0x20 && !(tab && s[i] == '\t')) || s[i] == 0x7f)
            return true;
    return false;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The raw URL as it came (escapes not yet decoded): false, having
 * answered, when it is too long, has a bad escape, or decodes to a NUL,
 * a control byte or bytes that are not UTF-8. */
static bool screen_url(req *r)
{
    const unsigned char *u = (const unsigned char *)r->raw;
    size_t n = strlen(r->raw), m = 0, bad;
    unsigned char *dec;

    if (n > CW_API_MAX_URL) {
        cw_api_error(r, 414, "uri_too_long", NULL, "the URL is longer than %d bytes", CW_API_MAX_URL);
        return false;
    }
    dec = cw_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        if (u[i] != '%') {
            dec[m++] = u[i];
            continue;
        }
        if (i + 2 >= n || hexval(u[i + 1]) < 0 || hexval(u[i + 2]) < 0) {
            free(dec);
            cw_api_error(r, 400, "bad_request", NULL, "the URL has a bad %%-escape at byte %zu", i);
            return false;
        }
        dec[m++] = (unsigned char)(hexval(u[i + 1]) * 16 + hexval(u[i + 2]));
        i += 2;
    }
    if (memchr(dec, 0, m) != NULL || has_control(dec, m, false)) {
        free(dec);
        cw_api_error(r, 400, "bad_request", NULL, "the URL holds a NUL or control byte (%%00-%%1F, %%7F)");
        return false;
    }
    bad = cw_api_utf8_bad(dec, m);
    free(dec);
    if (bad != SIZE_MAX) {
        cw_api_error(r, 400, "bad_request", NULL, "the URL is not UTF-8 once decoded (byte %zu)", bad);
        return false;
    }
    return true;
}

/* ---- headers -------------------------------------------------------------- */

/* Where a header's name and value lie in libmicrohttpd's buffer. */
typedef struct hpos {
    const char *key, *end;    /* end: one past the value */
} hpos;

#define MAX_HPOS 128

typedef struct hscan {
    size_t total;
    hpos pos[MAX_HPOS];
    size_t npos;
    bool many;
    const char *bad;          /* the header that is not clean, or NULL */
    int nlength;
    const char *length, *other_length, *te, *ce;
} hscan;

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t klen,
                                   const char *value, size_t vlen)
{
    hscan *h = cls;

    (void)kind;
    h->total += klen + vlen + 4;
    if (value == NULL)
        value = "", vlen = 0;
    if (h->npos < MAX_HPOS)
        h->pos[h->npos++] = (hpos){ key, value + vlen };
    else
        h->many = true;
    if (h->bad == NULL &&
        (strlen(key) != klen || strlen(value) != vlen || has_control((const unsigned char *)key, klen, false) ||
         has_control((const unsigned char *)value, vlen, true) ||
         cw_api_utf8_bad((const unsigned char *)value, vlen) != SIZE_MAX))
        h->bad = key;
    if (strcasecmp(key, "Content-Length") == 0) {
        if (h->nlength++ == 0)
            h->length = value;
        else if (strcmp(value, h->length) != 0)
            h->other_length = value;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        h->te = value;
    } else if (strcasecmp(key, "Content-Encoding") == 0) {
        h->ce = value;
    }
    return MHD_YES;
}

/*
 * libmicrohttpd keeps each header line in its buffer with the line end
 * turned into NULs, and hands over names and values as C strings: a NUL
 * inside a value ("Bearer TOKEN\0junk") silently shortens it. So between
 * the end of one value and the next name there must be nothing but the
 * one or two NULs of the line end, and after the last value, within the
 * size of the whole header, nothing but the NULs of two line ends.
 */
static bool cut_by_nul(req *r, const hscan *h)
{
    const union MHD_ConnectionInfo *ci;
    size_t line, gap;

    if (h->npos == 0 || h->many)
        return false;
    for (size_t i = 0; i + 1 < h->npos; i++) {
        if (h->pos[i + 1].key <= h->pos[i].end || h->pos[i + 1].key - h->pos[i].end > 4096)
            continue;           /* not side by side: nothing to compare */
        gap = (size_t)(h->pos[i + 1].key - h->pos[i].end);
        if (gap > 2)
            return true;
        for (size_t k = 0; k < gap; k++)
            if (h->pos[i].end[k] != '\0')
                return true;
    }
    ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    line = strlen(r->method) + strlen(r->raw) + strlen(r->version) + 4;
    if (ci != NULL && ci->header_size > line) {
        const char *end = h->pos[0].key + (ci->header_size - line);
        const hpos *last = &h->pos[h->npos - 1];
        if (end >= last->end && end - last->end <= 4096) {
            gap = (size_t)(end - last->end);
            for (size_t k = 0; k < gap; k++)
                if (last->end[k] != '\0')
                    return true;
            if (gap > 4)
                return true;
        }
    }
    return false;
}

/* The method: a token of RFC 9110 (it is echoed in a 405's message). */
static bool screen_method(req *r)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    size_t n = r->method ? strlen(r->method) : 0;

    if (n > 0 && n <= 32 && strspn(r->method, tchar) == n)
        return true;
    r->method = "-";
    cw_api_error(r, 400, "bad_request", NULL, "the method is not a token of letters, digits and !#$%%&'*+-.^_`|~");
    return false;
}

void cw_api_utf8_clean(char *s)
{
    size_t n = strlen(s), bad;

    while ((bad = cw_api_utf8_bad((const unsigned char *)s, n)) != SIZE_MAX) {
        /* a sequence cut at the end (a message cut short): drop it */
        size_t k = bad + 1;
        while (k < n && ((unsigned char)s[k] & 0xc0) == 0x80)
            k++;
        if (k == n) {
            s[bad] = '\0';
            return;
        }
        s[bad] = '?';
    }
}

bool cw_api_screen(req *r)
{
    const cw_config *cfg = r->a->cfg;
    hscan h = { 0 };

    if (!screen_method(r) || !screen_url(r))
        return false;
    MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, scan_header, &h);
    if (h.total > CW_API_MAX_HEADERS) {
        cw_api_error(r, 431, "headers_too_large", NULL, "the headers are larger than %d bytes",
                     CW_API_MAX_HEADERS);
        return false;
    }
    if (h.bad == NULL && cut_by_nul(r, &h)) {
        cw_api_error(r, 400, "bad_request", NULL, "a header value holds a NUL byte");
        return false;
    }
    if (h.bad != NULL) {
        char name[64];
        snprintf(name, sizeof name, "%s", h.bad);
        name[strcspn(name, "\r\n\t")] = '\0';
        for (char *p = name; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                *p = '?';
        cw_api_error(r, 400, "bad_request", NULL, "the header '%s' holds a NUL, a control byte or "
                     "bytes that are not UTF-8", name);
        return false;
    }
    if (h.other_length != NULL) {
        cw_api_error(r, 400, "bad_request", NULL, "two different Content-Length headers");
        return false;
    }
    if (h.te != NULL && h.length != NULL) {
        cw_api_error(r, 400, "bad_request", NULL, "Content-Length and Transfer-Encoding together");
        return false;
    }
    if (h.te != NULL && strcasecmp(h.te, "chunked") != 0) {
        cw_api_error(r, 400, "bad_request", NULL, "Transfer-Encoding '%.40s': only chunked is understood",
                     h.te);
        return false;
    }
    if (h.ce != NULL && strcasecmp(h.ce, "identity") != 0) {
        cw_api_error(r, 415, "unsupported_media_type", NULL,
                     "Content-Encoding '%.40s': send the body unencoded (identity)", h.ce);
        return false;
    }
    if (h.length != NULL) {
        size_t n = strlen(h.length);
        if (n == 0 || n > 19 || strspn(h.length, "0123456789") != n) {
            cw_api_error(r, 400, "bad_request", NULL, "Content-Length is not a number of bytes");
            return false;
        }
        if (strtoull(h.length, NULL, 10) > cfg->max_body) {
            cw_api_error(r, 413, "payload_too_large", NULL, "the body is larger than %zu bytes",
                         cfg->max_body);
            return false;
        }
    }
    r->has_length = h.length != NULL || h.te != NULL;
    return true;
}

/* ---- the log of libmicrohttpd, capped ------------------------------------------ */

void cw_api_log_capped(cw_api *a, const char *what, const char *msg)
{
    time_t now = time(NULL);
    unsigned long dropped = 0;
    bool say;

    pthread_mutex_lock(&a->conns_mu);
    if (now - a->log_window >= 60) {
        dropped = a->log_dropped;
        a->log_window = now;
        a->log_lines = 0;
        a->log_dropped = 0;
    }
    say = a->log_lines < CW_API_LOG_PER_MINUTE;
    if (say)
        a->log_lines++;
    else
        a->log_dropped++;
    pthread_mutex_unlock(&a->conns_mu);
    if (dropped > 0)
        cw_log(CW_LOG_WARN, "http: %lu more messages in the last minute were not logged", dropped);
    if (say)
        cw_log(CW_LOG_WARN, "%s: %s", what, msg);
}

/* ---- the header deadline --------------------------------------------------------- */

typedef struct cw_apiconn {
    int fd;
    double deadline;          /* 0: none (headers in, or an answer under way) */
    struct cw_apiconn *prev, *next;
} cw_apiconn;

void cw_api_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    cw_api *a = cls;
    cw_apiconn *c = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c = cw_xcalloc(1, sizeof *c);
        c->fd = ci ? ci->connect_fd : -1;
        c->deadline = cw_mono_s() + a->cfg->header_timeout_s;
        pthread_mutex_lock(&a->conns_mu);
        c->next = a->conns;
        if (a->conns)
            a->conns->prev = c;
        a->conns = c;
        pthread_mutex_unlock(&a->conns_mu);
        *socket_context = c;
        return;
    }
    if (c == NULL)
        return;
    /* called before libmicrohttpd closes the socket: the watchdog holds
     * the same lock while it shuts one down, so it never touches a
     * descriptor already reused */
    pthread_mutex_lock(&a->conns_mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        a->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&a->conns_mu);
    free(c);
    *socket_context = NULL;
}

static cw_apiconn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

void cw_api_headers_in(cw_api *a, struct MHD_Connection *conn)
{
    cw_apiconn *c = conn_of(conn);

    if (c == NULL)
        return;
    pthread_mutex_lock(&a->conns_mu);
    c->deadline = 0;
    pthread_mutex_unlock(&a->conns_mu);
}

void cw_api_answered(cw_api *a, struct MHD_Connection *conn)
{
    cw_apiconn *c = conn_of(conn);
    unsigned idle = a->cfg->timeout_s > a->cfg->header_timeout_s ? a->cfg->timeout_s : a->cfg->header_timeout_s;

    if (c == NULL)
        return;
    /* kept alive: the next request may wait as long as an idle connection
     * may (api.timeout_s), but not be dribbled in for longer */
    pthread_mutex_lock(&a->conns_mu);
    c->deadline = cw_mono_s() + idle;
    pthread_mutex_unlock(&a->conns_mu);
}

static void *watchdog(void *arg)
{
    cw_api *a = arg;

    pthread_mutex_lock(&a->conns_mu);
    while (!a->conns_stop) {
        struct timespec ts;
        double now = cw_mono_s();
        unsigned cut = 0;
        for (cw_apiconn *c = a->conns; c; c = c->next)
            if (c->deadline > 0 && now > c->deadline && c->fd >= 0) {
                shutdown(c->fd, SHUT_RDWR);
                c->deadline = 0;
                cut++;
            }
        if (cut > 0) {
            char msg[128];
            atomic_fetch_add(&a->header_timeouts, cut);
            snprintf(msg, sizeof msg, "%u connection%s closed: headers not sent within %u s", cut,
                     cut == 1 ? "" : "s", a->cfg->header_timeout_s);
            pthread_mutex_unlock(&a->conns_mu);
            cw_api_log_capped(a, "http", msg);
            pthread_mutex_lock(&a->conns_mu);
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&a->conns_cv, &a->conns_mu, &ts);
    }
    pthread_mutex_unlock(&a->conns_mu);
    return NULL;
}

int cw_api_guard_start(cw_api *a, cw_err *err)
{
    pthread_mutex_init(&a->conns_mu, NULL);
    pthread_cond_init(&a->conns_cv, NULL);
    if (pthread_create(&a->conns_thread, NULL, watchdog, a) != 0) {
        pthread_cond_destroy(&a->conns_cv);
        pthread_mutex_destroy(&a->conns_mu);
        return cw_err_set(err, CW_EIO, "cannot start the HTTP header watchdog");
    }
    return 0;
}

void cw_api_guard_stop(cw_api *a)
{
    pthread_mutex_lock(&a->conns_mu);
    a->conns_stop = true;
    pthread_cond_signal(&a->conns_cv);
    pthread_mutex_unlock(&a->conns_mu);
    pthread_join(a->conns_thread, NULL);
}

void cw_api_guard_free(cw_api *a)
{
    while (a->conns) {
        cw_apiconn *c = a->conns;
        a->conns = c->next;
        free(c);
    }
    pthread_cond_destroy(&a->conns_cv);
    pthread_mutex_destroy(&a->conns_mu);
}
