/*
 * rules/notify.yaml: receivers, the route tree, escalation ladders and
 * delivery settings, read whole or refused with the first problem as
 * file:line.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/yamltree.h"
#include "notify/notify.h"
#include "notify/notify_int.h"

static const char *const trnames[CW_TR_NTRANS] = {
    "raised", "overdue", "late", "cleared", "reopened", "escalated", "repeated",
};
static const char *const condnames[] = { "still_overdue", "not_acknowledged", "not_assigned", NULL };
static const char *const gnames[] = { "unit", "rule", "case", "severity", "state", "transition", NULL };

const char *cw_notify_transition_name(int tr)
{
    return tr >= 0 && tr < CW_TR_NTRANS ? trnames[tr] : "?";
}

int cw_notify_transition_find(const char *name)
{
    for (int i = 0; i < CW_TR_NTRANS; i++)
        if (strcmp(trnames[i], name) == 0)
            return i;
    return -1;
}

const char *cw_notify_condition_name(int c)
{
    return c >= 0 && c <= CW_ESC_NOT_ASSIGNED ? condnames[c] : "?";
}

/* ---- reading ------------------------------------------------------------------ */

typedef struct rd {
    const cw_ydoc *d;
    cw_notify *n;
    cw_err *err;
    int rc;
} rd;

