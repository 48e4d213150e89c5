/*
 * The deadline model: after event A, event B (same case, and the same
 * subject where one is named) must follow within a legal period.
 *
 * An instance recomputes a case's obligations from the case's timeline
 * whenever an event it listens to arrives there, and hands the whole set
 * to the host (sync). The host derives each obligation's state from due,
 * lead and met at whatever time it is asked, so nothing here depends on
 * the clock. Parameters are documented in docs/RULES.md ("deadline").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casewarden/plugin.h"
#include "common.h"

#define MAX_VALS 16
#define MAX_CONDS 8
#define MAX_STOP 8
#define MAX_ALTS 8
#define MAX_EXT_EVENTS 4
#define MAX_EXEMPT 4
#define MAX_CAUSES 32

static const cw_host *H;

enum unit { U_DAYS, U_HOURS, U_MONTHS, U_WORKDAYS };
static const char *const unit_names[] = { "days", "hours", "months", "workdays" };
static const char *const unit_cn[] = { "日", "小时", "个月", "个工作日" };

typedef struct cond {
    int fid;
    int nvals;
    struct {
        int kind;               /* CW_P_BOOL, CW_P_INT or CW_P_STR */
        int64_t i;
        uint32_t s;
    } v[MAX_VALS];
} cond;

typedef struct condset {
    bool any;
    int n;
    cond c[MAX_CONDS];
} condset;

typedef struct period {
    int unit;
    int n;
    condset when;
} period;

/* One value of the exemption field (exempt = {...}): no obligation is
 * owed when it is lawful, which it is always, or (causes) only in cases
 * whose cause is one of causes[]; otherwise it is a violation and the
 * period runs all the same. */
typedef struct exemption {
    uint32_t value;
    char label[64];
    bool lawful;
    uint32_t causes[MAX_CAUSES];
    int ncauses;
    char causes_label[128];
} exemption;

typedef struct dl {
    int a_type;
    condset a_when;
    int stop[MAX_STOP];
    condset stop_when[MAX_STOP];    /* what B's data must hold */
    bool stop_subject[MAX_STOP];    /* B carries the subject field */
    int nstop;
    int join_fid;                   /* B in any case with data.join == subject */
    int subject_fid;                /* -1: the case itself */
    period base;
    period alts[MAX_ALTS];
    int nalts;
    bool custody;
    int64_t lead;
    /* extensions (case.extended) */
    int ext_type, ext_limit_fid, ext_days_fid, ext_subject_fid;
    uint32_t ext_limit;             /* 0: no extensions */
    int ext_max_count, ext_max_total, ext_flags_total, ext_max_days;
    int flags_fid;
    uint32_t ext_flags[MAX_VALS];
    int next_flags;
    bool ext_subject_person;
    /* exemptions: a field of A that may waive the obligation */
    int ex_fid;                     /* -1: none */
    exemption ex[MAX_EXEMPT];
    int nex;
    int t_accepted;                 /* listened to when a cause decides */
    /* rounds (case.returned) */
    int round_fid, round_max;
    char label[96];
    uint32_t label_sid;
    int types[MAX_STOP + 2];        /* every type the walk looks at */
    size_t ntypes;
    struct walk *scratch;           /* reused by every recompute */
    /* the findings handed to the host */
    cw_finding_in *f;
    const char **ids;               /* (2 + MAX_EXT_EVENTS) per finding */
    char (*msgs)[160];              /* a message per finding, where one is needed */
    int capf;
} dl;

typedef struct obl {
    uint32_t subject;           /* the subject value (A's field) */
    uint32_t key;               /* subject as reported: value, value#2, round:N */
    cw_time start;
    const period *p;
    int ext_days, ext_count;
    bool flagged;               /* A carries one of the extension flags */
    cw_time met;
    char a_id[65], b_id[65];
    char ext_ids[MAX_EXT_EVENTS][65];
    int next_ids;
    bool done;                  /* met */
    bool hidden;                /* A outside the effective period: not judged here */
    bool exempt;                /* lawfully waived (exempt): nothing owed */
    bool touched;               /* changed by the event being applied */
    long long round;            /* rounds: the round number, else 0 */
    long long given;            /* rounds: data.round when it disagrees, else 0 */
    int next;                   /* the next open one of the same subject */
} obl;

typedef struct viol {
    uint32_t key;
    cw_time at;
    char ids[MAX_EXT_EVENTS][65];
    int nids;
    bool touched;
    char msg[256];
} viol;

/* A completing event seen at the current second, for starts at the same
 * second that come after it in the timeline: "at or after" includes the
 * same second, whatever the order of arrival. */
typedef struct pend {
    uint32_t subject;
    bool by_subject, used;
    char id[65];
} pend;

/* Per subject: how many starts so far, and the open obligations in
 * order (through obl.next), so a completing event finds its start at
 * once even in a case with thousands. */
typedef struct subjslot {
    uint32_t subject;           /* subject + 1; 0: free slot */
    int count;
    int head, tail;             /* open obligations, -1 = none */
} subjslot;

typedef struct walk walk;
struct walk {
    dl *d;
    cw_ctx *ctx;
    const cw_case *c;
    obl *o;
    int n, cap;
    viol *v;
    int nv, capv;
    pend *pb;
    int npb, cappb;
    cw_time pb_at;              /* the second pb[] belongs to */
    subjslot *sj;
    int capsj, nsj;             /* capsj: a power of two */
    int a_seen;                 /* A events counted (rounds) */
    bool oom;
    int nvisit;                 /* events the last full walk saw */
    /* applying one event to a kept walk: what it changed */
    bool track;
    int *touched;               /* obligations, by index */
    int ntouched, captouched;
    bool vtouched;
    cw_time last_at;            /* the latest event applied: (at, seq) */
    uint64_t last_seq;
};

/* Cases with more events than this keep their walk between events (in
 * the host's case slot), so that an event in time order costs what it
 * changes, not the case's whole history; smaller cases are walked again,
 * which keeps no memory. */
#define KEEP_MIN 32


/* ---- configuration ---------------------------------------------------- */

static int type_of(cw_ctx *ctx, const cw_value *v, const char *what, int *type, char *err,
                   size_t len)
{
    if (v == NULL || v->kind != CW_P_STR)
        return fail(err, len, v ? v->line : 0, "%s: expected an event type name", what);
    if ((*type = H->type_id(ctx, v->s)) < 0)
        return fail(err, len, v->line, "%s: unknown event type '%s'", what, v->s);
    return 0;
}

static int field_of(cw_ctx *ctx, int type, const cw_value *v, const char *what, int *fid,
                    char *err, size_t len)
{
    if (v == NULL || v->kind != CW_P_STR)
        return fail(err, len, v ? v->line : 0, "%s: expected a field name", what);
    *fid = H->field_id(ctx, v->s);
    if (*fid < 0 || !H->type_has_field(ctx, type, *fid))
        return fail(err, len, v->line, "%s: %s has no field '%s'", what,
                    H->type_name(ctx, type), v->s);
    return 0;
}

