/*
 * bench/clips/compare: the CLIPS peer's findings against casewarden's, on
 * the rules the peer implements.
 *
 *     compare --rules ID,ID,... [--show N] PEER.jsonl EVAL.jsonl
 *
 * Both files are findings as `casewarden eval --format json` prints them
 * (bench/clips/peer prints the same shape). Only the rules named are
 * compared (the peer's: `peer --list-rules`); EVAL.jsonl may hold every
 * rule. Two findings are equal when rule, case, subject, state, raised
 * and due are (times as instants). Prints, per rule, the findings of
 * each side and those on both, then up to N (default 20) differences:
 * one finding with another state or time on each side, or a finding on
 * one side only. Exit status 0 when the two are equal, 1 when they
 * differ, 2 on a usage or input error.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench/jsonl.h"
#include "base/timeutil.h"
#include "base/util.h"

#define TZ 480          /* times are shown at +08:00 whatever they were written in */

/* A finding as compared: who ("rule\tcase\tsubject", subject "-" for the
 * case itself) and what ("state\traised\tdue", times at +08:00, "-" for
 * none). */
typedef struct entry {
    char *who, *what;
    size_t rule;
} entry;

typedef struct side {
    const char *name;
    entry *v;
    size_t n, cap;
    size_t *per_rule;
} side;

typedef struct ruleset {
    char **id;
    size_t n;
} ruleset;

static long rule_of(const ruleset *rs, const char *id)
{
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->id[i], id) == 0)
            return (long)i;
    return -1;
}

/* A time field as text at +08:00: "-" for null; false when it is neither
 * null nor a time. */
static bool time_text(json_t *v, char *out, size_t size)
{
    const char *s = json_string_value(v);
    cw_time t;

    if (v == NULL || json_is_null(v)) {
        snprintf(out, size, "-");
        return true;
    }
    if (s == NULL || cw_time_parse(s, strlen(s), &t, NULL) < 0)
        return false;
    cw_time_format(t, TZ, out, size);
    return true;
}

typedef struct reading {
    side *s;
    const char *path;
    const ruleset *rs;
} reading;

/* One finding (a jsonl_fn): kept when its rule is compared. */
static int take_finding(void *ud, json_t *j, const char *why, size_t line)
{
    reading *rd = ud;
    side *s = rd->s;
    const char *rule, *cid, *subj, *state;
    char raised[40], due[40];
    long r;

    if (j == NULL) {
        fprintf(stderr, "compare: %s:%zu: %s\n", rd->path, line, why);
        return -1;
    }
    rule = json_string_value(json_object_get(j, "rule"));
    cid = json_string_value(json_object_get(j, "case"));
    subj = json_string_value(json_object_get(j, "subject"));
    state = json_string_value(json_object_get(j, "state"));
    if (rule == NULL || cid == NULL || subj == NULL || state == NULL ||
        !time_text(json_object_get(j, "raised"), raised, sizeof raised) ||
        !time_text(json_object_get(j, "due"), due, sizeof due)) {
        fprintf(stderr, "compare: %s:%zu: a finding needs rule, case, subject, state, raised "
                        "and due\n", rd->path, line);
        return -1;
    }
    if ((r = rule_of(rd->rs, rule)) < 0)
        return 0;
    CW_GROW(s->v, s->cap, s->n + 1);
    s->v[s->n].who = cw_xasprintf("%s\t%s\t%s", rule, cid, subj[0] ? subj : "-");
    s->v[s->n].what = cw_xasprintf("%s\t%s\t%s", state, raised, due);
    s->v[s->n].rule = (size_t)r;
    s->per_rule[r]++;
    s->n++;
    return 0;
}

/* Read the findings of the compared rules from path into s. Returns 0 or
 * -1 (the reason printed). */
static int read_side(side *s, const char *path, const ruleset *rs)
{
    reading rd = { s, path, rs };

    return jsonl_each("compare", path, take_finding, &rd) == 0 ? 0 : -1;
}

static int entry_cmp(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    int d = strcmp(a->who, b->who);

    return d ? d : strcmp(a->what, b->what);
}

/* Tabs as spaces, for reading. */
static void put_fields(const char *s)
{
    for (; *s; s++)
        putchar(*s == '\t' ? ' ' : *s);
}

/* One difference: e of side `in`, and the entry of the other side with
 * the same who (NULL: none). */
static void show_one(const entry *e, const char *in, const entry *other, const char *other_in)
{
    printf("  ");
    put_fields(e->who);
    if (other == NULL) {
        printf(": only in %s: ", in);
        put_fields(e->what);
    } else {
        printf(": %s ", in);
        put_fields(e->what);
        printf(", %s ", other_in);
        put_fields(other->what);
    }
    putchar('\n');
}

