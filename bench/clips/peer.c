/*
 * bench/clips/peer: the benchmark's peer, sections 2 and 4 of DOMAIN.md
 * evaluated by CLIPS 6.30 (bench/clips/rules.clp) instead of casewarden.
 *
 *     peer --events FILE --now T [--rules FILE.clp] [--tz +08:00]
 *          [--age-from day_after_birthday|birthday] [--stats]
 *     peer --list-rules [--rules FILE.clp]
 *
 * Reads the events (JSON lines, bench/gen's events.jsonl), asserts one
 * fact per event whose type the rules have a deftemplate for, runs the
 * rules once every event is in, and prints the finding facts as JSON
 * lines in the shape of `casewarden eval --format json` (rule, case,
 * subject, severity, state, due, raised), ordered by case, rule and
 * subject as eval orders them. How events become facts is written at the
 * top of rules.clp; the driver only converts values and leaves the
 * judging to the rules. Like eval, it drops events after --now and a
 * second event with an id already read.
 *
 * --age-from is how 周岁 are counted (the rules' evaluation fact):
 * day_after_birthday (DOMAIN.md and the engine's default: the day after
 * the birthday reaches the age) or birthday (the birthday itself does,
 * the engine's `age_from: birthday`). --list-rules prints the ids
 * of the rule table of the rules file, one a line. --stats prints on
 * stderr the counts, the CPU time of reading and asserting and of running
 * the rules, and the peak RSS. Exit status 0, or 2 on a usage error,
 * unreadable input or rules that do not load.
 */
#include <clips/clips.h>

#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jansson.h>

#include "bench/jsonl.h"
#include "base/timeutil.h"
#include "base/util.h"

#ifndef CW_CLIPS_RULES
#define CW_CLIPS_RULES "bench/clips/rules.clp"
#endif

/* How a slot's value is read from the event (rules.clp, at its top). */
enum slot_kind { SLOT_VALUE, SLOT_TIME, SLOT_DATE, SLOT_SEQ };

typedef struct slot {
    char *name;
    enum slot_kind kind;
    bool multi;
} slot;

/* An event type seen in the feed, with its deftemplate (NULL: the rules
 * have none, its events are read and not asserted). */
typedef struct evtype {
    char *name;
    void *tmpl;
    slot *slots;
    size_t nslots;
} evtype;

/* The event ids read, for dropping retransmissions. */
typedef struct idset {
    char **v;
    size_t n, cap;       /* cap: a power of two */
} idset;

typedef struct counts {
    size_t read, asserted, unused, after_now, duplicate, rejected;
} counts;

typedef struct peer {
    void *env;
    evtype *types;
    size_t ntypes;
    idset ids;
    DATA_OBJECT *vals;   /* one per slot of the event being asserted */
    size_t capvals;
    const char *path;    /* the feed */
    cw_time now;         /* events after it are left out */
    counts n;
} peer;

/* CPU seconds used so far: the figure the benchmark compares. */
static double cpu_s(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}

/* ---- CLIPS's output and the driver's functions ------------------------------ */

/* Everything CLIPS prints (load errors, warnings) goes to stderr: stdout
 * carries the findings. Only the output names are taken: CLIPS reads
 * strings (assert-string, the rules' file) through routers too. */
static int router_query(void *env, const char *name)
{
    static const char *const out[] = { "t", "stdout", "wdisplay", "werror", "wwarning",
                                       "wtrace", "wdialog", "wprompt", NULL };

    for (const char *const *o = out; *o; o++)
        if (strcmp(name, *o) == 0)
            return 1;
    return 0;
}

static int router_print(void *env, const char *name, const char *s)
{
    fputs(s, stderr);
    return 1;
}

static int router_getc(void *env, const char *name)
{
    return EOF;
}

static int router_ungetc(void *env, int c, const char *name)
{
    return EOF;
}

static int router_exit(void *env, int code)
{
    return 1;
}

/* (parse-time "2026-01-01T00:00:00+08:00"): the time as seconds since
 * the epoch, for constants in the rules. */
