/*
 * The listening socket is ours, not libmicrohttpd's: each new connection
 * is peeked at (MSG_PEEK: nothing is consumed) until its request line and
 * headers are in, and what libmicrohttpd 0.9.75 would answer with its own
 * HTML pages (a request line it cannot parse, an HTTP version it does not
 * speak, a Content-Length that is not a number, a request line or headers
 * larger than its buffer) is answered here as JSON; a connection that has
 * not sent its headers within api.header_timeout_s is closed. The rest is
 * handed to libmicrohttpd (MHD_add_connection), which reads the same bytes
 * from the start. Later requests on a kept-alive connection are
 * libmicrohttpd's alone (api/guard.c screens them once parsed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api_int.h"
#include "base/clock.h"
#include "base/log.h"

/* the most peeked at once: a request line and headers at their limits */
#define PEEK_MAX (CW_API_MAX_URL + CW_API_MAX_HEADERS + 1024)

typedef struct pending {
    int fd;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    double deadline;
    bool closing;             /* answered: reading what is left, then closed */
    struct pending *prev, *next;
} pending;

struct cw_acceptor {
    cw_api *a;
    int lfd, ep, stopfd;
    pthread_t th;
    bool running;
    pending *list;
    size_t n;
    char *buf;
};

static void drop(struct cw_acceptor *x, pending *p, bool close_fd)
{
    epoll_ctl(x->ep, EPOLL_CTL_DEL, p->fd, NULL);
    if (close_fd)
        close(p->fd);
    if (p->prev)
        p->prev->next = p->next;
    else
        x->list = p->next;
    if (p->next)
        p->next->prev = p->prev;
    x->n--;
    free(p);
}

/* A JSON error of our own, then the connection is closed once the client
 * has had the answer (closing at once, with its request unread, would
 * reset the connection and lose the answer). */
static void answer(struct cw_acceptor *x, pending *p, unsigned status, const char *reason, const char *code,
                   const char *msg)
{
    char out[768];
    int body, n;
    char json[512];

    body = snprintf(json, sizeof json, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n", code, msg);
    n = snprintf(out, sizeof out, "HTTP/1.1 %u %s\r\nContent-Type: application/json; charset=utf-8\r\n"
                 "Content-Length: %d\r\nConnection: close\r\nCache-Control: no-store\r\n"
                 "X-Content-Type-Options: nosniff\r\n\r\n%s", status, reason, body, json);
    if (send(p->fd, out, (size_t)n, MSG_NOSIGNAL) < 0) {
        drop(x, p, true);
        return;
    }
    shutdown(p->fd, SHUT_WR);
    p->closing = true;
    p->deadline = cw_mono_s() + 2;
    atomic_fetch_add(&x->a->screened, 1);
    atomic_fetch_add(&x->a->status[status / 100], 1);
    cw_log(CW_LOG_INFO, "http: - - %u 0.0 ms - (refused before parsing: %s)", status, code);
}

static bool is_tchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The request line [s, end) (without its line end): 0 when libmicrohttpd
 * can take it, else the status to answer. */
static unsigned check_line(const char *s, const char *end)
{
    const char *p = s, *sp;

    while (p < end && is_tchar((unsigned char)*p))
        p++;
    if (p == s || p >= end || *p != ' ')
        return 400;
    sp = ++p;
    while (p < end && (unsigned char)*p > ' ' && (unsigned char)*p != 0x7f)
        p++;
    if (p == sp || p >= end || *p != ' ')
        return 400;
    if ((size_t)(p - sp) > CW_API_MAX_URL)
        return 414;
    p++;
    if (end - p != 8 || strncmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1'))
        return end - p == 8 && strncmp(p, "HTTP/", 5) == 0 ? 505 : 400;
    return 0;
}

/* The header lines [s, end): what libmicrohttpd would refuse with its own
 * page (a line without a colon, a NUL or control byte in a name, a
 * Content-Length that is not digits, or has blanks after them), or NULL. */
static const char *check_headers(const char *s, const char *end)
{
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s)), *e, *colon, *v;
        if (nl == NULL)
            nl = end;
        e = nl > s && nl[-1] == '\r' ? nl - 1 : nl;
        if (e == s || *s == ' ' || *s == '\t') {       /* the end, or a folded line */
            s = nl + 1;
            continue;
        }
        if ((colon = memchr(s, ':', (size_t)(e - s))) == NULL)
            return "a header line without a colon";
        for (const char *c = s; c < colon; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return "a header name holds a NUL or control byte";
        if (colon - s == 14 && strncasecmp(s, "Content-Length", 14) == 0) {
            /* blanks before the digits, none after: libmicrohttpd 0.9.75
             * refuses "7 " and "7<TAB>" with its own page */
            for (v = colon + 1; v < e && (*v == ' ' || *v == '\t'); v++)
                ;
            if (v == e)
                return "Content-Length is not a number of bytes";
            for (; v < e; v++)
                if (*v < '0' || *v > '9')
                    return "Content-Length is not a number of bytes";
        }
        s = nl + 1;
    }
    return NULL;
}

