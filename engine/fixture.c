#include "fixture.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

typedef struct expect {
    const char *rule, *case_id, *subject, *unit, *severity, *message;
    int state;               /* -1 = any */
    cw_time due, raised;     /* CW_TIME_NONE = any */
    bool due_none;           /* `due: null`: the finding has no due time */
    int line;
} expect;

typedef struct suite {
    const cw_ydoc *doc;
    const cw_ruleset *rs;
    const cw_ynode *rules;   /* file-level list of rules under test */
    const char *def_case, *def_unit;
    FILE *out;
    int verbose;
} suite;

/* YAML scalars become JSON by their look, as a YAML 1.2 core schema
 * reader would type them; quoted scalars stay strings. */
static json_t *to_json(const cw_ynode *n)
{
    json_t *j;

    switch (n->type) {
    case CW_Y_SCALAR:
        if (n->quoted)
            return json_stringn(n->text, n->len);
        if (cw_ynode_is_null(n))
            return json_null();
        if (strcmp(n->text, "true") == 0)
            return json_true();
        if (strcmp(n->text, "false") == 0)
            return json_false();
        {
            char *end;
            long long v = strtoll(n->text, &end, 10);
            if (*end == '\0' && n->len > 0 && n->len < 19 &&
                (n->text[0] != '0' || n->len == 1))
                return json_integer(v);
        }
        return json_stringn(n->text, n->len);
    case CW_Y_SEQ:
        j = json_array();
        for (size_t i = 0; j && i < n->n; i++)
            json_array_append_new(j, to_json(n->kids[i]));
        return j;
    default:
        j = json_object();
        for (size_t i = 0; j && i < cw_ymap_size(n); i++)
            json_object_set_new(j, cw_ymap_key(n, i)->text, to_json(cw_ymap_val(n, i)));
        return j;
    }
}

/* Envelope strings written without quotes (unit: 370102) are meant as
 * strings; say so rather than fail on a YAML technicality. */
static void stringify(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        json_object_set_new(o, key, json_string(buf));
    }
}

static int load_events(const suite *s, const cw_ynode *events, cw_store *st,
                       cw_event_parser *p, char *why, size_t whysize)
{
    for (size_t i = 0; events && i < events->n; i++) {
        const cw_ynode *n = events->kids[i];
        json_t *o;
        char *text, id[32];
        cw_event_error e;
        cw_event *ev;
        cw_err err;
        int rc;

        if (n->type != CW_Y_MAP) {
            snprintf(why, whysize, "%s:%d: an event must be a map", s->doc->path, n->line);
            return -1;
        }
        o = to_json(n);
        snprintf(id, sizeof id, "e%zu", i + 1);
        if (json_object_get(o, "id") == NULL)
            json_object_set_new(o, "id", json_string(id));
        if (json_object_get(o, "case") == NULL && s->def_case)
            json_object_set_new(o, "case", json_string(s->def_case));
        if (json_object_get(o, "unit") == NULL && s->def_unit)
            json_object_set_new(o, "unit", json_string(s->def_unit));
        stringify(o, "id");
        stringify(o, "case");
        stringify(o, "unit");
        stringify(o, "actor");
        text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (text == NULL) {
            snprintf(why, whysize, "out of memory");
            return -1;
        }
        rc = cw_event_parse(p, text, strlen(text), &ev, &e);
        free(text);
        if (rc < 0) {
            snprintf(why, whysize, "%s:%d: event %s: %s%s%s%s", s->doc->path, n->line,
                     e.id[0] ? e.id : "(no id)", e.field[0] ? "field '" : "", e.field,
                     e.field[0] ? "': " : "", e.err.msg);
            return -1;
        }
        ev->seq = i + 1;
        if (cw_store_add(st, ev, NULL, &err) < 0) {
            snprintf(why, whysize, "%s", err.msg);
            return -1;
        }
    }
    return 0;
}

static int read_time(const cw_ynode *v, cw_time *t)
{
    return v && v->type == CW_Y_SCALAR ? cw_time_parse(v->text, v->len, t, NULL) : -1;
}

static const char *str_of(const cw_ynode *m, const char *key)
{
    const cw_ynode *v = cw_ymap_get(m, key);

    if (v == NULL || v->type != CW_Y_SCALAR)
        return NULL;
    return v->text;
}