static long long parse_time_fn(void *env)
{
    const char *s;
    cw_time t;

    if (EnvArgCountCheck(env, "parse-time", EXACTLY, 1) == -1)
        return 0;
    s = EnvRtnLexeme(env, 1);
    if (s == NULL || cw_time_parse(s, strlen(s), &t, NULL) < 0) {
        EnvPrintRouter(env, WERROR, "parse-time: not an RFC 3339 time\n");
        SetEvaluationError(env, TRUE);
        return 0;
    }
    return t;
}

/* (local-date ?t ?offset): the civil date of time ?t at UTC offset
 * ?offset seconds, as the integer YYYYMMDD. A library function, as
 * CLIPS has no calendar: written in CLIPS it would make some twenty
 * numbers a call, each a walk of CLIPS's integer table. */
static long long local_date_fn(void *env)
{
    DATA_OBJECT t, off;
    int y, m, d;

    if (EnvArgCountCheck(env, "local-date", EXACTLY, 2) == -1 ||
        !EnvArgTypeCheck(env, "local-date", 1, INTEGER, &t) ||
        !EnvArgTypeCheck(env, "local-date", 2, INTEGER, &off))
        return 0;
    cw_day_to_civil(cw_time_day(DOToLong(t), (int)(DOToLong(off) / 60)), &y, &m, &d);
    return (long long)y * 10000 + m * 100 + d;
}

/* A CLIPS environment with the rules of `path` loaded and reset, or NULL
 * (the reason printed). */
static void *clips_open(const char *path)
{
    void *env = CreateEnvironment();

    if (env == NULL) {
        fprintf(stderr, "peer: cannot create a CLIPS environment\n");
        return NULL;
    }
    EnvAddRouter(env, "peer-stderr", 40, router_query, router_print, router_getc,
                 router_ungetc, router_exit);
    /* CLIPS keeps every function as int (*)(void *) and calls it by the
     * return type given ('g': long long). */
    EnvDefineFunction2(env, "parse-time", 'g', (int (*)(void *))(void (*)(void))parse_time_fn,
                       "parse_time_fn", "11s");
    EnvDefineFunction2(env, "local-date", 'g', (int (*)(void *))(void (*)(void))local_date_fn,
                       "local_date_fn", "22i");
    if (EnvLoad(env, path) != 1) {
        fprintf(stderr, "peer: %s: the rules do not load\n", path);
        DestroyEnvironment(env);
        return NULL;
    }
    EnvReset(env);
    return env;
}

/* ---- event types and their templates ------------------------------------------ */

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);

    return n >= m && strcmp(s + n - m, tail) == 0;
}

static evtype *evtype_of(peer *p, const char *name)
{
    DATA_OBJECT names;
    evtype *t;
    void *mf;

    for (size_t i = 0; i < p->ntypes; i++)
        if (strcmp(p->types[i].name, name) == 0)
            return &p->types[i];
    p->types = cw_xrealloc(p->types, (p->ntypes + 1) * sizeof *p->types);
    t = &p->types[p->ntypes++];
    memset(t, 0, sizeof *t);
    t->name = cw_xstrdup(name);
    if ((t->tmpl = EnvFindDeftemplate(p->env, name)) == NULL)
        return t;
    EnvDeftemplateSlotNames(p->env, t->tmpl, &names);
    mf = GetValue(names);
    t->nslots = (size_t)GetDOLength(names);
    t->slots = cw_xcalloc(t->nslots ? t->nslots : 1, sizeof *t->slots);
    for (size_t i = 0; i < t->nslots; i++) {
        slot *s = &t->slots[i];
        s->name = cw_xstrdup(ValueToString(GetMFValue(mf, GetDOBegin(names) + (long)i)));
        s->multi = EnvDeftemplateSlotMultiP(p->env, t->tmpl, s->name) != 0;
        if (strcmp(s->name, "seq") == 0)
            s->kind = SLOT_SEQ;
        else if (strcmp(s->name, "at") == 0 || ends_with(s->name, "_at"))
            s->kind = SLOT_TIME;
        else if (ends_with(s->name, "_date"))
            s->kind = SLOT_DATE;
    }
    if (p->capvals < t->nslots) {
        p->capvals = t->nslots;
        p->vals = cw_xrealloc(p->vals, p->capvals * sizeof *p->vals);
    }
    return t;
}