static void examine(struct cw_acceptor *x, pending *p)
{
    ssize_t n;
    const char *b = x->buf, *nl, *hend, *why;
    unsigned st;

    if (p->closing) {
        while ((n = recv(p->fd, x->buf, PEEK_MAX, 0)) > 0)
            ;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            drop(x, p, true);
        return;
    }
    n = recv(p->fd, x->buf, PEEK_MAX, MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        drop(x, p, true);
        return;
    }
    if (n < 0)
        return;
    /* libmicrohttpd skips empty lines before a request */
    while (n > 0 && (*b == '\r' || *b == '\n'))
        b++, n--;
    if ((nl = memchr(b, '\n', (size_t)n)) == NULL) {
        if ((size_t)n > CW_API_MAX_URL + 64)
            answer(x, p, 414, "URI Too Long", "uri_too_long", "the request line is longer than 8 KiB");
        return;
    }
    if ((st = check_line(b, nl > b && nl[-1] == '\r' ? nl - 1 : nl)) != 0) {
        if (st == 505)
            answer(x, p, 505, "HTTP Version Not Supported", "http_version", "HTTP/1.0 and HTTP/1.1 only");
        else if (st == 414)
            answer(x, p, 414, "URI Too Long", "uri_too_long", "the URL is longer than 8 KiB");
        else
            answer(x, p, 400, "Bad Request", "bad_request",
                   "the request line is not METHOD TARGET HTTP/1.x");
        return;
    }
    hend = NULL;
    for (const char *q = nl; q && q < b + n; q = memchr(q + 1, '\n', (size_t)(b + n - q - 1))) {
        const char *r = q + 1;
        if (r < b + n && *r == '\r')
            r++;
        if (r < b + n && *r == '\n') {
            hend = r + 1;
            break;
        }
        if (q + 1 >= b + n)
            break;
    }
    if (hend == NULL) {
        if ((size_t)n >= PEEK_MAX - 1)
            answer(x, p, 431, "Request Header Fields Too Large", "headers_too_large",
                   "the headers are larger than 32 KiB");
        return;
    }
    if ((why = check_headers(nl + 1, hend)) != NULL) {
        answer(x, p, 400, "Bad Request", "bad_request", why);
        return;
    }
    /* libmicrohttpd's from here: it reads the same bytes */
    {
        int fd = p->fd;
        struct sockaddr_storage addr = p->addr;
        socklen_t len = p->addrlen;
        drop(x, p, false);
        if (MHD_add_connection(x->a->d, fd, (struct sockaddr *)&addr, len) != MHD_YES)
            cw_api_log_capped(x->a, "http", "a connection could not be handed over (closed)");
    }
}