static int read_expect(const suite *s, const cw_ynode *m, expect *x, char *why, size_t whysize)
{
    static const char *const keys[] = { "rule", "case", "subject", "unit", "severity",
                                        "message", "state", "due", "raised", NULL };
    const cw_ynode *v;

    memset(x, 0, sizeof *x);
    x->state = -1;
    x->due = x->raised = CW_TIME_NONE;
    x->line = m->line;
    if (m->type != CW_Y_MAP) {
        snprintf(why, whysize, "%s:%d: an expectation must be a map", s->doc->path, m->line);
        return -1;
    }
    for (size_t i = 0; i < cw_ymap_size(m); i++) {
        size_t k;
        for (k = 0; keys[k]; k++)
            if (strcmp(keys[k], cw_ymap_key(m, i)->text) == 0)
                break;
        if (keys[k] == NULL) {
            snprintf(why, whysize, "%s:%d: unknown expectation field '%s'", s->doc->path,
                     cw_ymap_key(m, i)->line, cw_ymap_key(m, i)->text);
            return -1;
        }
    }
    x->rule = str_of(m, "rule");
    x->case_id = str_of(m, "case");
    x->subject = str_of(m, "subject");
    x->unit = str_of(m, "unit");
    x->severity = str_of(m, "severity");
    x->message = str_of(m, "message");
    if (x->rule && cw_ruleset_find(s->rs, x->rule) == NULL) {
        snprintf(why, whysize, "%s:%d: unknown rule '%s'", s->doc->path, m->line, x->rule);
        return -1;
    }
    if ((v = cw_ymap_get(m, "state")) != NULL &&
        (v->type != CW_Y_SCALAR || (x->state = cw_state_parse(v->text)) < 0)) {
        snprintf(why, whysize, "%s:%d: unknown state '%s'", s->doc->path, v->line,
                 v->text ? v->text : "");
        return -1;
    }
    if ((v = cw_ymap_get(m, "due")) != NULL) {
        if (cw_ynode_is_null(v))
            x->due_none = true;
        else if (read_time(v, &x->due) < 0) {
            snprintf(why, whysize, "%s:%d: due: not an RFC 3339 time", s->doc->path, v->line);
            return -1;
        }
    }
    if ((v = cw_ymap_get(m, "raised")) != NULL && read_time(v, &x->raised) < 0) {
        snprintf(why, whysize, "%s:%d: raised: not an RFC 3339 time", s->doc->path, v->line);
        return -1;
    }
    return 0;
}

static bool matches(const expect *x, const cw_finding *f)
{
    return (!x->rule || strcmp(x->rule, f->rule) == 0) &&
           (!x->case_id || strcmp(x->case_id, f->case_id) == 0) &&
           (!x->subject || strcmp(x->subject, f->subject) == 0) &&
           (!x->unit || strcmp(x->unit, f->unit) == 0) &&
           (!x->severity || strcmp(x->severity, f->severity) == 0) &&
           (!x->message || strstr(f->message, x->message) != NULL) &&
           (x->state < 0 || x->state == f->state) &&
           (x->due == CW_TIME_NONE || x->due == f->due) &&
           (!x->due_none || f->due == CW_TIME_NONE) &&
           (x->raised == CW_TIME_NONE || x->raised == f->raised);
}

static void print_expect(FILE *out, const expect *x, int tz)
{
    char due[40] = "*";

    if (x->due != CW_TIME_NONE)
        cw_time_format(x->due, tz, due, sizeof due);
    else if (x->due_none)
        snprintf(due, sizeof due, "-");
    fprintf(out, "%s %s %s %s due=%s%s%s%s (line %d)\n", x->rule ? x->rule : "*",
            x->case_id ? x->case_id : "*", x->subject ? (x->subject[0] ? x->subject : "\"\"") : "*",
            x->state >= 0 ? cw_state_name(x->state) : "*", due,
            x->message ? " message~\"" : "", x->message ? x->message : "",
            x->message ? "\"" : "", x->line);
}