static void evtypes_free(peer *p)
{
    for (size_t i = 0; i < p->ntypes; i++) {
        for (size_t j = 0; j < p->types[i].nslots; j++)
            free(p->types[i].slots[j].name);
        free(p->types[i].slots);
        free(p->types[i].name);
    }
    free(p->types);
}

/* ---- event ids ------------------------------------------------------------- */

/* Adds id to the set; false when it was there already. */
static bool idset_add(idset *s, const char *id)
{
    size_t len = strlen(id), i;

    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1u << 16;
        char **v = cw_xcalloc(cap, sizeof *v);
        for (size_t k = 0; k < s->cap; k++) {
            if (s->v[k] == NULL)
                continue;
            for (i = cw_hash(s->v[k], strlen(s->v[k])) & (cap - 1); v[i]; i = (i + 1) & (cap - 1))
                ;
            v[i] = s->v[k];
        }
        free(s->v);
        s->v = v;
        s->cap = cap;
    }
    for (i = cw_hash(id, len) & (s->cap - 1); s->v[i]; i = (i + 1) & (s->cap - 1))
        if (strcmp(s->v[i], id) == 0)
            return false;
    s->v[i] = cw_xstrndup(id, len);
    s->n++;
    return true;
}

static void idset_free(idset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->v[i]);
    free(s->v);
}

/* ---- values ---------------------------------------------------------------- */

/* A scalar JSON value as a CLIPS field. Returns false for what has none
 * (null, objects, nested lists). */
static bool put_scalar(void *env, json_t *v, unsigned short *type, void **value)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        *type = SYMBOL;
        *value = EnvAddSymbol(env, json_string_value(v));
        return true;
    case JSON_TRUE:
        *type = SYMBOL;
        *value = EnvTrueSymbol(env);
        return true;
    case JSON_FALSE:
        *type = SYMBOL;
        *value = EnvFalseSymbol(env);
        return true;
    case JSON_INTEGER:
        *type = INTEGER;
        *value = EnvAddLong(env, (long long)json_integer_value(v));
        return true;
    case JSON_REAL:
        *type = FLOAT;
        *value = EnvAddDouble(env, json_real_value(v));
        return true;
    default:
        return false;
    }
}

/* The value of slot s from JSON value v into *out. Returns 0, or -1 when
 * v does not fit the slot (the event is rejected). */
static int slot_value(void *env, const slot *s, json_t *v, DATA_OBJECT *out)
{
    const char *text = json_string_value(v);

    if (s->kind == SLOT_TIME || s->kind == SLOT_DATE) {
        cw_time t;
        cw_day d;
        int y, m, dd;
        if (text == NULL || s->multi)
            return -1;
        if (s->kind == SLOT_TIME) {
            if (cw_time_parse(text, strlen(text), &t, NULL) < 0)
                return -1;
        } else {
            if (cw_day_parse(text, strlen(text), &d) < 0)
                return -1;
            cw_day_to_civil(d, &y, &m, &dd);
            t = (cw_time)y * 10000 + m * 100 + dd;
        }
        SetType(*out, INTEGER);
        SetValue(*out, EnvAddLong(env, t));
        return 0;
    }
    if (json_is_array(v)) {
        size_t n = json_array_size(v);
        void *mf;
        if (!s->multi)
            return -1;
        mf = EnvCreateMultifield(env, (long)n);
        for (size_t i = 0; i < n; i++) {
            unsigned short type;
            void *value;
            if (!put_scalar(env, json_array_get(v, i), &type, &value))
                return -1;
            SetMFType(mf, (long)i + 1, type);
            SetMFValue(mf, (long)i + 1, value);
        }
        SetType(*out, MULTIFIELD);
        SetValue(*out, mf);
        SetDOBegin(*out, 1);
        SetDOEnd(*out, (long)n);
        return 0;
    }
    {
        unsigned short type;
        void *value;
        if (s->multi || !put_scalar(env, v, &type, &value))
            return -1;
        SetType(*out, type);
        SetValue(*out, value);
    }
    return 0;
}

