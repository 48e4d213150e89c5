/*
 * bench/db/post: a small HTTP/1.1 client for measuring `casewarden serve`
 * on loopback, with keep-alive connections and no other dependency.
 *
 *     post ingest  --port P --token T --events FILE [--batch N] [--connections N]
 *     post latency --port P --token T --read-token T2 [--samples N] [--poll-us N]
 *
 * ingest: POST every event of FILE (JSON lines) to /v1/events, N per
 * request as {"events":[...]} (default 100; with 1, the event object
 * alone), over several keep-alive connections (default 4, one thread
 * each) that take the next batch as they go. Every answer must be 200
 * (201 for a single event) and store every event of its batch. Prints
 *
 *   post: mode=ingest events=200000 requests=2000 connections=4 seconds=4.321
 *         events_per_s=46285 p50_ms=7.9 p99_ms=15.2   (on one line)
 *
 * latency: event to finding. Each sample POSTs an interrogation.started
 * with a single officer in a new case (an INTERROGATION-2OFFICERS
 * violation as soon as the engine has judged it), then polls
 * GET /v1/findings?case=... every --poll-us microseconds (default 1000)
 * until the finding is listed. The time from sending the POST to the
 * answer that lists the finding is one sample; the POST's own round trip
 * is reported beside it. Prints percentiles of both.
 *
 * Exits 0, 1 when an answer was wrong (what on stderr), 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

typedef struct conn {
    int fd;
    int port;
    buf in;                     /* bytes read, not yet consumed */
} conn;

typedef struct line {
    const char *p;
    size_t n;
} line;

typedef struct job {
    int port;
    const char *token;
    line *lines;
    size_t nlines, batch, nbatches;
    atomic_size_t next;
    atomic_bool failed;
    double *lat;                /* per request, seconds */
} job;

static void usage(int status)
{
    fputs("usage: post ingest  --port P --token T --events FILE [--batch N] [--connections N]\n"
          "       post latency --port P --token T --read-token T2 [--samples N] [--poll-us N]\n"
          "\n"
          "ingest   POST the events of FILE to http://127.0.0.1:P/v1/events, N per\n"
          "         request (default 100), over several keep-alive connections\n"
          "         (default 4); print events/s and request latency percentiles.\n"
          "latency  POST an event that makes a finding, poll GET /v1/findings?case=\n"
          "         until it is listed; print percentiles of the time it took.\n",
          status ? stderr : stdout);
    exit(status);
}

static double mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL) {
        fputs("post: out of memory\n", stderr);
        exit(2);
    }
    return q;
}

static void buf_put(buf *b, const void *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (b->n + n + 1 > c)
            c *= 2;
        b->p = xrealloc(b->p, c);
        b->cap = c;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void buf_puts(buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

/* ---- HTTP ----------------------------------------------------------------- */

static int conn_open(conn *c)
{
    struct sockaddr_in sin = { 0 };
    int one = 1;

    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)c->port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return -1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    c->in.n = 0;
    return 0;
}

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The header `name` (lower case, with its colon) in the header block h,
 * or NULL: a case-insensitive search at each line start. */
static const char *header(const char *h, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = strstr(h, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, n) == 0)
            return p + 2 + n;
    return NULL;
}

/* Read more bytes into c->in; -1 on error or end of stream. */
static int fill(conn *c)
{
    ssize_t r;

    if (c->in.cap - c->in.n < 65536) {
        c->in.cap = c->in.cap ? c->in.cap * 2 : 131072;
        c->in.p = xrealloc(c->in.p, c->in.cap);
    }
    do
        r = read(c->fd, c->in.p + c->in.n, c->in.cap - c->in.n - 1);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return -1;
    c->in.n += (size_t)r;
    c->in.p[c->in.n] = '\0';
    return 0;
}

/* One request and its answer on a keep-alive connection (opened, or
 * opened again when the server closed it). The answer's body is copied
 * into *body. Returns the status, or -1 (the reason on stderr). */