static int read_val(cw_ctx *ctx, const cw_value *v, cond *c, char *err, size_t len)
{
    if (c->nvals >= MAX_VALS)
        return fail(err, len, v->line, "too many values (at most %d)", MAX_VALS);
    switch (v->kind) {
    case CW_P_BOOL:
    case CW_P_INT:
        c->v[c->nvals].kind = v->kind;
        c->v[c->nvals].i = v->i;
        break;
    case CW_P_STR:
        c->v[c->nvals].kind = CW_P_STR;
        c->v[c->nvals].s = H->intern(ctx, v->s, strlen(v->s));
        break;
    default:
        return fail(err, len, v->line, "a condition value is a string, number or boolean");
    }
    c->nvals++;
    return 0;
}

/* {field = value or {values}, ...} over the fields of `type`. */
static int read_conds(cw_ctx *ctx, int type, const cw_value *m, bool any, condset *cs,
                      char *err, size_t len)
{
    cs->any = any;
    cs->n = 0;
    if (m == NULL)
        return 0;
    if (m->kind != CW_P_MAP)
        return fail(err, len, m->line, "a condition is a table {field = value, ...}");
    for (size_t i = 0; i < m->n; i++) {
        cond *c = &cs->c[cs->n];
        const cw_value *v = &m->items[i];
        cw_value key = { .kind = CW_P_STR, .line = m->line, .s = m->keys[i] };
        if (cs->n >= MAX_CONDS)
            return fail(err, len, m->line, "too many conditions (at most %d)", MAX_CONDS);
        memset(c, 0, sizeof *c);
        if (field_of(ctx, type, &key, "condition", &c->fid, err, len) < 0)
            return -1;
        if (v->kind == CW_P_LIST) {
            for (size_t j = 0; j < v->n; j++)
                if (read_val(ctx, &v->items[j], c, err, len) < 0)
                    return -1;
        } else if (read_val(ctx, v, c, err, len) < 0) {
            return -1;
        }
        cs->n++;
    }
    return 0;
}

/* {days|hours|months|workdays = N}; other keys allowed only from `extra`. */
static int read_period(const cw_value *m, const char *what, const char *const *extra,
                       period *p, char *err, size_t len)
{
    int found = 0;

    if (m == NULL || m->kind != CW_P_MAP)
        return fail(err, len, m ? m->line : 0, "%s: expected a table like {days = 3}", what);
    for (size_t i = 0; i < m->n; i++) {
        const cw_value *v = &m->items[i];
        int u;
        for (u = 0; u < 4; u++)
            if (strcmp(m->keys[i], unit_names[u]) == 0)
                break;
        if (u == 4) {
            bool ok = false;
            for (int k = 0; extra && extra[k]; k++)
                if (strcmp(m->keys[i], extra[k]) == 0)
                    ok = true;
            if (!ok)
                return fail(err, len, m->line, "%s: unknown key '%s' (days, hours, months, workdays)",
                            what, m->keys[i]);
            continue;
        }
        if (v->kind != CW_P_INT || v->i <= 0 || v->i > 100000)
            return fail(err, len, v->line, "%s.%s must be a positive integer", what, m->keys[i]);
        p->unit = u;
        p->n = (int)v->i;
        found++;
    }
    if (found != 1)
        return fail(err, len, m->line, "%s needs exactly one of days, hours, months, workdays", what);
    return 0;
}

static int known_keys(const cw_value *m, const char *const *keys, const char *what, char *err,
                      size_t len)
{
    for (size_t i = 0; i < m->n; i++) {
        char list[256];
        if (!key_known(m->keys[i], keys, list, sizeof list))
            return fail(err, len, m->line, "%s: unknown key '%s' (%s)", what, m->keys[i], list);
    }
    return 0;
}

static int read_extension(cw_ctx *ctx, dl *d, const cw_value *m, char *err, size_t len)
{
    static const char *const keys[] = {
        "limit", "max_count", "max_days", "max_total_days", "flags", "flags_total_days",
        "violation_subject", NULL
    };
    const cw_value *v;

    if (m->kind != CW_P_MAP)
        return fail(err, len, m->line, "extension: expected a table");
    if (known_keys(m, keys, "extension", err, len) < 0)
        return -1;
    if ((d->ext_type = H->type_id(ctx, "case.extended")) < 0)
        return fail(err, len, m->line, "extension: the catalogue has no case.extended");
    d->ext_limit_fid = H->field_id(ctx, "limit");
    d->ext_days_fid = H->field_id(ctx, "days");
    /* an extension that names the subject (data.person, data.item) is for
     * that subject only */
    d->ext_subject_fid = d->subject_fid >= 0 && H->type_has_field(ctx, d->ext_type, d->subject_fid)
                             ? d->subject_fid : -1;
    if ((v = cw_value_get(m, "limit")) == NULL || v->kind != CW_P_STR || !v->s[0])
        return fail(err, len, m->line, "extension.limit: the name of the time limit (case.extended data.limit)");
    d->ext_limit = H->intern(ctx, v->s, strlen(v->s));
    if ((v = cw_value_get(m, "max_count")) != NULL) {
        if (v->kind != CW_P_INT || v->i < 1)
            return fail(err, len, v->line, "extension.max_count must be a positive integer");
        d->ext_max_count = (int)v->i;
    }
    if ((v = cw_value_get(m, "max_days")) != NULL) {
        if (v->kind != CW_P_INT || v->i < 1)
            return fail(err, len, v->line, "extension.max_days (the most one extension may add) "
                        "must be a positive integer");
        d->ext_max_days = (int)v->i;
    }
    if ((v = cw_value_get(m, "max_total_days")) != NULL) {
        if (v->kind != CW_P_INT || v->i < 1)
            return fail(err, len, v->line, "extension.max_total_days must be a positive integer");
        if (d->base.unit != U_DAYS)
            return fail(err, len, v->line, "extension.max_total_days needs a period in days");
        d->ext_max_total = (int)v->i;
    }
    if ((v = cw_value_get(m, "flags")) != NULL) {
        const cw_value *fl = v;
        cw_value key = { .kind = CW_P_STR, .line = v->line, .s = "flags" };
        if (fl->kind != CW_P_LIST || fl->n == 0 || fl->n > MAX_VALS)
            return fail(err, len, v->line, "extension.flags: a list of flag names");
        if (field_of(ctx, d->a_type, &key, "extension.flags", &d->flags_fid, err, len) < 0)
            return -1;
        for (size_t i = 0; i < fl->n; i++) {
            if (fl->items[i].kind != CW_P_STR)
                return fail(err, len, v->line, "extension.flags: names are strings");
            d->ext_flags[d->next_flags++] = H->intern(ctx, fl->items[i].s, strlen(fl->items[i].s));
        }
        if ((v = cw_value_get(m, "flags_total_days")) == NULL || v->kind != CW_P_INT || v->i < 1)
            return fail(err, len, m->line, "extension.flags needs flags_total_days");
        d->ext_flags_total = (int)v->i;
    }
    if ((v = cw_value_get(m, "violation_subject")) != NULL) {
        if (v->kind != CW_P_STR || (strcmp(v->s, "extension") && strcmp(v->s, "extension:{subject}")))
            return fail(err, len, v->line, "extension.violation_subject is \"extension\" or "
                        "\"extension:{subject}\"");
        d->ext_subject_person = strcmp(v->s, "extension:{subject}") == 0;
    }
    return H->listen(ctx, d->ext_type);
}