/* ---- reading the feed ---------------------------------------------------------- */

/* The values of event ev (line `line`) for the slots of t, into p->vals
 * (RVOID: not given, the slot's default). Returns 0, or -1 when a value
 * does not fit its slot. */
static int event_values(peer *p, const evtype *t, json_t *ev, size_t line)
{
    json_t *data = json_object_get(ev, "data");

    for (size_t i = 0; i < t->nslots; i++) {
        const slot *s = &t->slots[i];
        json_t *v;
        SetType(p->vals[i], RVOID);
        if (s->kind == SLOT_SEQ) {
            SetType(p->vals[i], INTEGER);
            SetValue(p->vals[i], EnvAddLong(p->env, (long long)line));
            continue;
        }
        if ((v = json_object_get(ev, s->name)) == NULL && json_is_object(data))
            v = json_object_get(data, s->name);
        if (v == NULL || json_is_null(v))
            continue;
        if (slot_value(p->env, s, v, &p->vals[i]) < 0)
            return -1;
    }
    return 0;
}

/* Assert the fact of type t with the values event_values found. */
static void assert_event(peer *p, const evtype *t)
{
    struct fact *f = EnvCreateFact(p->env, t->tmpl);

    for (size_t i = 0; i < t->nslots; i++)
        if (GetType(p->vals[i]) != RVOID)
            EnvPutFactSlot(p->env, f, t->slots[i].name, &p->vals[i]);
    EnvAssignFactSlotDefaults(p->env, f);
    if (EnvAssert(p->env, f) != NULL)
        p->n.asserted++;
}

static void reject(peer *p, size_t line, const char *why)
{
    if (p->n.rejected++ < 10)
        fprintf(stderr, "peer: %s:%zu: %s\n", p->path, line, why);
}

/* One event of the feed (a jsonl_fn): asserted, or counted as what it is. */
static int take_event(void *ud, json_t *ev, const char *why, size_t line)
{
    peer *p = ud;
    const char *id, *type, *at;
    cw_time t;
    evtype *et;

    p->n.read++;
    if (ev == NULL) {
        reject(p, line, why);
        return 0;
    }
    id = json_string_value(json_object_get(ev, "id"));
    type = json_string_value(json_object_get(ev, "type"));
    at = json_string_value(json_object_get(ev, "at"));
    if (id == NULL || type == NULL || at == NULL || cw_time_parse(at, strlen(at), &t, NULL) < 0)
        reject(p, line, "an event needs an id, a type and a time 'at'");
    else if (t > p->now)
        p->n.after_now++;
    else if ((et = evtype_of(p, type))->tmpl != NULL && event_values(p, et, ev, line) < 0)
        reject(p, line, "a field does not fit its slot in the rules' deftemplate");
    else if (!idset_add(&p->ids, id))
        p->n.duplicate++;
    else if (et->tmpl == NULL)
        p->n.unused++;
    else
        assert_event(p, et);
    return 0;
}

/* ---- the findings -------------------------------------------------------------- */

/* A finding fact read back: strings borrowed from CLIPS, valid while the
 * environment lives. */
typedef struct finding {
    const char *rule, *case_id, *subject, *severity, *state;
    cw_time raised, due;
} finding;

static const char *slot_text(void *env, void *f, const char *name)
{
    DATA_OBJECT v;

    if (!EnvGetFactSlot(env, f, name, &v) || (GetType(v) != SYMBOL && GetType(v) != STRING))
        return "";
    return DOToString(v);
}

static cw_time slot_time(void *env, void *f, const char *name)
{
    DATA_OBJECT v;

    if (!EnvGetFactSlot(env, f, name, &v) || GetType(v) != INTEGER)
        return CW_TIME_NONE;
    return DOToLong(v);
}

