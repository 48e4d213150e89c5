/*
 * The deadline model: after event A, event B (same case, and the same
 * subject where one is named) must follow within a legal period.
 *
 * The state is a function of the timeline and `now` alone (DOMAIN.md):
 *   no B:  now < due-lead -> nothing; due-lead <= now <= due -> warning;
 *          now > due -> overdue
 *   B:     B > due -> late; due-lead <= B <= due -> cleared; else nothing
 * A rule without a lead never warns or clears.
 *
 * Rule parameters (YAML `params:`):
 *   start:     {type: T, when: {field: value | [values]}}
 *   stop:      {types: [T...], same: subject | none, join: FIELD}
 *              join: B may be in any case, matched on data.FIELD = A's
 *   subject:   the data field of A naming the subject (person, item, ...)
 *   period:    {days|hours|months|workdays: N, custody: bool}
 *   periods:   [{all|any: {field: value}, days|hours|...: N}, ...]
 *              the first entry whose condition A meets replaces `period`
 *   lead:      {days|hours: N}
 *   extension: {limit: NAME, max_count: N, max_total_days: N,
 *               flags_total_days: {flags: [..], days: N},
 *               violation_subject: "extension" or "extension:{subject}"}
 *   rounds:    {field: round, max: N}     (resubmission rounds, SUPPL-1M)
 */
#include <stdlib.h>
#include <string.h>

#include "ruleset.h"

enum unit { U_DAYS, U_HOURS, U_MONTHS, U_WORKDAYS };

typedef struct cond {
    const char *field;
    const char **values;      /* string values; "true"/"false" test bools */
    size_t nvalues;
} cond;

typedef struct condset {
    bool any;                 /* any-of rather than all-of */
    cond *c;
    size_t n;
} condset;

typedef struct period {
    enum unit unit;
    int n;
    condset when;             /* for `periods` entries */
} period;

typedef struct deadline {
    int start_type;
    condset start_when;
    int *stop_types;
    size_t nstop;
    bool same_subject;
    const char *join;         /* cross-case match field, or NULL */
    const char *subject;      /* A's data field, or NULL */
    period base;
    bool custody;
    period *alts;
    size_t nalts;
    int64_t lead;             /* seconds; 0 = none */
    /* extensions */
    int t_extended;
    const char *ext_limit;    /* NULL = no extensions */
    int ext_max_count;        /* 0 = unlimited */
    int ext_max_total;        /* days incl. the base; 0 = unlimited */
    const char **ext_flags;
    size_t next_flags;
    int ext_flags_total;
    bool ext_subject_in_violation;
    /* rounds */
    const char *round_field;
    int round_max;
    /* every string above points into this block list */
    char **strings;
    size_t nstrings;
} deadline;

static const char *keep(deadline *d, const char *s)
{
    char **n = realloc(d->strings, (d->nstrings + 1) * sizeof *n);
    char *c;

    if (n == NULL)
        return NULL;
    d->strings = n;
    if ((c = strdup(s)) == NULL)
        return NULL;
    d->strings[d->nstrings++] = c;
    return c;
}

static void condset_free(condset *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        free(cs->c[i].values);
    free(cs->c);
}

static void deadline_free(void *state)
{
    deadline *d = state;

    if (d == NULL)
        return;
    condset_free(&d->start_when);
    for (size_t i = 0; i < d->nalts; i++)
        condset_free(&d->alts[i].when);
    free(d->alts);
    free(d->stop_types);
    free(d->ext_flags);
    for (size_t i = 0; i < d->nstrings; i++)
        free(d->strings[i]);
    free(d->strings);
    free(d);
}

static int bad(const cw_ydoc *doc, const cw_ynode *n, const cw_rule *r,
               const char *what, cw_err *err)
{
    return cw_err_set(err, CW_ERULE, "%s:%d: rule %s: %s", doc->path,
                      n ? n->line : r->line, r->id, what);
}