/* stop = "T", {type = "T", when = {...}}, or a list of either. */
static int read_stop(cw_ctx *ctx, dl *d, const cw_value *v, char *err, size_t len)
{
    static const char *const skeys[] = { "type", "when", NULL };
    int i = d->nstop;

    if (d->nstop >= MAX_STOP)
        return fail(err, len, v->line, "stop: at most %d event types", MAX_STOP);
    d->nstop++;
    if (v->kind != CW_P_MAP)
        return type_of(ctx, v, "stop", &d->stop[i], err, len);
    if (known_keys(v, skeys, "stop", err, len) < 0 ||
        type_of(ctx, cw_value_get(v, "type"), "stop.type", &d->stop[i], err, len) < 0)
        return -1;
    return read_conds(ctx, d->stop[i], cw_value_get(v, "when"), false, &d->stop_when[i], err, len);
}

static int read_stops(cw_ctx *ctx, dl *d, const cw_value *v, char *err, size_t len)
{
    if (v == NULL)
        return fail(err, len, 0, "deadline: 'stop' (the event or events that meet it) is required");
    if (v->kind != CW_P_LIST)
        return read_stop(ctx, d, v, err, len);
    if (v->n == 0)
        return fail(err, len, v->line, "stop: list 1-%d event types", MAX_STOP);
    for (size_t i = 0; i < v->n; i++)
        if (read_stop(ctx, d, &v->items[i], err, len) < 0)
            return -1;
    return 0;
}

/* One value of exempt.values: {label = "...", lawful = false} or
 * {label = "...", causes = {...}, causes_label = "..."}; lawful by
 * default. */
static int read_exemption(cw_ctx *ctx, exemption *e, const char *name, const cw_value *m,
                          char *err, size_t len)
{
    static const char *const keys[] = { "label", "lawful", "causes", "causes_label", NULL };
    const cw_value *v;

    if (m->kind != CW_P_MAP)
        return fail(err, len, m->line, "exempt.values.%s: a table {label, lawful, causes, "
                    "causes_label}", name);
    if (known_keys(m, keys, "exempt.values", err, len) < 0)
        return -1;
    e->value = H->intern(ctx, name, strlen(name));
    e->lawful = true;
    snprintf(e->label, sizeof e->label, "%s", name);
    if ((v = cw_value_get(m, "label")) != NULL && v->kind == CW_P_STR)
        snprintf(e->label, sizeof e->label, "%s", v->s);
    if ((v = cw_value_get(m, "lawful")) != NULL)
        e->lawful = v->kind == CW_P_BOOL && v->i;
    if ((v = cw_value_get(m, "causes")) != NULL) {
        if (v->kind != CW_P_LIST || v->n == 0 || v->n > MAX_CAUSES)
            return fail(err, len, v->line, "exempt.values.%s.causes: a list of 1-%d case causes",
                        name, MAX_CAUSES);
        for (size_t i = 0; i < v->n; i++) {
            if (v->items[i].kind != CW_P_STR)
                return fail(err, len, v->line, "exempt.values.%s.causes: causes are strings", name);
            e->causes[e->ncauses++] = H->intern(ctx, v->items[i].s, strlen(v->items[i].s));
        }
    }
    if ((v = cw_value_get(m, "causes_label")) != NULL && v->kind == CW_P_STR)
        snprintf(e->causes_label, sizeof e->causes_label, "%s", v->s);
    return 0;
}

/* exempt = {field = "F", values = {V = {...}, ...}}: a value of A's field
 * F waives the obligation where it is lawful (docs/RULES.md). */
static int read_exempt(cw_ctx *ctx, dl *d, const cw_value *m, char *err, size_t len)
{
    static const char *const keys[] = { "field", "values", NULL };
    const cw_value *vals = cw_value_get(m, "values");
    bool causes = false;

    if (m->kind != CW_P_MAP || known_keys(m, keys, "exempt", err, len) < 0)
        return m->kind != CW_P_MAP ? fail(err, len, m->line, "exempt: a table {field, values}") : -1;
    if (d->subject_fid < 0)
        return fail(err, len, m->line, "exempt needs a subject (the violation names it)");
    if (field_of(ctx, d->a_type, cw_value_get(m, "field"), "exempt.field", &d->ex_fid, err, len) < 0)
        return -1;
    if (vals == NULL || vals->kind != CW_P_MAP || vals->n == 0 || vals->n > MAX_EXEMPT)
        return fail(err, len, m->line, "exempt.values: a table of 1-%d values {VALUE = {...}}",
                    MAX_EXEMPT);
    for (size_t i = 0; i < vals->n; i++) {
        if (read_exemption(ctx, &d->ex[d->nex], vals->keys[i], &vals->items[i], err, len) < 0)
            return -1;
        causes |= d->ex[d->nex++].ncauses > 0;
    }
    if (!causes)
        return 0;
    /* the case's cause decides: look again when the acceptance comes */
    if ((d->t_accepted = H->type_id(ctx, "case.accepted")) < 0)
        return fail(err, len, m->line, "exempt: the catalogue has no case.accepted");
    return H->listen(ctx, d->t_accepted);
}

static void walk_free(walk *w)
{
    if (w == NULL)
        return;
    free(w->o);
    free(w->v);
    free(w->pb);
    free(w->sj);
    free(w->touched);
    free(w);
}

static void release(void *inst)
{
    dl *d = inst;

    if (d == NULL)
        return;
    walk_free(d->scratch);
    free(d->f);
    free(d->ids);
    free(d->msgs);
    free(d);
}

