/*
 * bench/truth: compare the engine's findings with the ground truth that
 * bench/gen wrote beside its events.
 *
 *     truth --expected DIR/expected.tsv --findings FILE.jsonl [--show N]
 *
 * FILE.jsonl is the output of `casewarden eval ... --now $(cat
 * DIR/now.txt)`. A finding matches an expected one on rule, case, subject,
 * state and due (compared as instants). Only the rules the generator knows
 * the truth of are compared (every rule of DOMAIN.md); findings of any
 * other rule are counted apart as "not compared". Prints, per rule,
 * expected, found, true positives, precision and recall, then the first N
 * misses and unexpected findings (default 20) with their case, and exits
 * 0 only when every compared rule has 100% precision and recall (1 when
 * not, 2 on a usage or input error).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/timeutil.h"
#include "bench/jsonl.h"

#define TZ 480

/* The rules bench/gen writes the truth of: those of DOMAIN.md sections 1
 * to 5, in its order. */
static const char *const compared[] = {
    "ALARM-ACCEPT", "CRIM-FILING", "ADM-HANDLING", "SUMMONS-LIMIT", "CRIM-SUMMONS",
    "PROPERTY-24H", "BODYCAM-24H", "ARREST-REQUEST", "CUSTODY-2M", "BAIL-12M", "RSL-6M",
    "SUPPL-1M", "FT-EXCLUDED-PERSON", "FT-NO-CONSENT", "FT-DETENTION-10D", "FT-HEARING",
    "FT-48H", "SANCTION-RANGE", "SANCTION-TIER", "MINOR-UNDER14", "DETENTION-EXEMPT",
    "SANCTION-PEER", "INTERROGATION-2OFFICERS", "INTERROGATION-RECORDING", "OFFICER-OVERLAP",
    "MINOR-NO-GUARDIAN", "DETAIN-CUSTODY-24H", "DETAIN-NOTIFY-24H", "DETAIN-INTERROGATE-24H",
    "ARREST-NOTIFY-24H", "ARREST-INTERROGATE-24H", "ADM-SEIZURE-30D",
};
#define NCOMPARED ((int)(sizeof compared / sizeof compared[0]))

/* A finding reduced to what is compared: "rule\tcase\tsubject\tstate\tdue",
 * with subject "-" for the case itself and due as RFC 3339 at +08:00 or
 * "-". `prefix` is the length of "rule\tcase\tsubject\t". */
typedef struct key {
    char *s;
    size_t prefix;
    int rule;
} key;

typedef struct keys {
    key *v;
    size_t n, cap;
} keys;

/* Findings of rules outside the comparison: rule and state, counted. */
typedef struct other {
    char *rule;
    char *state;
    size_t n;
} other;

typedef struct others {
    other *v;
    size_t n, cap;
} others;

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL) {
        fprintf(stderr, "truth: out of memory\n");
        exit(2);
    }
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;

    return memcpy(xrealloc(NULL, n), s, n);
}

static int rule_index(const char *rule)
{
    for (int i = 0; i < NCOMPARED; i++)
        if (strcmp(compared[i], rule) == 0)
            return i;
    return -1;
}

/* A due time as the same text whatever offset it was written in. */
static bool norm_due(const char *in, char *out, size_t size)
{
    cw_time t;

    if (in == NULL || strcmp(in, "-") == 0 || in[0] == '\0') {
        snprintf(out, size, "-");
        return true;
    }
    if (cw_time_parse(in, strlen(in), &t, NULL) < 0)
        return false;
    cw_time_format(t, TZ, out, size);
    return true;
}

static void add_key(keys *k, int rule, const char *r, const char *c, const char *subj,
                    const char *state, const char *due)
{
    size_t len;
    key *x;

    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 4096;
        k->v = xrealloc(k->v, k->cap * sizeof *k->v);
    }
    x = &k->v[k->n++];
    subj = subj[0] ? subj : "-";
    len = strlen(r) + strlen(c) + strlen(subj) + strlen(state) + strlen(due) + 5;
    x->s = xrealloc(NULL, len);
    snprintf(x->s, len, "%s\t%s\t%s\t%s\t%s", r, c, subj, state, due);
    x->prefix = strlen(r) + strlen(c) + strlen(subj) + 3;
    x->rule = rule;
}

static void add_other(others *o, const char *rule, const char *state)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->v[i].rule, rule) == 0 && strcmp(o->v[i].state, state) == 0) {
            o->v[i].n++;
            return;
        }
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->v = xrealloc(o->v, o->cap * sizeof *o->v);
    }
    o->v[o->n].rule = xstrdup(rule);
    o->v[o->n].state = xstrdup(state);
    o->v[o->n].n = 1;
    o->n++;
}

