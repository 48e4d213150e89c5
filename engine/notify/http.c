/*
 * Webhook deliveries over libcurl's multi interface: many in flight on
 * one thread, each with its receiver's timeout, headers, signature and
 * idempotency key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/clock.h"
#include "base/util.h"
#include "notify/notify.h"

typedef struct xfer {
    CURL *h;
    struct curl_slist *hdrs;
    char *body;
    uint64_t tag;
    double t0;
    char errbuf[CURL_ERROR_SIZE];
    struct xfer *prev, *next;
} xfer;

struct cw_notify_http {
    CURLM *m;
    unsigned inflight;
    xfer *all;               /* those in flight */
};

static void unlink_xfer(cw_notify_http *h, xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        h->all = x->next;
    if (x->next)
        x->next->prev = x->prev;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

cw_notify_http *cw_notify_http_new(void)
{
    cw_notify_http *h = cw_xcalloc(1, sizeof *h);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    h->m = curl_multi_init();
    return h;
}

static void xfer_free(xfer *x)
{
    curl_easy_cleanup(x->h);
    curl_slist_free_all(x->hdrs);
    free(x->body);
    free(x);
}

void cw_notify_http_free(cw_notify_http *h)
{
    if (h == NULL)
        return;
    /* transfers still running are dropped: their rows stay queued */
    while (h->all) {
        xfer *x = h->all;
        unlink_xfer(h, x);
        curl_multi_remove_handle(h->m, x->h);
        xfer_free(x);
    }
    curl_multi_cleanup(h->m);
    free(h);
}

static struct curl_slist *header(struct curl_slist *l, const char *name, const char *value)
{
    char *line = cw_xasprintf("%s: %s", name, value);

    l = curl_slist_append(l, line);
    free(line);
    return l;
}

int cw_notify_http_post(cw_notify_http *h, const cw_notify_receiver *r, const char *body,
                        size_t len, const char *key, int64_t ts, uint64_t tag, cw_err *err)
{
    xfer *x = cw_xcalloc(1, sizeof *x);
    char tsbuf[32], sig[72];

    if ((x->h = curl_easy_init()) == NULL) {
        free(x);
        return cw_err_set(err, CW_ENOMEM, "curl_easy_init failed");
    }
    x->body = cw_xmalloc(len + 1);
    memcpy(x->body, body, len);
    x->body[len] = '\0';
    x->tag = tag;
    x->t0 = cw_mono_s();
    x->hdrs = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
    x->hdrs = curl_slist_append(x->hdrs, "Expect:");
    x->hdrs = header(x->hdrs, r->key_header, key);
    snprintf(tsbuf, sizeof tsbuf, "%lld", (long long)ts);
    x->hdrs = header(x->hdrs, r->ts_header, tsbuf);
    if (r->secret) {
        cw_notify_sign(r->secret, ts, body, len, sig);
        x->hdrs = header(x->hdrs, r->sig_header, sig);
    }
    for (size_t i = 0; i < r->nheaders; i++)
        x->hdrs = curl_slist_append(x->hdrs, r->headers[i]);
    curl_easy_setopt(x->h, CURLOPT_URL, r->url);
    curl_easy_setopt(x->h, CURLOPT_POST, 1L);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(x->h, CURLOPT_USERAGENT, "casewarden-notify/" PACKAGE_VERSION);
    if (curl_multi_add_handle(h->m, x->h) != CURLM_OK) {
        xfer_free(x);
        return cw_err_set(err, CW_EIO, "curl_multi_add_handle failed");
    }
    h->inflight++;
    x->next = h->all;
    if (h->all)
        h->all->prev = x;
    h->all = x;
    return 0;
}

unsigned cw_notify_http_poll(cw_notify_http *h, int timeout_ms, cw_notify_done_fn done, void *ud)
{
    int running, left;
    CURLMsg *msg;

    curl_multi_perform(h->m, &running);
    if (h->inflight > 0 && timeout_ms > 0) {
        curl_multi_poll(h->m, NULL, 0, timeout_ms, NULL);
        curl_multi_perform(h->m, &running);
    }
    while ((msg = curl_multi_info_read(h->m, &left)) != NULL) {
        xfer *x;
        long status = 0;
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (msg->data.result == CURLE_OK)
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(h->m, msg->easy_handle);
        unlink_xfer(h, x);
        h->inflight--;
        done(ud, x->tag, status,
             msg->data.result == CURLE_OK ? "" : x->errbuf[0] ? x->errbuf
                                                             : curl_easy_strerror(msg->data.result),
             cw_mono_s() - x->t0);
        xfer_free(x);
    }
    return h->inflight;
}

unsigned cw_notify_http_inflight(const cw_notify_http *h)
{
    return h->inflight;
}