static int configure(cw_ctx *ctx, const cw_rule_info *rule, const cw_value *p, void **inst,
                     char *err, size_t len)
{
    static const char *const keys[] = {
        "start", "stop", "join", "subject", "period", "periods", "lead", "extension", "rounds",
        "exempt", "label", NULL
    };
    static const char *const period_extra[] = { "custody", NULL };
    const cw_value *v, *start;
    dl *d = calloc(1, sizeof *d);

    (void)rule;
    if (d == NULL)
        return fail(err, len, 0, "out of memory");
    *inst = d;
    d->subject_fid = d->join_fid = d->round_fid = d->ex_fid = d->t_accepted = -1;
    if (known_keys(p, keys, "deadline", err, len) < 0)
        goto bad;
    /* start = "type" or {type = ..., when = {...}} */
    if ((start = cw_value_get(p, "start")) == NULL)
        { fail(err, len, p->line, "deadline: 'start' (the event that starts the clock) is required"); goto bad; }
    if (start->kind == CW_P_MAP) {
        static const char *const skeys[] = { "type", "when", NULL };
        if (known_keys(start, skeys, "start", err, len) < 0 ||
            type_of(ctx, cw_value_get(start, "type"), "start.type", &d->a_type, err, len) < 0 ||
            read_conds(ctx, d->a_type, cw_value_get(start, "when"), false, &d->a_when, err, len) < 0)
            goto bad;
    } else if (type_of(ctx, start, "start", &d->a_type, err, len) < 0) {
        goto bad;
    }
    snprintf(d->label, sizeof d->label, "%s", H->type_title(ctx, d->a_type));
    if ((v = cw_value_get(p, "label")) != NULL && v->kind == CW_P_STR)
        snprintf(d->label, sizeof d->label, "%s", v->s);
    d->label_sid = H->intern(ctx, d->label, strlen(d->label));
    if ((v = cw_value_get(p, "subject")) != NULL &&
        field_of(ctx, d->a_type, v, "subject", &d->subject_fid, err, len) < 0)
        goto bad;
    if (read_stops(ctx, d, cw_value_get(p, "stop"), err, len) < 0)
        goto bad;
    if ((v = cw_value_get(p, "join")) != NULL) {
        if (d->subject_fid < 0)
            { fail(err, len, v->line, "join needs a subject (the value B must name)"); goto bad; }
        for (int i = 0; i < d->nstop; i++)
            if (d->stop_when[i].n > 0)
                { fail(err, len, v->line, "join: a stop with 'when' is not supported"); goto bad; }
        for (int i = 0; i < d->nstop; i++)
            if (field_of(ctx, d->stop[i], v, "join", &d->join_fid, err, len) < 0)
                goto bad;
        /* both sides kept for good: a completing event may come long
         * after A, when A's case has left memory, and must still find it;
         * and A may arrive after its B (another system's clock, a
         * backlog), when B's case has left memory: the lookup that meets
         * B's stub brings B's case back, whose B then revisits A */
        for (int i = 0; i < d->nstop; i++)
            if (H->want_index(ctx, d->stop[i], d->join_fid) < 0 ||
                H->index_window(ctx, d->stop[i], d->join_fid, 0) < 0)
                goto bad;
        if (H->want_index(ctx, d->a_type, d->subject_fid) < 0 ||
            H->index_window(ctx, d->a_type, d->subject_fid, 0) < 0)
            goto bad;
    }
    for (int i = 0; i < d->nstop; i++)
        d->stop_subject[i] = d->subject_fid >= 0 && d->join_fid < 0 &&
                             H->type_has_field(ctx, d->stop[i], d->subject_fid);
    if (read_period(cw_value_get(p, "period"), "period", period_extra, &d->base, err, len) < 0)
        goto bad;
    if ((v = cw_value_get(cw_value_get(p, "period"), "custody")) != NULL)
        d->custody = v->kind == CW_P_BOOL && v->i;
    if ((v = cw_value_get(p, "periods")) != NULL) {
        static const char *const extra[] = { "when", "any", NULL };
        if (v->kind != CW_P_LIST || v->n > MAX_ALTS)
            { fail(err, len, v->line, "periods: a list of {when|any = {...}, hours = N}"); goto bad; }
        for (size_t i = 0; i < v->n; i++) {
            const cw_value *alt = &v->items[i], *w = cw_value_get(alt, "when"), *a = cw_value_get(alt, "any");
            period *pa = &d->alts[d->nalts++];
            if (read_period(alt, "periods", extra, pa, err, len) < 0)
                goto bad;
            if ((w == NULL) == (a == NULL))
                { fail(err, len, alt->line, "periods: each entry has 'when' (all of) or 'any' (one of)"); goto bad; }
            if (read_conds(ctx, d->a_type, w ? w : a, a != NULL, &pa->when, err, len) < 0)
                goto bad;
        }
    }
    if ((v = cw_value_get(p, "lead")) != NULL) {
        period lp;
        if (read_period(v, "lead", NULL, &lp, err, len) < 0)
            goto bad;
        if (lp.unit == U_MONTHS || lp.unit == U_WORKDAYS)
            { fail(err, len, v->line, "lead is in days or hours"); goto bad; }
        d->lead = (int64_t)lp.n * (lp.unit == U_DAYS ? 86400 : 3600);
    }
    if ((v = cw_value_get(p, "extension")) != NULL && read_extension(ctx, d, v, err, len) < 0)
        goto bad;
    if ((v = cw_value_get(p, "exempt")) != NULL && read_exempt(ctx, d, v, err, len) < 0)
        goto bad;
    if ((v = cw_value_get(p, "rounds")) != NULL) {
        const cw_value *f = cw_value_get(v, "field"), *mx = cw_value_get(v, "max");
        if (f == NULL || field_of(ctx, d->a_type, f, "rounds.field", &d->round_fid, err, len) < 0)
            goto bad;
        if (mx == NULL || mx->kind != CW_P_INT || mx->i < 1)
            { fail(err, len, v->line, "rounds.max must be a positive integer"); goto bad; }
        d->round_max = (int)mx->i;
    }
    d->types[d->ntypes++] = d->a_type;
    for (int i = 0; i < d->nstop && d->join_fid < 0; i++)
        d->types[d->ntypes++] = d->stop[i];
    if (d->ext_limit != 0)
        d->types[d->ntypes++] = d->ext_type;
    if ((d->scratch = calloc(1, sizeof *d->scratch)) == NULL)
        { fail(err, len, 0, "out of memory"); goto bad; }
    if (H->listen(ctx, d->a_type) < 0)
        goto bad;
    for (int i = 0; i < d->nstop; i++)
        if (H->listen(ctx, d->stop[i]) < 0)
            goto bad;
    return 0;
bad:
    release(d);
    *inst = NULL;
    return -1;
}


/* ---- evaluation -------------------------------------------------------- */

static bool val_match(const cw_fval *f, const cond *c)
{
    for (int i = 0; i < c->nvals; i++) {
        switch (c->v[i].kind) {
        case CW_P_BOOL:
            if (f == NULL) {
                if (!c->v[i].i)     /* an absent flag is false */
                    return true;
                break;
            }
            if (f->kind == CW_V_BOOL && (f->v.i != 0) == (c->v[i].i != 0))
                return true;
            break;
        case CW_P_INT:
            if (f && f->kind == CW_V_INT && f->v.i == c->v[i].i)
                return true;
            break;
        default:
            if (f && f->kind == CW_V_STR && f->v.s == c->v[i].s)
                return true;
            if (f && f->kind == CW_V_LIST)
                for (uint32_t j = 0; j < f->n; j++)
                    if (f->v.list[j] == c->v[i].s)
                        return true;
            break;
        }
    }
    return false;
}