static int request(conn *c, const char *method, const char *path, const char *token,
                   const char *data, size_t len, buf *body)
{
    char head[1024];
    int hn, status, tries = 0;
    size_t hlen, clen;
    const char *cl, *cn;
    char *end;
    bool closing;

again:
    if (c->fd < 0 && conn_open(c) < 0) {
        fprintf(stderr, "post: connect to 127.0.0.1:%d: %s\n", c->port, strerror(errno));
        return -1;
    }
    hn = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                  "Authorization: Bearer %s\r\n%s", method, path, c->port, token,
                  data ? "Content-Type: application/json\r\n" : "");
    if (data)
        hn += snprintf(head + hn, sizeof head - (size_t)hn, "Content-Length: %zu\r\n", len);
    hn += snprintf(head + hn, sizeof head - (size_t)hn, "\r\n");
    if (write_all(c->fd, head, (size_t)hn) < 0 || (data && write_all(c->fd, data, len) < 0)) {
        conn_close(c);
        if (tries++ == 0)
            goto again;     /* the server closed an idle connection */
        fprintf(stderr, "post: write: %s\n", strerror(errno));
        return -1;
    }
    c->in.n = 0;
    while ((end = c->in.n ? strstr(c->in.p, "\r\n\r\n") : NULL) == NULL)
        if (fill(c) < 0) {
            conn_close(c);
            if (c->in.n == 0 && tries++ == 0)
                goto again;
            fputs("post: the server closed the connection before answering\n", stderr);
            return -1;
        }
    hlen = (size_t)(end - c->in.p) + 4;
    if (sscanf(c->in.p, "HTTP/1.%*d %d", &status) != 1) {
        fputs("post: not an HTTP answer\n", stderr);
        conn_close(c);
        return -1;
    }
    *end = '\0';
    cl = header(c->in.p, "content-length:");
    cn = header(c->in.p, "connection:");
    closing = cn != NULL && strncasecmp(cn + strspn(cn, " "), "close", 5) == 0;
    if (cl == NULL) {
        fputs("post: an answer without Content-Length\n", stderr);
        conn_close(c);
        return -1;
    }
    clen = strtoul(cl, NULL, 10);
    *end = '\r';
    while (c->in.n < hlen + clen)
        if (fill(c) < 0) {
            fputs("post: the answer was cut short\n", stderr);
            conn_close(c);
            return -1;
        }
    body->n = 0;
    buf_put(body, c->in.p + hlen, clen);
    if (closing)
        conn_close(c);
    return status;
}

/* ---- input ---------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    buf b = { 0 };
    char chunk[65536];
    size_t got;

    if (f == NULL)
        return NULL;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_put(&b, chunk, got);
    fclose(f);
    *len = b.n;
    return b.p ? b.p : calloc(1, 1);
}

static line *split_lines(const char *p, size_t len, size_t *n)
{
    const char *end = p + len;
    line *v = NULL;
    size_t k = 0, cap = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if (e > p) {
            if (k == cap) {
                cap = cap ? cap * 2 : 1024;
                v = xrealloc(v, cap * sizeof *v);
            }
            v[k].p = p;
            v[k].n = (size_t)(e - p);
            k++;
        }
        p = e + 1;
    }
    *n = k;
    return v;
}

/* ---- statistics ------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) of v[0..n), sorted, in milliseconds. */
static double pct(const double *v, size_t n, double q)
{
    size_t k;

    if (n == 0)
        return 0;
    k = (size_t)(q * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1] * 1000;
}

/* ---- ingest ----------------------------------------------------------------- */

