/*
 * Routing (the route tree, Alertmanager's way), quiet hours over the
 * legal calendar, escalation conditions and webhook signatures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "base/util.h"
#include "notify/notify.h"

static bool in(char *const *v, size_t n, const char *s)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (s && strcmp(v[i], s) == 0)
            return true;
    return false;
}

bool cw_notify_match_finding(const cw_notify_match *m, const cw_notify_finding *f, int tr)
{
    if (m->transitions && (tr < 0 || !(m->transitions & (1u << tr))))
        return false;
    if (!in(m->rule, m->nrule, f->rule) || !in(m->severity, m->nseverity, f->severity) ||
        !in(m->state, m->nstate, f->state))
        return false;
    if (m->nunit > 0) {
        for (size_t i = 0; i < m->nunit; i++)
            if (f->unit && strncmp(f->unit, m->unit[i], strlen(m->unit[i])) == 0)
                return true;
        return false;
    }
    return true;
}

static void group_key(const cw_notify_route *rt, const cw_notify_finding *f, int tr, char *out,
                      size_t size)
{
    const char *parts[6] = { f->unit, f->rule, f->case_id, f->severity, f->state,
                             cw_notify_transition_name(tr) };
    size_t n = 0;

    out[0] = '\0';
    for (int i = 0; i < 6; i++)
        if (rt->group_by & (1u << i))
            n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", n ? "/" : "",
                                  parts[i] ? parts[i] : "");
}

typedef struct walk {
    const cw_notify *n;
    const cw_notify_finding *f;
    int tr;
    cw_notify_hit *out;
    size_t max, nout;
} walk;

static void take(walk *w, const cw_notify_route *rt)
{
    for (size_t i = 0; i < rt->nreceivers; i++) {
        size_t k;
        for (k = 0; k < w->nout && w->out[k].receiver != rt->receivers[i]; k++)
            ;
        if (k < w->nout || w->nout == w->max)
            continue;       /* each receiver once, by the first route that chose it */
        w->out[w->nout].receiver = rt->receivers[i];
        w->out[w->nout].route = rt;
        group_key(rt, w->f, w->tr, w->out[w->nout].group, sizeof w->out[w->nout].group);
        w->nout++;
    }
}

/* A route that matches: its children are tried in order, the first that
 * matches wins unless it says continue; when none matched, the route
 * itself takes the finding. Returns whether rt matched. */
static bool visit(walk *w, const cw_notify_route *rt)
{
    bool any = false;

    if (!cw_notify_match_finding(&rt->m, w->f, w->tr))
        return false;
    for (size_t i = 0; i < rt->nkids; i++) {
        if (visit(w, &rt->kids[i])) {
            any = true;
            if (!rt->kids[i].cont)
                break;
        }
    }
    if (!any)
        take(w, rt);
    return true;
}

size_t cw_notify_route_finding(const cw_notify *n, const cw_notify_finding *f, int tr,
                               cw_notify_hit *out, size_t max)
{
    walk w = { n, f, tr, out, max, 0 };

    visit(&w, &n->root);
    return w.nout;
}

bool cw_notify_is_high(const char *severity)
{
    return severity && (strcmp(severity, "high") == 0 || strcmp(severity, "critical") == 0);
}

cw_time cw_notify_release_at(const cw_notify *n, const cw_notify_receiver *r, cw_time now,
                             bool high)
{
    cw_day day;
    cw_time start;

    if (!r->quiet || high)
        return now;
    day = cw_time_day(now, n->tz);
    start = cw_day_start(day, n->tz);
    if (cw_calendar_is_workday(n->cal, day)) {
        if (now < start + r->work_from * 60)
            return start + r->work_from * 60;
        if (now < start + r->work_to * 60)
            return now;
    }
    /* the next working day of the calendar (调休 days work, holidays do
     * not); a year has fewer than 40 days off in a row */
    for (int i = 1; i <= 60; i++)
        if (cw_calendar_is_workday(n->cal, day + i))
            return cw_day_start(day + i, n->tz) + r->work_from * 60;
    return now;
}

bool cw_notify_is_open(const cw_notify_finding *f)
{
    static const char *const states[] = { "warning", "overdue", "violation", "anomaly", NULL };
    static const char *const reviews[] = { "open", "acknowledged", "assigned", "reopened", NULL };
    bool st = false, rv = false;

    for (int i = 0; states[i] && f->state; i++)
        st |= strcmp(f->state, states[i]) == 0;
    for (int i = 0; reviews[i] && f->review; i++)
        rv |= strcmp(f->review, reviews[i]) == 0;
    return st && rv && !f->exempted;
}

bool cw_notify_condition_holds(int c, const cw_notify_finding *f)
{
    bool open = f->review && (strcmp(f->review, "open") == 0 || strcmp(f->review, "reopened") == 0);

    /* a resolved, dismissed, exempted or withdrawn finding stops every
     * ladder, and one that is no longer overdue has nothing to escalate */
    if (f->exempted || f->state == NULL || strcmp(f->state, "overdue") != 0 || f->review == NULL ||
        strcmp(f->review, "resolved") == 0 || strcmp(f->review, "dismissed") == 0)
        return false;
    switch (c) {
    case CW_ESC_NOT_ACKNOWLEDGED: return open;
    case CW_ESC_NOT_ASSIGNED: return open || strcmp(f->review, "acknowledged") == 0;
    default: return true;
    }
}

void cw_notify_sign(const char *secret, int64_t ts, const char *body, size_t len, char out[72])
{
    /* HMAC(secret, "<ts>." + body), streamed as one buffer */
    char head[32];
    size_t hn = (size_t)snprintf(head, sizeof head, "%lld.", (long long)ts);
    uint8_t d[32];
    char hex[65];
    char *msg = cw_xmalloc(hn + len + 1);

    memcpy(msg, head, hn);
    memcpy(msg + hn, body, len);
    cw_hmac_sha256(secret, strlen(secret), msg, hn + len, d);
    free(msg);
    cw_digest_hex(d, hex);
    snprintf(out, 72, "sha256=%s", hex);
}