/* expected.tsv: rule, case, subject ("-": the case), state, due ("-"). */
static int read_expected(const char *path, keys *k)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, due[40];
    size_t cap = 0, lineno = 0;
    ssize_t len;
    int rc = 0;

    if (f == NULL) {
        fprintf(stderr, "truth: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        char *field[5], *p = line, *save = NULL;
        int nf = 0, rule;

        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        for (char *t = strtok_r(p, "\t", &save); t && nf < 5; t = strtok_r(NULL, "\t", &save))
            field[nf++] = t;
        if (nf != 5 || !norm_due(field[4], due, sizeof due)) {
            fprintf(stderr, "truth: %s:%zu: expected rule, case, subject, state, due\n", path,
                    lineno);
            rc = -1;
            break;
        }
        if ((rule = rule_index(field[0])) < 0) {
            fprintf(stderr, "truth: %s:%zu: rule %s is not one the truth is kept for\n", path,
                    lineno, field[0]);
            rc = -1;
            break;
        }
        add_key(k, rule, field[0], field[1], strcmp(field[2], "-") == 0 ? "" : field[2],
                field[3], due);
    }
    free(line);
    fclose(f);
    return rc;
}

static const char *str_of(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

typedef struct found {
    const char *path;
    keys *k;
    others *o;
} found;

/* One finding of the engine's (a jsonl_fn). */
static int take_finding(void *ud, json_t *j, const char *why, size_t line)
{
    found *fd = ud;
    const char *r, *c, *s, *st;
    char due[40];
    json_t *jd;
    int rule;

    if (j == NULL) {
        fprintf(stderr, "truth: %s:%zu: %s\n", fd->path, line, why);
        return -1;
    }
    r = str_of(j, "rule");
    c = str_of(j, "case");
    s = str_of(j, "subject");
    st = str_of(j, "state");
    jd = json_object_get(j, "due");
    if (r == NULL || c == NULL || s == NULL || st == NULL ||
        !(json_is_null(jd) || json_is_string(jd)) ||
        !norm_due(json_is_string(jd) ? json_string_value(jd) : NULL, due, sizeof due)) {
        fprintf(stderr, "truth: %s:%zu: a finding needs rule, case, subject, state, due\n",
                fd->path, line);
        return -1;
    }
    if ((rule = rule_index(r)) >= 0)
        add_key(fd->k, rule, r, c, s, st, due);
    else
        add_other(fd->o, r, st);
    return 0;
}

/* The engine's findings, one JSON object per line. */
static int read_findings(const char *path, keys *k, others *o)
{
    found fd = { path, k, o };

    return jsonl_each("truth", path, take_finding, &fd) == 0 ? 0 : -1;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const key *)a)->s, ((const key *)b)->s);
}

/* The engine's finding for the same rule, case and subject as x (a miss
 * with another state or due), or NULL. */
static const key *same_subject(const key *x, const key *v, size_t n)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strncmp(v[mid].s, x->s, x->prefix) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strncmp(v[lo].s, x->s, x->prefix) == 0 ? &v[lo] : NULL;
}

/* "rule case subject state due" for reading. */
static void show(const key *x, const char *indent, const key *other_side, const char *who)
{
    printf("%s", indent);
    for (const char *p = x->s; *p; p++)
        putchar(*p == '\t' ? ' ' : *p);
    if (other_side != NULL)
        printf("   (%s: %s)", who, other_side->s + other_side->prefix);
    putchar('\n');
}

static void free_keys(keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i].s);
    free(k->v);
}