static void *ingest_worker(void *ud)
{
    job *j = ud;
    conn c = { -1, j->port, { 0 } };
    buf req = { 0 }, body = { 0 };
    size_t b;

    while (!atomic_load(&j->failed) && (b = atomic_fetch_add(&j->next, 1)) < j->nbatches) {
        size_t from = b * j->batch, to = from + j->batch, want;
        char key[64];
        double t0;
        int st;

        if (to > j->nlines)
            to = j->nlines;
        req.n = 0;
        if (j->batch == 1) {
            buf_put(&req, j->lines[from].p, j->lines[from].n);
        } else {
            buf_puts(&req, "{\"events\":[");
            for (size_t i = from; i < to; i++) {
                if (i > from)
                    buf_put(&req, ",", 1);
                buf_put(&req, j->lines[i].p, j->lines[i].n);
            }
            buf_puts(&req, "]}");
        }
        t0 = mono();
        st = request(&c, "POST", "/v1/events", j->token, req.p, req.n, &body);
        j->lat[b] = mono() - t0;
        want = to - from;
        snprintf(key, sizeof key, "\"stored\":%zu,", want);
        if (st < 0 || (j->batch == 1 && st != 201) ||
            (j->batch > 1 && (st != 200 || strstr(body.p, key) == NULL))) {
            if (st >= 0)
                fprintf(stderr, "post: batch %zu: HTTP %d, not %zu stored: %.300s\n", b, st, want,
                        body.p ? body.p : "");
            atomic_store(&j->failed, true);
        }
    }
    conn_close(&c);
    free(req.p);
    free(body.p);
    free(c.in.p);
    return NULL;
}

static int ingest(int port, const char *token, const char *events, size_t batch, long conns)
{
    job j = { .port = port, .token = token, .batch = batch };
    pthread_t *th = calloc((size_t)conns, sizeof *th);
    size_t len;
    char *text = slurp(events, &len);
    double t0, dt;

    if (text == NULL || th == NULL) {
        perror(events);
        return 2;
    }
    j.lines = split_lines(text, len, &j.nlines);
    j.nbatches = (j.nlines + batch - 1) / batch;
    j.lat = calloc(j.nbatches + 1, sizeof *j.lat);
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, false);
    t0 = mono();
    for (long i = 0; i < conns; i++)
        if (pthread_create(&th[i], NULL, ingest_worker, &j) != 0) {
            fputs("post: cannot start a thread\n", stderr);
            return 2;
        }
    for (long i = 0; i < conns; i++)
        pthread_join(th[i], NULL);
    dt = mono() - t0;
    if (!atomic_load(&j.failed)) {
        qsort(j.lat, j.nbatches, sizeof *j.lat, cmp_double);
        printf("post: mode=ingest events=%zu requests=%zu connections=%ld seconds=%.3f "
               "events_per_s=%.0f p50_ms=%.2f p99_ms=%.2f\n", j.nlines, j.nbatches, conns, dt,
               (double)j.nlines / dt, pct(j.lat, j.nbatches, 0.5), pct(j.lat, j.nbatches, 0.99));
    }
    free(j.lat);
    free(j.lines);
    free(text);
    free(th);
    return atomic_load(&j.failed) ? 1 : 0;
}

/* ---- latency ---------------------------------------------------------------- */

