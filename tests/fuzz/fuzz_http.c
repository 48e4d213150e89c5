/*
 * The HTTP request path in-process: the service and its API run in this
 * process (against the database of $CW_FUZZ_CONFIG, which scripts/fuzz
 * starts), and each input is sent as the raw bytes of a request on a new
 * connection, which is then half-closed. Whatever the bytes, an answer of
 * ours is never a 5xx other than 503 and 505 (an HTTP version we do not
 * speak): the screening, routing, parameters and handlers answer 4xx for
 * what a client sent; and no sanitizer trips.
 */
#define _GNU_SOURCE
#include "fuzz.h"

#include <stdbool.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <dlfcn.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include "api/api.h"
#include "base/log.h"
#include "service/config.h"
#include "service/group.h"

static cw_config *cfg;
static cw_group *grp;
static cw_api *api;
static pthread_t loop;
static volatile sig_atomic_t stop, hup;

static void *run(void *arg)
{
    (void)arg;
    cw_group_run(grp, &stop, &hup);
    return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *path = getenv("CW_FUZZ_CONFIG");
    cw_service_opts o = { 1780272000, true, NULL };    /* 2026-06-01, running */
    cw_err err;

    (void)argc;
    (void)argv;
    if (path == NULL) {
        fprintf(stderr, "fuzz_http: set CW_FUZZ_CONFIG to a casewarden.yaml (scripts/fuzz does)\n");
        exit(2);
    }
    /* a reload would dlclose the plugins, whose coverage counters the
     * fuzzer keeps reading: they stay loaded for good */
    for (const char *const *pl = (const char *const[]){ "deadline", "discretion", NULL }; *pl; pl++) {
        char so[512];
        snprintf(so, sizeof so, "%s/plugins/.libs/%s.so", CW_BUILDDIR, *pl);
        if (dlopen(so, RTLD_NOW | RTLD_NODELETE) == NULL) {
            fprintf(stderr, "fuzz_http: %s\n", dlerror());
            exit(2);
        }
    }
    cw_log_set(stderr, CW_LOG_ERROR, 0);
    if (cw_config_load(&cfg, path, &err) < 0 || cw_group_open(&grp, cfg, 1, false, &o, &err) < 0 ||
        cw_api_start(&api, grp, cfg, &err) < 0) {
        fprintf(stderr, "fuzz_http: %s\n", err.msg);
        exit(2);
    }
    pthread_create(&loop, NULL, run, NULL);
    return 0;
}

/* Whether the answer in buf is whole: its headers and Content-Length bytes
 * (the server may keep the connection for another request). */
static bool complete(char *buf, size_t got)
{
    char *end, *cl;

    buf[got] = '\0';
    if ((end = strstr(buf, "\r\n\r\n")) == NULL)
        return false;
    *end = '\0';
    cl = strcasestr(buf, "\r\nContent-Length:");
    *end = '\r';
    if (cl == NULL)
        return false;
    return got >= (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_in sin = { 0 };
    char buf[4096];
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0), status = 0, one = 1;

    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)cfg->listen_port);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
        perror("fuzz_http: connect");
        abort();
    }
    /* acknowledge at once: else the server's second segment (the body
     * after the headers) waits for our delayed ACK, 40 ms an input */
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (size_t off = 0; off < size;) {
        ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    /* an end of headers after the input: libmicrohttpd does not give up
     * on a half-closed request line by itself, and every input that never
     * ends its headers would cost the poll's wait below */
    send(fd, "\r\n\r\n", 4, MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t n;
        if (poll(&p, 1, 1000) <= 0)
            break;
        if ((n = recv(fd, buf + got, sizeof buf - 1 - got, 0)) <= 0)
            break;
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
        got += (size_t)n;
        if (got == sizeof buf - 1 || complete(buf, got))
            break;
    }
    close(fd);
    buf[got] = '\0';
    if (got > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
        status = atoi(buf + 9);
    /* libmicrohttpd answers some requests itself before any of our code
     * runs (a malformed request line, HTTP/0.x: its own pages, without
     * our headers); every answer of ours carries X-Content-Type-Options */
    /* the first request of a connection passes api/accept.c, which answers
     * itself whatever libmicrohttpd would answer with its own HTML page
     * before the body; a malformed chunked body is libmicrohttpd's alone */
    if (got > 0 && strcasestr(buf, "\r\nX-Content-Type-Options:") == NULL &&
        memmem(data, size, "hunked", 6) == NULL) {
        fprintf(stderr, "fuzz_http: an answer that is not ours (%zu bytes):\n%.600s\n", got, buf);
        abort();
    }
    if (status >= 500 && status != 503 && status != 505 &&
        strcasestr(buf, "\r\nX-Content-Type-Options:") != NULL) {
        fprintf(stderr, "fuzz_http: answered %d:\n%.600s\n", status, buf);
        abort();
    }
    return 0;
}