static bool conds_match(const cw_event *ev, const condset *cs)
{
    if (cs->n == 0)
        return true;
    for (int i = 0; i < cs->n; i++) {
        bool m = val_match(cw_event_field(ev, cs->c[i].fid), &cs->c[i]);
        if (cs->any && m)
            return true;
        if (!cs->any && !m)
            return false;
    }
    return !cs->any;
}

static uint32_t str_field(const cw_event *ev, int fid)
{
    const cw_fval *f = fid >= 0 ? cw_event_field(ev, fid) : NULL;

    return f && f->kind == CW_V_STR ? f->v.s : 0;
}


/* An event id (at most 64 bytes) into a 65-byte slot. */
static void copy_id(char *dst, const char *id)
{
    size_t n = strlen(id);

    if (n > 64)
        n = 64;
    memcpy(dst, id, n);
    dst[n] = '\0';
}

static uint32_t keyf(cw_ctx *ctx, const char *fmt, ...)
{
    char buf[160];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return H->intern(ctx, buf, (size_t)(n < 0 ? 0 : n >= (int)sizeof buf ? (int)sizeof buf - 1 : n));
}

/* Grow *v to hold n + 1 elements of size sz. Returns false when out of
 * memory (the rule is then quarantined by the host). */
static bool room(void **v, int *cap, int n, size_t sz)
{
    void *nv;
    int c;

    if (n < *cap)
        return true;
    c = *cap ? *cap * 2 : 16;
    if ((nv = realloc(*v, (size_t)c * sz)) == NULL)
        return false;
    *v = nv;
    *cap = c;
    return true;
}

/* Obligation i changed: note it when applying one event to a kept walk. */
static void touch(walk *w, int i)
{
    if (!w->track || w->o[i].touched)
        return;
    if (!room((void **)&w->touched, &w->captouched, w->ntouched, sizeof *w->touched)) {
        w->oom = true;
        return;
    }
    w->o[i].touched = true;
    w->touched[w->ntouched++] = i;
}

static viol *violation(walk *w, uint32_t key, const cw_event *ev)
{
    for (int i = 0; i < w->nv; i++)
        if (w->v[i].key == key) {
            if (w->v[i].nids < MAX_EXT_EVENTS) {
                copy_id(w->v[i].ids[w->v[i].nids++], ev->id);
                w->v[i].touched = w->vtouched = true;
            }
            return NULL;    /* the first breach is the one reported */
        }
    if (!room((void **)&w->v, &w->capv, w->nv, sizeof *w->v))
        return NULL;
    memset(&w->v[w->nv], 0, sizeof w->v[w->nv]);
    w->v[w->nv].touched = w->vtouched = true;
    w->v[w->nv].key = key;
    w->v[w->nv].at = ev->at;
    copy_id(w->v[w->nv].ids[0], ev->id);
    w->v[w->nv].nids = 1;
    return &w->v[w->nv++];
}

/* The per-subject slot of subject (created when new). */
static subjslot *subject_slot(walk *w, uint32_t subject)
{
    uint32_t key = subject + 1;     /* 0 marks a free slot */
    int i;

    if (w->capsj == 0 || (w->nsj + 1) * 2 > w->capsj) {
        /* grow and put back what is there */
        int cap = w->capsj ? w->capsj * 2 : 64;
        subjslot *old = w->sj, *nt = calloc((size_t)cap, sizeof *nt);
        if (nt == NULL)
            return NULL;
        for (int k = 0; k < w->capsj; k++) {
            if (old[k].subject == 0)
                continue;
            for (i = (int)(old[k].subject * 2654435761u) & (cap - 1); nt[i].subject; i = (i + 1) & (cap - 1))
                ;
            nt[i] = old[k];
        }
        free(old);
        w->sj = nt;
        w->capsj = cap;
    }
    for (i = (int)(key * 2654435761u) & (w->capsj - 1); w->sj[i].subject; i = (i + 1) & (w->capsj - 1))
        if (w->sj[i].subject == key)
            return &w->sj[i];
    w->sj[i].subject = key;
    w->nsj++;
    w->sj[i].count = 0;
    w->sj[i].head = w->sj[i].tail = -1;
    return &w->sj[i];
}

static void meet(walk *w, obl *o, const cw_event *ev, const char *id, cw_time at)
{
    (void)ev;
    o->done = true;
    o->met = at;
    copy_id(o->b_id, id);
    touch(w, (int)(o - w->o));
}

/* Starts at the current second are met by completing events seen earlier
 * in that second: keep those, and forget them when the second is over. */
static void same_second(walk *w, cw_time at)
{
    if (at != w->pb_at) {
        w->npb = 0;
        w->pb_at = at;
    }
}

/* Whether cause is one of e's causes. */
static bool cause_listed(const exemption *e, uint32_t cause)
{
    for (int i = 0; i < e->ncauses; i++)
        if (e->causes[i] == cause)
            return true;
    return false;
}

/* A's exemption field: true when it lawfully waives the obligation; an
 * unlawful one is a violation (subject exempt:SUBJECT) and the period runs
 * all the same. */
static bool exempted(walk *w, const cw_event *ev, uint32_t subj)
{
    dl *d = w->d;
    uint32_t val = str_field(ev, d->ex_fid);
    const exemption *e = NULL;
    cw_case_info ci;
    viol *v;

    if (val == 0)
        return false;
    for (int i = 0; i < d->nex; i++)
        if (d->ex[i].value == val)
            e = &d->ex[i];
    H->case_info(w->ctx, w->c, &ci);
    if (e != NULL && e->lawful && (e->ncauses == 0 || cause_listed(e, ci.cause))) {
        if (H->tracing(w->ctx))
            H->trace(w->ctx, 0, "exempt", "%s 以%s为由依法免除%s (事件 %s): 不计期限, 无发现",
                     H->str(w->ctx, subj), e->label, d->label, ev->id);
        return true;
    }
    v = violation(w, keyf(w->ctx, "exempt:%s", H->str(w->ctx, subj)), ev);
    if (v == NULL)
        return false;
    if (e != NULL && e->lawful)
        snprintf(v->msg, sizeof v->msg, "%s %s 以%s为由免除, 但本案案由 %s 不属于%s, 依法不得免除; "
                 "期限照常计算", H->str(w->ctx, subj), d->label, e->label,
                 ci.cause ? H->str(w->ctx, ci.cause) : "(未知)", e->causes_label);
    else
        snprintf(v->msg, sizeof v->msg, "%s %s 以%s为由免除, 不是本项期限的法定例外; 期限照常计算",
                 H->str(w->ctx, subj), d->label, e ? e->label : H->str(w->ctx, val));
    return false;
}