static void take_new(struct cw_acceptor *x)
{
    for (;;) {
        pending *p = cw_xcalloc(1, sizeof *p);
        struct epoll_event ev = { 0 };
        p->addrlen = sizeof p->addr;
        p->fd = accept4(x->lfd, (struct sockaddr *)&p->addr, &p->addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (p->fd < 0) {
            free(p);
            return;
        }
        if (x->n >= x->a->cfg->connection_limit) {
            close(p->fd);
            free(p);
            cw_api_log_capped(x->a, "http", "a connection refused: api.connection_limit waiting for headers");
            continue;
        }
        p->deadline = cw_mono_s() + x->a->cfg->header_timeout_s;
        p->next = x->list;
        if (x->list)
            x->list->prev = p;
        x->list = p;
        x->n++;
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = p;
        if (epoll_ctl(x->ep, EPOLL_CTL_ADD, p->fd, &ev) < 0)
            drop(x, p, true);
    }
}

static void *acceptor(void *arg)
{
    struct cw_acceptor *x = arg;
    struct epoll_event evs[64];

    for (;;) {
        int n = epoll_wait(x->ep, evs, 64, 250);
        double now;
        unsigned cut = 0;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &x->stopfd)
                return NULL;
            if (evs[i].data.ptr == &x->lfd)
                take_new(x);
            else
                examine(x, evs[i].data.ptr);
        }
        now = cw_mono_s();
        for (pending *p = x->list, *next; p; p = next) {
            next = p->next;
            if (now <= p->deadline)
                continue;
            if (!p->closing)
                cut++;
            drop(x, p, true);
        }
        if (cut > 0) {
            char msg[128];
            atomic_fetch_add(&x->a->header_timeouts, cut);
            snprintf(msg, sizeof msg, "%u connection%s closed: headers not sent within %u s", cut,
                     cut == 1 ? "" : "s", x->a->cfg->header_timeout_s);
            cw_api_log_capped(x->a, "http", msg);
        }
    }
}

int cw_api_acceptor_start(cw_api *a, const struct sockaddr_in *sin, cw_err *err)
{
    struct cw_acceptor *x = cw_xcalloc(1, sizeof *x);
    struct epoll_event ev = { 0 };
    int one = 1;

    x->a = a;
    x->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    x->ep = epoll_create1(EPOLL_CLOEXEC);
    x->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (x->lfd < 0 || x->ep < 0 || x->stopfd < 0 ||
        setsockopt(x->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(x->lfd, (const struct sockaddr *)sin, sizeof *sin) < 0 || listen(x->lfd, 1024) < 0) {
        int e = errno;
        if (x->lfd >= 0)
            close(x->lfd);
        if (x->ep >= 0)
            close(x->ep);
        if (x->stopfd >= 0)
            close(x->stopfd);
        free(x);
        return cw_err_set(err, CW_EIO, "cannot listen on %s:%u (%s: in use, or not an address of "
                          "this machine)", a->cfg->listen_host, a->cfg->listen_port, strerror(e));
    }
    x->buf = cw_xmalloc(PEEK_MAX);
    ev.events = EPOLLIN;
    ev.data.ptr = &x->lfd;
    epoll_ctl(x->ep, EPOLL_CTL_ADD, x->lfd, &ev);
    ev.data.ptr = &x->stopfd;
    epoll_ctl(x->ep, EPOLL_CTL_ADD, x->stopfd, &ev);
    a->acceptor = x;
    return 0;
}

/* After the daemon started: connections are handed to it from now on. */
int cw_api_acceptor_run(cw_api *a, cw_err *err)
{
    if (pthread_create(&a->acceptor->th, NULL, acceptor, a->acceptor) != 0)
        return cw_err_set(err, CW_EIO, "cannot start the HTTP acceptor");
    a->acceptor->running = true;
    return 0;
}

void cw_api_acceptor_stop(cw_api *a)
{
    struct cw_acceptor *x = a->acceptor;
    uint64_t one = 1;

    if (x == NULL)
        return;
    if (x->running) {
        if (write(x->stopfd, &one, sizeof one) < 0)
            cw_log(CW_LOG_WARN, "http: cannot stop the acceptor: %s", strerror(errno));
        pthread_join(x->th, NULL);
    }
    while (x->list)
        drop(x, x->list, true);
    close(x->lfd);
    close(x->ep);
    close(x->stopfd);
    free(x->buf);
    free(x);
    a->acceptor = NULL;
}