static int finding_cmp(const void *pa, const void *pb)
{
    const finding *a = pa, *b = pb;
    int d;

    if ((d = strcmp(a->case_id, b->case_id)) != 0)
        return d;
    if ((d = strcmp(a->rule, b->rule)) != 0)
        return d;
    return strcmp(a->subject, b->subject);
}

static json_t *json_time(cw_time t, int tz)
{
    char buf[40];

    if (t == CW_TIME_NONE)
        return json_null();
    cw_time_format(t, tz, buf, sizeof buf);
    return json_string(buf);
}

/* Print the finding facts; returns how many. */
static size_t write_findings(void *env, int tz)
{
    void *tmpl = EnvFindDeftemplate(env, "finding");
    finding *v = NULL;
    size_t n = 0, cap = 0;

    for (void *f = tmpl ? EnvGetNextFactInTemplate(env, tmpl, NULL) : NULL; f != NULL;
         f = EnvGetNextFactInTemplate(env, tmpl, f)) {
        CW_GROW(v, cap, n + 1);
        v[n].rule = slot_text(env, f, "rule");
        v[n].case_id = slot_text(env, f, "case");
        v[n].subject = slot_text(env, f, "subject");
        v[n].severity = slot_text(env, f, "severity");
        v[n].state = slot_text(env, f, "state");
        v[n].raised = slot_time(env, f, "raised");
        v[n].due = slot_time(env, f, "due");
        n++;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, finding_cmp);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "rule", json_string(v[i].rule));
        json_object_set_new(o, "case", json_string(v[i].case_id));
        json_object_set_new(o, "subject", json_string(v[i].subject));
        json_object_set_new(o, "severity", json_string(v[i].severity));
        json_object_set_new(o, "state", json_string(v[i].state));
        json_object_set_new(o, "due", json_time(v[i].due, tz));
        json_object_set_new(o, "raised", json_time(v[i].raised, tz));
        json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(o);
    }
    free(v);
    return n;
}

static void list_rules(void *env)
{
    void *tmpl = EnvFindDeftemplate(env, "rule-info");

    for (void *f = tmpl ? EnvGetNextFactInTemplate(env, tmpl, NULL) : NULL; f != NULL;
         f = EnvGetNextFactInTemplate(env, tmpl, f))
        printf("%s\n", slot_text(env, f, "id"));
}

/* ---- main ---------------------------------------------------------------------- */

static void usage(FILE *to)
{
    fprintf(to,
            "usage: peer --events FILE --now T [--rules FILE.clp] [--tz +08:00]\n"
            "            [--age-from day_after_birthday|birthday] [--stats]\n"
            "       peer --list-rules [--rules FILE.clp]\n"
            "\n"
            "Evaluate DOMAIN.md sections 2 and 4 with CLIPS over the events of FILE\n"
            "(JSON lines; - for stdin) as of T and print the findings as JSON lines.\n"
            "Default rules: %s\n",
            CW_CLIPS_RULES);
}

/* The evaluation fact: what the rules need to know besides the events. */
static void assert_evaluation(void *env, cw_time now, int tz, const char *age_from)
{
    char buf[160];

    snprintf(buf, sizeof buf, "(evaluation (now %lld) (tz-offset %d) (age-from %s))",
             (long long)now, tz * 60, age_from);
    EnvAssertString(env, buf);
}

typedef struct options {
    const char *events, *now, *rules, *tz, *age_from;
    bool stats, list;
} options;

/* The options with a value, and the switches. */
static const struct {
    const char *name;
    size_t off;
} valued[] = {
    { "--events", offsetof(options, events) }, { "--now", offsetof(options, now) },
    { "--rules", offsetof(options, rules) }, { "--tz", offsetof(options, tz) },
    { "--age-from", offsetof(options, age_from) },
}, switches[] = {
    { "--stats", offsetof(options, stats) }, { "--list-rules", offsetof(options, list) },
};