static int read_strings(deadline *d, const cw_ydoc *doc, const cw_ynode *v,
                        const cw_rule *r, const char ***out, size_t *n, cw_err *err)
{
    size_t cnt = v->type == CW_Y_SEQ ? v->n : 1;

    *out = calloc(cnt, sizeof **out);
    *n = 0;
    if (*out == NULL)
        return CW_ENOMEM;
    for (size_t i = 0; i < cnt; i++) {
        const cw_ynode *s = v->type == CW_Y_SEQ ? v->kids[i] : v;
        if (s->type != CW_Y_SCALAR)
            return bad(doc, s, r, "expected a value or a list of values", err);
        if (((*out)[(*n)++] = keep(d, s->text)) == NULL)
            return CW_ENOMEM;
    }
    return 0;
}

static int read_condset(deadline *d, const cw_ydoc *doc, const cw_ynode *m,
                        const cw_rule *r, bool any, condset *cs, cw_err *err)
{
    int rc;

    cs->any = any;
    if (m->type != CW_Y_MAP)
        return bad(doc, m, r, "a condition is a map of data field to value(s)", err);
    cs->c = calloc(cw_ymap_size(m) ? cw_ymap_size(m) : 1, sizeof *cs->c);
    if (cs->c == NULL)
        return CW_ENOMEM;
    for (size_t i = 0; i < cw_ymap_size(m); i++) {
        cond *c = &cs->c[cs->n++];
        if ((c->field = keep(d, cw_ymap_key(m, i)->text)) == NULL)
            return CW_ENOMEM;
        if ((rc = read_strings(d, doc, cw_ymap_val(m, i), r, &c->values, &c->nvalues, err)) < 0)
            return rc;
    }
    return 0;
}

/* A period map: exactly one of days/hours/months/workdays. */
static int read_period(const cw_ydoc *doc, const cw_ynode *m, const cw_rule *r,
                       period *p, cw_err *err)
{
    static const char *const names[] = { "days", "hours", "months", "workdays" };
    int found = 0, rc;

    for (int u = 0; u < 4; u++) {
        const cw_ynode *v = cw_ymap_get(m, names[u]);
        int64_t n;
        if (v == NULL)
            continue;
        if ((rc = cw_ynode_int(doc, v, names[u], &n, err)) < 0)
            return rc;
        if (n <= 0 || n > 10000)
            return bad(doc, v, r, "a period must be a positive number", err);
        p->unit = (enum unit)u;
        p->n = (int)n;
        found++;
    }
    if (found != 1)
        return bad(doc, m, r, "a period needs exactly one of days, hours, months, workdays", err);
    return 0;
}