/* A period's length for comparing limits: the clock for hours, calendar
 * days for the others (a month as 30.44 days, a working day as 1.4). */
static double approx_seconds(const period *p)
{
    static const double unit_s[] = { 86400.0, 3600.0, 2629746.0, 120960.0 };

    return unit_s[p->unit] * p->n;
}

static void on_a(walk *w, const cw_event *ev)
{
    dl *d = w->d;
    uint32_t subj = str_field(ev, d->subject_fid), key = subj;
    const period *p = &d->base;
    subjslot *sj;
    obl *o;
    bool hidden;
    long long round = 0, given = 0;
    int nth;

    if (!conds_match(ev, &d->a_when) || !H->applies(w->ctx, w->c, CW_TIME_NONE))
        return;
    /* An A outside the effective period belongs to another version of the
     * rule (the same id for another period). It is still counted and
     * matched here, unjudged, so that every version numbers subjects and
     * pairs completing events as one rule would: findings are keyed by
     * (rule id, case, subject). */
    hidden = !H->applies(w->ctx, w->c, ev->at);
    w->a_seen++;
    if (d->round_fid >= 0) {
        /* Rounds are counted by the order of the A events (DOMAIN.md:
         * the first return is round:1); a data.round that disagrees is
         * named in the message. Past the last round: the violation only. */
        const cw_fval *rf = cw_event_field(ev, d->round_fid);
        round = w->a_seen;
        given = rf && rf->kind == CW_V_INT && rf->v.i != round ? rf->v.i : 0;
        if (round > d->round_max) {
            viol *v = hidden ? NULL : violation(w, H->intern(w->ctx, "rounds", 6), ev);
            if (v)
                snprintf(v->msg, sizeof v->msg, "第 %lld 次%s, 超过 %d 次的上限%s", round, d->label,
                         d->round_max, given ? " (事件所记轮次与实际次数不符)" : "");
            return;
        }
        key = keyf(w->ctx, "round:%lld", round);
    }
    if ((sj = subject_slot(w, subj)) == NULL ||
        !room((void **)&w->o, &w->cap, w->n, sizeof *w->o)) {
        w->oom = true;
        return;
    }
    nth = ++sj->count;
    if (d->round_fid < 0 && nth > 1)
        key = keyf(w->ctx, "%s#%d", H->str(w->ctx, subj), nth);
    /* where several limits apply, the longest (DOMAIN.md) */
    for (int i = 0; i < d->nalts; i++)
        if (conds_match(ev, &d->alts[i].when) && approx_seconds(&d->alts[i]) > approx_seconds(p))
            p = &d->alts[i];
    if (d->nalts > 0 && H->tracing(w->ctx))
        H->trace(w->ctx, key, "period", "适用期限 %d %s%s (几个期限的条件都满足时取最长者)", p->n,
                 unit_cn[p->unit], p == &d->base ? " (基本期限)" : "");
    o = &w->o[w->n++];
    memset(o, 0, sizeof *o);
    o->subject = subj;
    o->key = key;
    o->start = ev->at;
    o->p = p;
    o->met = CW_TIME_NONE;
    o->hidden = hidden;
    o->round = round;
    o->given = given;
    o->next = -1;
    copy_id(o->a_id, ev->id);
    touch(w, w->n - 1);
    if (d->ex_fid >= 0 && !hidden)
        o->exempt = exempted(w, ev, subj);
    if (o->exempt) {
        o->done = true;     /* nothing owed: no finding, and no B is taken for it */
        return;
    }
    /* a completing event earlier in this same second meets it at once */
    same_second(w, ev->at);
    for (int i = 0; i < w->npb; i++) {
        pend *b = &w->pb[i];
        if (b->used || (b->by_subject && b->subject != subj))
            continue;
        meet(w, o, ev, b->id, ev->at);
        b->used = b->by_subject;    /* a subject's B meets one A */
        break;
    }
    if (!o->done) {
        if (sj->tail >= 0)
            w->o[sj->tail].next = w->n - 1;
        else
            sj->head = w->n - 1;
        sj->tail = w->n - 1;
    }
    if (d->next_flags > 0) {
        const cw_fval *fl = cw_event_field(ev, d->flags_fid);
        for (int i = 0; fl && fl->kind == CW_V_LIST && i < d->next_flags; i++)
            for (uint32_t j = 0; j < fl->n; j++)
                if (fl->v.list[j] == d->ext_flags[i])
                    o->flagged = true;
    }
}

static void on_b(walk *w, const cw_event *ev, bool by_subject)
{
    uint32_t subj = by_subject ? str_field(ev, w->d->subject_fid) : 0;
    bool used = false;

    same_second(w, ev->at);
    if (by_subject) {
        /* one B meets one A: the earliest open of its subject */
        subjslot *sj = subject_slot(w, subj);
        if (sj == NULL) {
            w->oom = true;
            return;
        }
        while (sj->head >= 0 && w->o[sj->head].done)
            sj->head = w->o[sj->head].next;
        if (sj->head >= 0) {
            meet(w, &w->o[sj->head], ev, ev->id, ev->at);
            sj->head = w->o[sj->head].next;
            if (sj->head < 0)
                sj->tail = -1;
            used = true;
        }
    } else {
        for (int i = 0; i < w->n; i++)
            if (!w->o[i].done)
                meet(w, &w->o[i], ev, ev->id, ev->at);
    }
    if (!room((void **)&w->pb, &w->cappb, w->npb, sizeof *w->pb)) {
        w->oom = true;
        return;
    }
    w->pb[w->npb].subject = subj;
    w->pb[w->npb].by_subject = by_subject;
    w->pb[w->npb].used = used;
    copy_id(w->pb[w->npb].id, ev->id);
    w->npb++;
}

/* What an extension of n days may add to obligation o: all of it, or
 * (an extension beyond what the law allows: a violation) the part up to
 * the lawful maximum, which may be nothing. The due never passes it. */