static void usage(void)
{
    fprintf(stderr, "usage: truth --expected DIR/expected.tsv --findings FILE.jsonl [--show N]\n"
                    "\n"
                    "Compare casewarden's findings with bench/gen's ground truth, per rule;\n"
                    "exit 0 only when precision and recall are 100%% for every compared rule.\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *exp_path = NULL, *found_path = NULL;
    long show_max = 20;
    keys ex = { 0 }, fd = { 0 }, miss = { 0 }, unexp = { 0 };
    others oth = { 0 };
    size_t nexp[NCOMPARED] = { 0 }, nfound[NCOMPARED] = { 0 }, ntp[NCOMPARED] = { 0 };
    size_t i = 0, j = 0, te = 0, tf = 0, tt = 0;
    bool ok = true;

    for (int a = 1; a < argc; a++) {
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (v == NULL)
            usage();
        if (strcmp(argv[a], "--expected") == 0)
            exp_path = v;
        else if (strcmp(argv[a], "--findings") == 0)
            found_path = v;
        else if (strcmp(argv[a], "--show") == 0)
            show_max = strtol(v, NULL, 10);
        else
            usage();
        a++;
    }
    if (exp_path == NULL || found_path == NULL)
        usage();
    if (read_expected(exp_path, &ex) < 0 || read_findings(found_path, &fd, &oth) < 0) {
        free_keys(&ex);
        free_keys(&fd);
        return 2;
    }
    qsort(ex.v, ex.n, sizeof *ex.v, cmp_key);
    qsort(fd.v, fd.n, sizeof *fd.v, cmp_key);

    /* Merge the two sorted lists: equal keys are true positives; a
     * repeated finding is an unexpected one. Misses and unexpected
     * findings keep borrowed copies of their keys. */
    while (i < ex.n || j < fd.n) {
        int c = i == ex.n ? 1 : j == fd.n ? -1 : strcmp(ex.v[i].s, fd.v[j].s);
        keys *to = NULL;
        key *x;

        if (c == 0) {
            nexp[ex.v[i].rule]++;
            nfound[fd.v[j].rule]++;
            ntp[ex.v[i].rule]++;
            i++;
            j++;
            continue;
        }
        if (c < 0) {
            nexp[ex.v[i].rule]++;
            x = &ex.v[i++];
            to = &miss;
        } else {
            nfound[fd.v[j].rule]++;
            x = &fd.v[j++];
            to = &unexp;
        }
        if (to->n == to->cap) {
            to->cap = to->cap ? to->cap * 2 : 256;
            to->v = xrealloc(to->v, to->cap * sizeof *to->v);
        }
        to->v[to->n++] = *x;
    }

    printf("%-26s %9s %9s %9s %10s %9s\n", "rule", "expected", "found", "tp", "precision",
           "recall");
    for (int r = 0; r < NCOMPARED; r++) {
        char p[16], rc[16];
        if (nfound[r])
            snprintf(p, sizeof p, "%.2f%%", 100.0 * (double)ntp[r] / (double)nfound[r]);
        else
            snprintf(p, sizeof p, "-");
        if (nexp[r])
            snprintf(rc, sizeof rc, "%.2f%%", 100.0 * (double)ntp[r] / (double)nexp[r]);
        else
            snprintf(rc, sizeof rc, "-");
        if (ntp[r] != nexp[r] || ntp[r] != nfound[r])
            ok = false;
        printf("%-26s %9zu %9zu %9zu %10s %9s%s\n", compared[r], nexp[r], nfound[r], ntp[r], p,
               rc, ntp[r] != nexp[r] || ntp[r] != nfound[r] ? "   <--" : "");
        te += nexp[r];
        tf += nfound[r];
        tt += ntp[r];
    }
    printf("%-26s %9zu %9zu %9zu %9.2f%% %8.2f%%\n", "all compared", te, tf, tt,
           tf ? 100.0 * (double)tt / (double)tf : 100.0, te ? 100.0 * (double)tt / (double)te : 100.0);
    if (oth.n > 0) {
        printf("not compared (no ground truth for these rules):\n");
        for (size_t k = 0; k < oth.n; k++)
            printf("  %-26s %-10s %9zu\n", oth.v[k].rule, oth.v[k].state, oth.v[k].n);
    }
    if (miss.n > 0) {
        printf("misses (expected, not found): %zu\n", miss.n);
        for (size_t k = 0; k < miss.n && (long)k < show_max; k++)
            show(&miss.v[k], "  ", same_subject(&miss.v[k], unexp.v, unexp.n), "engine");
        if ((long)miss.n > show_max)
            printf("  ... and %zu more\n", miss.n - (size_t)show_max);
    }
    if (unexp.n > 0) {
        printf("unexpected (found, not expected): %zu\n", unexp.n);
        for (size_t k = 0; k < unexp.n && (long)k < show_max; k++)
            show(&unexp.v[k], "  ", same_subject(&unexp.v[k], miss.v, miss.n), "expected");
        if ((long)unexp.n > show_max)
            printf("  ... and %zu more\n", unexp.n - (size_t)show_max);
    }
    printf("truth: %s\n", ok ? "PASS (100% precision and recall on every compared rule)"
                             : "FAIL");

    free(miss.v);
    free(unexp.v);
    free_keys(&ex);
    free_keys(&fd);
    for (size_t k = 0; k < oth.n; k++) {
        free(oth.v[k].rule);
        free(oth.v[k].state);
    }
    free(oth.v);
    return ok ? 0 : 1;
}