static int deadline_configure(cw_rule *r, cw_ruleset *rs, const cw_ydoc *doc,
                              const cw_ynode *p, cw_err *err)
{
    const cw_ynode *start, *stop, *v, *ext;
    deadline *d;
    int rc;

    if (p == NULL || p->type != CW_Y_MAP)
        return bad(doc, p, r, "the deadline model needs a 'params' map", err);
    if ((d = calloc(1, sizeof *d)) == NULL)
        return CW_ENOMEM;
    r->state = d;   /* freed by the rule, also on error */
    d->t_extended = cw_catalogue_type_id(rs->cat, "case.extended");

    if ((start = cw_ymap_get(p, "start")) == NULL)
        return bad(doc, p, r, "params.start is required", err);
    if ((rc = cw_ruleset_type(rs, doc, cw_ymap_get(start, "type"), &d->start_type, err)) < 0)
        return rc;
    if ((v = cw_ymap_get(start, "when")) != NULL &&
        (rc = read_condset(d, doc, v, r, false, &d->start_when, err)) < 0)
        return rc;

    if ((stop = cw_ymap_get(p, "stop")) == NULL || (v = cw_ymap_get(stop, "types")) == NULL)
        return bad(doc, stop ? stop : p, r, "params.stop.types is required", err);
    d->nstop = v->type == CW_Y_SEQ ? v->n : 1;
    if ((d->stop_types = calloc(d->nstop, sizeof *d->stop_types)) == NULL)
        return CW_ENOMEM;
    for (size_t i = 0; i < d->nstop; i++)
        if ((rc = cw_ruleset_type(rs, doc, v->type == CW_Y_SEQ ? v->kids[i] : v,
                                  &d->stop_types[i], err)) < 0)
            return rc;

    if ((v = cw_ymap_get(p, "subject")) != NULL && strcmp(v->text ? v->text : "", "none") != 0) {
        if (v->type != CW_Y_SCALAR)
            return bad(doc, v, r, "params.subject: expected a data field name", err);
        if ((d->subject = keep(d, v->text)) == NULL)
            return CW_ENOMEM;
    }
    d->same_subject = d->subject != NULL;
    if ((v = cw_ymap_get(stop, "same")) != NULL) {
        if (v->type != CW_Y_SCALAR || (strcmp(v->text, "subject") && strcmp(v->text, "none")))
            return bad(doc, v, r, "params.stop.same: expected subject or none", err);
        d->same_subject = strcmp(v->text, "subject") == 0;
        if (d->same_subject && d->subject == NULL)
            return bad(doc, v, r, "params.stop.same is subject but the rule has no subject", err);
    }
    if ((v = cw_ymap_get(stop, "join")) != NULL) {
        if (v->type != CW_Y_SCALAR || (d->join = keep(d, v->text)) == NULL)
            return bad(doc, v, r, "params.stop.join: expected a data field name", err);
        d->same_subject = false;
        for (size_t i = 0; i < d->nstop; i++)
            if (cw_ruleset_want_index(rs, d->stop_types[i], d->join) < 0)
                return CW_ENOMEM;
    }

    if ((v = cw_ymap_get(p, "period")) == NULL)
        return bad(doc, p, r, "params.period is required", err);
    if ((rc = read_period(doc, v, r, &d->base, err)) < 0)
        return rc;
    if (cw_ymap_get(v, "custody") &&
        (rc = cw_ynode_bool(doc, cw_ymap_get(v, "custody"), "custody", &d->custody, err)) < 0)
        return rc;
    if ((v = cw_ymap_get(p, "periods")) != NULL) {
        if (v->type != CW_Y_SEQ)
            return bad(doc, v, r, "params.periods: expected a list", err);
        if ((d->alts = calloc(v->n ? v->n : 1, sizeof *d->alts)) == NULL)
            return CW_ENOMEM;
        for (size_t i = 0; i < v->n; i++) {
            const cw_ynode *e = v->kids[i], *all = cw_ymap_get(e, "all"), *any = cw_ymap_get(e, "any");
            period *a = &d->alts[d->nalts++];
            if ((all == NULL) == (any == NULL))
                return bad(doc, e, r, "params.periods entry needs one of 'all' or 'any'", err);
            if ((rc = read_condset(d, doc, all ? all : any, r, any != NULL, &a->when, err)) < 0 ||
                (rc = read_period(doc, e, r, a, err)) < 0)
                return rc;
        }
    }
    if ((v = cw_ymap_get(p, "lead")) != NULL) {
        period l;
        if ((rc = read_period(doc, v, r, &l, err)) < 0)
            return rc;
        if (l.unit != U_DAYS && l.unit != U_HOURS)
            return bad(doc, v, r, "params.lead: in days or hours", err);
        d->lead = (int64_t)l.n * (l.unit == U_DAYS ? 86400 : 3600);
    }

    if ((ext = cw_ymap_get(p, "extension")) != NULL) {
        int64_t n;
        if ((v = cw_ymap_get(ext, "limit")) == NULL || v->type != CW_Y_SCALAR)
            return bad(doc, ext, r, "params.extension.limit is required", err);
        if (d->t_extended < 0)
            return bad(doc, ext, r, "extensions need the case.extended event type", err);
        if ((d->ext_limit = keep(d, v->text)) == NULL)
            return CW_ENOMEM;
        if ((v = cw_ymap_get(ext, "max_count")) != NULL) {
            if ((rc = cw_ynode_int(doc, v, "max_count", &n, err)) < 0)
                return rc;
            d->ext_max_count = (int)n;
        }
        if ((v = cw_ymap_get(ext, "max_total_days")) != NULL) {
            if ((rc = cw_ynode_int(doc, v, "max_total_days", &n, err)) < 0)
                return rc;
            d->ext_max_total = (int)n;
        }
        if ((v = cw_ymap_get(ext, "flags_total_days")) != NULL) {
            const cw_ynode *f = cw_ymap_get(v, "flags");
            if (f == NULL || (rc = read_strings(d, doc, f, r, &d->ext_flags, &d->next_flags, err)) < 0)
                return f ? rc : bad(doc, v, r, "flags_total_days.flags is required", err);
            if ((rc = cw_ynode_int(doc, cw_ymap_get(v, "days"), "days", &n, err)) < 0)
                return rc;
            d->ext_flags_total = (int)n;
        }
        if ((v = cw_ymap_get(ext, "violation_subject")) != NULL && v->type == CW_Y_SCALAR)
            d->ext_subject_in_violation = strstr(v->text, "{subject}") != NULL;
        if (d->ext_max_total && d->base.unit != U_DAYS)
            return bad(doc, ext, r, "max_total_days needs a period in days", err);
    }
    if ((v = cw_ymap_get(p, "rounds")) != NULL) {
        int64_t n;
        const cw_ynode *f = cw_ymap_get(v, "field");
        if (f == NULL || f->type != CW_Y_SCALAR || (d->round_field = keep(d, f->text)) == NULL)
            return bad(doc, v, r, "params.rounds.field is required", err);
        if ((rc = cw_ynode_int(doc, cw_ymap_get(v, "max"), "max", &n, err)) < 0)
            return rc;
        d->round_max = (int)n;
    }
    return 0;
}