static int ext_allowed(walk *w, obl *o, const cw_event *ev, int n)
{
    dl *d = w->d;
    const char *who = d->ext_subject_person ? H->str(w->ctx, o->subject) : "";
    const char *sep = who[0] ? ": " : "";
    uint32_t key = d->ext_subject_person ? keyf(w->ctx, "extension:%s", who)
                                         : H->intern(w->ctx, "extension", 9);
    int cap = d->ext_max_total, total = o->p->n + o->ext_days + n;
    viol *v;

    if (o->flagged && d->ext_flags_total > cap)
        cap = d->ext_flags_total;
    if (d->ext_max_count > 0 && o->ext_count > d->ext_max_count) {
        if ((v = violation(w, key, ev)) != NULL)
            snprintf(v->msg, sizeof v->msg, "%s%s第 %d 次延长期限, 法定至多延长 %d 次, 不予计入",
                     who, sep, o->ext_count, d->ext_max_count);
        return 0;
    }
    if (d->ext_max_days > 0 && n > d->ext_max_days) {
        if ((v = violation(w, key, ev)) != NULL)
            snprintf(v->msg, sizeof v->msg, "%s%s一次延长 %d 日, 法定每次至多延长 %d 日, 按 %d 日计",
                     who, sep, n, d->ext_max_days, d->ext_max_days);
        n = d->ext_max_days;
        total = o->p->n + o->ext_days + n;
    }
    if (cap > 0 && total > cap) {
        if ((v = violation(w, key, ev)) != NULL)
            snprintf(v->msg, sizeof v->msg, "%s%s延长 %d 日后期限累计 %d 日, 超过法定上限 %d 日, "
                     "按上限计", who, sep, n, total, cap);
        return cap > o->p->n + o->ext_days ? cap - o->p->n - o->ext_days : 0;
    }
    return n;
}

static void on_ext(walk *w, const cw_event *ev)
{
    dl *d = w->d;
    const cw_fval *days = cw_event_field(ev, d->ext_days_fid);
    uint32_t subj = str_field(ev, d->ext_subject_fid);
    int n = days && days->kind == CW_V_INT && days->v.i > 0 && days->v.i < 100000 ? (int)days->v.i : 0;

    if (str_field(ev, d->ext_limit_fid) != d->ext_limit || n == 0)
        return;
    for (int i = 0; i < w->n; i++) {
        obl *o = &w->o[i];
        if (o->done || o->hidden || ev->at < o->start)
            continue;
        if (subj != 0 && o->subject != subj)
            continue;
        int got;
        o->ext_count++;
        touch(w, i);
        if (o->next_ids < MAX_EXT_EVENTS)
            copy_id(o->ext_ids[o->next_ids++], ev->id);
        got = ext_allowed(w, o, ev, n);
        o->ext_days += got;
        if (H->tracing(w->ctx)) {
            char day[24];
            H->format_time(w->ctx, ev->at, false, day, sizeof day);
            if (got == n)
                H->trace(w->ctx, o->key, "extension", "延长 %d 日 (事件 %s, %s, 第 %d 次), 计入期限",
                         n, ev->id, day, o->ext_count);
            else
                H->trace(w->ctx, o->key, "refused", "延长 %d 日 (事件 %s, %s, 第 %d 次) 超出法定限度, "
                         "只计入 %d 日, 其余不予计入 (另有违法发现)", n, ev->id, day, o->ext_count, got);
        }
    }
}

static int visit(void *ud, const cw_case *c, const cw_event *ev)
{
    walk *w = ud;
    dl *d = w->d;

    (void)c;
    /* one event may be both, e.g. a stop that is also a start: stop first */
    for (int i = 0; i < d->nstop; i++)
        if (ev->type == d->stop[i] && d->join_fid < 0 && conds_match(ev, &d->stop_when[i])) {
            on_b(w, ev, d->stop_subject[i]);
            break;
        }
    if (ev->type == d->a_type)
        on_a(w, ev);
    if (d->ext_limit != 0 && ev->type == d->ext_type)
        on_ext(w, ev);
    return 0;
}

typedef struct joined {
    cw_time at;
    char id[65];
} joined;

static int earliest(void *ud, const cw_case *c, const cw_event *ev)
{
    joined *j = ud;

    (void)c;
    if (j->at == CW_TIME_NONE || ev->at < j->at) {
        j->at = ev->at;
        copy_id(j->id, ev->id);
    }
    return 0;
}

static cw_time due_of(walk *w, const obl *o, bool *uncovered)
{
    const dl *d = w->d;
    int n = o->p->n;

    switch (o->p->unit) {
    case U_HOURS:
        return o->start + (int64_t)n * 3600 + (int64_t)o->ext_days * 86400;
    case U_MONTHS:
        return H->add_months(w->ctx, o->start, n, o->ext_days, !d->custody, uncovered);
    case U_WORKDAYS:
        return H->add_workdays(w->ctx, o->start, n + o->ext_days, uncovered);
    default:
        return H->add_days(w->ctx, o->start, n + o->ext_days, !d->custody, uncovered);
    }
}


/* Room for n findings in d->f and d->ids. */
static bool findings_room(dl *d, int n)
{
    cw_finding_in *nf;
    const char **ni;
    char (*nm)[160];

    if (n <= d->capf)
        return true;
    n += 16;
    if ((nf = realloc(d->f, (size_t)n * sizeof *nf)) == NULL)
        return false;
    d->f = nf;
    if ((ni = realloc(d->ids, (size_t)n * (2 + MAX_EXT_EVENTS) * sizeof *ni)) == NULL)
        return false;
    d->ids = ni;
    if ((nm = realloc(d->msgs, (size_t)n * sizeof *nm)) == NULL)
        return false;
    d->msgs = nm;
    d->capf = n;
    return true;
}

/* The finding of obligation o into fi, its event ids into fids; msg
 * holds a message where the host's description would not say enough. */
static void obl_finding(walk *w, obl *o, cw_finding_in *fi, const char **fids, char *msg)
{
    dl *d = w->d;
    bool uncovered = false;
    size_t k = 0;

    if (d->join_fid >= 0 && !o->done) {
        joined j = { CW_TIME_NONE, "" };
        /* B at or after A, as in a case (DOMAIN.md: after event A, event
         * B must happen within T): an acceptance timed before the alarm
         * does not meet it */
        for (int s = 0; s < d->nstop; s++)
            H->find_events(w->ctx, d->stop[s], d->join_fid, o->subject, o->start, INT64_MAX,
                           earliest, &j);
        if (j.at != CW_TIME_NONE) {
            o->done = true;
            o->met = j.at;
            copy_id(o->b_id, j.id);
        }
    }
    memset(fi, 0, sizeof *fi);
    fi->subject = o->key;
    fi->mode = CW_FM_DEADLINE;
    fi->due = due_of(w, o, &uncovered);
    fi->lead = d->lead;
    fi->met = o->met;
    fi->flags = uncovered ? CW_FF_UNCOVERED : 0;
    fi->period.label = d->label_sid;
    fi->period.unit = (uint8_t)(o->p->unit + 1);    /* enum cw_period_unit */
    fi->period.n = o->p->n + (o->p->unit == U_DAYS || o->p->unit == U_WORKDAYS ? o->ext_days : 0);
    fi->period.ext_days = o->ext_days;
    fi->period.start = o->start;
    fi->message = NULL;
    if (o->given != 0) {
        /* the host writes "LABEL DATE, 期限 N UNIT" from period alone;
         * here the round the event gave must be named too */
        char day[24];
        H->format_time(w->ctx, o->start, true, day, sizeof day);
        snprintf(msg, 160, "%s %s (第 %lld 次, 事件记为第 %lld 轮), 期限 %d %s", d->label, day,
                 o->round, o->given, o->p->n, unit_cn[o->p->unit]);
        fi->message = msg;
        fi->period.unit = 0;
    }
    fids[k++] = o->a_id;
    for (int e = 0; e < o->next_ids; e++)
        fids[k++] = o->ext_ids[e];
    if (o->b_id[0])
        fids[k++] = o->b_id;
    fi->events = fids;
    fi->nevents = k;
}