static void print_finding(FILE *out, const cw_finding *f, int tz)
{
    char due[40] = "-";

    if (f->due != CW_TIME_NONE)
        cw_time_format(f->due, tz, due, sizeof due);
    fprintf(out, "%s %s %s %s due=%s \"%s\"\n", f->rule, f->case_id,
            f->subject[0] ? f->subject : "\"\"", cw_state_name(f->state), due, f->message);
}

static bool rule_in(const cw_ynode *list, const char *id)
{
    if (list == NULL)
        return true;
    for (size_t i = 0; i < list->n; i++)
        if (list->kids[i]->type == CW_Y_SCALAR && strcmp(list->kids[i]->text, id) == 0)
            return true;
    return false;
}

/* One test. Returns 1 on pass, 0 on fail (with the reasons printed). */
static int run_test(const suite *s, const cw_ynode *t, cw_event_parser *p)
{
    const cw_ynode *events = cw_ymap_get(t, "events"), *exp = cw_ymap_get(t, "expect"),
                   *abs = cw_ymap_get(t, "absent"), *rules = cw_ymap_get(t, "rules");
    const char *name = str_of(t, "name");
    cw_findings got = { 0 };
    cw_store *st = NULL;
    expect *xs = NULL;
    bool *used = NULL;
    size_t nx = exp ? exp->n : 0;
    char why[512] = "";
    cw_time now;
    cw_err err;
    int ok = 1;

    if (name == NULL)
        name = "(unnamed)";
    if (rules == NULL)
        rules = s->rules;
    if (t->type != CW_Y_MAP || read_time(cw_ymap_get(t, "now"), &now) < 0) {
        snprintf(why, sizeof why, "%s:%d: a test needs `now:` as an RFC 3339 time",
                 s->doc->path, t->line);
        goto fail;
    }
    if ((events && events->type != CW_Y_SEQ) || (exp && exp->type != CW_Y_SEQ) ||
        (abs && abs->type != CW_Y_SEQ)) {
        snprintf(why, sizeof why, "%s:%d: events, expect and absent are lists",
                 s->doc->path, t->line);
        goto fail;
    }
    for (size_t i = 0; rules && i < rules->n; i++)
        if (rules->kids[i]->type != CW_Y_SCALAR ||
            cw_ruleset_find(s->rs, rules->kids[i]->text) == NULL) {
            snprintf(why, sizeof why, "%s:%d: unknown rule '%s'", s->doc->path,
                     rules->kids[i]->line, rules->kids[i]->text ? rules->kids[i]->text : "");
            goto fail;
        }
    if (cw_eval_store_new(s->rs, &st, &err) < 0) {
        snprintf(why, sizeof why, "%s", err.msg);
        goto fail;
    }
    if (load_events(s, events, st, p, why, sizeof why) < 0)
        goto fail;
    if (cw_eval_all(s->rs, st, now, cw_findings_emit, &got) < 0) {
        snprintf(why, sizeof why, "evaluation failed: out of memory");
        goto fail;
    }
    cw_findings_sort(&got);
    xs = calloc(nx + 1, sizeof *xs);
    used = calloc(got.n + 1, sizeof *used);
    if (xs == NULL || used == NULL) {
        snprintf(why, sizeof why, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < nx; i++)
        if (read_expect(s, exp->kids[i], &xs[i], why, sizeof why) < 0)
            goto fail;
    /* Each expectation takes one finding of its own. */
    for (size_t i = 0; i < nx; i++) {
        size_t j;
        for (j = 0; j < got.n; j++)
            if (!used[j] && matches(&xs[i], &got.v[j]))
                break;
        if (j < got.n) {
            used[j] = true;
            continue;
        }
        if (ok)
            fprintf(s->out, "FAIL %s:%d: %s\n", s->doc->path, t->line, name);
        ok = 0;
        fprintf(s->out, "  missing:    ");
        print_expect(s->out, &xs[i], s->rs->tz);
    }
    /* Findings of the rules under test that nobody expected. */
    for (size_t j = 0; j < got.n; j++) {
        if (used[j] || !rule_in(rules, got.v[j].rule))
            continue;
        if (exp == NULL && abs != NULL)
            continue;    /* a test of absences only says what must not be */
        if (ok)
            fprintf(s->out, "FAIL %s:%d: %s\n", s->doc->path, t->line, name);
        ok = 0;
        fprintf(s->out, "  unexpected: ");
        print_finding(s->out, &got.v[j], s->rs->tz);
    }
    for (size_t i = 0; abs && i < abs->n; i++) {
        expect x;
        if (read_expect(s, abs->kids[i], &x, why, sizeof why) < 0)
            goto fail;
        for (size_t j = 0; j < got.n; j++)
            if (matches(&x, &got.v[j])) {
                if (ok)
                    fprintf(s->out, "FAIL %s:%d: %s\n", s->doc->path, t->line, name);
                ok = 0;
                fprintf(s->out, "  present but expected absent (line %d): ", x.line);
                print_finding(s->out, &got.v[j], s->rs->tz);
            }
    }
    if (!ok) {
        fprintf(s->out, "  got (%zu):\n", got.n);
        for (size_t j = 0; j < got.n; j++) {
            fprintf(s->out, "    ");
            print_finding(s->out, &got.v[j], s->rs->tz);
        }
    } else if (s->verbose) {
        fprintf(s->out, "ok   %s:%d: %s\n", s->doc->path, t->line, name);
    }
    goto out;
fail:
    fprintf(s->out, "FAIL %s:%d: %s\n  %s\n", s->doc->path, t->line, name, why);
    ok = 0;
out:
    free(xs);
    free(used);
    cw_findings_clear(&got);
    cw_store_free(st);
    return ok;
}

int cw_fixture_run_file(const cw_ruleset *rs, const char *path, FILE *out,
                        int verbose, cw_fixture_stats *stats)
{
    static const char *const keys[] = { "rules", "defaults", "tests", NULL };
    cw_event_parser *p = NULL;
    const cw_ynode *tests, *defs;
    cw_ydoc *doc = NULL;
    suite s = { 0 };
    cw_err err;

    if (cw_ydoc_load(&doc, path, &err) < 0) {
        fprintf(out, "FAIL %s\n", err.msg);
        stats->failed++;
        return 0;
    }
    for (size_t i = 0; i < cw_ymap_size(doc->root); i++) {
        size_t k;
        for (k = 0; keys[k]; k++)
            if (strcmp(keys[k], cw_ymap_key(doc->root, i)->text) == 0)
                break;
        if (keys[k] == NULL) {
            fprintf(out, "FAIL %s:%d: unknown field '%s'\n", path,
                    cw_ymap_key(doc->root, i)->line, cw_ymap_key(doc->root, i)->text);
            stats->failed++;
            cw_ydoc_free(doc);
            return 0;
        }
    }
    tests = cw_ymap_get(doc->root, "tests");
    if (tests == NULL || tests->type != CW_Y_SEQ || cw_event_parser_new(&p, rs->cat) < 0) {
        fprintf(out, "FAIL %s: expected a top-level `tests:` list\n", path);
        stats->failed++;
        cw_ydoc_free(doc);
        return 0;
    }
    s.doc = doc;
    s.rs = rs;
    s.out = out;
    s.verbose = verbose;
    s.rules = cw_ymap_get(doc->root, "rules");
    if (s.rules && s.rules->type != CW_Y_SEQ)
        s.rules = NULL;
    defs = cw_ymap_get(doc->root, "defaults");
    s.def_case = str_of(defs, "case");
    s.def_unit = str_of(defs, "unit");
    for (size_t i = 0; i < tests->n; i++) {
        if (run_test(&s, tests->kids[i], p))
            stats->passed++;
        else
            stats->failed++;
    }
    cw_event_parser_free(p);
    cw_ydoc_free(doc);
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cw_fixture_run_dir(const cw_ruleset *rs, const char *dir, FILE *out,
                       int verbose, cw_fixture_stats *stats, cw_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;

    if (d == NULL)
        return cw_err_set(err, CW_EIO, "%s: cannot open fixture directory", dir);
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        char **nn;
        if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0 || de->d_name[0] == '.')
            continue;
        nn = realloc(names, (n + 1) * sizeof *nn);
        if (nn == NULL)
            break;
        names = nn;
        if ((names[n] = malloc(strlen(dir) + len + 2)) == NULL)
            break;
        sprintf(names[n++], "%s/%s", dir, de->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        cw_fixture_run_file(rs, names[i], out, verbose, stats);
        free(names[i]);
    }
    free(names);
    return 0;
}