static bool cond_holds(const cond *c, const cw_event *ev)
{
    const cw_field *f = cw_event_field(ev, c->field);

    if (f == NULL)
        return false;
    for (size_t i = 0; i < c->nvalues; i++) {
        const char *v = c->values[i];
        switch (f->kind) {
        case CW_F_BOOL:
            if (f->v.b == (strcmp(v, "true") == 0))
                return true;
            break;
        case CW_F_LIST:
            for (uint32_t j = 0; j < f->n; j++)
                if (strcmp(f->v.list[j], v) == 0)
                    return true;
            break;
        case CW_F_INT:
            if (strtoll(v, NULL, 10) == f->v.i)
                return true;
            break;
        default:
            if (f->v.s && strcmp(f->v.s, v) == 0)
                return true;
            break;
        }
    }
    return false;
}

static bool condset_holds(const condset *cs, const cw_event *ev)
{
    if (cs->n == 0)
        return true;
    for (size_t i = 0; i < cs->n; i++) {
        bool h = cond_holds(&cs->c[i], ev);
        if (cs->any && h)
            return true;
        if (!cs->any && !h)
            return false;
    }
    return !cs->any;
}

static bool is_stop(const deadline *d, const cw_event *ev)
{
    for (size_t i = 0; i < d->nstop; i++)
        if (ev->type == d->stop_types[i])
            return true;
    return false;
}