static int latency(int port, const char *token, const char *read_token, long samples, long poll_us)
{
    conn c = { -1, port, { 0 } };
    buf ev = { 0 }, body = { 0 };
    double *total = calloc((size_t)samples, sizeof *total);
    double *post = calloc((size_t)samples, sizeof *post);
    long run = (long)time(NULL), polls = 0;
    struct timespec pause = { poll_us / 1000000, (poll_us % 1000000) * 1000 };
    int rc = 0;

    if (total == NULL || post == NULL) {
        fputs("post: out of memory\n", stderr);
        return 2;
    }
    for (long i = 0; i < samples && rc == 0; i++) {
        char at[40], path[160];
        time_t t = time(NULL) - 60 + 8 * 3600;
        struct tm tm;
        double t0, t1;
        int st;

        /* the deployment's offset, +08:00, a minute ago */
        gmtime_r(&t, &tm);
        strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
        ev.n = 0;
        snprintf(path, sizeof path, "/v1/findings?case=A-LAT-%ld-%ld&limit=10", run, i);
        {
            char tmp[512];
            snprintf(tmp, sizeof tmp,
                     "{\"id\":\"lat-%ld-%ld\",\"type\":\"interrogation.started\",\"case\":\"A-LAT-%ld-%ld\","
                     "\"unit\":\"370102\",\"at\":\"%s\",\"actor\":\"O10001\",\"data\":{\"person\":\"P1\","
                     "\"session\":\"S1\",\"officers\":[\"O10001\"],\"recorded\":false,\"in_facility\":false}}",
                     run, i, run, i, at);
            buf_puts(&ev, tmp);
        }
        t0 = mono();
        st = request(&c, "POST", "/v1/events", token, ev.p, ev.n, &body);
        t1 = mono();
        if (st != 201) {
            fprintf(stderr, "post: sample %ld: POST answered %d: %.300s\n", i, st, body.p ? body.p : "");
            rc = 1;
            break;
        }
        post[i] = t1 - t0;
        for (;;) {
            st = request(&c, "GET", path, read_token, NULL, 0, &body);
            polls++;
            if (st != 200) {
                fprintf(stderr, "post: sample %ld: GET answered %d: %.300s\n", i, st, body.p ? body.p : "");
                rc = 1;
                break;
            }
            if (strstr(body.p, "INTERROGATION-2OFFICERS") != NULL) {
                total[i] = mono() - t0;
                break;
            }
            if (mono() - t0 > 30) {
                fprintf(stderr, "post: sample %ld: no finding after 30 s\n", i);
                rc = 1;
                break;
            }
            if (poll_us > 0)
                nanosleep(&pause, NULL);
        }
    }
    if (rc == 0) {
        qsort(total, (size_t)samples, sizeof *total, cmp_double);
        qsort(post, (size_t)samples, sizeof *post, cmp_double);
        printf("post: mode=latency samples=%ld polls=%ld finding_p50_ms=%.2f finding_p90_ms=%.2f "
               "finding_p99_ms=%.2f finding_max_ms=%.2f post_p50_ms=%.2f post_p99_ms=%.2f\n",
               samples, polls, pct(total, (size_t)samples, 0.5), pct(total, (size_t)samples, 0.9),
               pct(total, (size_t)samples, 0.99), pct(total, (size_t)samples, 1.0),
               pct(post, (size_t)samples, 0.5), pct(post, (size_t)samples, 0.99));
    }
    conn_close(&c);
    free(c.in.p);
    free(ev.p);
    free(body.p);
    free(total);
    free(post);
    return rc;
}

int main(int argc, char **argv)
{
    const char *token = NULL, *read_token = NULL, *events = NULL;
    long port = 0, conns = 4, samples = 300, poll_us = 1000;
    size_t batch = 100;
    bool lat;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        usage(0);
    if (argc < 2 || (strcmp(argv[1], "ingest") != 0 && strcmp(argv[1], "latency") != 0))
        usage(2);
    lat = strcmp(argv[1], "latency") == 0;
    for (int a = 2; a < argc; a++) {
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (v == NULL)
            usage(2);
        if (strcmp(argv[a], "--port") == 0)
            port = strtol(v, NULL, 10);
        else if (strcmp(argv[a], "--token") == 0)
            token = v;
        else if (strcmp(argv[a], "--read-token") == 0)
            read_token = v;
        else if (strcmp(argv[a], "--events") == 0)
            events = v;
        else if (strcmp(argv[a], "--batch") == 0)
            batch = strtoul(v, NULL, 10);
        else if (strcmp(argv[a], "--connections") == 0)
            conns = strtol(v, NULL, 10);
        else if (strcmp(argv[a], "--samples") == 0)
            samples = strtol(v, NULL, 10);
        else if (strcmp(argv[a], "--poll-us") == 0)
            poll_us = strtol(v, NULL, 10);
        else
            usage(2);
        a++;
    }
    if (port <= 0 || port > 65535 || token == NULL || batch == 0 || conns < 1 || conns > 256)
        usage(2);
    if (lat) {
        if (read_token == NULL || samples < 1 || poll_us < 0)
            usage(2);
        return latency((int)port, token, read_token, samples, poll_us);
    }
    if (events == NULL)
        usage(2);
    return ingest((int)port, token, events, batch, conns);
}
