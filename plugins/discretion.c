/*
 * The discretion model (裁量基准): every penalty decision is checked
 * against the discretion table in force at the offence time, and against
 * what peers decided for the same act.
 *
 * One model, three checks, chosen per rule with `check`:
 *
 *   range  the fine and detention are within the table's range for the
 *          decision's cause and declared tier (SANCTION-RANGE);
 *   tier   a tier below "heavier" is not declared while a heavier-tier
 *          factor of the cause is listed and no mitigating one is
 *          (SANCTION-TIER);
 *   peer   the fine and detention lie inside the 5th-95th percentile of
 *          the decisions of the same table row, tier and unit prefix in
 *          the 365 days before (SANCTION-PEER).
 *
 * Tables are YAML files under the rules directory (docs/SANCTIONS.md has
 * the format); the instance that serves `check = "range"` also analyses
 * them and reports every problem through host->problem, so that
 * `casewarden check` lists them all with file:line.
 *
 * Every finding is about the case (subject ""): one finding per rule and
 * case names every offending decision in its message and events, raised
 * at the first of them. The range and tier checks are stateless; the
 * peer check keeps, per (row, tier, unit prefix), a time-ordered window
 * of decisions and two order-statistic multisets (fines, days), so its
 * cost per decision depends on the window, never on the history.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casewarden/plugin.h"
#include "common.h"

static const cw_host *H;

#define MAX_FACTORS 16          /* factors of one decision looked at */
#define MAX_IDS 8               /* events a finding names (the host shows 8) */
#define MSG_CAP 4096
#define DAY_S 86400

enum { T_LIGHTER, T_NORMAL, T_HEAVIER, NTIERS };
static const char *const tier_names[NTIERS] = { "lighter", "normal", "heavier" };
static const char *const tier_cn[NTIERS] = { "较轻情节", "一般情节", "较重情节" };

enum { CMB_NONE, CMB_AND, CMB_OR, CMB_OPTIONAL };
static const char *const combine_names[] = { "", "and", "or", "optional" };

enum { K_RANGE, K_TIER, K_PEER };

/* ---- tables -------------------------------------------------------------- */

typedef struct range {
    bool set;
    int line;
    int64_t lo, hi;
} range;

typedef struct tier {
    bool set;
    int line;
    int same_as;                /* -1, or the tier whose ranges apply */
    range det, fine;
    int combine;
    bool warning;
} tier;

typedef struct factor {
    uint32_t sid;
    const char *name, *label;
} factor;

/* One table file: one version of the law. */
typedef struct table {
    const char *path, *file;    /* file: the base name, for messages */
    const char *law, *version;
    int32_t from_day, to_day;   /* INT32_MIN / INT32_MAX when open */
    int eff_line;               /* where the period is declared */
    factor *heavier, *mitig;
    size_t nheavier, nmitig;
} table;

/* One cause of one table. */
typedef struct row {
    int table;
    int line;
    const char *code, *title, *basis;
    int *heavier;               /* indexes into the table's heavier factors */
    size_t nheavier;
    tier t[NTIERS];
} row;

/* A cause code (the row's own or an alias) that selects a row in a period. */
typedef struct claim {
    uint32_t code;
    const char *name;
    int32_t from_day, to_day;
    cw_time from, to;
    int row;
    int line;
} claim;

/* ---- peers --------------------------------------------------------------- */

/* A decision in a group's window. */
typedef struct pentry {
    cw_time at;
    uint64_t seq;
    int32_t fine, days;
    uint32_t csid;              /* its case (a string id; by name in snapshots) */
    uint32_t pad;
} pentry;

/* A multiset of values as sorted (value, count) pairs: decisions carry
 * few distinct amounts, so this stays small and a rank is a short scan. */
typedef struct vcount {
    int32_t v;
    uint32_t n;
} vcount;

typedef struct mset {
    vcount *a;
    uint32_t n, cap;
    uint32_t total;
} mset;

/*
 * The decisions of one (row, tier, unit prefix), in (at) order. e[base..n)
 * are kept (back to head - window - late, so that a late decision can
 * still be judged exactly), e[ms_lo..ms_hi) are those in the multisets:
 * exactly the decisions with at in [head - window, head), head being the
 * time of the newest decision judged in order.
 */
typedef struct group {
    uint64_t key;
    pentry *e;
    size_t base, n, cap;
    size_t ms_lo, ms_hi;
    cw_time head;
    cw_time gone;               /* the newest decision dropped, or CW_TIME_NONE */
    mset fines, days;
} group;

/* What the peer check found for one decision. */
typedef struct verdict {
    int32_t n;                  /* peers; 0 when not judged */
    int32_t f_med, f_lo, f_hi, d_med, d_lo, d_hi;
    int32_t fine, days;
    int row, tier;
    uint64_t gkey;
} verdict;

/*
 * A decision the peer check has seen, by event seq (unique within one run
 * of events, cw_host.generation). `ident` hashes its case, time and
 * content: a check that the seq still names the same decision.
 */
typedef struct rec {
    uint64_t seq;
    uint64_t ident;
    uint32_t verdict : 30;      /* 0, or 1 + index of its anomaly verdict */
    uint32_t windowed : 1;      /* in a group's window */
    uint32_t used : 1;
} rec;                          /* 24 bytes: the table is probed per decision */

typedef struct peers {
    group **slot;               /* open addressing by key */
    size_t nslot, ngroups;
    rec *r;                     /* open addressing by seq */
    size_t nr, capr;
    verdict *v;
    size_t nv, capv;
    uint64_t gen;               /* the run the state belongs to */
    int32_t *scratch;           /* late decisions: the peers' values */
    size_t capscratch;
    mset rf, rd;                /* re-judging after a late decision */
} peers;

/* ---- the instance ------------------------------------------------------ */

typedef struct dec {
    char id[65];
    uint64_t seq;
    cw_time at;
    uint32_t person, cause, unit;
    int tier;                   /* -1 when circumstance is not a tier */
    int64_t fine, days;
    bool warning;
    uint32_t factors[MAX_FACTORS];
    int nfactors;
} dec;

/* A message being built, and what the finding rests on. */
typedef struct text {
    char *p;
    size_t n, cap;
    bool full;
} text;

/*
 * One call: the case's decisions are judged one by one as the timeline
 * walk decodes them, so a case may have any number of them; only the
 * offenders leave a trace (their part of the message, their ids).
 */
typedef struct walk {
    cw_ctx *ctx;
    const cw_case *c;
    const cw_event *ev;         /* the event being evaluated */
    cw_case_info ci;
    dec k;                      /* the decision being looked at */
    text t;
    char ids[MAX_IDS][65];
    const char *idp[MAX_IDS];
    size_t nids;
    int nbad, unlisted;
    cw_time first;
} walk;

typedef struct disc {
    int check;
    bool analyse;
    const char *dir;
    int t_penalty;
    int f_person, f_cause, f_circ, f_factors, f_fine, f_days, f_warning;
    uint32_t s_tier[NTIERS];
    table *tables;
    size_t ntables, captables;
    row *rows;
    size_t nrows, caprows;
    claim *claims;
    size_t nclaims, capclaims;
    int tz;
    /* peer parameters */
    int64_t window, late;
    int min_peers, p_lo, p_hi, prefix_len;
    peers pe;
    walk *w;
    char *msg;
} disc;

/* ---- small helpers ------------------------------------------------------ */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        abort();        /* as the host does: no sensible way on */
    return q;
}

/* Grow *v (of *cap elements of size sz) to hold at least need. */
static void grow(void **v, size_t *cap, size_t need, size_t sz)
{
    size_t n = *cap ? *cap : 8;

    if (need <= *cap)
        return;
    while (n < need)
        n *= 2;
    *v = xrealloc(*v, n * sz);
    *cap = n;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "YYYY-MM-DD", strictly. */
static int parse_day(const char *s, int32_t *out)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, m, d;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && is_leap(y)))
        return -1;
    *out = (int32_t)days_from_civil(y, m, d);
    return 0;
}