/* The first entry of o (NULLs skipped) with the same who as e; taken out
 * of o. */
static const entry *take_same_who(const entry *e, entry **o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (o[i] != NULL && strcmp(o[i]->who, e->who) == 0) {
            const entry *x = o[i];
            o[i] = NULL;
            return x;
        }
    return NULL;
}

/* Print the differences, at most show of them: each entry of only_a with
 * its counterpart in only_b when there is one, then the rest of only_b.
 * Returns how many there are. */
static size_t show_differences(entry **only_a, size_t na, entry **only_b, size_t nb,
                               const side *a, const side *b, long show)
{
    size_t total = 0;

    for (size_t i = 0; i < na; i++) {
        const entry *o = take_same_who(only_a[i], only_b, nb);
        if ((long)total++ < show)
            show_one(only_a[i], a->name, o, b->name);
    }
    for (size_t k = 0; k < nb; k++)
        if (only_b[k] != NULL && (long)total++ < show)
            show_one(only_b[k], b->name, NULL, NULL);
    if ((long)total > show)
        printf("  ... and %zu more\n", total - (size_t)show);
    return total;
}

static void side_free(side *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].who);
        free(s->v[i].what);
    }
    free(s->v);
    free(s->per_rule);
}

static void usage(void)
{
    fprintf(stderr, "usage: compare --rules ID,ID,... [--show N] PEER.jsonl EVAL.jsonl\n"
                    "\n"
                    "Compare the CLIPS peer's findings with casewarden eval's on the rules\n"
                    "named: exit 0 when they are equal, 1 when they differ.\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *files[2] = { NULL, NULL };
    char *rules_arg = NULL;
    long show = 20;
    int nfiles = 0, rc = 2;
    ruleset rs = { 0 };
    side a = { .name = "peer" }, b = { .name = "eval" };
    entry **only_a = NULL, **only_b = NULL;
    size_t na = 0, nb = 0, i = 0, j = 0, *both = NULL, nboth = 0;

    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--rules") == 0 && k + 1 < argc)
            rules_arg = argv[++k];
        else if (strcmp(argv[k], "--show") == 0 && k + 1 < argc)
            show = strtol(argv[++k], NULL, 10);
        else if (argv[k][0] != '-' && nfiles < 2)
            files[nfiles++] = argv[k];
        else
            usage();
    }
    if (rules_arg == NULL || nfiles != 2)
        usage();
    rules_arg = cw_xstrdup(rules_arg);
    for (char *save = NULL, *t = strtok_r(rules_arg, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        rs.id = cw_xrealloc(rs.id, (rs.n + 1) * sizeof *rs.id);
        rs.id[rs.n++] = t;
    }
    if (rs.n == 0)
        usage();
    a.per_rule = cw_xcalloc(rs.n, sizeof *a.per_rule);
    b.per_rule = cw_xcalloc(rs.n, sizeof *b.per_rule);
    both = cw_xcalloc(rs.n, sizeof *both);
    if (read_side(&a, files[0], &rs) < 0 || read_side(&b, files[1], &rs) < 0)
        goto out;
    qsort(a.v, a.n, sizeof *a.v, entry_cmp);
    qsort(b.v, b.n, sizeof *b.v, entry_cmp);
    only_a = cw_xcalloc(a.n + 1, sizeof *only_a);
    only_b = cw_xcalloc(b.n + 1, sizeof *only_b);
    /* Both sorted: equal entries are on both sides, the others on one. */
    while (i < a.n || j < b.n) {
        int c = i == a.n ? 1 : j == b.n ? -1 : entry_cmp(&a.v[i], &b.v[j]);
        if (c == 0) {
            both[a.v[i].rule]++;
            nboth++;
            i++;
            j++;
        } else if (c < 0) {
            only_a[na++] = &a.v[i++];
        } else {
            only_b[nb++] = &b.v[j++];
        }
    }

    printf("%-26s %9s %9s %9s\n", "rule", a.name, b.name, "equal");
    for (size_t r = 0; r < rs.n; r++)
        printf("%-26s %9zu %9zu %9zu%s\n", rs.id[r], a.per_rule[r], b.per_rule[r], both[r],
               both[r] != a.per_rule[r] || both[r] != b.per_rule[r] ? "   <--" : "");
    printf("%-26s %9zu %9zu %9zu\n", "all", a.n, b.n, nboth);
    if (na + nb == 0) {
        printf("equal: yes\n");
        rc = 0;
    } else {
        printf("equal: no\ndifferences (rule case subject: state raised due):\n");
        show_differences(only_a, na, only_b, nb, &a, &b, show);
        rc = 1;
    }
out:
    free(only_a);
    free(only_b);
    free(both);
    side_free(&a);
    side_free(&b);
    free(rs.id);
    free(rules_arg);
    return rc;
}