static bool same_str(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* The event that completes A, or NULL. */
static const cw_event *find_stop(const deadline *d, const cw_evalctx *ctx,
                                 uint32_t ai, const char *subject)
{
    const cw_case *c = ctx->c;
    const cw_event *a = c->ev[ai], *best = NULL;

    if (d->join != NULL) {
        const char *key = cw_event_str(a, d->join);
        if (key == NULL)
            return NULL;
        for (size_t t = 0; t < d->nstop; t++) {
            size_t n;
            cw_event *const *evs = cw_store_lookup(ctx->store, d->stop_types[t], d->join, key, &n);
            for (size_t i = 0; i < n; i++)
                if (best == NULL || evs[i]->at < best->at ||
                    (evs[i]->at == best->at && evs[i]->seq < best->seq))
                    best = evs[i];
        }
        return best;
    }
    for (uint32_t i = ai + 1; i < c->n; i++) {
        const cw_event *b = c->ev[i];
        if (is_stop(d, b) && (!d->same_subject || same_str(cw_event_str(b, d->subject), subject)))
            return b;
    }
    return NULL;
}

static const char *type_title(const cw_ruleset *rs, int type)
{
    const cw_type_spec *t = cw_catalogue_type(rs->cat, type);

    return t == NULL ? "?" : t->title && t->title[0] ? t->title : t->name;
}

static void add_event(cw_finding *f, const cw_event *ev)
{
    if (f->nevents < CW_FINDING_EVENTS)
        f->events[f->nevents++] = ev->id;
}

static const char *unit_name(enum unit u)
{
    static const char *const names[] = { "日", "小时", "个月", "个工作日" };
    return names[u];
}

/* The extensions that apply to A and the period they make.
 * Returns the extra days granted within the caps. */
typedef struct extinfo {
    int granted;              /* days added within the caps */
    int asked;                /* days approved in all */
    int count;
    int cap;                  /* total cap in days, 0 = none */
    const cw_event *over[CW_FINDING_EVENTS];   /* extensions beyond a cap */
    int nover;
    const cw_event *used[CW_FINDING_EVENTS];
    int nused;
} extinfo;

static void collect_extensions(const deadline *d, const cw_evalctx *ctx, uint32_t ai,
                               const char *subject, int base_days, extinfo *x)
{
    const cw_case *c = ctx->c;
    const cw_event *a = c->ev[ai];

    memset(x, 0, sizeof *x);
    if (d->ext_limit == NULL)
        return;
    x->cap = d->ext_max_total;
    if (d->next_flags > 0) {
        for (size_t i = 0; i < d->next_flags; i++)
            if (cw_event_has(a, "flags", d->ext_flags[i]))
                x->cap = d->ext_flags_total;
    }
    for (uint32_t i = ai + 1; i < c->n; i++) {
        const cw_event *e = c->ev[i];
        const char *p;
        int days;
        if (e->type != d->t_extended || !same_str(cw_event_str(e, "limit"), d->ext_limit))
            continue;
        /* An extension that names a person applies to that person only. */
        p = cw_event_str(e, "person");
        if (p != NULL && subject != NULL && d->subject && strcmp(d->subject, "person") == 0 &&
            strcmp(p, subject) != 0)
            continue;
        days = (int)cw_event_int(e, "days", 0);
        if (days <= 0)
            continue;
        x->count++;
        x->asked += days;
        if ((d->ext_max_count && x->count > d->ext_max_count) ||
            (x->cap && base_days + x->granted + days > x->cap)) {
            /* Beyond the cap: the lawful part still counts, the rest is
             * the violation. */
            if (x->cap && !(d->ext_max_count && x->count > d->ext_max_count) &&
                base_days + x->granted < x->cap)
                x->granted = x->cap - base_days;
            if (x->nover < CW_FINDING_EVENTS)
                x->over[x->nover++] = e;
            continue;
        }
        x->granted += days;
        if (x->nused < CW_FINDING_EVENTS)
            x->used[x->nused++] = e;
    }
}

static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static void fmt_time(const cw_ruleset *rs, cw_time t, char *buf, size_t size)
{
    char full[40];

    cw_time_format(t, rs->tz, full, sizeof full);
    /* "2026-03-02T09:30:00+08:00" -> "2026-03-02 09:30" */
    snprintf(buf, size, "%.10s %.5s", full, full + 11);
}

static void emit_extension_violation(const cw_rule *r, const deadline *d, cw_evalctx *ctx,
                                     const cw_event *a, const char *subject,
                                     int base_days, const extinfo *x)
{
    cw_finding f = { .due = CW_TIME_NONE };
    char msg[512];

    snprintf(f.case_id, sizeof f.case_id, "%s", ctx->c->id);
    snprintf(f.unit, sizeof f.unit, "%s", a->unit);
    if (d->ext_subject_in_violation && subject)
        snprintf(f.subject, sizeof f.subject, "extension:%s", subject);
    else
        snprintf(f.subject, sizeof f.subject, "extension");
    f.state = CW_ST_VIOLATION;
    f.raised = x->over[0]->at;
    add_event(&f, a);
    for (int i = 0; i < x->nover; i++)
        add_event(&f, x->over[i]);
    if (d->ext_max_count && x->count > d->ext_max_count)
        snprintf(msg, sizeof msg, "%s: 延长 %d 次, 超过法定最多 %d 次 (%s)",
                 r->title, x->count, d->ext_max_count, d->ext_limit);
    else
        snprintf(msg, sizeof msg, "%s: 期限连同延长合计 %d 日, 超过法定上限 %d 日 (%s)",
                 r->title, base_days + x->asked, x->cap, d->ext_limit);
    f.message = msg;
    cw_rule_emit(r, ctx, &f);
}

static void judge(const cw_rule *r, const deadline *d, cw_evalctx *ctx, uint32_t ai,
                  const char *subject, const char *subject_label)
{
    const cw_ruleset *rs = ctx->rs;
    const cw_event *a = ctx->c->ev[ai], *b;
    const period *p = &d->base;
    cw_finding f = { .due = CW_TIME_NONE };
    bool uncovered = false;
    extinfo x;
    cw_time due;
    int state;
    char when[32], msg[640], tail[256], extra[64] = "";
    int64_t unit_s;

    for (size_t i = 0; i < d->nalts; i++)
        if (condset_holds(&d->alts[i].when, a)) {
            p = &d->alts[i];
            break;
        }
    collect_extensions(d, ctx, ai, subject, p->n, &x);
    if (x.nover > 0)
        emit_extension_violation(r, d, ctx, a, subject, p->n, &x);
    switch (p->unit) {
    case U_DAYS:
        due = cw_calendar_add_days(rs->cal, a->at, p->n + x.granted, !d->custody, &uncovered);
        break;
    case U_WORKDAYS:
        due = cw_calendar_add_workdays(rs->cal, a->at, p->n + x.granted, &uncovered);
        break;
    case U_MONTHS:
        due = cw_calendar_add_months(rs->cal, a->at, p->n, x.granted, !d->custody, &uncovered);
        break;
    default:
        due = cw_calendar_add_hours(rs->cal, a->at, p->n) + (int64_t)x.granted * 86400;
        break;
    }
    b = find_stop(d, ctx, ai, subject);
    if (b != NULL) {
        if (b->at > due)
            state = CW_ST_LATE;
        else if (d->lead > 0 && b->at >= due - d->lead)
            state = CW_ST_CLEARED;
        else
            return;
    } else {
        if (ctx->now > due)
            state = CW_ST_OVERDUE;
        else if (d->lead > 0 && ctx->now >= due - d->lead)
            state = CW_ST_WARNING;
        else
            return;
    }

    snprintf(f.case_id, sizeof f.case_id, "%s", ctx->c->id);
    snprintf(f.subject, sizeof f.subject, "%s", subject_label);
    snprintf(f.unit, sizeof f.unit, "%s", a->unit);
    f.state = state;
    f.due = due;
    add_event(&f, a);
    if (b != NULL)
        add_event(&f, b);
    for (int i = 0; i < x.nused; i++)
        add_event(&f, x.used[i]);

    unit_s = p->unit == U_HOURS ? 3600 : 86400;
    fmt_time(rs, a->at, when, sizeof when);
    if (x.granted > 0)
        snprintf(extra, sizeof extra, " (含延长 %d 日)", x.granted);
    switch (state) {
    case CW_ST_WARNING:
        f.raised = due - d->lead;
        snprintf(tail, sizeof tail, "即将到期, 剩余 %lld %s",
                 (long long)ceil_div(due - ctx->now + 1, unit_s), p->unit == U_HOURS ? "小时" : "日");
        break;
    case CW_ST_OVERDUE:
        f.raised = due + 1;
        snprintf(tail, sizeof tail, "已超期 %lld %s",
                 (long long)ceil_div(ctx->now - due, unit_s), p->unit == U_HOURS ? "小时" : "日");
        break;
    case CW_ST_LATE: {
        char bw[32];
        f.raised = b->at;
        fmt_time(rs, b->at, bw, sizeof bw);
        snprintf(tail, sizeof tail, "%s %s, 超期 %lld %s", type_title(rs, b->type), bw,
                 (long long)ceil_div(b->at - due, unit_s), p->unit == U_HOURS ? "小时" : "日");
        break;
    }
    default: {
        char bw[32];
        f.raised = b->at;
        fmt_time(rs, b->at, bw, sizeof bw);
        snprintf(tail, sizeof tail, "%s %s, 在到期前完成", type_title(rs, b->type), bw);
        break;
    }
    }
    snprintf(msg, sizeof msg, "%s: %s%s%s %s, 期限 %d %s%s, %s%s", r->title,
             subject ? subject : "", subject ? " " : "", type_title(rs, a->type), when,
             p->n, unit_name(p->unit), extra, tail,
             uncovered ? " (到期日超出节假日日历覆盖范围, 仅按周末计算)" : "");
    f.message = msg;
    cw_rule_emit(r, ctx, &f);
}

static void emit_rounds_violation(const cw_rule *r, cw_evalctx *ctx, const cw_event *a,
                                  int round)
{
    const deadline *d = r->state;
    cw_finding f = { .due = CW_TIME_NONE };
    char msg[256];

    snprintf(f.case_id, sizeof f.case_id, "%s", ctx->c->id);
    snprintf(f.unit, sizeof f.unit, "%s", a->unit);
    snprintf(f.subject, sizeof f.subject, "rounds");
    f.state = CW_ST_VIOLATION;
    f.raised = a->at;
    add_event(&f, a);
    snprintf(msg, sizeof msg, "%s: 第 %d 次%s, 法定最多 %d 次", r->title, round,
             type_title(ctx->rs, a->type), d->round_max);
    f.message = msg;
    cw_rule_emit(r, ctx, &f);
}

static void deadline_eval(const cw_rule *r, cw_evalctx *ctx)
{
    const deadline *d = r->state;
    const cw_case *c = ctx->c;
    int nth = 0;
    bool rounds_flagged = false;

    for (uint32_t i = 0; i < c->n; i++) {
        const cw_event *a = c->ev[i];
        const char *subject = NULL;
        char label[CW_SUBJECT_MAX + 1];
        int seen = 0;

        if (a->type != d->start_type || !condset_holds(&d->start_when, a) ||
            !cw_rule_applies(r, ctx->rs, ctx->kind, a->unit, a->at))
            continue;
        nth++;
        if (d->round_field != NULL) {
            int round = (int)cw_event_int(a, d->round_field, nth);
            if (round > d->round_max || nth > d->round_max) {
                if (!rounds_flagged)
                    emit_rounds_violation(r, ctx, a, round > nth ? round : nth);
                rounds_flagged = true;
                continue;
            }
            snprintf(label, sizeof label, "round:%d", round);
            judge(r, d, ctx, i, NULL, label);
            continue;
        }
        if (d->subject != NULL) {
            subject = cw_event_str(a, d->subject);
            if (subject == NULL)
                continue;
        }
        /* The same subject started again: its own finding, "P1#2". */
        for (uint32_t j = 0; j < i; j++) {
            const cw_event *o = c->ev[j];
            if (o->type == d->start_type && condset_holds(&d->start_when, o) &&
                (subject == NULL || same_str(cw_event_str(o, d->subject), subject)))
                seen++;
        }
        if (seen == 0)
            snprintf(label, sizeof label, "%s", subject ? subject : "");
        else
            snprintf(label, sizeof label, "%s#%d", subject ? subject : "", seen + 1);
        judge(r, d, ctx, i, subject, label);
    }
}

const cw_model cw_model_deadline = {
    .name = "deadline",
    .configure = deadline_configure,
    .eval_case = deadline_eval,
    .free_state = deadline_free,
};