static void format_day(int32_t day, char *buf, size_t size)
{
    int y, m, d;

    civil_from_days(day, &y, &m, &d);
    snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

/* ---- messages: a tiny appender (findings are built on the hot path) --- */

static void put(text *t, const char *s)
{
    size_t l;

    if (t->full)
        return;         /* once cut, nothing after the cut */
    l = strlen(s);
    if (t->n + l >= t->cap) {
        /* cut at a character boundary: messages are UTF-8 */
        l = t->cap - t->n - 1;
        while (l > 0 && ((unsigned char)s[l] & 0xC0) == 0x80)
            l--;
        t->full = true;
    }
    memcpy(t->p + t->n, s, l);
    t->n += l;
    t->p[t->n] = '\0';
}

static void put_int(text *t, long long v)
{
    char buf[24], *o = buf + sizeof buf;
    bool neg = v < 0;
    unsigned long long u = neg ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    *--o = '\0';
    do
        *--o = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (neg)
        *--o = '-';
    put(t, o);
}

static void put_date(text *t, cw_ctx *ctx, cw_time at)
{
    char buf[24];

    H->format_time(ctx, at, true, buf, sizeof buf);
    put(t, buf);
}

/* "5-10 日", "5 日以下" (from 0), "5 日" (one value). */
static void put_range(text *t, const range *r, const char *unit)
{
    if (r->lo == 0 && r->hi > 0) {
        put_int(t, r->hi);
        put(t, " ");
        put(t, unit);
        put(t, "以下");
        return;
    }
    put_int(t, r->lo);
    if (r->hi != r->lo) {
        put(t, "-");
        put_int(t, r->hi);
    }
    put(t, " ");
    put(t, unit);
}

/* What a tier allows, in the words of the law. */
static void put_allowed(text *t, const tier *tr)
{
    bool d = tr->det.set, f = tr->fine.set;

    if (tr->warning)
        put(t, d || f ? "警告或者" : "警告");
    if (d) {
        put(t, "拘留 ");
        put_range(t, &tr->det, "日");
    }
    if (d && f)
        put(t, tr->combine == CMB_AND ? "并处" : tr->combine == CMB_OR ? "或者" : ", 可以并处");
    if (f) {
        put(t, "罚款 ");
        put_range(t, &tr->fine, "元");
    }
}

/* What was decided: "罚款 600 元、拘留 7 日". */
static void put_decided(text *t, const dec *k)
{
    bool any = false;

    if (k->days != 0) {
        put(t, "拘留 ");
        put_int(t, k->days);
        put(t, " 日");
        any = true;
    }
    if (k->fine != 0) {
        put(t, any ? "、罚款 " : "罚款 ");
        put_int(t, k->fine);
        put(t, " 元");
        any = true;
    }
    if (k->warning) {
        put(t, any ? "、警告" : "警告");
        any = true;
    }
    if (!any)
        put(t, "未作处罚");
}

/* "P1 (2026-03-03 决定)" */
static void put_who(text *t, cw_ctx *ctx, const dec *k)
{
    put(t, k->person ? H->str(ctx, k->person) : "当事人");
    put(t, " (");
    put_date(t, ctx, k->at);
    put(t, " 决定) ");
}

/* ---- table loading and analysis ------------------------------------------- */

typedef struct loader {
    disc *d;
    cw_ctx *ctx;
    int problems;
} loader;

static void prob(loader *ld, const char *path, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* One problem with a table: reported when this instance analyses them
 * (the others read the same files and stay quiet, so each problem is
 * listed once). */
static void prob(loader *ld, const char *path, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    ld->problems++;
    if (!ld->d->analyse)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    H->problem(ld->ctx, path, line, "%s", msg);
}

static bool check_keys(loader *ld, const char *path, const cw_value *m,
                       const char *const *keys, const char *what)
{
    bool ok = true;

    for (size_t i = 0; i < m->n; i++) {
        char list[160];
        if (!key_known(m->keys[i], keys, list, sizeof list)) {
            prob(ld, path, m->items[i].line ? m->items[i].line : m->line,
                 "%s: unknown key '%s' (%s)", what, m->keys[i], list);
            ok = false;
        }
    }
    return ok;
}

static const char *str_of(loader *ld, const char *path, const cw_value *m, const char *key,
                          const char *what, bool required)
{
    const cw_value *v = cw_value_get(m, key);

    if (v == NULL) {
        if (required)
            prob(ld, path, m->line, "%s: missing '%s'", what, key);
        return NULL;
    }
    if (v->kind != CW_P_STR || v->s[0] == '\0') {
        prob(ld, path, v->line, "%s: '%s' must be a non-empty string", what, key);
        return NULL;
    }
    return v->s;
}

/* {name: label, ...} */
static void read_factors(loader *ld, table *tb, const cw_value *m, int line, const char *what,
                         factor **out, size_t *nout)
{
    if (m == NULL) {
        prob(ld, tb->path, line, "factors: missing '%s' (a map name: label)", what);
        return;
    }
    if (m->kind != CW_P_MAP) {
        prob(ld, tb->path, m->line, "factors.%s must be a map of name: label", what);
        return;
    }
    *out = calloc(m->n ? m->n : 1, sizeof **out);
    if (*out == NULL)
        abort();
    for (size_t i = 0; i < m->n; i++) {
        factor *f = &(*out)[*nout];
        f->name = m->keys[i];
        f->label = m->items[i].kind == CW_P_STR ? m->items[i].s : m->keys[i];
        f->sid = H->intern(ld->ctx, f->name, strlen(f->name));
        (*nout)++;
    }
}

static void read_range(loader *ld, const char *path, const cw_value *v, const char *what,
                       range *r)
{
    if (v == NULL)
        return;
    r->line = v->line;
    if (v->kind != CW_P_LIST || v->n != 2 || v->items[0].kind != CW_P_INT ||
        v->items[1].kind != CW_P_INT || v->items[0].i < 0 || v->items[1].i < 0 ||
        v->items[1].i > 100000000) {
        prob(ld, path, v->line, "%s: expected [min, max], whole numbers from 0", what);
        return;
    }
    r->set = true;
    r->lo = v->items[0].i;
    r->hi = v->items[1].i;
    if (r->lo > r->hi)
        prob(ld, path, v->line, "%s [%lld, %lld]: min %lld > max %lld, no value fits (e.g. %lld "
             "is above the max)", what, (long long)r->lo, (long long)r->hi, (long long)r->lo,
             (long long)r->hi, (long long)r->lo);
}

static int tier_index(const char *s)
{
    for (int i = 0; i < NTIERS; i++)
        if (strcmp(s, tier_names[i]) == 0)
            return i;
    return -1;
}

static void read_tier(loader *ld, const char *path, const char *code, int ti,
                      const cw_value *m, tier *tr)
{
    static const char *const keys[] = {
        "detention", "fine", "combine", "warning", "same_as", NULL
    };
    char what[128];
    const cw_value *v;

    snprintf(what, sizeof what, "%s %s", code, tier_names[ti]);
    tr->set = true;
    tr->line = m->line;
    tr->same_as = -1;
    if (m->kind != CW_P_MAP) {
        prob(ld, path, m->line, "%s: a tier is a map {detention, fine, combine, warning} or "
             "{same_as: TIER}", what);
        return;
    }
    check_keys(ld, path, m, keys, what);
    if ((v = cw_value_get(m, "same_as")) != NULL) {
        int to = v->kind == CW_P_STR ? tier_index(v->s) : -1;
        if (to < 0 || to == ti)
            prob(ld, path, v->line, "%s: same_as must name another tier (lighter, normal, heavier)",
                 what);
        else
            tr->same_as = to;
        if (m->n > 1)
            prob(ld, path, m->line, "%s: same_as takes the other tier whole; drop the other keys",
                 what);
        return;
    }
    {
        char w2[160];
        snprintf(w2, sizeof w2, "%s detention", what);
        read_range(ld, path, cw_value_get(m, "detention"), w2, &tr->det);
        snprintf(w2, sizeof w2, "%s fine", what);
        read_range(ld, path, cw_value_get(m, "fine"), w2, &tr->fine);
    }
    if ((v = cw_value_get(m, "warning")) != NULL) {
        if (v->kind != CW_P_BOOL)
            prob(ld, path, v->line, "%s: warning must be true or false", what);
        else
            tr->warning = v->i != 0;
    }
    if ((v = cw_value_get(m, "combine")) != NULL) {
        int c;
        for (c = CMB_AND; c <= CMB_OPTIONAL; c++)
            if (v->kind == CW_P_STR && strcmp(v->s, combine_names[c]) == 0)
                break;
        if (c > CMB_OPTIONAL)
            prob(ld, path, v->line, "%s: combine must be and, or, optional", what);
        else if (!(tr->det.set && tr->fine.set))
            prob(ld, path, v->line, "%s: combine says how detention and fine go together; "
                 "this tier lacks one of them", what);
        else
            tr->combine = c;
    } else if (tr->det.set && tr->fine.set) {
        prob(ld, path, m->line, "%s: detention and fine need 'combine' (and, or, optional)", what);
        tr->combine = CMB_AND;
    }
    if (!tr->det.set && !tr->fine.set && !tr->warning && cw_value_get(m, "detention") == NULL &&
        cw_value_get(m, "fine") == NULL)
        prob(ld, path, m->line, "%s: no range (neither detention nor fine nor warning: true), "
             "so no penalty could ever be within it", what);
}

/* The ranges a tier uses: its own, or those of the tier it is the same as. */
static const tier *tier_of(const row *r, int ti)
{
    const tier *t = &r->t[ti];

    if (t->same_as >= 0)
        t = &r->t[t->same_as];
    return t;
}

/*
 * "meet": the law writes consecutive tiers so that they share their bound
 * ("五日以下" / "五日以上十日以下": 5 days is in both, 以上/以下 include
 * it). Anything else is a gap (a value in no tier) or an overlap (a value
 * past the shared bound in both).
 */
static void check_meet(loader *ld, const char *path, const row *r, const cw_value *where,
                       bool det)
{
    const char *dim = det ? "detention" : "fine", *unit = det ? "days" : "yuan";
    int seq[NTIERS], n = 0;

    for (int i = 0; i < NTIERS; i++)
        if (r->t[i].set && r->t[i].same_as < 0)
            seq[n++] = i;
    for (int k = 0; k + 1 < n; k++) {
        const range *a = det ? &r->t[seq[k]].det : &r->t[seq[k]].fine;
        const range *b = det ? &r->t[seq[k + 1]].det : &r->t[seq[k + 1]].fine;
        const char *an = tier_names[seq[k]], *bn = tier_names[seq[k + 1]];
        if (!a->set || !b->set) {
            prob(ld, path, where->line, "%s: meet: %s declared, but %s has no %s range", r->code,
                 dim, a->set ? bn : an, dim);
            continue;
        }
        if (a->lo > a->hi || b->lo > b->hi || a->hi == b->lo)
            continue;
        if (a->hi < b->lo) {
            if (a->hi + 1 < b->lo)
                prob(ld, path, b->line, "%s: %s of %s [%lld, %lld] and %s [%lld, %lld] should "
                     "meet: %lld %s falls in no tier", r->code, dim, an, (long long)a->lo,
                     (long long)a->hi, bn, (long long)b->lo, (long long)b->hi,
                     (long long)a->hi + 1, unit);
            else
                prob(ld, path, b->line, "%s: %s of %s ends at %lld %s and %s starts at %lld: they "
                     "should share the bound (以上/以下 include it)", r->code, dim, an,
                     (long long)a->hi, unit, bn, (long long)b->lo);
        } else {
            int64_t top = a->hi < b->hi ? a->hi : b->hi, ex = b->lo + 1 <= top ? b->lo + 1 : top;
            if (ex > b->lo)
                prob(ld, path, b->line, "%s: %s of %s [%lld, %lld] and %s [%lld, %lld] should meet "
                     "at one value: %lld %s is in both %s and %s", r->code, dim, an,
                     (long long)a->lo, (long long)a->hi, bn, (long long)b->lo, (long long)b->hi,
                     (long long)ex, unit, an, bn);
            else
                prob(ld, path, b->line, "%s: %s of %s runs to %lld %s, past the start of %s at "
                     "%lld: they should share only the bound", r->code, dim, an,
                     (long long)a->hi, unit, bn, (long long)b->lo);
        }
    }
}

static void add_claim(disc *d, cw_ctx *ctx, const char *code, int rowi, int line)
{
    const table *tb = &d->tables[d->rows[rowi].table];
    claim *c;

    grow((void **)&d->claims, &d->capclaims, d->nclaims + 1, sizeof *d->claims);
    c = &d->claims[d->nclaims++];
    c->code = H->intern(ctx, code, strlen(code));
    c->name = code;
    c->row = rowi;
    c->line = line;
    c->from_day = tb->from_day;
    c->to_day = tb->to_day;
    /* 00:00:00 local of the first day, 23:59:59 local of the last */
    c->from = tb->from_day == INT32_MIN ? INT64_MIN
                                        : (cw_time)tb->from_day * DAY_S - (cw_time)d->tz * 60;
    c->to = tb->to_day == INT32_MAX ? INT64_MAX
                                    : ((cw_time)tb->to_day + 1) * DAY_S - (cw_time)d->tz * 60 - 1;
}

static void read_cause(loader *ld, int ti, const char *code, const cw_value *m)
{
    static const char *const keys[] = {
        "title", "basis", "text", "aliases", "heavier_factors", "meet", "tiers", NULL
    };
    disc *d = ld->d;
    table *tb = &d->tables[ti];
    const cw_value *v, *tiers;
    row *r;
    int ri;

    if (m->kind != CW_P_MAP) {
        prob(ld, tb->path, m->line, "%s: a cause is a map {title, basis, tiers, ...}", code);
        return;
    }
    if (code[0] == '\0' || strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789-_.:") != strlen(code))
        prob(ld, tb->path, m->line, "cause '%s': a code is letters, digits, '-', '_', '.', ':'",
             code);
    grow((void **)&d->rows, &d->caprows, d->nrows + 1, sizeof *d->rows);
    ri = (int)d->nrows++;
    r = &d->rows[ri];
    memset(r, 0, sizeof *r);
    r->table = ti;
    r->line = m->line;
    r->code = code;
    for (int i = 0; i < NTIERS; i++)
        r->t[i].same_as = -1;
    check_keys(ld, tb->path, m, keys, code);
    r->title = str_of(ld, tb->path, m, "title", code, true);
    r->basis = str_of(ld, tb->path, m, "basis", code, true);
    if (r->title == NULL)
        r->title = code;
    if (r->basis == NULL)
        r->basis = tb->law ? tb->law : "";
    add_claim(d, ld->ctx, code, ri, m->line);
    if ((v = cw_value_get(m, "aliases")) != NULL) {
        if (v->kind != CW_P_LIST)
            prob(ld, tb->path, v->line, "%s: aliases must be a list of cause codes", code);
        for (size_t i = 0; v->kind == CW_P_LIST && i < v->n; i++) {
            const cw_value *a = &v->items[i];
            if (a->kind != CW_P_STR || a->s[0] == '\0')
                prob(ld, tb->path, a->line, "%s: an alias is a cause code", code);
            else if (strcmp(a->s, code) == 0)
                prob(ld, tb->path, a->line, "%s: alias '%s' is the cause itself", code, a->s);
            else
                add_claim(d, ld->ctx, a->s, ri, a->line);
        }
    }
    if ((v = cw_value_get(m, "heavier_factors")) != NULL) {
        if (v->kind != CW_P_LIST) {
            prob(ld, tb->path, v->line, "%s: heavier_factors must be a list of factor names", code);
        } else {
            r->heavier = calloc(v->n ? v->n : 1, sizeof *r->heavier);
            if (r->heavier == NULL)
                abort();
            for (size_t i = 0; i < v->n; i++) {
                const cw_value *f = &v->items[i];
                size_t k;
                if (f->kind != CW_P_STR) {
                    prob(ld, tb->path, f->line, "%s: a factor is a name", code);
                    continue;
                }
                for (k = 0; k < tb->nheavier; k++)
                    if (strcmp(tb->heavier[k].name, f->s) == 0)
                        break;
                if (k < tb->nheavier) {
                    r->heavier[r->nheavier++] = (int)k;
                    continue;
                }
                for (k = 0; k < tb->nmitig; k++)
                    if (strcmp(tb->mitig[k].name, f->s) == 0)
                        break;
                if (k < tb->nmitig)
                    prob(ld, tb->path, f->line, "%s: heavier_factors: '%s' is a mitigating factor",
                         code, f->s);
                else
                    prob(ld, tb->path, f->line, "%s: unknown factor '%s' in heavier_factors "
                         "(not in this file's factors.heavier)", code, f->s);
            }
        }
    }
    if ((tiers = cw_value_get(m, "tiers")) == NULL || tiers->kind != CW_P_MAP) {
        prob(ld, tb->path, tiers ? tiers->line : m->line, "%s: missing 'tiers' (a map lighter, "
             "normal, heavier)", code);
        return;
    }
    for (size_t i = 0; i < tiers->n; i++) {
        int t = tier_index(tiers->keys[i]);
        if (t < 0)
            prob(ld, tb->path, tiers->items[i].line, "%s: unknown tier '%s' (lighter, normal, "
                 "heavier)", code, tiers->keys[i]);
        else
            read_tier(ld, tb->path, code, t, &tiers->items[i], &r->t[t]);
    }
    for (int t = 0; t < NTIERS; t++) {
        if (!r->t[t].set) {
            prob(ld, tb->path, tiers->line, "%s: tier %s missing, so no %s decision could be "
                 "judged (a tier may be {same_as: normal})", code, tier_names[t], tier_names[t]);
            r->t[t].set = true;     /* judged as having no range at all */
        } else if (r->t[t].same_as >= 0 && r->t[r->t[t].same_as].same_as >= 0) {
            prob(ld, tb->path, r->t[t].line, "%s %s: same_as names %s, which is itself same_as "
                 "another tier", code, tier_names[t], tier_names[r->t[t].same_as]);
            r->t[t].same_as = -1;
        }
    }
    if ((v = cw_value_get(m, "meet")) != NULL) {
        if (v->kind != CW_P_LIST)
            prob(ld, tb->path, v->line, "%s: meet must be a list (detention, fine)", code);
        for (size_t i = 0; v->kind == CW_P_LIST && i < v->n; i++) {
            const cw_value *x = &v->items[i];
            if (x->kind == CW_P_STR && strcmp(x->s, "detention") == 0)
                check_meet(ld, tb->path, r, x, true);
            else if (x->kind == CW_P_STR && strcmp(x->s, "fine") == 0)
                check_meet(ld, tb->path, r, x, false);
            else
                prob(ld, tb->path, x->line, "%s: meet: '%s' is not detention or fine", code,
                     x->kind == CW_P_STR ? x->s : "?");
        }
    }
}

static int on_file(void *ud, const char *path, const cw_value *doc)
{
    static const char *const keys[] = { "law", "version", "effective", "factors", "causes", NULL };
    loader *ld = ud;
    disc *d = ld->d;
    const cw_value *v, *causes;
    table *tb;
    int ti;

    grow((void **)&d->tables, &d->captables, d->ntables + 1, sizeof *d->tables);
    ti = (int)d->ntables++;
    tb = &d->tables[ti];
    memset(tb, 0, sizeof *tb);
    tb->path = path;
    tb->file = base_name(path);
    tb->from_day = INT32_MIN;
    tb->to_day = INT32_MAX;
    if (doc == NULL || doc->kind != CW_P_MAP) {
        prob(ld, path, doc ? doc->line : 1, "a discretion table is a map {law, version, "
             "effective, factors, causes}");
        return 0;
    }
    check_keys(ld, path, doc, keys, "table");
    tb->law = str_of(ld, path, doc, "law", "table", true);
    tb->version = str_of(ld, path, doc, "version", "table", true);
    if (tb->version == NULL)
        tb->version = tb->file;
    tb->eff_line = doc->line;
    if ((v = cw_value_get(doc, "effective")) != NULL) {
        static const char *const ekeys[] = { "from", "to", NULL };
        tb->eff_line = v->line;
        if (v->kind != CW_P_MAP) {
            prob(ld, path, v->line, "effective must be a map {from: YYYY-MM-DD, to: YYYY-MM-DD}");
        } else {
            const cw_value *f = cw_value_get(v, "from"), *t = cw_value_get(v, "to");
            check_keys(ld, path, v, ekeys, "effective");
            if (f && (f->kind != CW_P_STR || parse_day(f->s, &tb->from_day) < 0))
                prob(ld, path, f->line, "effective.from must be a date YYYY-MM-DD");
            if (t && (t->kind != CW_P_STR || parse_day(t->s, &tb->to_day) < 0))
                prob(ld, path, t->line, "effective.to must be a date YYYY-MM-DD");
            if (tb->from_day != INT32_MIN && tb->to_day != INT32_MAX && tb->from_day > tb->to_day)
                prob(ld, path, v->line, "effective: from %s is after to %s", f->s, t->s);
        }
    }
    if ((v = cw_value_get(doc, "factors")) == NULL || v->kind != CW_P_MAP) {
        prob(ld, path, v ? v->line : doc->line, "missing 'factors' {heavier: {...}, "
             "mitigating: {...}}: the factor names this table may use");
    } else {
        static const char *const fkeys[] = { "heavier", "mitigating", NULL };
        check_keys(ld, path, v, fkeys, "factors");
        read_factors(ld, tb, cw_value_get(v, "heavier"), v->line, "heavier", &tb->heavier,
                     &tb->nheavier);
        read_factors(ld, tb, cw_value_get(v, "mitigating"), v->line, "mitigating", &tb->mitig,
                     &tb->nmitig);
    }
    if ((causes = cw_value_get(doc, "causes")) == NULL || causes->kind != CW_P_MAP) {
        prob(ld, path, causes ? causes->line : doc->line, "missing 'causes' (a map of cause "
             "code: {title, basis, tiers, ...})");
        return 0;
    }
    for (size_t i = 0; i < causes->n; i++)
        read_cause(ld, ti, causes->keys[i], &causes->items[i]);
    return 0;
}

static int claim_cmp(const void *pa, const void *pb)
{
    const claim *a = pa, *b = pb;

    if (a->code != b->code)
        return a->code < b->code ? -1 : 1;
    if (a->from_day != b->from_day)
        return a->from_day < b->from_day ? -1 : 1;
    return a->row < b->row ? -1 : a->row > b->row;
}

/* "2006-03-01..2025-12-31", "2026-01-01..", "..2025-12-31" */
static void format_period(const table *t, char *buf, size_t size)
{
    char a[16] = "", b[16] = "";

    if (t->from_day != INT32_MIN)
        format_day(t->from_day, a, sizeof a);
    if (t->to_day != INT32_MAX)
        format_day(t->to_day, b, sizeof b);
    snprintf(buf, size, "%s..%s", a, b);
}

/*
 * The periods in which one code selects a row must neither overlap nor
 * leave a gap between them. A problem is placed at the `effective` of the
 * later table (what to change), or at the cause when one table claims
 * the code twice.
 */
static void check_periods(loader *ld)
{
    disc *d = ld->d;

    for (size_t i = 1; i < d->nclaims; i++) {
        const claim *a = &d->claims[i - 1], *b = &d->claims[i];
        const table *ta = &d->tables[d->rows[a->row].table];
        const table *tb = &d->tables[d->rows[b->row].table];
        int line = ta == tb ? b->line : tb->eff_line;
        char day[16], pa[32], pb[32];
        if (a->code != b->code)
            continue;
        format_period(ta, pa, sizeof pa);
        format_period(tb, pb, sizeof pb);
        if (a->to_day >= b->from_day) {
            format_day(b->from_day == INT32_MIN ? a->from_day : b->from_day, day, sizeof day);
            prob(ld, tb->path, line, "cause %s: effective periods overlap: %s is in both %s (%s, "
                 "%s) and %s (%s, %s)", b->name, day, ta->file, d->rows[a->row].code, pa, tb->file,
                 d->rows[b->row].code, pb);
        } else if ((int64_t)a->to_day + 1 < b->from_day) {
            format_day(a->to_day + 1, day, sizeof day);
            prob(ld, tb->path, line, "cause %s: effective periods leave a gap: %s is in neither %s "
                 "(%s, %s) nor %s (%s, %s)", b->name, day, ta->file, d->rows[a->row].code, pa,
                 tb->file, d->rows[b->row].code, pb);
        }
    }
}

/* The row for code at offence time t, or -1. */
static int lookup(const disc *d, uint32_t code, cw_time t)
{
    size_t lo = 0, hi = d->nclaims;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->claims[mid].code < code)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < d->nclaims && d->claims[lo].code == code; lo++)
        if (t >= d->claims[lo].from && t <= d->claims[lo].to)
            return d->claims[lo].row;
    return -1;
}

/* ---- peers: structures -------------------------------------------------- */

/* The first place in m whose value is not below v. */
static uint32_t mset_lower(const mset *m, int32_t v)
{
    uint32_t lo = 0, hi = m->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->a[mid].v < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void mset_add(mset *m, int32_t v)
{
    uint32_t lo = mset_lower(m, v);

    m->total++;
    if (lo < m->n && m->a[lo].v == v) {
        m->a[lo].n++;
        return;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->a = xrealloc(m->a, m->cap * sizeof *m->a);
    }
    memmove(&m->a[lo + 1], &m->a[lo], (m->n - lo) * sizeof *m->a);
    m->a[lo].v = v;
    m->a[lo].n = 1;
    m->n++;
}

static void mset_del(mset *m, int32_t v)
{
    uint32_t lo = mset_lower(m, v);

    if (lo == m->n || m->a[lo].v != v)
        return;             /* cannot happen: every removal follows its add */
    m->total--;
    if (--m->a[lo].n == 0) {
        memmove(&m->a[lo], &m->a[lo + 1], (m->n - lo - 1) * sizeof *m->a);
        m->n--;
    }
}

/* The values at 1-based ranks r[0] <= r[1] <= r[2]. */
static void mset_ranks(const mset *m, const uint32_t r[3], int32_t out[3])
{
    uint32_t cum = 0;
    int k = 0;

    for (uint32_t i = 0; i < m->n && k < 3; i++) {
        cum += m->a[i].n;
        while (k < 3 && r[k] <= cum)
            out[k++] = m->a[i].v;
    }
    while (k < 3)
        out[k++] = m->n ? m->a[m->n - 1].v : 0;
}

/* Nearest-rank percentile rank: ceil(p/100 * n), at least 1. */
static uint32_t prank(int p, uint32_t n)
{
    uint32_t r = (uint32_t)(((uint64_t)p * n + 99) / 100);

    return r ? r : 1;
}

static group *group_get(peers *pe, uint64_t key)
{
    size_t i;
    group *g;

    if (pe->nslot == 0) {
        pe->nslot = 64;
        pe->slot = calloc(pe->nslot, sizeof *pe->slot);
        if (pe->slot == NULL)
            abort();
    }
    for (i = mix(0, key) & (pe->nslot - 1); pe->slot[i]; i = (i + 1) & (pe->nslot - 1))
        if (pe->slot[i]->key == key)
            return pe->slot[i];
    if ((g = calloc(1, sizeof *g)) == NULL)
        abort();
    g->key = key;
    g->head = CW_TIME_NONE;
    g->gone = CW_TIME_NONE;
    pe->slot[i] = g;
    if (++pe->ngroups * 2 > pe->nslot) {
        size_t n = pe->nslot * 2;
        group **s = calloc(n, sizeof *s);
        if (s == NULL)
            abort();
        for (size_t k = 0; k < pe->nslot; k++) {
            size_t j;
            if (pe->slot[k] == NULL)
                continue;
            for (j = mix(0, pe->slot[k]->key) & (n - 1); s[j]; j = (j + 1) & (n - 1))
                ;
            s[j] = pe->slot[k];
        }
        free(pe->slot);
        pe->slot = s;
        pe->nslot = n;
    }
    return g;
}

/* The record of seq, or NULL. */
static rec *rec_find(peers *pe, uint64_t seq)
{
    if (pe->capr == 0)
        return NULL;
    for (size_t i = mix(0, seq) & (pe->capr - 1); pe->r[i].used; i = (i + 1) & (pe->capr - 1))
        if (pe->r[i].seq == seq)
            return &pe->r[i];
    return NULL;
}

static rec *rec_place(rec *tab, size_t cap, const rec *x)
{
    size_t i;

    for (i = mix(0, x->seq) & (cap - 1); tab[i].used; i = (i + 1) & (cap - 1))
        ;
    tab[i] = *x;
    return &tab[i];
}

/* A new record for seq, which the table does not hold. */
static rec *rec_add(peers *pe, uint64_t seq)
{
    rec x = { 0 };

    if ((pe->nr + 1) * 2 > pe->capr) {
        size_t n = pe->capr ? pe->capr * 2 : 1024;
        rec *t = calloc(n, sizeof *t);
        if (t == NULL)
            abort();
        for (size_t i = 0; i < pe->capr; i++)
            if (pe->r[i].used)
                rec_place(t, n, &pe->r[i]);
        free(pe->r);
        pe->r = t;
        pe->capr = n;
    }
    x.seq = seq;
    x.used = 1;
    pe->nr++;
    return rec_place(pe->r, pe->capr, &x);
}

/* Linear probing: delete by shifting the cluster back. */
static void rec_del(peers *pe, rec *x)
{
    size_t mask = pe->capr - 1, i = (size_t)(x - pe->r), j = i;

    pe->r[i].used = 0;
    pe->nr--;
    for (;;) {
        size_t home;
        j = (j + 1) & mask;
        if (!pe->r[j].used)
            break;
        home = mix(0, pe->r[j].seq) & mask;
        /* r[j] may fill the hole at i when its home is not in (i, j] */
        if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
            pe->r[i] = pe->r[j];
            pe->r[j].used = 0;
            i = j;
        }
    }
}

static void ms_add(group *g, const pentry *e)
{
    mset_add(&g->fines, e->fine);
    mset_add(&g->days, e->days);
}

static void ms_del(group *g, const pentry *e)
{
    mset_del(&g->fines, e->fine);
    mset_del(&g->days, e->days);
}

/* A decision leaves a window for good: forget it unless its verdict is
 * still needed for its case's finding. */
static void forget(peers *pe, uint64_t seq)
{
    rec *x = rec_find(pe, seq);

    if (x == NULL)
        return;
    x->windowed = 0;
    if (x->verdict == 0)
        rec_del(pe, x);
}

/* Move the group's in-order window to end at t (t >= head). */
static void advance(disc *d, group *g, cw_time t)
{
    while (g->ms_hi < g->n && g->e[g->ms_hi].at < t)
        ms_add(g, &g->e[g->ms_hi++]);
    while (g->ms_lo < g->ms_hi && g->e[g->ms_lo].at < t - d->window)
        ms_del(g, &g->e[g->ms_lo++]);
    if (g->ms_lo > g->ms_hi)
        g->ms_hi = g->ms_lo;
    g->head = t;
    while (g->base < g->ms_lo && g->e[g->base].at < t - d->window - d->late) {
        if (g->gone == CW_TIME_NONE || g->e[g->base].at > g->gone)
            g->gone = g->e[g->base].at;
        forget(&d->pe, g->e[g->base++].seq);
    }
    if (g->base > 4096 && g->base * 2 > g->n) {
        memmove(g->e, g->e + g->base, (g->n - g->base) * sizeof *g->e);
        g->n -= g->base;
        g->ms_lo -= g->base;
        g->ms_hi -= g->base;
        g->base = 0;
    }
}

/* Whether the kept entries hold every decision of g in [t - window, t):
 * within late of the head, or nothing that old was dropped. */
static bool covers(const disc *d, const group *g, cw_time t)
{
    return g->head == CW_TIME_NONE || t >= g->head - d->late ||
           g->gone == CW_TIME_NONE || g->gone < t - d->window;
}

/* Index of the first entry in [base, n) with at > t. */
static size_t upper(const group *g, cw_time t)
{
    size_t lo = g->base, hi = g->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->e[mid].at <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static size_t lower(const group *g, cw_time t)
{
    size_t lo = g->base, hi = g->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->e[mid].at < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool in_window(const group *g, cw_time at, uint64_t seq)
{
    for (size_t i = lower(g, at); i < g->n && g->e[i].at == at; i++)
        if (g->e[i].seq == seq)
            return true;
    return false;
}

/*
 * Put x in its place in time order. In order (at >= head) it goes to the
 * end, outside the multisets until a later decision's window takes it
 * in; a late one inside [head - window, head) joins the multisets at
 * once, and an older one only shifts the window's indexes.
 */
static void insert(const disc *d, group *g, const pentry *x)
{
    size_t p = upper(g, x->at);
    bool late = g->head != CW_TIME_NONE && x->at < g->head;

    grow((void **)&g->e, &g->cap, g->n + 1, sizeof *g->e);
    memmove(&g->e[p + 1], &g->e[p], (g->n - p) * sizeof *g->e);
    g->e[p] = *x;
    g->n++;
    if (late && x->at >= g->head - d->window) {
        ms_add(g, x);
        g->ms_hi++;
    } else if (late) {
        g->ms_lo++;
        g->ms_hi++;
    }
}

static int int_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

    return x < y ? -1 : x > y;
}

/* The verdict on fine and days against peers in [t - window, t). */
static void judge(disc *d, group *g, cw_time t, int32_t fine, int32_t days, verdict *v)
{
    uint32_t r[3];
    int32_t fo[3], dd[3];
    uint32_t n;

    if (g->head == CW_TIME_NONE || t >= g->head) {
        advance(d, g, t);
        n = g->fines.total;
        if ((int)n < d->min_peers)
            return;
        r[0] = prank(d->p_lo, n);
        r[1] = prank(50, n);
        r[2] = prank(d->p_hi, n);
        mset_ranks(&g->fines, r, fo);
        mset_ranks(&g->days, r, dd);
    } else {
        /* A late decision: its window has passed; count its peers from
         * the entries kept for this (rare) case. */
        size_t a = lower(g, t - d->window), b = lower(g, t);
        int32_t *f, *dy;
        n = (uint32_t)(b - a);
        if ((int)n < d->min_peers)
            return;
        grow((void **)&d->pe.scratch, &d->pe.capscratch, 2 * (size_t)n, sizeof *d->pe.scratch);
        f = d->pe.scratch;
        dy = d->pe.scratch + n;
        for (size_t i = a; i < b; i++) {
            f[i - a] = g->e[i].fine;
            dy[i - a] = g->e[i].days;
        }
        qsort(f, n, sizeof *f, int_cmp);
        qsort(dy, n, sizeof *dy, int_cmp);
        r[0] = prank(d->p_lo, n);
        r[1] = prank(50, n);
        r[2] = prank(d->p_hi, n);
        for (int k = 0; k < 3; k++) {
            fo[k] = f[r[k] - 1];
            dd[k] = dy[r[k] - 1];
        }
    }
    v->n = (int32_t)n;
    v->f_lo = fo[0];
    v->f_med = fo[1];
    v->f_hi = fo[2];
    v->d_lo = dd[0];
    v->d_med = dd[1];
    v->d_hi = dd[2];
}

static bool anomalous(const verdict *v)
{
    return v->n > 0 && (v->fine < v->f_lo || v->fine > v->f_hi || v->days < v->d_lo ||
                        v->days > v->d_hi);
}

static void peers_free(peers *pe)
{
    for (size_t i = 0; i < pe->nslot; i++) {
        group *g = pe->slot[i];
        if (g == NULL)
            continue;
        free(g->e);
        free(g->fines.a);
        free(g->days.a);
        free(g);
    }
    free(pe->slot);
    free(pe->r);
    free(pe->v);
    free(pe->scratch);
    free(pe->rf.a);
    free(pe->rd.a);
}

/* Forget what an earlier run of events showed (cw_host.generation). */
static void reset(disc *d)
{
    peers_free(&d->pe);
    memset(&d->pe, 0, sizeof d->pe);
}

/* FNV-1a of a string: what names a decision must mean the same in
 * another process (a snapshot), so strings, not their ids. */
static uint64_t fnv(uint64_t f, const char *p)
{
    for (; *p; p++)
        f = (f ^ (unsigned char)*p) * 0x100000001b3ULL;
    return f;
}

static uint64_t ident_of(cw_ctx *ctx, const cw_case_info *ci, const dec *k)
{
    uint64_t h = mix(0x5a17c7e4d15c0001ULL, fnv(0xcbf29ce484222325ULL, H->str(ctx, ci->id)));

    h = mix(h, (uint64_t)k->at);
    h = mix(h, fnv(0xcbf29ce484222325ULL, H->str(ctx, k->unit)));
    h = mix(h, fnv(0xcbf29ce484222325ULL, H->str(ctx, k->cause)));
    h = mix(h, (uint64_t)(k->tier + 1));
    h = mix(h, (uint64_t)k->fine);
    h = mix(h, (uint64_t)k->days);
    return mix(h, fnv(0xcbf29ce484222325ULL, k->id));
}

/* The unit prefix as a number and its length in digits (0: none). */
static int unit_prefix(disc *d, cw_ctx *ctx, uint32_t unit, uint64_t *val)
{
    const char *s = H->str(ctx, unit);
    int n = 0;

    *val = 0;
    while (n < d->prefix_len && s[n] >= '0' && s[n] <= '9')
        *val = *val * 10 + (uint64_t)(s[n++] - '0');
    return n;
}

static uint64_t group_key(int ri, int ti, int plen, uint64_t pval)
{
    return ((uint64_t)ri << 46) | ((uint64_t)ti << 44) | ((uint64_t)plen << 40) | pval;
}

static void store_verdict(peers *pe, rec *x, const verdict *v)
{
    if (!anomalous(v)) {
        x->verdict = 0;
        return;
    }
    if (x->verdict == 0) {
        grow((void **)&pe->v, &pe->capv, pe->nv + 1, sizeof *pe->v);
        x->verdict = (uint32_t)++pe->nv;
    }
    pe->v[x->verdict - 1] = *v;
}

/* Whether two verdicts read the same (what a finding's message says). */
static bool same_verdict(const verdict *a, const verdict *b)
{
    if (anomalous(a) != anomalous(b))
        return false;
    return !anomalous(a) || (a->n == b->n && a->f_lo == b->f_lo && a->f_med == b->f_med &&
                             a->f_hi == b->f_hi && a->d_lo == b->d_lo && a->d_med == b->d_med &&
                             a->d_hi == b->d_hi);
}

/*
 * A decision at t0 joined g behind decisions already judged: each of
 * those in (t0, t0 + window] has it as a peer now, as a time-ordered run
 * gives it. Their bands are worked out again in one pass over the window
 * (two multisets sliding along), and the cases of those whose verdict
 * changes are judged again from their start; the others keep what they
 * had. The cost is that of the window, as for judging a late decision.
 */
static void rejudge_after(disc *d, cw_ctx *ctx, group *g, cw_time t0)
{
    peers *pe = &d->pe;
    size_t first = upper(g, t0), a, b;
    cw_time stop = t0 + d->window;

    if (first >= g->n || g->e[first].at > stop)
        return;
    pe->rf.n = pe->rf.total = pe->rd.n = pe->rd.total = 0;
    a = b = lower(g, g->e[first].at - d->window);
    for (size_t i = first; i < g->n && g->e[i].at <= stop; i++) {
        const pentry *x = &g->e[i];
        verdict now, was;
        const rec *r;
        uint32_t rk[3];
        int32_t fo[3], dd[3];
        for (; b < g->n && g->e[b].at < x->at; b++) {
            mset_add(&pe->rf, g->e[b].fine);
            mset_add(&pe->rd, g->e[b].days);
        }
        for (; a < b && g->e[a].at < x->at - d->window; a++) {
            mset_del(&pe->rf, g->e[a].fine);
            mset_del(&pe->rd, g->e[a].days);
        }
        memset(&now, 0, sizeof now);
        now.fine = x->fine;
        now.days = x->days;
        if ((int)pe->rf.total >= d->min_peers) {
            rk[0] = prank(d->p_lo, pe->rf.total);
            rk[1] = prank(50, pe->rf.total);
            rk[2] = prank(d->p_hi, pe->rf.total);
            mset_ranks(&pe->rf, rk, fo);
            mset_ranks(&pe->rd, rk, dd);
            now.n = (int32_t)pe->rf.total;
            now.f_lo = fo[0];
            now.f_med = fo[1];
            now.f_hi = fo[2];
            now.d_lo = dd[0];
            now.d_med = dd[1];
            now.d_hi = dd[2];
        }
        memset(&was, 0, sizeof was);
        if ((r = rec_find(pe, x->seq)) != NULL && r->verdict != 0)
            was = pe->v[r->verdict - 1];
        if (!same_verdict(&now, &was))
            H->revisit_case(ctx, x->csid);
    }
}

/* Judge the decision being evaluated against its peers, counting it in
 * as a peer of later ones. Returns its verdict record or NULL. */
static const verdict *peer_decision(disc *d, cw_ctx *ctx, const cw_case *c,
                                    const cw_case_info *ci, const dec *k, int rowi, verdict *out)
{
    peers *pe = &d->pe;
    uint64_t ident = ident_of(ctx, ci, k), pval;
    int plen = unit_prefix(d, ctx, k->unit, &pval);
    group *g;
    rec *x;
    bool replay = false, judged = false;

    memset(out, 0, sizeof *out);
    out->fine = (int32_t)k->fine;
    out->days = (int32_t)k->days;
    out->row = rowi;
    out->tier = k->tier;
    out->gkey = group_key(rowi, k->tier, plen, pval);
    /* A new run starts afresh; within a run a seq names one decision,
     * seen again only when its case is replayed. */
    if (H->generation(ctx) != pe->gen) {
        reset(d);
        pe->gen = H->generation(ctx);
    }
    x = rec_find(pe, k->seq);
    if (x != NULL && x->ident != ident) {
        rec_del(pe, x);
        x = NULL;
    }
    if (x != NULL) {
        /* the same decision again: a replay (the service re-runs a case
         * when an older event of it arrives); judged again, not counted
         * again */
        replay = true;
    }
    g = group_get(pe, out->gkey);
    if (covers(d, g, k->at)) {
        judged = true;
        judge(d, g, k->at, out->fine, out->days, out);
        /* moving the window may have deleted records, which moves others
         * in the table: find this one again */
        if (replay && (x = rec_find(pe, k->seq)) == NULL)
            return NULL;
    } else if (replay) {
        /* too late to judge again: what was found when it came */
        return x->verdict ? &pe->v[x->verdict - 1] : NULL;
    }
    if (!replay) {
        pentry e = { k->at, k->seq, out->fine, out->days, ci->id, 0 };
        bool behind = g->head != CW_TIME_NONE && k->at < g->head;
        x = rec_add(pe, k->seq);
        x->ident = ident;
        if (g->head == CW_TIME_NONE || k->at >= g->head - d->window - d->late) {
            insert(d, g, &e);
            x->windowed = 1;
        } else if (g->gone == CW_TIME_NONE || k->at > g->gone) {
            g->gone = k->at;        /* no peer of what is judged from now on */
        }
        /* decisions judged before it that count it as a peer */
        if (behind && judged && x->windowed)
            rejudge_after(d, ctx, g, k->at);
        /* rejudge_after only reads the table: x is still in its place */
    } else if (!x->windowed || !in_window(g, k->at, k->seq)) {
        return x->verdict ? &pe->v[x->verdict - 1] : NULL;
    }
    store_verdict(pe, x, out);
    if (!x->windowed && x->verdict == 0)
        rec_del(pe, x);
    return anomalous(out) ? out : NULL;
}

/* The verdict found earlier for a decision of the case, or NULL. */
static const verdict *peer_recall(disc *d, cw_ctx *ctx, const cw_case_info *ci, const dec *k)
{
    rec *x = rec_find(&d->pe, k->seq);

    if (x == NULL || x->verdict == 0 || x->ident != ident_of(ctx, ci, k))
        return NULL;
    return &d->pe.v[x->verdict - 1];
}


/* ---- configuration ---------------------------------------------------- */

static void release(void *inst)
{
    disc *d = inst;

    if (d == NULL)
        return;
    for (size_t i = 0; i < d->ntables; i++) {
        free(d->tables[i].heavier);
        free(d->tables[i].mitig);
    }
    for (size_t i = 0; i < d->nrows; i++)
        free(d->rows[i].heavier);
    free(d->tables);
    free(d->rows);
    free(d->claims);
    peers_free(&d->pe);
    free(d->w);
    free(d->msg);
    free(d);
}

static int int_param(const cw_value *p, const char *key, int dflt, int lo, int hi, int *out,
                     char *err, size_t len)
{
    const cw_value *v = cw_value_get(p, key);

    *out = dflt;
    if (v == NULL)
        return 0;
    if (v->kind != CW_P_INT || v->i < lo || v->i > hi)
        return fail(err, len, v->line, "%s must be a whole number from %d to %d", key, lo, hi);
    *out = (int)v->i;
    return 0;
}

static int configure(cw_ctx *ctx, const cw_rule_info *rule, const cw_value *p, void **inst,
                     char *err, size_t len)
{
    static const char *const keys[] = {
        "tables", "check", "check_tables", "window_days", "late_days", "min_peers",
        "percentiles", "unit_prefix", NULL
    };
    const cw_value *v;
    disc *d = calloc(1, sizeof *d);
    loader ld = { d, ctx, 0 };
    char derr[300] = "";
    int n, rc;

    (void)rule;
    if (d == NULL)
        return fail(err, len, 0, "out of memory");
    *inst = d;
    for (size_t i = 0; i < p->n; i++) {
        int k;
        for (k = 0; keys[k]; k++)
            if (strcmp(p->keys[i], keys[k]) == 0)
                break;
        if (keys[k] == NULL) {
            fail(err, len, p->items[i].line, "discretion: unknown key '%s' (tables, check, "
                 "check_tables, window_days, late_days, min_peers, percentiles, unit_prefix)",
                 p->keys[i]);
            goto bad;
        }
    }
    if ((v = cw_value_get(p, "check")) == NULL || v->kind != CW_P_STR ||
        (strcmp(v->s, "range") && strcmp(v->s, "tier") && strcmp(v->s, "peer"))) {
        fail(err, len, v ? v->line : p->line, "discretion: 'check' must be \"range\", \"tier\" "
             "or \"peer\"");
        goto bad;
    }
    d->check = strcmp(v->s, "range") == 0 ? K_RANGE : strcmp(v->s, "tier") == 0 ? K_TIER : K_PEER;
    d->analyse = d->check == K_RANGE;
    if ((v = cw_value_get(p, "check_tables")) != NULL) {
        if (v->kind != CW_P_BOOL) {
            fail(err, len, v->line, "check_tables must be true or false");
            goto bad;
        }
        d->analyse = v->i != 0;
    }
    d->dir = "discretion";
    if ((v = cw_value_get(p, "tables")) != NULL) {
        if (v->kind != CW_P_STR || v->s[0] == '\0') {
            fail(err, len, v->line, "tables: the folder of the rules directory that holds them");
            goto bad;
        }
        d->dir = v->s;
    }
    if (int_param(p, "window_days", 365, 1, 3660, &n, err, len) < 0)
        goto bad;
    d->window = (int64_t)n * DAY_S;
    if (int_param(p, "late_days", 30, 0, 3660, &n, err, len) < 0)
        goto bad;
    d->late = (int64_t)n * DAY_S;
    if (int_param(p, "min_peers", 20, 1, 1000000, &d->min_peers, err, len) < 0 ||
        int_param(p, "unit_prefix", 4, 1, 12, &d->prefix_len, err, len) < 0)
        goto bad;
    d->p_lo = 5;
    d->p_hi = 95;
    if ((v = cw_value_get(p, "percentiles")) != NULL) {
        if (v->kind != CW_P_LIST || v->n != 2 || v->items[0].kind != CW_P_INT ||
            v->items[1].kind != CW_P_INT || v->items[0].i < 1 || v->items[0].i >= v->items[1].i ||
            v->items[1].i > 99) {
            fail(err, len, v->line, "percentiles must be {low, high} with 1 <= low < high <= 99");
            goto bad;
        }
        d->p_lo = (int)v->items[0].i;
        d->p_hi = (int)v->items[1].i;
    }
    if ((d->t_penalty = H->type_id(ctx, "penalty.decided")) < 0) {
        fail(err, len, p->line, "the catalogue has no penalty.decided");
        goto bad;
    }
    d->f_person = H->field_id(ctx, "person");
    d->f_cause = H->field_id(ctx, "cause");
    d->f_circ = H->field_id(ctx, "circumstance");
    d->f_factors = H->field_id(ctx, "factors");
    d->f_fine = H->field_id(ctx, "fine");
    d->f_days = H->field_id(ctx, "detention_days");
    d->f_warning = H->field_id(ctx, "warning");
    {
        const int need[] = { d->f_cause, d->f_circ, d->f_fine, d->f_days };
        const char *names[] = { "cause", "circumstance", "fine", "detention_days" };
        for (int i = 0; i < 4; i++)
            if (need[i] < 0 || !H->type_has_field(ctx, d->t_penalty, need[i])) {
                fail(err, len, p->line, "the catalogue's penalty.decided has no field '%s'",
                     names[i]);
                goto bad;
            }
    }
    for (int i = 0; i < NTIERS; i++)
        d->s_tier[i] = H->intern(ctx, tier_names[i], strlen(tier_names[i]));
    d->tz = H->tz_offset(ctx);
    rc = H->data_files(ctx, d->dir, ".yaml", on_file, &ld, derr, sizeof derr);
    if (rc != 0) {
        fail(err, len, p->line, "discretion tables in '%s': %s", d->dir, derr);
        goto bad;
    }
    if (d->ntables == 0) {
        fail(err, len, p->line, "no discretion tables (*.yaml) in '%s' of the rules directory",
             d->dir);
        goto bad;
    }
    qsort(d->claims, d->nclaims, sizeof *d->claims, claim_cmp);
    check_periods(&ld);
    d->w = calloc(1, sizeof *d->w);
    d->msg = malloc(MSG_CAP);
    if (d->w == NULL || d->msg == NULL) {
        fail(err, len, 0, "out of memory");
        goto bad;
    }
    if (H->listen(ctx, d->t_penalty) < 0) {
        fail(err, len, p->line, "cannot listen to penalty.decided");
        goto bad;
    }
    return 0;
bad:
    release(d);
    *inst = NULL;
    return -1;
}

/* ---- evaluation -------------------------------------------------------- */

/* Decode a penalty.decided into w->k. */
static void decode(disc *d, walk *w, const cw_event *ev)
{
    dec *k = &w->k;
    const cw_fval *f;
    size_t l = strlen(ev->id);

    if (l > 64)
        l = 64;
    memcpy(k->id, ev->id, l);
    k->id[l] = '\0';
    k->seq = ev->seq;
    k->at = ev->at;
    k->unit = ev->unit;
    k->person = (f = cw_event_field(ev, d->f_person)) && f->kind == CW_V_STR ? f->v.s : 0;
    k->cause = (f = cw_event_field(ev, d->f_cause)) && f->kind == CW_V_STR ? f->v.s : 0;
    k->tier = -1;
    if ((f = cw_event_field(ev, d->f_circ)) && f->kind == CW_V_STR)
        for (int i = 0; i < NTIERS; i++)
            if (f->v.s == d->s_tier[i])
                k->tier = i;
    k->fine = (f = cw_event_field(ev, d->f_fine)) && f->kind == CW_V_INT ? f->v.i : 0;
    k->days = (f = cw_event_field(ev, d->f_days)) && f->kind == CW_V_INT ? f->v.i : 0;
    k->warning = (f = cw_event_field(ev, d->f_warning)) && f->kind == CW_V_BOOL && f->v.i;
    k->nfactors = 0;
    if ((f = cw_event_field(ev, d->f_factors)) && f->kind == CW_V_LIST)
        for (uint32_t i = 0; i < f->n && k->nfactors < MAX_FACTORS; i++)
            k->factors[k->nfactors++] = f->v.list[i];
}

static bool has_factor(const dec *k, uint32_t sid)
{
    for (int i = 0; i < k->nfactors; i++)
        if (k->factors[i] == sid)
            return true;
    return false;
}

/* "依据 2025版裁量基准 PSAL-51 殴打他人 一般情节" and, for an alias,
 * the code the decision cited. */
static void put_row(text *t, const disc *d, const row *r, int ti, cw_ctx *ctx, const dec *k)
{
    const table *tb = &d->tables[r->table];

    put(t, "依据 ");
    put(t, tb->version);
    put(t, "版裁量基准 ");
    put(t, r->code);
    put(t, " ");
    put(t, r->title);
    put(t, " ");
    put(t, ti >= 0 ? tier_cn[ti] : "?");
    if (ti >= 0 && r->t[ti].same_as >= 0) {
        put(t, " (同");
        put(t, tier_cn[r->t[ti].same_as]);
        put(t, ")");
    }
    if (k != NULL && k->cause != H->intern(ctx, r->code, strlen(r->code))) {
        put(t, ", 决定引用 ");
        put(t, H->str(ctx, k->cause));
    }
}

/* Why k is outside tier tr, appended to t; false when it is within. */
static bool out_of_range(const tier *tr, const dec *k, text *t)
{
    size_t n0 = t->n;
    bool d = tr->det.set, f = tr->fine.set;

#define WHY(s) do { put(t, t->n > n0 ? "、" : ""); put(t, s); } while (0)
#define CHECK(val, r, name, unit)                                              \
    do {                                                                       \
        if ((val) < (r).lo || (val) > (r).hi) {                                \
            WHY(name);                                                         \
            put(t, " ");                                                       \
            put_int(t, (val));                                                 \
            put(t, (val) < (r).lo ? " " unit "低于 " : " " unit "超出 ");       \
            put_range(t, &(r), unit);                                          \
            put(t, "的幅度");                                                  \
        }                                                                      \
    } while (0)

    if (k->days == 0 && k->fine == 0) {
        if (k->warning && tr->warning)
            return false;
        WHY(k->warning ? "单处警告, 本档次不适用警告" : "未作任何处罚");
        return true;
    }
    if (k->days != 0 && !d)
        WHY("本档次无行政拘留");
    if (k->fine != 0 && !f)
        WHY("本档次无罚款");
    if (d && f) {
        switch (tr->combine) {
        case CMB_AND:
            if (k->days == 0)
                WHY("拘留与罚款应当并处, 未处行政拘留");
            else
                CHECK(k->days, tr->det, "拘留", "日");
            if (k->fine == 0)
                WHY("拘留与罚款应当并处, 未并处罚款");
            else
                CHECK(k->fine, tr->fine, "罚款", "元");
            break;
        case CMB_OR:
            if (k->days != 0 && k->fine != 0) {
                WHY("拘留与罚款只能择一");
            } else if (k->days != 0) {
                CHECK(k->days, tr->det, "拘留", "日");
            } else {
                CHECK(k->fine, tr->fine, "罚款", "元");
            }
            break;
        default:
            if (k->days == 0 && tr->det.lo > 0)
                WHY("未处行政拘留");
            else
                CHECK(k->days, tr->det, "拘留", "日");
            if (k->fine != 0)
                CHECK(k->fine, tr->fine, "罚款", "元");
            break;
        }
    } else if (d && k->days != 0) {
        CHECK(k->days, tr->det, "拘留", "日");
    } else if (f && k->fine != 0) {
        CHECK(k->fine, tr->fine, "罚款", "元");
    }
#undef CHECK
#undef WHY
    return t->n > n0;
}

/* Start the next offending decision's part of the message; false when
 * the message is full (the decision is then only counted). */
static bool item(walk *w, const dec *k)
{
    if (w->nids < MAX_IDS) {
        memcpy(w->ids[w->nids], k->id, sizeof k->id);
        w->idp[w->nids] = w->ids[w->nids];
        w->nids++;
    }
    if (w->first == CW_TIME_NONE || k->at < w->first)
        w->first = k->at;
    if (w->t.full) {
        w->unlisted++;
        return false;
    }
    if (w->nbad++ > 0)
        put(&w->t, "。");
    return true;
}

/*
 * Which law applies (从旧兼从轻, 行政处罚法 Art 37): the row of the table in
 * force at the act, and the row of a newer table in force at the
 * decision, which applies too where it is lighter for the declared tier.
 */
typedef struct choice {
    int act, dec;               /* rows; dec -1 when no newer table has the cause */
    bool lighter;               /* the newer row is lighter: it applies too */
} choice;

/* The heaviest and the lightest penalty a tier allows, as (days, yuan):
 * a day of detention weighs more than any fine. */
static void tier_bounds(const tier *t, int64_t mx[2], int64_t mn[2])
{
    bool d = t->det.set, f = t->fine.set;

    mx[0] = d ? t->det.hi : 0;
    mx[1] = f && (!d || t->combine != CMB_OR) ? t->fine.hi : 0;
    mn[0] = d && !(f && t->combine == CMB_OR) && !t->warning ? t->det.lo : 0;
    mn[1] = f && (!d || t->combine == CMB_AND || t->combine == CMB_OR) && !t->warning ? t->fine.lo : 0;
}

static int cmp2(const int64_t a[2], const int64_t b[2])
{
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* Whether tier ti of row nr is lighter than of row or: the heavier
 * maximum decides, equal maxima the lighter minimum (the rule of
 * 最高人民法院 法释〔1997〕12号 for 处刑较轻, on the tier that applies). */
static bool lighter(const row *nr, const row *or, int ti)
{
    int64_t nmx[2], nmn[2], omx[2], omn[2];
    int c;

    tier_bounds(tier_of(nr, ti), nmx, nmn);
    tier_bounds(tier_of(or, ti), omx, omn);
    c = cmp2(nmx, omx);
    return c < 0 || (c == 0 && cmp2(nmn, omn) < 0);
}

static void choose(const disc *d, const dec *k, cw_time offence, choice *c)
{
    c->act = lookup(d, k->cause, offence);
    c->dec = c->act < 0 ? -1 : lookup(d, k->cause, k->at);
    if (c->dec == c->act ||
        (c->dec >= 0 && d->tables[d->rows[c->dec].table].from_day <=
                            d->tables[d->rows[c->act].table].from_day))
        c->dec = -1;    /* no newer law at the decision */
    c->lighter = c->dec >= 0 && k->tier >= 0 && lighter(&d->rows[c->dec], &d->rows[c->act], k->tier);
}

/* The row a decision is measured by: the newer one where it is lighter,
 * else the one at the act (-1: none). Peers are those measured alike. */
static int applied_row(const disc *d, const dec *k, cw_time offence)
{
    choice c;

    choose(d, k, offence, &c);
    return c.lighter ? c.dec : c.act;
}

/* "依据 2025版裁量基准 ... 一般情节: 拘留 5-10 日并处罚款 500-1000 元 (basis)" */
static void put_rule_of(text *t, const disc *d, int ri, int ti, cw_ctx *ctx, const dec *k)
{
    const row *r = &d->rows[ri];

    put_row(t, d, r, ti, ctx, k);
    put(t, ": ");
    put_allowed(t, tier_of(r, ti));
    put(t, " (");
    put(t, r->basis);
    put(t, ")");
}

/* Why the table used is the one used, in the words of 从旧兼从轻. */
static void put_why(text *t, const disc *d, const choice *c, cw_ctx *ctx, cw_time offence)
{
    put(t, "; 适用理由: 违法行为发生于 ");
    put_date(t, ctx, offence);
    put(t, ", 适用行为时施行的 ");
    put(t, d->tables[d->rows[c->act].table].version);
    put(t, "版");
    if (c->dec >= 0) {
        put(t, "; 决定时施行的 ");
        put(t, d->tables[d->rows[c->dec].table].version);
        put(t, c->lighter ? "版对该情节较轻, 亦可适用, 处罚在两者幅度之外" : "版对该情节不轻于旧法, 不适用");
        put(t, " (从旧兼从轻, 行政处罚法 第37条)");
    }
}

static void judge_range(disc *d, walk *w, cw_time offence)
{
    const dec *k = &w->k;
    choice c;
    char why[512], why2[512];
    text y = { why, 0, sizeof why, false }, y2 = { why2, 0, sizeof why2, false };

    why[0] = why2[0] = '\0';
    choose(d, k, offence, &c);
    if (c.act < 0) {
        if (!item(w, k))
            return;
        put_who(&w->t, w->ctx, k);
        put(&w->t, "处罚决定引用的违法行为 ");
        put(&w->t, k->cause ? H->str(w->ctx, k->cause) : "(无)");
        put(&w->t, " 不在违法行为发生时 (");
        put_date(&w->t, w->ctx, offence);
        put(&w->t, ") 施行的裁量基准中, 无从核对处罚幅度");
        return;
    }
    if (k->tier < 0 || !out_of_range(tier_of(&d->rows[c.act], k->tier), k, &y))
        return;
    if (c.lighter && !out_of_range(tier_of(&d->rows[c.dec], k->tier), k, &y2))
        return;         /* within the lighter newer law */
    if (!item(w, k))
        return;
    put_who(&w->t, w->ctx, k);
    put_decided(&w->t, k);
    put(&w->t, ": ");
    put(&w->t, why);
    put(&w->t, "; ");
    put_rule_of(&w->t, d, c.act, k->tier, w->ctx, k);
    if (c.dec >= 0) {
        put(&w->t, c.lighter ? "; 按决定时施行的较轻的裁量基准亦不符: " : "; 对照决定时施行的: ");
        if (c.lighter) {
            put(&w->t, why2);
            put(&w->t, "; ");
        }
        put_rule_of(&w->t, d, c.dec, k->tier, w->ctx, NULL);
    }
    put_why(&w->t, d, &c, w->ctx, offence);
}

/* Whether the decision lists a mitigating factor of row ri's table. */
static bool mitigated(const disc *d, int ri, const dec *k)
{
    const table *tb = &d->tables[d->rows[ri].table];

    for (size_t i = 0; i < tb->nmitig; i++)
        if (has_factor(k, tb->mitig[i].sid))
            return true;
    return false;
}

/* The i-th heavier-tier factor of the row at the act, when the decision
 * lists it and it counts: a newer row in force at the decision must list
 * it too, since the lighter view of the act is the offender's
 * (从旧兼从轻). NULL otherwise. */
static const factor *heavier_listed(const disc *d, const choice *c, const dec *k, size_t i)
{
    const row *r = &d->rows[c->act];
    const factor *f = &d->tables[r->table].heavier[r->heavier[i]];

    if (!has_factor(k, f->sid))
        return NULL;
    if (c->dec >= 0) {
        const row *nr = &d->rows[c->dec];
        const table *nt = &d->tables[nr->table];
        for (size_t j = 0; j < nr->nheavier; j++)
            if (nt->heavier[nr->heavier[j]].sid == f->sid)
                return f;
        return NULL;
    }
    return f;
}

/* The tier the factors imply (SANCTION-TIER): heavier when a heavier-tier
 * factor counts and none mitigates, else the declared one. */
static int implied_tier(const disc *d, const choice *c, const dec *k)
{
    if (c->act < 0 || k->tier == T_HEAVIER || mitigated(d, c->act, k) ||
        (c->dec >= 0 && mitigated(d, c->dec, k)))
        return k->tier;
    for (size_t i = 0; i < d->rows[c->act].nheavier; i++)
        if (heavier_listed(d, c, k, i) != NULL)
            return T_HEAVIER;
    return k->tier;
}

static void judge_tier(disc *d, walk *w, cw_time offence)
{
    const dec *k = &w->k;
    choice c;
    const row *r;
    bool hit = false;

    choose(d, k, offence, &c);
    if (c.act < 0 || k->tier < 0 || k->tier == T_HEAVIER || implied_tier(d, &c, k) != T_HEAVIER)
        return;
    r = &d->rows[c.act];
    for (size_t i = 0; i < r->nheavier; i++) {
        const factor *f = heavier_listed(d, &c, k, i);
        if (f == NULL)
            continue;
        if (!hit) {
            if (!item(w, k))
                return;
            put_who(&w->t, w->ctx, k);
            put(&w->t, "认定为");
            put(&w->t, tier_cn[k->tier]);
            put(&w->t, ", 但所列情节有");
        } else {
            put(&w->t, "、");
        }
        put(&w->t, f->label);
        put(&w->t, " (");
        put(&w->t, f->name);
        put(&w->t, ")");
        hit = true;
    }
    put(&w->t, ", 属较重情节, 且无从轻、减轻情节; ");
    put_rule_of(&w->t, d, c.act, T_HEAVIER, w->ctx, k);
    put_why(&w->t, d, &c, w->ctx, offence);
}

static void put_band(text *t, const char *what, int32_t med, int32_t lo, int32_t hi, int p_lo,
                     int p_hi, const char *unit)
{
    put(t, what);
    put(t, "中位数 ");
    put_int(t, med);
    put(t, " ");
    put(t, unit);
    put(t, " (P");
    put_int(t, p_lo);
    put(t, "-P");
    put_int(t, p_hi);
    put(t, " ");
    put_int(t, lo);
    put(t, "-");
    put_int(t, hi);
    put(t, " ");
    put(t, unit);
    put(t, ")");
}

static void report_peer(disc *d, walk *w, const verdict *v)
{
    const dec *k = &w->k;
    cw_ctx *ctx = w->ctx;
    const row *r = &d->rows[v->row];
    char pfx[16];
    uint64_t pv = v->gkey & ((1ULL << 40) - 1);
    int plen = (int)((v->gkey >> 40) & 15);

    if (!item(w, k))
        return;
    put_who(&w->t, ctx, k);
    put_decided(&w->t, k);
    put(&w->t, ", ");
    if (v->fine < v->f_lo)
        put(&w->t, "罚款低于同类处罚 P5");
    else if (v->fine > v->f_hi)
        put(&w->t, "罚款高于同类处罚 P95");
    if ((v->fine < v->f_lo || v->fine > v->f_hi) && (v->days < v->d_lo || v->days > v->d_hi))
        put(&w->t, "、");
    if (v->days < v->d_lo)
        put(&w->t, "拘留低于同类处罚 P5");
    else if (v->days > v->d_hi)
        put(&w->t, "拘留高于同类处罚 P95");
    put(&w->t, "; 同类处罚 (");
    put_row(&w->t, d, r, v->tier, ctx, NULL);
    put(&w->t, ", 单位 ");
    pfx[plen] = '\0';
    for (int i = plen; i-- > 0; pv /= 10)
        pfx[i] = (char)('0' + pv % 10);
    put(&w->t, pfx);
    put(&w->t, "*, 决定前 ");
    put_int(&w->t, d->window / DAY_S);
    put(&w->t, " 日内) ");
    put_int(&w->t, v->n);
    put(&w->t, " 件: ");
    put_band(&w->t, "罚款", v->f_med, v->f_lo, v->f_hi, d->p_lo, d->p_hi, "元");
    put(&w->t, ", ");
    put_band(&w->t, "拘留", v->d_med, v->d_lo, v->d_hi, d->p_lo, d->p_hi, "日");
}

/* explain: the decision being checked, the table and row that measure
 * it and why (从旧兼从轻), before any judgement. */
static void trace_decision(disc *d, walk *w, cw_time offence)
{
    const dec *k = &w->k;
    char buf[1024];
    text t = { buf, 0, sizeof buf, false };
    choice c;

    buf[0] = '\0';
    choose(d, k, offence, &c);
    put(&t, "处罚决定 ");
    put(&t, k->id);
    put(&t, " (");
    put_date(&t, w->ctx, k->at);
    put(&t, "): ");
    put_who(&t, w->ctx, k);
    put_decided(&t, k);
    H->trace(w->ctx, 0, "decision", "%s", buf);
    t.n = 0;
    t.full = false;
    buf[0] = '\0';
    if (c.act < 0) {
        put(&t, "违法行为 ");
        put(&t, k->cause ? H->str(w->ctx, k->cause) : "(无)");
        put(&t, " 不在违法行为发生时 (");
        put_date(&t, w->ctx, offence);
        put(&t, ") 施行的裁量基准中");
        H->trace(w->ctx, 0, "table", "%s", buf);
        return;
    }
    put(&t, "所用基准: ");
    if (k->tier >= 0)
        put_rule_of(&t, d, c.lighter ? c.dec : c.act, k->tier, w->ctx, k);
    else
        put_row(&t, d, &d->rows[c.lighter ? c.dec : c.act], 0, w->ctx, k);
    put_why(&t, d, &c, w->ctx, offence);
    H->trace(w->ctx, 0, "table", "%s", buf);
}

static int visit(void *ud, const cw_case *c, const cw_event *ev)
{
    disc *d = ud;
    walk *w = d->w;
    const dec *k = &w->k;
    cw_time offence;

    (void)c;
    decode(d, w, ev);
    if (!H->applies(w->ctx, w->c, k->at))
        return 0;
    offence = w->ci.offence_at != CW_TIME_NONE ? w->ci.offence_at : k->at;
    if (H->tracing(w->ctx))
        trace_decision(d, w, offence);
    if (d->check == K_RANGE) {
        judge_range(d, w, offence);
    } else if (d->check == K_TIER) {
        judge_tier(d, w, offence);
    } else {
        int ri = applied_row(d, k, offence);
        verdict v = { 0 };
        const verdict *got;
        if (ri < 0 || k->tier < 0)
            return 0;
        got = k->seq == w->ev->seq ? peer_decision(d, w->ctx, w->c, &w->ci, k, ri, &v)
                                   : peer_recall(d, w->ctx, &w->ci, k);
        if (H->tracing(w->ctx)) {
            int n = got ? got->n : k->seq == w->ev->seq ? v.n : 0;
            if (n > 0)
                H->trace(w->ctx, 0, "peers", "同类案件 %d 件 (同一基准行与情节, 单位代码前 %d 位相同, "
                         "决定前 %d 日内)%s", n, d->prefix_len, (int)(d->window / DAY_S),
                         got ? ": 本决定偏离同类" : ": 本决定在同类范围内");
            else
                H->trace(w->ctx, 0, "peers", "同类案件不足 %d 件, 不作比较", d->min_peers);
        }
        if (got != NULL)
            report_peer(d, w, got);
    }
    return 0;
}

static int on_event(void *inst, cw_ctx *ctx, const cw_case *c, const cw_event *ev)
{
    disc *d = inst;
    walk *w = d->w;
    cw_finding_in f;
    int rc;

    w->ctx = ctx;
    w->c = c;
    w->ev = ev;
    H->case_info(ctx, c, &w->ci);
    w->t.p = d->msg;
    w->t.n = 0;
    w->t.cap = MSG_CAP - 64;    /* room for the tail below */
    w->t.full = false;
    d->msg[0] = '\0';
    w->nids = 0;
    w->nbad = w->unlisted = 0;
    w->first = CW_TIME_NONE;
    if (H->tracing(ctx))
        H->trace(ctx, 0, NULL, NULL);
    if ((rc = H->case_events(ctx, c, &d->t_penalty, 1, visit, d)) != 0)
        return rc;
    if (w->nbad == 0)
        return H->sync(ctx, c, NULL, 0);
    if (w->t.full) {
        w->t.cap = MSG_CAP;
        w->t.full = false;
        put(&w->t, "…");
        if (w->unlisted > 0) {
            put(&w->t, " (另有 ");
            put_int(&w->t, w->unlisted);
            put(&w->t, " 项处罚决定未列出)");
        }
    }
    memset(&f, 0, sizeof f);
    f.subject = 0;
    f.mode = CW_FM_FIXED;
    f.state = d->check == K_PEER ? CW_ST_ANOMALY : CW_ST_VIOLATION;
    f.due = CW_TIME_NONE;
    f.met = CW_TIME_NONE;
    f.raised = w->first;
    f.message = d->msg;
    f.events = w->idp;
    f.nevents = w->nids;
    return H->sync(ctx, c, &f, 1);
}

/* ---- the peers' state in a snapshot ------------------------------------- */

#define SNAP_MAGIC 0x32504e53u      /* "SNP2": entries name their cases */

static int save(void *inst, cw_ctx *ctx, void (*out)(void *w, const void *p, size_t n), void *w)
{
    disc *d = inst;
    const peers *pe = &d->pe;
    uint32_t u = SNAP_MAGIC;
    uint64_t n = pe->ngroups;

    if (d->check != K_PEER)
        return 0;
    out(w, &u, 4);
    out(w, &n, 8);
    for (size_t i = 0; i < pe->nslot; i++) {
        const group *g = pe->slot[i];
        uint64_t hdr[5];
        if (g == NULL)
            continue;
        hdr[0] = g->key;
        hdr[1] = (uint64_t)g->head;
        hdr[2] = g->n - g->base;
        hdr[3] = (uint64_t)(g->ms_lo - g->base) << 32 | (g->ms_hi - g->base);
        hdr[4] = (uint64_t)g->gone;
        out(w, hdr, sizeof hdr);
        out(w, g->e + g->base, (g->n - g->base) * sizeof *g->e);
        /* string ids are the process's own: the cases by their numbers */
        for (size_t k = g->base; k < g->n; k++) {
            const char *cs = H->str(ctx, g->e[k].csid);
            uint32_t l = (uint32_t)strlen(cs);
            out(w, &l, 4);
            out(w, cs, l);
        }
    }
    n = pe->nr;
    out(w, &n, 8);
    for (size_t i = 0; i < pe->capr; i++)
        if (pe->r[i].used)
            out(w, &pe->r[i], sizeof pe->r[i]);
    n = pe->nv;
    out(w, &n, 8);
    out(w, pe->v, pe->nv * sizeof *pe->v);
    return 0;
}

typedef struct reader {
    const uint8_t *p, *end;
    bool bad;
} reader;

static void take(reader *r, void *v, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        r->bad = true;
        memset(v, 0, n);
        return;
    }
    memcpy(v, r->p, n);
    r->p += n;
}

static int load(void *inst, cw_ctx *ctx, const void *data, size_t len)
{
    disc *d = inst;
    peers *pe = &d->pe;
    reader r = { data, (const uint8_t *)data + len, false };
    uint32_t u;
    uint64_t n;

    if (d->check != K_PEER)
        return 0;
    reset(d);
    pe->gen = H->generation(ctx);
    take(&r, &u, 4);
    if (u != SNAP_MAGIC)
        return -1;
    take(&r, &n, 8);
    for (uint64_t i = 0; i < n && !r.bad; i++) {
        uint64_t hdr[5];
        group *g;
        take(&r, hdr, sizeof hdr);
        if (r.bad || hdr[2] > (uint64_t)(r.end - r.p) / sizeof(pentry))
            return -1;
        g = group_get(pe, hdr[0]);
        g->head = (cw_time)hdr[1];
        g->gone = (cw_time)hdr[4];
        g->n = g->cap = (size_t)hdr[2];
        g->e = xrealloc(NULL, (g->n ? g->n : 1) * sizeof *g->e);
        take(&r, g->e, g->n * sizeof *g->e);
        for (size_t k = 0; k < g->n && !r.bad; k++) {
            uint32_t l;
            take(&r, &l, 4);
            if (r.bad || l > (size_t)(r.end - r.p))
                return -1;
            g->e[k].csid = H->intern(ctx, (const char *)r.p, l);
            r.p += l;
        }
        g->ms_lo = (size_t)(hdr[3] >> 32);
        g->ms_hi = (size_t)(hdr[3] & 0xffffffffu);
        if (g->ms_lo > g->ms_hi || g->ms_hi > g->n)
            return -1;
        for (size_t k = g->ms_lo; k < g->ms_hi; k++)
            ms_add(g, &g->e[k]);
    }
    take(&r, &n, 8);
    for (uint64_t i = 0; i < n && !r.bad; i++) {
        rec x;
        take(&r, &x, sizeof x);
        *rec_add(pe, x.seq) = x;
    }
    take(&r, &n, 8);
    if (r.bad || n > (uint64_t)(r.end - r.p) / sizeof(verdict))
        return -1;
    grow((void **)&pe->v, &pe->capv, (size_t)n ? (size_t)n : 1, sizeof *pe->v);
    take(&r, pe->v, (size_t)n * sizeof *pe->v);
    pe->nv = (size_t)n;
    return r.bad || r.p != r.end ? -1 : 0;
}

/* ---- suggestions (cw_model.advise) -------------------------------------- */

/* A JSON string. */
static void put_jstr(text *t, const char *s)
{
    char one[8];

    put(t, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            one[0] = '\\';
            one[1] = (char)c;
            one[2] = '\0';
        } else if (c < 0x20) {
            snprintf(one, sizeof one, "\\u%04x", c);
        } else {
            one[0] = (char)c;
            one[1] = '\0';
        }
        put(t, one);
    }
    put(t, "\"");
}

/* ,"key": (the comma after the first member) */
static void put_jkey(text *t, const char *key)
{
    put(t, t->n > 0 && t->p[t->n - 1] != '{' ? ",\"" : "\"");
    put(t, key);
    put(t, "\":");
}

static void put_jtext(text *t, const char *key, const char *s)
{
    put_jkey(t, key);
    put_jstr(t, s);
}

static void put_jrange(text *t, const char *key, const range *r)
{
    put_jkey(t, key);
    if (!r->set) {
        put(t, "null");
        return;
    }
    put(t, "[");
    put_int(t, r->lo);
    put(t, ",");
    put_int(t, r->hi);
    put(t, "]");
}

/* "key":{"median":M,"p_low":L,"p_high":H} */
static void put_jband(text *t, const char *key, int32_t med, int32_t lo, int32_t hi)
{
    const int32_t v[3] = { med, lo, hi };
    static const char *const names[3] = { "{\"median\":", ",\"p_low\":", ",\"p_high\":" };

    put_jkey(t, key);
    for (int i = 0; i < 3; i++) {
        put(t, names[i]);
        put_int(t, v[i]);
    }
    put(t, "}");
}

/* What a query asks about, as the decision it would be. */
static int query_decision(cw_ctx *ctx, const cw_value *q, dec *k, cw_time *offence, char *err,
                          size_t len)
{
    const cw_value *v;

    memset(k, 0, sizeof *k);
    k->tier = T_NORMAL;
    if ((v = cw_value_get(q, "cause")) == NULL || v->kind != CW_P_STR)
        return fail(err, len, 0, "cause: 违法行为代码 (如 PSAL-51) 必填");
    k->cause = H->intern(ctx, v->s, strlen(v->s));
    if ((v = cw_value_get(q, "circumstance")) != NULL && v->kind == CW_P_STR)
        k->tier = tier_index(v->s);
    if (k->tier < 0)
        return fail(err, len, 0, "circumstance: lighter, normal 或 heavier");
    if ((v = cw_value_get(q, "offence_at")) == NULL || v->kind != CW_P_INT)
        return fail(err, len, 0, "offence_at: 违法行为发生时间必填");
    *offence = v->i;
    k->at = (v = cw_value_get(q, "decided_at")) != NULL && v->kind == CW_P_INT ? v->i : *offence;
    if ((v = cw_value_get(q, "unit")) != NULL && v->kind == CW_P_STR)
        k->unit = H->intern(ctx, v->s, strlen(v->s));
    if ((v = cw_value_get(q, "factors")) != NULL && v->kind == CW_P_LIST)
        for (size_t i = 0; i < v->n && k->nfactors < MAX_FACTORS; i++)
            if (v->items[i].kind == CW_P_STR)
                k->factors[k->nfactors++] = H->intern(ctx, v->items[i].s, strlen(v->items[i].s));
    return 0;
}

/* The standard penalty of a tier (its ranges' middle, 裁量幅度中间值): the
 * middle of each penalty the tier imposes; of an "or" tier the fine, the
 * lighter kind; a warning where the tier has nothing else. */
static void standard(const tier *tr, int64_t *days, int64_t *fine, bool *warning)
{
    bool d = tr->det.set && !(tr->fine.set && tr->combine == CMB_OR);
    bool f = tr->fine.set && (!tr->det.set || tr->combine == CMB_AND || tr->combine == CMB_OR);

    *days = *fine = 0;
    *warning = !d && !f && tr->warning;
    if (d) {
        *days = (tr->det.lo + tr->det.hi) / 2;
        if (*days < 1 && tr->det.hi >= 1)
            *days = 1;
    }
    if (f) {
        *fine = (tr->fine.lo + tr->fine.hi) / 2 / 50 * 50;
        if (*fine < tr->fine.lo)
            *fine = tr->fine.lo;
        if (*fine < 1 && tr->fine.hi >= 1)
            *fine = tr->fine.hi < 50 ? tr->fine.hi : 50;
    }
}

static void put_standard(text *t, int64_t days, int64_t fine, bool warning)
{
    dec k = { .days = days, .fine = fine, .warning = warning };

    put_jkey(t, "standard");
    put(t, "{\"detention\":");
    put_int(t, days);
    put(t, ",\"fine\":");
    put_int(t, fine);
    put(t, warning ? ",\"warning\":true,\"words\":" : ",\"warning\":false,\"words\":");
    {
        char buf[96];
        text w = { buf, 0, sizeof buf, false };
        buf[0] = '\0';
        put_decided(&w, &k);
        put_jstr(t, buf);
    }
    put(t, "}");
}

/* The table, row and tier a suggestion applies, as JSON members. */
static void put_row_members(text *t, const disc *d, int ri, int ti)
{
    const row *r = &d->rows[ri];
    const table *tb = &d->tables[r->table];
    const tier *tr = tier_of(r, ti);
    char buf[256];
    text a = { buf, 0, sizeof buf, false };

    buf[0] = '\0';
    put_allowed(&a, tr);
    put_jtext(t, "table", tb->version);
    put_jtext(t, "law", tb->law ? tb->law : "");
    put_jtext(t, "row", r->code);
    put_jtext(t, "title", r->title);
    put_jtext(t, "basis", r->basis);
    put_jrange(t, "detention", &tr->det);
    put_jrange(t, "fine", &tr->fine);
    put_jtext(t, "combine", tr->det.set && tr->fine.set ? combine_names[tr->combine] : "");
    put_jkey(t, "warning");
    put(t, tr->warning ? "true" : "false");
    put_jtext(t, "allowed", buf);
}

/* SANCTION-RANGE's answer: which table applies and why, the tier the
 * factors imply, the ranges and how they combine, the standard penalty. */
static void advise_range(disc *d, cw_ctx *ctx, dec *k, cw_time offence, text *t)
{
    choice c;
    int ti, ri;
    int64_t days, fine;
    bool warning;
    char words[1024];
    text y = { words, 0, sizeof words, false };

    words[0] = '\0';
    choose(d, k, offence, &c);
    put(t, "{");
    put_jkey(t, "found");
    if (c.act < 0) {
        put(t, "false");
        put(&y, "违法行为 ");
        put(&y, H->str(ctx, k->cause));
        put(&y, " 不在违法行为发生时 (");
        put_date(&y, ctx, offence);
        put(&y, ") 施行的裁量基准中, 无从确定处罚幅度; 行为时的法律没有规定的, 不得给予处罚");
        put_jtext(t, "text", words);
        put(t, "}");
        return;
    }
    put(t, "true");
    ti = implied_tier(d, &c, k);
    k->tier = ti;
    choose(d, k, offence, &c);          /* lighter is per tier */
    ri = c.lighter ? c.dec : c.act;
    put_jtext(t, "tier", tier_names[ti]);
    put_jtext(t, "tier_cn", tier_cn[ti]);
    put_row_members(t, d, ri, ti);
    standard(tier_of(&d->rows[ri], ti), &days, &fine, &warning);
    put_standard(t, days, fine, warning);
    put(&y, "处罚幅度: ");
    put_rule_of(&y, d, ri, ti, ctx, NULL);
    put(&y, "; 理由: 违法行为发生于 ");
    put_date(&y, ctx, offence);
    put(&y, ", 决定于 ");
    put_date(&y, ctx, k->at);
    if (c.dec < 0) {
        put(&y, ", 适用行为时施行的 ");
        put(&y, d->tables[d->rows[c.act].table].version);
        put(&y, "版");
    } else if (c.lighter) {
        put(&y, ", 决定时施行的 ");
        put(&y, d->tables[d->rows[c.dec].table].version);
        put(&y, "版对该情节较轻, 适用新法 (从旧兼从轻, 行政处罚法 第37条; 按行为时的 ");
        put(&y, d->tables[d->rows[c.act].table].version);
        put(&y, "版幅度作出的处罚亦不超出幅度)");
    } else {
        put(&y, ", 决定时施行的 ");
        put(&y, d->tables[d->rows[c.dec].table].version);
        put(&y, "版对该情节不轻于行为时的 ");
        put(&y, d->tables[d->rows[c.act].table].version);
        put(&y, "版, 适用行为时的法律 (从旧兼从轻, 行政处罚法 第37条)");
    }
    put_jtext(t, "why", words + 0);
    put_jtext(t, "text", words);
    put(t, "}");
}

/* SANCTION-TIER's answer: the tier the factors imply. */
static void advise_tier(disc *d, cw_ctx *ctx, dec *k, cw_time offence, text *t)
{
    choice c;
    int declared = k->tier, ti;
    char words[1024];
    text y = { words, 0, sizeof words, false };
    bool any = false;

    words[0] = '\0';
    choose(d, k, offence, &c);
    if (c.act < 0) {
        put(t, "{\"found\":false,\"text\":\"违法行为不在行为时的裁量基准中\"}");
        return;
    }
    ti = implied_tier(d, &c, k);
    put(t, "{");
    put_jtext(t, "declared", tier_names[declared]);
    put_jtext(t, "tier", tier_names[ti]);
    put_jkey(t, "heavier_factors");
    put(t, "[");
    for (size_t i = 0; i < d->rows[c.act].nheavier; i++) {
        const factor *f = heavier_listed(d, &c, k, i);
        if (f == NULL)
            continue;
        put(t, any ? "," : "");
        put_jstr(t, f->name);
        put(&y, any ? "、" : "所列情节 ");
        put(&y, f->label);
        any = true;
    }
    put(t, "]");
    if (ti != declared)
        put(&y, " 属较重情节, 且无从轻、减轻情节: 应当认定为较重情节");
    else if (any && declared != T_HEAVIER)
        put(&y, " 属较重情节, 但有从轻、减轻情节, 可以不认定为较重情节");
    else if (any)
        put(&y, " 属较重情节, 认定较重情节");
    else {
        put(&y, "未列较重情节, 按");
        put(&y, tier_cn[declared]);
    }
    put(&y, " (");
    put(&y, d->rows[c.act].basis);
    put(&y, ")");
    put_jtext(t, "text", words);
    put(t, "}");
}

/* The group of key, or NULL (nothing is created). */
static group *group_find(const peers *pe, uint64_t key)
{
    if (pe->nslot == 0)
        return NULL;
    for (size_t i = mix(0, key) & (pe->nslot - 1); pe->slot[i]; i = (i + 1) & (pe->nslot - 1))
        if (pe->slot[i]->key == key)
            return pe->slot[i];
    return NULL;
}

/* The band of the group's decisions in [t - window, t), without moving
 * its window (the engine's state stays as the decisions left it).
 * Returns the count, or -1 when what is kept does not reach back. */
static int32_t band(disc *d, const group *g, cw_time t, verdict *v)
{
    size_t a, b;
    int32_t n;
    uint32_t r[3];

    if (!covers(d, g, t))
        return -1;
    a = lower(g, t - d->window);
    b = lower(g, t);
    n = (int32_t)(b - a);
    if (n < d->min_peers)
        return n;
    grow((void **)&d->pe.scratch, &d->pe.capscratch, 2 * (size_t)n, sizeof *d->pe.scratch);
    for (size_t i = a; i < b; i++) {
        d->pe.scratch[i - a] = g->e[i].fine;
        d->pe.scratch[n + i - a] = g->e[i].days;
    }
    qsort(d->pe.scratch, (size_t)n, sizeof *d->pe.scratch, int_cmp);
    qsort(d->pe.scratch + n, (size_t)n, sizeof *d->pe.scratch, int_cmp);
    r[0] = prank(d->p_lo, (uint32_t)n);
    r[1] = prank(50, (uint32_t)n);
    r[2] = prank(d->p_hi, (uint32_t)n);
    v->f_lo = d->pe.scratch[r[0] - 1];
    v->f_med = d->pe.scratch[r[1] - 1];
    v->f_hi = d->pe.scratch[r[2] - 1];
    v->d_lo = d->pe.scratch[n + r[0] - 1];
    v->d_med = d->pe.scratch[n + r[1] - 1];
    v->d_hi = d->pe.scratch[n + r[2] - 1];
    return n;
}

/* SANCTION-PEER's answer: the peers' median and P5-P95 for the cause,
 * the tier the factors imply and the unit prefix, when the engine that
 * asks has seen them. */
static void advise_peer(disc *d, cw_ctx *ctx, dec *k, cw_time offence, text *t)
{
    choice c;
    int ri;
    uint64_t pval;
    int plen = k->unit ? unit_prefix(d, ctx, k->unit, &pval) : 0;
    const group *g;
    verdict v;
    int32_t n = 0;
    char words[512];
    text y = { words, 0, sizeof words, false };

    words[0] = '\0';
    memset(&v, 0, sizeof v);
    choose(d, k, offence, &c);
    if (c.act >= 0)
        k->tier = implied_tier(d, &c, k);
    ri = applied_row(d, k, offence);
    put(t, "{\"available\":");
    if (ri < 0 || plen == 0 || H->generation(ctx) == 0 || H->generation(ctx) != d->pe.gen) {
        put(t, "false");
        put_jtext(t, "text", ri < 0 ? "违法行为不在裁量基准中, 无同类处罚可比" :
                             plen == 0 ? "未提供办案单位代码, 无从比较同类处罚" :
                             "无同类处罚数据 (仅运行中的服务或指定 --events 时可比较)");
        put(t, "}");
        return;
    }
    g = group_find(&d->pe, group_key(ri, k->tier, plen, pval));
    n = g ? band(d, g, k->at, &v) : 0;
    put(t, n >= d->min_peers ? "true" : "false");
    put_jkey(t, "count");
    put_int(t, n < 0 ? 0 : n);
    put(&y, "同类处罚 (");
    put_row(&y, d, &d->rows[ri], k->tier, ctx, NULL);
    put(&y, ", 单位 ");
    {
        char pfx[16];
        snprintf(pfx, sizeof pfx, "%.*s", plen, H->str(ctx, k->unit));
        put(&y, pfx);
    }
    put(&y, "*, 决定前 ");
    put_int(&y, d->window / DAY_S);
    put(&y, " 日内) ");
    if (n < 0) {
        put(&y, "的数据已不保留到决定日期之前, 不作比较");
    } else if (n < d->min_peers) {
        put_int(&y, n);
        put(&y, " 件, 少于 ");
        put_int(&y, d->min_peers);
        put(&y, " 件, 不作比较");
    } else {
        put_int(&y, n);
        put(&y, " 件: ");
        put_band(&y, "罚款", v.f_med, v.f_lo, v.f_hi, d->p_lo, d->p_hi, "元");
        put(&y, ", ");
        put_band(&y, "拘留", v.d_med, v.d_lo, v.d_hi, d->p_lo, d->p_hi, "日");
        put_jband(t, "fine", v.f_med, v.f_lo, v.f_hi);
        put_jband(t, "detention", v.d_med, v.d_lo, v.d_hi);
    }
    put_jtext(t, "text", words);
    put(t, "}");
}

static int advise(void *inst, cw_ctx *ctx, const cw_value *q, char **answer, char *err, size_t len)
{
    disc *d = inst;
    dec k;
    cw_time offence = CW_TIME_NONE;
    text t;

    *answer = NULL;
    if (query_decision(ctx, q, &k, &offence, err, len) < 0)
        return -1;
    if ((t.p = malloc(MSG_CAP)) == NULL)
        return fail(err, len, 0, "out of memory");
    t.n = 0;
    t.cap = MSG_CAP;
    t.full = false;
    t.p[0] = '\0';
    if (d->check == K_RANGE)
        advise_range(d, ctx, &k, offence, &t);
    else if (d->check == K_TIER)
        advise_tier(d, ctx, &k, offence, &t);
    else
        advise_peer(d, ctx, &k, offence, &t);
    if (t.full) {
        free(t.p);
        return fail(err, len, 0, "the answer is too long");
    }
    *answer = t.p;
    return 0;
}

static void advice_free(void *inst, char *answer)
{
    (void)inst;
    free(answer);
}

static uint32_t states(void *inst)
{
    const disc *d = inst;

    return 1u << (d->check == K_PEER ? CW_ST_ANOMALY : CW_ST_VIOLATION);
}

static const cw_model discretion_model = {
    .struct_size = sizeof(cw_model),
    .name = "discretion",
    .summary = "penalty decisions against discretion tables and against their peers",
    .configure = configure,
    .on_event = on_event,
    .release = release,
    .save = save,
    .load = load,
    .advise = advise,
    .states = states,
    .advice_free = advice_free,
};

CW_PLUGIN_DEFINE(H, "discretion", "1.1", &discretion_model)