static int bad(rd *r, const cw_ynode *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(rd *r, const cw_ynode *at, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    if (r->rc < 0)
        return r->rc;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->rc = cw_err_set(r->err, CW_ECONFIG, "%s:%d: %s", r->d->path, at ? at->line : 1, msg);
    return r->rc;
}

/* Refuse keys that are not in keys[]: a typo must not pass silently. */
static int known_keys(rd *r, const cw_ynode *m, const char *what, const char *const *keys)
{
    for (size_t i = 0; i < cw_ymap_size(m); i++) {
        const cw_ynode *k = cw_ymap_key(m, i);
        size_t j;
        for (j = 0; keys[j] && strcmp(keys[j], k->text) != 0; j++)
            ;
        if (keys[j] == NULL) {
            char list[256] = "";
            for (j = 0; keys[j]; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", keys[j]);
            return bad(r, k, "%s: unknown key '%s' (known: %s)", what, k->text, list);
        }
    }
    return 0;
}

static const char *scalar(rd *r, const cw_ynode *v, const char *what)
{
    if (v == NULL || v->type != CW_Y_SCALAR) {
        bad(r, v, "%s must be a string", what);
        return NULL;
    }
    return v->text;
}

int cw__notify_duration_ms(const char *s, int64_t *out)
{
    static const struct { const char *unit; int64_t ms; } units[] = {
        { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
    };
    char *end;
    long long v;

    if (s[0] < '0' || s[0] > '9')
        return -1;
    v = strtoll(s, &end, 10);
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcmp(end, units[i].unit) == 0 && v <= INT64_MAX / units[i].ms) {
            *out = v * units[i].ms;
            return 0;
        }
    return -1;
}

static int64_t duration(rd *r, const cw_ynode *v, const char *what)
{
    const char *s = scalar(r, v, what);
    int64_t ms = 0;

    if (s && cw__notify_duration_ms(s, &ms) < 0)
        bad(r, v, "%s: '%s' is not a duration (e.g. 500ms, 30s, 5m, 24h, 2d)", what, s);
    return ms;
}

static unsigned count(rd *r, const cw_ynode *v, const char *what, unsigned lo, unsigned hi)
{
    const char *s = scalar(r, v, what);
    char *end;
    unsigned long n;

    if (s == NULL)
        return lo;
    n = strtoul(s, &end, 10);
    if (*end || s[0] < '0' || s[0] > '9' || n < lo || n > hi) {
        bad(r, v, "%s must be a whole number from %u to %u", what, lo, hi);
        return lo;
    }
    return (unsigned)n;
}

/* A string or a list of strings. */
static char **strings(rd *r, const cw_ynode *v, const char *what, size_t *n)
{
    char **out;

    *n = 0;
    if (v->type == CW_Y_SCALAR) {
        out = cw_xcalloc(1, sizeof *out);
        out[(*n)++] = cw_xstrdup(v->text);
        return out;
    }
    if (v->type != CW_Y_SEQ) {
        bad(r, v, "%s must be a string or a list of strings", what);
        return NULL;
    }
    out = cw_xcalloc(v->n + 1, sizeof *out);
    for (size_t i = 0; i < v->n; i++) {
        if (v->kids[i]->type != CW_Y_SCALAR) {
            bad(r, v->kids[i], "%s must be a list of strings", what);
            break;
        }
        out[(*n)++] = cw_xstrdup(v->kids[i]->text);
    }
    return out;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static bool one_of(const char *s, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return true;
    return false;
}

static void read_match(rd *r, const cw_ynode *m, cw_notify_match *out)
{
    static const char *const keys[] = { "rule", "severity", "state", "unit", "transition", NULL };
    static const char *const sevs[] = { "low", "medium", "high", "critical", NULL };
    static const char *const states[] = { "warning", "overdue", "late", "violation", "anomaly",
                                          "cleared", NULL };
    const cw_ynode *v;

    if (m->type != CW_Y_MAP) {
        bad(r, m, "match must be a map of rule, severity, state, unit, transition");
        return;
    }
    if (known_keys(r, m, "match", keys) < 0)
        return;
    if ((v = cw_ymap_get(m, "rule")))
        out->rule = strings(r, v, "match.rule", &out->nrule);
    if ((v = cw_ymap_get(m, "severity"))) {
        out->severity = strings(r, v, "match.severity", &out->nseverity);
        for (size_t i = 0; i < out->nseverity; i++)
            if (!one_of(out->severity[i], sevs))
                bad(r, v, "match.severity: '%s' is not low, medium, high or critical", out->severity[i]);
    }
    if ((v = cw_ymap_get(m, "state"))) {
        out->state = strings(r, v, "match.state", &out->nstate);
        for (size_t i = 0; i < out->nstate; i++)
            if (!one_of(out->state[i], states))
                bad(r, v, "match.state: '%s' is not warning, overdue, late, violation, anomaly or "
                    "cleared", out->state[i]);
    }
    if ((v = cw_ymap_get(m, "unit"))) {
        out->unit = strings(r, v, "match.unit", &out->nunit);
        for (size_t i = 0; i < out->nunit; i++)
            if (strspn(out->unit[i], "0123456789") != strlen(out->unit[i]) || out->unit[i][0] == '\0')
                bad(r, v, "match.unit: '%s' is not a unit code prefix (digits)", out->unit[i]);
    }
    if ((v = cw_ymap_get(m, "transition"))) {
        size_t nt;
        char **t = strings(r, v, "match.transition", &nt);
        for (size_t i = 0; i < nt; i++) {
            int tr = cw_notify_transition_find(t[i]);
            if (tr < 0 || tr >= CW_TR_ESCALATED)
                bad(r, v, "match.transition: '%s' is not raised, overdue, late, cleared or reopened", t[i]);
            else
                out->transitions |= 1u << tr;
        }
        strv_free(t, nt);
    }
}

static void match_free(cw_notify_match *m)
{
    strv_free(m->rule, m->nrule);
    strv_free(m->severity, m->nseverity);
    strv_free(m->state, m->nstate);
    strv_free(m->unit, m->nunit);
}

/* "08:30-17:30" */
static void working_hours(rd *r, const cw_ynode *v, cw_notify_receiver *rc)
{
    const char *s = scalar(r, v, "quiet_hours.working_hours");
    unsigned h1, m1, h2, m2;
    char tail;

    if (s == NULL)
        return;
    if (sscanf(s, "%2u:%2u-%2u:%2u%c", &h1, &m1, &h2, &m2, &tail) != 4 || h1 > 23 || h2 > 24 ||
        m1 > 59 || m2 > 59 || h1 * 60 + m1 >= h2 * 60 + m2 || h2 * 60 + m2 > 24 * 60) {
        bad(r, v, "quiet_hours.working_hours: '%s' is not HH:MM-HH:MM with the start first", s);
        return;
    }
    rc->work_from = (int)(h1 * 60 + m1);
    rc->work_to = (int)(h2 * 60 + m2);
}

static const char default_body[] =
    "{\"key\": {{key}}, \"receiver\": {{receiver}}, \"group\": {{group}}, \"level\": {{level}},\n"
    " \"ladder\": {{ladder}}, \"count\": {{count}},\n"
    " \"findings\": [{{#findings}}{\"id\": {{id}}, \"key\": {{key}}, \"transition\": {{transition}},\n"
    "   \"rule\": {{rule}}, \"case\": {{case}}, \"subject\": {{subject}}, \"unit\": {{unit}},\n"
    "   \"severity\": {{severity}}, \"state\": {{state}}, \"review\": {{review}}, \"due\": {{due}},\n"
    "   \"raised\": {{raised}}, \"message\": {{message}}, \"basis\": {{basis}}, \"link\": {{link}}}"
    "{{/findings}}]}";

static void read_receiver(rd *r, const cw_ynode *m, cw_notify_receiver *rc)
{
    static const char *const keys[] = { "name", "url", "headers", "secret", "secret_env",
                                        "signature_header", "timestamp_header", "key_header", "timeout",
                                        "quiet_hours", "body", NULL };
    const cw_ynode *v;
    const char *s;

    rc->line = m->line;
    rc->timeout_ms = 10000;
    rc->work_from = 8 * 60 + 30;
    rc->work_to = 17 * 60 + 30;
    if (m->type != CW_Y_MAP) {
        bad(r, m, "a receiver is a map with name, url, headers, secret, timeout, quiet_hours, body");
        return;
    }
    if (known_keys(r, m, "receiver", keys) < 0)
        return;
    if ((s = scalar(r, cw_ymap_get(m, "name"), "receiver's 'name'")) == NULL)
        return;
    rc->name = cw_xstrdup(s);
    if (strlen(s) > 64 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
        strlen(s)) {
        bad(r, cw_ymap_get(m, "name"), "receiver name '%s': letters, digits, '-', '_' and '.' only, "
            "at most 64", s);
        return;
    }
    for (size_t i = 0; i + 1 < r->n->nreceivers; i++)
        if (strcmp(r->n->receivers[i].name, s) == 0) {
            bad(r, m, "receiver '%s' is defined twice (first at line %d)", s, r->n->receivers[i].line);
            return;
        }
    if ((s = scalar(r, cw_ymap_get(m, "url"), "receiver's 'url'")) == NULL)
        return;
    if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
        bad(r, cw_ymap_get(m, "url"), "receiver %s: url '%s' must start with http:// or https://",
            rc->name, s);
        return;
    }
    rc->url = cw_xstrdup(s);
    if ((v = cw_ymap_get(m, "headers"))) {
        if (v->type != CW_Y_MAP) {
            bad(r, v, "receiver %s: headers must be a map of name: value", rc->name);
            return;
        }
        rc->headers = cw_xcalloc(cw_ymap_size(v) + 1, sizeof *rc->headers);
        for (size_t i = 0; i < cw_ymap_size(v); i++) {
            const cw_ynode *k = cw_ymap_key(v, i), *val = cw_ymap_val(v, i);
            if (val->type != CW_Y_SCALAR || strpbrk(k->text, ": \r\n") || strpbrk(val->text, "\r\n")) {
                bad(r, k, "receiver %s: header '%s' must be a name without ':' or spaces and a "
                    "one-line value", rc->name, k->text);
                return;
            }
            rc->headers[rc->nheaders++] = cw_xasprintf("%s: %s", k->text, val->text);
        }
    }
    if ((v = cw_ymap_get(m, "secret")) && (s = scalar(r, v, "secret")))
        rc->secret = cw_xstrdup(s);
    if ((v = cw_ymap_get(m, "secret_env")) && (s = scalar(r, v, "secret_env"))) {
        const char *e = getenv(s);
        if (e == NULL || e[0] == '\0') {
            bad(r, v, "receiver %s: secret_env: the environment variable %s is not set", rc->name, s);
            return;
        }
        free(rc->secret);
        rc->secret = cw_xstrdup(e);
    }
    rc->sig_header = cw_xstrdup((v = cw_ymap_get(m, "signature_header")) && (s = scalar(r, v, "signature_header"))
                                ? s : "X-Casewarden-Signature");
    rc->ts_header = cw_xstrdup((v = cw_ymap_get(m, "timestamp_header")) && (s = scalar(r, v, "timestamp_header"))
                               ? s : "X-Casewarden-Timestamp");
    rc->key_header = cw_xstrdup((v = cw_ymap_get(m, "key_header")) && (s = scalar(r, v, "key_header"))
                                ? s : "Idempotency-Key");
    if ((v = cw_ymap_get(m, "timeout"))) {
        int64_t ms = duration(r, v, "timeout");
        if (r->rc == 0 && (ms < 1 || ms > 600000))
            bad(r, v, "receiver %s: timeout must be from 1ms to 10m", rc->name);
        rc->timeout_ms = (long)ms;
    }
    if ((v = cw_ymap_get(m, "quiet_hours"))) {
        static const char *const qkeys[] = { "working_hours", NULL };
        if (v->type != CW_Y_MAP) {
            bad(r, v, "receiver %s: quiet_hours must be a map {working_hours: \"08:30-17:30\"}", rc->name);
            return;
        }
        if (known_keys(r, v, "quiet_hours", qkeys) < 0)
            return;
        rc->quiet = true;
        if (cw_ymap_get(v, "working_hours"))
            working_hours(r, cw_ymap_get(v, "working_hours"), rc);
    }
    v = cw_ymap_get(m, "body");
    if (v && v->type != CW_Y_SCALAR) {
        bad(r, v, "receiver %s: body must be a string (a JSON template, e.g. body: |)", rc->name);
        return;
    }
    if (r->rc == 0) {
        cw_err e;
        int tline;
        if (cw__tmpl_compile(&rc->body, v ? v->text : default_body, &tline, &e) < 0) {
            /* a block scalar's (body: |) first line follows its indicator's */
            /* a block scalar (body: |), whose text ends with a newline,
             * starts on the line after its indicator */
            bool block = v && v->len > 0 && v->text[v->len - 1] == '\n';
            cw_ynode at = { .line = v ? v->line + (tline > 0 ? tline - !block : 0) : rc->line };
            bad(r, &at, "receiver %s: body: %s", rc->name, e.msg);
        } else if (cw__tmpl_check(r->n, rc, &e) < 0) {
            bad(r, v ? v : m, "receiver %s: body: %s", rc->name, e.msg);
        }
    }
}

/* `receiver: NAME` or `receivers: [NAMES]` into indexes. */
static void receivers_of(rd *r, const cw_ynode *m, size_t **out, size_t *n)
{
    const cw_ynode *v = cw_ymap_get(m, "receivers");
    size_t nn;
    char **names;

    if (v == NULL)
        v = cw_ymap_get(m, "receiver");
    if (v == NULL)
        return;
    names = strings(r, v, "receivers", &nn);
    if (names == NULL)
        return;
    free(*out);
    *out = cw_xcalloc(nn + 1, sizeof **out);
    *n = 0;
    for (size_t i = 0; i < nn; i++) {
        size_t ri = cw_notify_receiver_find(r->n, names[i]);
        if (ri == SIZE_MAX)
            bad(r, v, "no receiver named '%s' (receivers: are declared first)", names[i]);
        else
            (*out)[(*n)++] = ri;
    }
    strv_free(names, nn);
}

static void read_route(rd *r, const cw_ynode *m, cw_notify_route *rt, const cw_notify_route *parent,
                       int depth)
{
    static const char *const keys[] = { "match", "receiver", "receivers", "continue", "group_by",
                                        "group_wait", "group_interval", "repeat_interval", "routes", NULL };
    const cw_ynode *v;

    rt->line = m->line;
    if (m->type != CW_Y_MAP) {
        bad(r, m, "a route is a map with match, receivers, continue, group_by, group_wait, "
            "group_interval, routes");
        return;
    }
    if (depth > 16) {
        bad(r, m, "routes nest deeper than 16 levels");
        return;
    }
    if (known_keys(r, m, "route", keys) < 0)
        return;
    /* what is not said is inherited (Alertmanager's rule) */
    if (parent) {
        rt->group_by = parent->group_by;
        rt->group_wait_ms = parent->group_wait_ms;
        rt->group_interval_ms = parent->group_interval_ms;
        rt->repeat_s = parent->repeat_s;
        if (parent->nreceivers) {
            rt->receivers = cw_xmalloc(parent->nreceivers * sizeof *rt->receivers);
            memcpy(rt->receivers, parent->receivers, parent->nreceivers * sizeof *rt->receivers);
            rt->nreceivers = parent->nreceivers;
        }
    } else {
        rt->group_wait_ms = 30000;
        rt->group_interval_ms = 300000;
    }
    if ((v = cw_ymap_get(m, "match"))) {
        if (parent == NULL)
            bad(r, v, "the top route matches every finding: put match in its routes");
        else
            read_match(r, v, &rt->m);
    }
    receivers_of(r, m, &rt->receivers, &rt->nreceivers);
    if ((v = cw_ymap_get(m, "continue"))) {
        if (cw_ynode_bool(r->d, v, "continue", &rt->cont, r->err) < 0 && r->rc == 0)
            r->rc = CW_ECONFIG;
    }
    if ((v = cw_ymap_get(m, "group_by"))) {
        size_t ng;
        char **g = strings(r, v, "group_by", &ng);
        rt->group_by = 0;
        for (size_t i = 0; i < ng; i++) {
            size_t j;
            for (j = 0; gnames[j] && strcmp(gnames[j], g[i]) != 0; j++)
                ;
            if (gnames[j] == NULL)
                bad(r, v, "group_by: '%s' is not unit, rule, case, severity, state or transition", g[i]);
            else
                rt->group_by |= 1u << j;
        }
        strv_free(g, ng);
    }
    if ((v = cw_ymap_get(m, "group_wait")))
        rt->group_wait_ms = duration(r, v, "group_wait");
    if ((v = cw_ymap_get(m, "group_interval")))
        rt->group_interval_ms = duration(r, v, "group_interval");
    if ((v = cw_ymap_get(m, "repeat_interval"))) {
        rt->repeat_s = duration(r, v, "repeat_interval") / 1000;
        if (r->rc == 0 && rt->repeat_s < 1)
            bad(r, v, "repeat_interval must be at least 1s (or absent: no reminders)");
    }
    if ((v = cw_ymap_get(m, "routes"))) {
        if (v->type != CW_Y_SEQ) {
            bad(r, v, "routes must be a list of routes");
            return;
        }
        rt->kids = cw_xcalloc(v->n + 1, sizeof *rt->kids);
        for (size_t i = 0; i < v->n && r->rc == 0; i++) {
            rt->nkids++;
            read_route(r, v->kids[i], &rt->kids[i], rt, depth + 1);
        }
    }
    /* a route below may say receivers: [] to let what it matches go
     * unnotified; the top one names where the rest goes */
    if (r->rc == 0 && parent == NULL && rt->nreceivers == 0)
        bad(r, m, "the top route names no receiver (give it receiver: or receivers:)");
}

static void route_free(cw_notify_route *rt)
{
    match_free(&rt->m);
    free(rt->receivers);
    for (size_t i = 0; i < rt->nkids; i++)
        route_free(&rt->kids[i]);
    free(rt->kids);
}

static void read_ladder(rd *r, const cw_ynode *m, cw_notify_ladder *l)
{
    static const char *const keys[] = { "name", "match", "levels", NULL };
    static const char *const lkeys[] = { "delay", "when", "receiver", "receivers", NULL };
    const cw_ynode *v;
    const char *s;

    l->line = m->line;
    if (m->type != CW_Y_MAP) {
        bad(r, m, "an escalation is a map with name, match and levels");
        return;
    }
    if (known_keys(r, m, "escalation", keys) < 0 || (s = scalar(r, cw_ymap_get(m, "name"), "escalation's 'name'")) == NULL)
        return;
    l->name = cw_xstrdup(s);
    if (strlen(s) > 48 || strpbrk(s, " :\t")) {
        bad(r, cw_ymap_get(m, "name"), "escalation name '%s': at most 48 characters, no spaces or ':'", s);
        return;
    }
    for (size_t i = 0; i + 1 < r->n->nladders; i++)
        if (strcmp(r->n->ladders[i].name, s) == 0) {
            bad(r, m, "escalation '%s' is defined twice (first at line %d)", s, r->n->ladders[i].line);
            return;
        }
    if ((v = cw_ymap_get(m, "match")))
        read_match(r, v, &l->m);
    else
        l->m.transitions = 1u << CW_TR_OVERDUE;
    if ((v = cw_ymap_get(m, "levels")) == NULL || v->type != CW_Y_SEQ || v->n == 0) {
        bad(r, v ? v : m, "escalation %s: levels must be a list of {delay, when, receivers}", l->name);
        return;
    }
    l->levels = cw_xcalloc(v->n, sizeof *l->levels);
    for (size_t i = 0; i < v->n && r->rc == 0; i++) {
        const cw_ynode *lv = v->kids[i], *x;
        cw_notify_level *L = &l->levels[l->nlevels++];
        L->line = lv->line;
        L->when = CW_ESC_NOT_ACKNOWLEDGED;
        if (lv->type != CW_Y_MAP) {
            bad(r, lv, "escalation %s: a level is a map {delay, when, receivers}", l->name);
            return;
        }
        if (known_keys(r, lv, "level", lkeys) < 0)
            return;
        if ((x = cw_ymap_get(lv, "delay")))
            L->delay_s = duration(r, x, "delay") / 1000;
        if ((x = cw_ymap_get(lv, "when")) && (s = scalar(r, x, "when"))) {
            int c;
            for (c = 0; condnames[c] && strcmp(condnames[c], s) != 0; c++)
                ;
            if (condnames[c] == NULL)
                bad(r, x, "escalation %s: when: '%s' is not still_overdue, not_acknowledged or "
                    "not_assigned", l->name, s);
            L->when = c;
        }
        receivers_of(r, lv, &L->receivers, &L->nreceivers);
        if (r->rc == 0 && L->nreceivers == 0)
            bad(r, lv, "escalation %s: level %zu reaches no receiver", l->name, i + 1);
    }
}

static void read_delivery(rd *r, const cw_ynode *m)
{
    static const char *const keys[] = { "concurrency", "max_attempts", "backoff", "backoff_max", NULL };
    const cw_ynode *v;

    if (m->type != CW_Y_MAP) {
        bad(r, m, "delivery must be a map of concurrency, max_attempts, backoff, backoff_max");
        return;
    }
    if (known_keys(r, m, "delivery", keys) < 0)
        return;
    if ((v = cw_ymap_get(m, "concurrency")))
        r->n->concurrency = count(r, v, "delivery.concurrency", 1, 256);
    if ((v = cw_ymap_get(m, "max_attempts")))
        r->n->max_attempts = count(r, v, "delivery.max_attempts", 1, 100);
    if ((v = cw_ymap_get(m, "backoff")))
        r->n->backoff_ms = duration(r, v, "delivery.backoff");
    if ((v = cw_ymap_get(m, "backoff_max")))
        r->n->backoff_max_ms = duration(r, v, "delivery.backoff_max");
    if (r->rc == 0 && (r->n->backoff_ms < 1 || r->n->backoff_max_ms < r->n->backoff_ms))
        bad(r, m, "delivery: backoff must be at least 1ms and backoff_max at least backoff");
}

static void read_doc(rd *r, const cw_ynode *root)
{
    static const char *const keys[] = { "console", "calendar", "delivery", "receivers", "route",
                                        "escalations", NULL };
    const cw_ynode *v;
    const char *s;

    if (root == NULL || root->type != CW_Y_MAP) {
        bad(r, root, "notify.yaml must be a map with receivers, route, escalations, delivery");
        return;
    }
    if (known_keys(r, root, "notify.yaml", keys) < 0)
        return;
    if ((v = cw_ymap_get(root, "console")) && (s = scalar(r, v, "console")))
        r->n->console = cw_xstrdup(s);
    if ((v = cw_ymap_get(root, "delivery")))
        read_delivery(r, v);
    if ((v = cw_ymap_get(root, "receivers")) == NULL || v->type != CW_Y_SEQ || v->n == 0) {
        bad(r, v ? v : root, "receivers must be a list with at least one receiver");
        return;
    }
    r->n->receivers = cw_xcalloc(v->n, sizeof *r->n->receivers);
    for (size_t i = 0; i < v->n && r->rc == 0; i++) {
        r->n->nreceivers++;
        read_receiver(r, v->kids[i], &r->n->receivers[i]);
    }
    if (r->rc < 0)
        return;
    if ((v = cw_ymap_get(root, "route")) == NULL) {
        bad(r, root, "route is missing: the top route names the default receiver");
        return;
    }
    read_route(r, v, &r->n->root, NULL, 0);
    if ((v = cw_ymap_get(root, "escalations"))) {
        if (v->type != CW_Y_SEQ) {
            bad(r, v, "escalations must be a list of ladders");
            return;
        }
        r->n->ladders = cw_xcalloc(v->n + 1, sizeof *r->n->ladders);
        for (size_t i = 0; i < v->n && r->rc == 0; i++) {
            r->n->nladders++;
            read_ladder(r, v->kids[i], &r->n->ladders[i]);
        }
    }
}

static cw_notify *notify_new(const char *name, cw_calendar *cal, int tz)
{
    cw_notify *n = cw_xcalloc(1, sizeof *n);

    n->path = cw_xstrdup(name);
    n->console = NULL;
    n->concurrency = 8;
    n->max_attempts = 8;
    n->backoff_ms = 1000;
    n->backoff_max_ms = 300000;
    n->cal = cal;
    n->tz = tz;
    return n;
}

static int parse_doc(cw_notify *n, const cw_ydoc *d, cw_err *err)
{
    rd r = { d, n, err, 0 };

    read_doc(&r, d->root);
    if (n->console == NULL)
        n->console = cw_xstrdup("");
    return r.rc;
}

int cw_notify_parse(cw_notify **out, const char *name, const char *buf, size_t len,
                    cw_calendar *cal, int tz, cw_err *err)
{
    cw_ydoc *d;
    cw_notify *n;
    int rc;

    *out = NULL;
    if ((rc = cw_ydoc_parse(&d, name, buf, len, err)) < 0)
        return rc;
    n = notify_new(name, cal, tz);
    rc = parse_doc(n, d, err);
    cw_ydoc_free(d);
    if (rc < 0) {
        n->cal = NULL;
        cw_notify_free(n);
        return rc;
    }
    n->cal = cal;
    n->owns_cal = false;
    *out = n;
    return 0;
}

int cw_notify_load(cw_notify **out, const char *dir, int tz, cw_err *err)
{
    char *path = cw_path_join(dir, "notify.yaml"), *caldir = NULL;
    cw_calendar *cal = NULL;
    cw_ydoc *d = NULL;
    cw_notify *n = NULL;
    FILE *f;
    int rc;

    *out = NULL;
    if ((f = fopen(path, "r")) == NULL) {
        free(path);
        return 0;       /* no notifications configured */
    }
    fclose(f);
    if ((rc = cw_ydoc_load(&d, path, err)) < 0)
        goto out;
    {
        const cw_ynode *v = d->root ? cw_ymap_get(d->root, "calendar") : NULL;
        caldir = cw_path_join(dir, v && v->type == CW_Y_SCALAR ? v->text : "calendar");
    }
    if ((rc = cw_calendar_new(&cal, tz, err)) < 0 || (rc = cw_calendar_load_dir(cal, caldir, err)) < 0) {
        cw_err_prefix(err, "%s: the calendar for quiet hours", path);
        goto out;
    }
    n = notify_new(path, cal, tz);
    n->owns_cal = true;
    cal = NULL;
    if ((rc = parse_doc(n, d, err)) < 0)
        goto out;
    *out = n;
    n = NULL;
out:
    cw_notify_free(n);
    cw_calendar_free(cal);
    cw_ydoc_free(d);
    free(caldir);
    free(path);
    return rc;
}

void cw_notify_free(cw_notify *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->nreceivers; i++) {
        cw_notify_receiver *r = &n->receivers[i];
        free(r->name);
        free(r->url);
        strv_free(r->headers, r->nheaders);
        if (r->secret)
            memset(r->secret, 0, strlen(r->secret));
        free(r->secret);
        free(r->sig_header);
        free(r->ts_header);
        free(r->key_header);
        cw__tmpl_free(r->body);
    }
    free(n->receivers);
    route_free(&n->root);
    for (size_t i = 0; i < n->nladders; i++) {
        cw_notify_ladder *l = &n->ladders[i];
        free(l->name);
        match_free(&l->m);
        for (size_t k = 0; k < l->nlevels; k++)
            free(l->levels[k].receivers);
        free(l->levels);
    }
    free(n->ladders);
    if (n->owns_cal)
        cw_calendar_free(n->cal);
    free(n->console);
    free(n->path);
    free(n);
}

size_t cw_notify_receiver_find(const cw_notify *n, const char *name)
{
    for (size_t i = 0; i < n->nreceivers; i++)
        if (n->receivers[i].name && strcmp(n->receivers[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}