static void viol_finding(const viol *v, cw_finding_in *fi, const char **fids)
{
    memset(fi, 0, sizeof *fi);
    fi->subject = v->key;
    fi->mode = CW_FM_FIXED;
    fi->state = CW_ST_VIOLATION;
    fi->due = CW_TIME_NONE;
    fi->raised = v->at;
    fi->message = v->msg;
    for (int e = 0; e < v->nids; e++)
        fids[e] = v->ids[e];
    fi->events = fids;
    fi->nevents = (size_t)v->nids;
}

static int count_visit(void *ud, const cw_case *c, const cw_event *ev)
{
    ((walk *)ud)->nvisit++;
    return visit(ud, c, ev);
}

/* Walk the case's timeline into w and hand the whole set to the host. */
static int recompute(dl *d, cw_ctx *ctx, const cw_case *c, walk *w)
{
    size_t n = 0;
    int rc;

    w->d = d;
    w->ctx = ctx;
    w->c = c;
    w->n = w->nv = w->a_seen = w->npb = w->nvisit = w->ntouched = 0;
    w->pb_at = CW_TIME_NONE;
    w->oom = w->track = false;
    if (w->capsj > 0)
        memset(w->sj, 0, (size_t)w->capsj * sizeof *w->sj);
    w->nsj = 0;
    if (H->tracing(ctx))
        H->trace(ctx, 0, NULL, NULL);
    if ((rc = H->case_events(ctx, c, d->types, d->ntypes, count_visit, w)) != 0)
        return rc;
    if (w->oom || !findings_room(d, w->n + w->nv))
        return -1;
    for (int i = 0; i < w->n; i++) {
        w->o[i].touched = false;
        if (!w->o[i].hidden && !w->o[i].exempt) {
            obl_finding(w, &w->o[i], &d->f[n], &d->ids[n * (2 + MAX_EXT_EVENTS)], d->msgs[n]);
            n++;
        }
    }
    for (int i = 0; i < w->nv; i++) {
        w->v[i].touched = false;
        viol_finding(&w->v[i], &d->f[n], &d->ids[n * (2 + MAX_EXT_EVENTS)]);
        n++;
    }
    return H->sync(ctx, c, d->f, n);
}

/* Apply one event, later than any before it, to a kept walk: only what
 * it changed goes to the host. Obligations and violations never
 * disappear in time order, so emitting the changed ones is the same as
 * handing over the whole set. */
static int apply(dl *d, cw_ctx *ctx, const cw_case *c, walk *w, const cw_event *ev)
{
    int rc = 0;

    w->ctx = ctx;
    w->c = c;
    w->ntouched = 0;
    w->vtouched = false;
    w->track = true;
    visit(w, c, ev);
    w->track = false;
    if (w->oom || !findings_room(d, 1))
        return -1;
    for (int i = 0; i < w->ntouched; i++) {
        obl *o = &w->o[w->touched[i]];
        o->touched = false;
        if (o->hidden || o->exempt || rc != 0)
            continue;
        obl_finding(w, o, &d->f[0], &d->ids[0], d->msgs[0]);
        rc = H->emit(ctx, c, &d->f[0]);
    }
    for (int i = 0; w->vtouched && i < w->nv; i++) {
        if (!w->v[i].touched)
            continue;
        w->v[i].touched = false;
        viol_finding(&w->v[i], &d->f[0], &d->ids[0]);
        if (rc == 0)
            rc = H->emit(ctx, c, &d->f[0]);
    }
    return rc;
}

static int on_case_event(dl *d, cw_ctx *ctx, const cw_case *c, const cw_event *ev)
{
    void **slot = H->case_slot(ctx, c);
    walk *w = slot ? *slot : NULL;
    int rc;

    /* the acceptance (a cause that decides an exemption) changes what the
     * whole walk found: walk again */
    if (w != NULL && ev->type != d->t_accepted &&
        (ev->at > w->last_at || (ev->at == w->last_at && ev->seq > w->last_seq))) {
        rc = apply(d, ctx, c, w, ev);
    } else {
        /* a small case, or an event before the latest one (a replay) */
        if (w == NULL)
            w = d->scratch;
        rc = recompute(d, ctx, c, w);
        if (rc == 0 && slot != NULL && w == d->scratch && w->nvisit >= KEEP_MIN) {
            walk *fresh = calloc(1, sizeof *fresh);
            if (fresh != NULL) {
                *slot = w;          /* the case keeps this walk */
                d->scratch = fresh;
            }
        }
    }
    if (slot != NULL && *slot != NULL) {
        w = *slot;
        w->last_at = ev->at;
        w->last_seq = ev->seq;
    }
    return rc;
}

static void case_free(void *inst, void *state)
{
    (void)inst;
    walk_free(state);
}

static int on_event(void *inst, cw_ctx *ctx, const cw_case *c, const cw_event *ev)
{
    dl *d = inst;

    if (d->join_fid >= 0) {
        if (ev->type == d->a_type)
            return recompute(d, ctx, c, d->scratch);
        /* B lives in another case than A: the cases of the A's it names
         * are judged again (after this event, so they see it). */
        uint32_t v = str_field(ev, d->join_fid);
        if (v != 0)
            H->revisit_indexed(ctx, d->a_type, d->subject_fid, v);
        return 0;
    }
    return on_case_event(d, ctx, c, ev);
}

/* Overdue and late always; warning and cleared with a lead; violation
 * where extensions have limits, exemptions are named or rounds counted. */
static uint32_t states(void *inst)
{
    const dl *d = inst;
    uint32_t s = 1u << CW_ST_OVERDUE | 1u << CW_ST_LATE;

    if (d->lead > 0)
        s |= 1u << CW_ST_WARNING | 1u << CW_ST_CLEARED;
    if (d->ext_max_count > 0 || d->ext_max_days > 0 || d->ext_max_total > 0 || d->nex > 0 ||
        d->round_fid >= 0)
        s |= 1u << CW_ST_VIOLATION;
    return s;
}

static const cw_model deadline_model = {
    .struct_size = sizeof(cw_model),
    .states = states,
    .name = "deadline",
    .summary = "after event A, event B must follow within a legal period",
    .configure = configure,
    .on_event = on_event,
    .release = release,
    .case_free = case_free,
};

CW_PLUGIN_DEFINE(H, "deadline", "1.1", &deadline_model)