#define NELEM(a) (sizeof (a) / sizeof (a)[0])

/* Fill o from the command line. Returns 0, 1 for --help (usage printed),
 * or 2 on an error (the reason and the usage printed). */
static int parse_args(int argc, char **argv, options *o)
{
    for (int a = 1; a < argc; a++) {
        const char *opt = argv[a];
        size_t i;
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        for (i = 0; i < NELEM(switches) && strcmp(opt, switches[i].name) != 0; i++)
            ;
        if (i < NELEM(switches)) {
            *(bool *)((char *)o + switches[i].off) = true;
            continue;
        }
        for (i = 0; i < NELEM(valued) && strcmp(opt, valued[i].name) != 0; i++)
            ;
        if (i == NELEM(valued) || a + 1 >= argc) {
            fprintf(stderr, "peer: %s '%s'\n",
                    i < NELEM(valued) ? "a value is needed after" : "unknown option", opt);
            usage(stderr);
            return 2;
        }
        *(const char **)((char *)o + valued[i].off) = argv[++a];
    }
    if (strcmp(o->age_from, "birthday") != 0 && strcmp(o->age_from, "day_after_birthday") != 0) {
        fprintf(stderr, "peer: --age-from is birthday or day_after_birthday, not '%s'\n",
                o->age_from);
        return 2;
    }
    if (!o->list && (o->events == NULL || o->now == NULL)) {
        fprintf(stderr, "peer: --events FILE and --now T are needed\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

/* Read the feed, run the rules, print the findings (and with --stats
 * what it took). Returns 0, or 2 when the feed cannot be read. */
static int evaluate(peer *p, const options *o, int tz)
{
    double t0 = cpu_s(), t1, t2;
    long long fired;
    size_t nfind, nfacts;
    struct rusage ru;

    assert_evaluation(p->env, p->now, tz, o->age_from);
    if (jsonl_each("peer", o->events, take_event, p) < 0)
        return 2;
    t1 = cpu_s();
    fired = EnvRun(p->env, -1);
    t2 = cpu_s();
    nfacts = GetNumberOfFacts(p->env);
    nfind = write_findings(p->env, tz);
    fflush(stdout);
    if (o->stats) {
        getrusage(RUSAGE_SELF, &ru);
        fprintf(stderr,
                "peer: %zu events read, %zu asserted, %zu of types the rules do not use, "
                "%zu after now, %zu duplicate, %zu rejected\n"
                "peer: CPU: read and assert %.3f s, rules %.3f s; %lld rules fired, %zu facts, "
                "%zu findings; peak RSS %.1f MiB\n",
                p->n.read, p->n.asserted, p->n.unused, p->n.after_now, p->n.duplicate,
                p->n.rejected, t1 - t0, t2 - t1, fired, nfacts, nfind,
                (double)ru.ru_maxrss / 1024.0);
    }
    return 0;
}

int main(int argc, char **argv)
{
    options o = { .rules = CW_CLIPS_RULES, .tz = "+08:00", .age_from = "day_after_birthday" };
    peer p;
    int tz, rc;

    memset(&p, 0, sizeof p);
    if ((rc = parse_args(argc, argv, &o)) != 0)
        return rc == 1 ? 0 : rc;
    if (cw_tz_parse(o.tz, &tz) < 0) {
        fprintf(stderr, "peer: --tz '%s' is not an offset such as +08:00\n", o.tz);
        return 2;
    }
    if (!o.list && cw_time_parse(o.now, strlen(o.now), &p.now, NULL) < 0) {
        fprintf(stderr, "peer: --now '%s' is not an RFC 3339 time\n", o.now);
        return 2;
    }
    if ((p.env = clips_open(o.rules)) == NULL)
        return 2;
    p.path = o.events;
    if (o.list)
        list_rules(p.env);
    else
        rc = evaluate(&p, &o, tz);
    DestroyEnvironment(p.env);
    evtypes_free(&p);
    idset_free(&p.ids);
    free(p.vals);
    return rc;
}
