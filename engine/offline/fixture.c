#include "offline/fixture.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "offline/eval.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "base/yamltree.h"

/* A growable text buffer. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t len)
{
    CW_GROW(b->p, b->cap, b->n + len + 1);
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_put(b, tmp, n < 0 ? 0 : (size_t)n >= sizeof tmp ? sizeof tmp - 1 : (size_t)n);
}

static void sb_json_str(sbuf *b, const char *s, size_t len)
{
    sb_puts(b, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            sb_put(b, e, 2);
        } else if (c < 0x20) {
            sb_printf(b, "\\u%04x", c);
        } else {
            sb_put(b, (const char *)&s[i], 1);
        }
    }
    sb_puts(b, "\"");
}

/* A YAML scalar as JSON: unquoted null, booleans and integers as such
 * unless the field is text; everything else a string. */
static void scalar_json(sbuf *b, const cw_ynode *n, bool text)
{
    if (!text && !n->quoted) {
        char *end;
        if (cw_ynode_is_null(n)) {
            sb_puts(b, "null");
            return;
        }
        if (strcmp(n->text, "true") == 0 || strcmp(n->text, "false") == 0) {
            sb_puts(b, n->text);
            return;
        }
        strtoll(n->text, &end, 10);
        if (*end == '\0' && end != n->text) {
            sb_puts(b, n->text);
            return;
        }
    }
    sb_json_str(b, n->text, n->len);
}

static void node_json(sbuf *b, const cw_ynode *n, bool text)
{
    switch (n->type) {
    case CW_Y_SCALAR:
        scalar_json(b, n, text);
        return;
    case CW_Y_SEQ:
        sb_puts(b, "[");
        for (size_t i = 0; i < n->n; i++) {
            if (i)
                sb_puts(b, ",");
            node_json(b, n->kids[i], text);
        }
        sb_puts(b, "]");
        return;
    case CW_Y_MAP:
        sb_puts(b, "{");
        for (size_t i = 0; i < cw_ymap_size(n); i++) {
            if (i)
                sb_puts(b, ",");
            sb_json_str(b, cw_ymap_key(n, i)->text, cw_ymap_key(n, i)->len);
            sb_puts(b, ":");
            node_json(b, cw_ymap_val(n, i), false);
        }
        sb_puts(b, "}");
        return;
    }
}

/* One fixture event as envelope JSON, defaults filled in. */
static void event_json(const cw_ruleset *rs, const cw_ynode *ev, const cw_ynode *defaults,
                       int index, sbuf *b)
{
    static const char *const env[] = { "id", "type", "case", "unit", "at", "actor" };
    const cw_type_spec *t = NULL;
    const cw_ynode *ty = cw_ymap_get(ev, "type"), *data;
    bool first = true;

    if (ty && ty->type == CW_Y_SCALAR)
        t = cw_catalogue_find(rs->cat, ty->text, ty->len);
    sb_puts(b, "{");
    for (size_t k = 0; k < sizeof env / sizeof *env; k++) {
        const cw_ynode *v = cw_ymap_get(ev, env[k]);
        if (v == NULL)
            v = cw_ymap_get(defaults, env[k]);
        if (v == NULL && k == 0) {
            sb_printf(b, "\"id\":\"e%d\"", index);
            first = false;
            continue;
        }
        if (v == NULL || (v->type == CW_Y_SCALAR && cw_ynode_is_null(v)))
            continue;
        sb_printf(b, "%s\"%s\":", first ? "" : ",", env[k]);
        node_json(b, v, true);
        first = false;
    }
    if ((data = cw_ymap_get(ev, "data")) != NULL && data->type == CW_Y_MAP) {
        sb_puts(b, ",\"data\":{");
        for (size_t i = 0; i < cw_ymap_size(data); i++) {
            const cw_ynode *k = cw_ymap_key(data, i);
            const cw_field_spec *f = t ? cw_type_field(t, k->text, k->len) : NULL;
            bool text = f && (f->type == CW_FT_STRING || f->type == CW_FT_ENUM ||
                              f->type == CW_FT_TIME || f->type == CW_FT_DATE || f->type == CW_FT_LIST);
            if (i)
                sb_puts(b, ",");
            sb_json_str(b, k->text, k->len);
            sb_puts(b, ":");
            node_json(b, cw_ymap_val(data, i), text);
        }
        sb_puts(b, "}");
    } else if (data != NULL) {
        sb_puts(b, ",\"data\":");
        node_json(b, data, false);
    }
    /* other keys go through, so a fixture can test the envelope itself */
    for (size_t i = 0; i < cw_ymap_size(ev); i++) {
        const char *k = cw_ymap_key(ev, i)->text;
        bool known = strcmp(k, "data") == 0;
        for (size_t j = 0; j < sizeof env / sizeof *env; j++)
            known = known || strcmp(k, env[j]) == 0;
        if (known)
            continue;
        sb_puts(b, ",");
        sb_json_str(b, k, strlen(k));
        sb_puts(b, ":");
        node_json(b, cw_ymap_val(ev, i), false);
    }
    sb_puts(b, "}");
}

/* An expectation: every given field must match. */
typedef struct pattern {
    const char *rule, *case_id, *subject, *unit, *severity, *state, *message;
    bool has_due, due_none, has_raised;
    cw_time due, raised;
    int line;
} pattern;

static const char *const pattern_keys[] = {
    "rule", "case", "subject", "unit", "severity", "state", "due", "raised", "message", NULL
};

static int read_pattern(const cw_ydoc *d, const cw_ynode *n, pattern *p, cw_err *err)
{
    memset(p, 0, sizeof *p);
    p->line = n->line;
    if (n->type != CW_Y_MAP)
        return cw_err_set(err, CW_EPARSE, "%s:%d: an expectation is a map {rule: ..., state: ...}",
                          d->path, n->line);
    for (size_t i = 0; i < cw_ymap_size(n); i++) {
        const char *k = cw_ymap_key(n, i)->text;
        const cw_ynode *v = cw_ymap_val(n, i);
        int j;
        for (j = 0; pattern_keys[j]; j++)
            if (strcmp(k, pattern_keys[j]) == 0)
                break;
        if (pattern_keys[j] == NULL)
            return cw_err_set(err, CW_EPARSE, "%s:%d: unknown key '%s' in an expectation (rule, case, "
                              "subject, unit, severity, state, due, raised, message)",
                              d->path, cw_ymap_key(n, i)->line, k);
        if (v->type != CW_Y_SCALAR)
            return cw_err_set(err, CW_EPARSE, "%s:%d: '%s' must be a plain value", d->path, v->line, k);
        if (strcmp(k, "due") == 0 || strcmp(k, "raised") == 0) {
            cw_time t;
            bool due = k[0] == 'd';
            if (due && cw_ynode_is_null(v)) {
                p->has_due = p->due_none = true;
                continue;
            }
            if (cw_time_parse(v->text, v->len, &t, NULL) < 0)
                return cw_err_set(err, CW_EPARSE, "%s:%d: %s: '%s' is not an RFC 3339 time",
                                  d->path, v->line, k, v->text);
            if (due) {
                p->has_due = true;
                p->due = t;
            } else {
                p->has_raised = true;
                p->raised = t;
            }
            continue;
        }
        if (strcmp(k, "state") == 0 && cw_state_parse(v->text) < 0)
            return cw_err_set(err, CW_EPARSE, "%s:%d: unknown state '%s'", d->path, v->line, v->text);
        const char **slot = k[0] == 'r' ? &p->rule : k[0] == 'c' ? &p->case_id :
                            k[0] == 'u' ? &p->unit : k[0] == 'm' ? &p->message :
                            strcmp(k, "severity") == 0 ? &p->severity :
                            strcmp(k, "state") == 0 ? &p->state : &p->subject;
        *slot = v->text;
    }
    return 0;
}

static bool matches(const pattern *p, const cw_finding *f)
{
    return (!p->rule || strcmp(p->rule, f->rule->info.id) == 0) &&
           (!p->case_id || strcmp(p->case_id, f->case_id) == 0) &&
           (!p->subject || strcmp(p->subject, f->subject) == 0) &&
           (!p->unit || strcmp(p->unit, f->unit) == 0) &&
           (!p->severity || strcmp(p->severity, f->rule->info.severity) == 0) &&
           (!p->state || strcmp(p->state, cw_state_name(f->state)) == 0) &&
           (!p->has_due || (p->due_none ? f->due == CW_TIME_NONE : f->due == p->due)) &&
           (!p->has_raised || f->raised == p->raised) &&
           (!p->message || strstr(f->message, p->message) != NULL);
}

static void describe_pattern(const pattern *p, int tz, sbuf *b)
{
    char t[40];

    sb_printf(b, "%s %s %s%s%s %s", p->rule ? p->rule : "*", p->case_id ? p->case_id : "*",
              p->subject ? "\"" : "", p->subject ? p->subject : "*", p->subject ? "\"" : "",
              p->state ? p->state : "*");
    if (p->has_due) {
        if (p->due_none)
            sb_puts(b, " due=none");
        else {
            cw_time_format(p->due, tz, t, sizeof t);
            sb_printf(b, " due=%s", t);
        }
    }
    if (p->has_raised) {
        cw_time_format(p->raised, tz, t, sizeof t);
        sb_printf(b, " raised=%s", t);
    }
    if (p->message)
        sb_printf(b, " message~\"%s\"", p->message);
    sb_printf(b, " (line %d)", p->line);
}

static void describe_finding(const cw_finding *f, int tz, sbuf *b)
{
    char d[40], r[40];

    if (f->due == CW_TIME_NONE)
        snprintf(d, sizeof d, "none");
    else
        cw_time_format(f->due, tz, d, sizeof d);
    cw_time_format(f->raised, tz, r, sizeof r);
    sb_printf(b, "%s %s \"%s\" %s due=%s raised=%s: %s", f->rule->info.id, f->case_id, f->subject,
              cw_state_name(f->state), d, r, f->message);
}

static bool under_test(const cw_ynode *rules, const char *id)
{
    if (rules == NULL)
        return true;
    for (size_t i = 0; i < rules->n; i++)
        if (strcmp(rules->kids[i]->text, id) == 0)
            return true;
    return false;
}

/* Run one test; returns true when it passed, with the report in b. */
static bool run_test(cw_ruleset *rs, const cw_ydoc *d, const cw_ynode *t, const cw_ynode *rules,
                     const cw_ynode *defaults, sbuf *b, uint32_t *produced)
{
    const cw_ynode *now_n = cw_ymap_get(t, "now"), *events = cw_ymap_get(t, "events"),
                   *expect = cw_ymap_get(t, "expect"), *absent = cw_ymap_get(t, "absent");
    cw_engine *e = NULL;
    cw_eval *ev = NULL;
    cw_findings fs = { 0 };
    cw_eval_stats st = { 0 };
    cw_eval_opts o = { 0 };
    pattern *pats = NULL;
    size_t npats = 0;
    bool *used = NULL, ok = true;
    char *errbuf = NULL;
    size_t errlen = 0;
    FILE *errs;
    cw_err err;

    for (size_t i = 0; i < cw_ymap_size(t); i++) {
        const char *k = cw_ymap_key(t, i)->text;
        if (strcmp(k, "name") && strcmp(k, "now") && strcmp(k, "events") && strcmp(k, "expect") &&
            strcmp(k, "absent")) {
            sb_printf(b, "  %s:%d: unknown key '%s' in a test (name, now, events, expect, absent)\n",
                      d->path, cw_ymap_key(t, i)->line, k);
            return false;
        }
    }
    if (now_n == NULL || now_n->type != CW_Y_SCALAR ||
        cw_time_parse(now_n->text, now_n->len, &o.now, NULL) < 0) {
        sb_printf(b, "  %s:%d: 'now' must be an RFC 3339 time\n", d->path, now_n ? now_n->line : t->line);
        return false;
    }
    if (events == NULL || events->type != CW_Y_SEQ) {
        sb_printf(b, "  %s:%d: 'events' must be a list\n", d->path, t->line);
        return false;
    }
    if ((expect != NULL && expect->type != CW_Y_SEQ) || (absent != NULL && absent->type != CW_Y_SEQ) ||
        (expect == NULL && absent == NULL)) {
        sb_printf(b, "  %s:%d: a test needs 'expect' (a list; [] for silence) and/or 'absent'\n",
                  d->path, t->line);
        return false;
    }
    for (size_t i = 0; i < rs->nrules; i++)
        rs->rules[i]->status = CW_RULE_ACTIVE;
    e = cw_engine_new(rs->world, rs);
    ev = cw_eval_new(e);
    errs = open_memstream(&errbuf, &errlen);
    o.errors = errs;
    for (size_t i = 0; i < events->n; i++) {
        sbuf js = { 0 };
        if (events->kids[i]->type != CW_Y_MAP) {
            fprintf(errs, "%s:%d: an event is a map\n", d->path, events->kids[i]->line);
            continue;
        }
        event_json(rs, events->kids[i], defaults, (int)i + 1, &js);
        cw_eval_add(ev, js.p, js.n, d->path, (size_t)events->kids[i]->line, &o, &st, &err);
        free(js.p);
    }
    fclose(errs);
    if (errlen > 0) {
        sb_printf(b, "  bad event:\n    %s", errbuf);
        ok = false;
    }
    free(errbuf);
    cw_eval_run(ev, &o, &st);
    cw_eval_findings(ev, &fs);
    for (size_t j = 0; produced != NULL && j < fs.n; j++)
        if (under_test(rules, fs.v[j].rule->info.id))
            produced[fs.v[j].rule->index] |= 1u << fs.v[j].state;
    for (size_t i = 0; i < rs->nrules; i++)
        if (rs->rules[i]->status != CW_RULE_ACTIVE) {
            sb_printf(b, "  rule %s was quarantined: %s\n", rs->rules[i]->info.id,
                      rs->rules[i]->last_error ? rs->rules[i]->last_error : "?");
            ok = false;
        }
    used = cw_xcalloc(fs.n + 1, sizeof *used);
    npats = expect ? expect->n : 0;
    pats = cw_xcalloc(npats + 1, sizeof *pats);
    for (size_t i = 0; i < npats; i++) {
        if (read_pattern(d, expect->kids[i], &pats[i], &err) < 0) {
            sb_printf(b, "  %s\n", err.msg);
            ok = false;
            goto out;
        }
    }
    for (size_t i = 0; i < npats; i++) {
        size_t j;
        for (j = 0; j < fs.n; j++)
            if (!used[j] && matches(&pats[i], &fs.v[j]))
                break;
        if (j < fs.n) {
            used[j] = true;
        } else {
            sb_puts(b, "  missing: ");
            describe_pattern(&pats[i], rs->tz, b);
            sb_puts(b, "\n");
            ok = false;
        }
    }
    if (expect != NULL)
        for (size_t j = 0; j < fs.n; j++)
            if (!used[j] && under_test(rules, fs.v[j].rule->info.id)) {
                sb_puts(b, "  unexpected: ");
                describe_finding(&fs.v[j], rs->tz, b);
                sb_puts(b, "\n");
                ok = false;
            }
    for (size_t i = 0; absent && i < absent->n; i++) {
        pattern p;
        if (read_pattern(d, absent->kids[i], &p, &err) < 0) {
            sb_printf(b, "  %s\n", err.msg);
            ok = false;
            goto out;
        }
        for (size_t j = 0; j < fs.n; j++)
            if (matches(&p, &fs.v[j])) {
                sb_puts(b, "  present but should be absent: ");
                describe_finding(&fs.v[j], rs->tz, b);
                sb_puts(b, "\n");
                ok = false;
            }
    }
    if (!ok && fs.n > 0) {
        sb_puts(b, "  all findings:\n");
        for (size_t j = 0; j < fs.n; j++) {
            sb_puts(b, "    ");
            describe_finding(&fs.v[j], rs->tz, b);
            sb_puts(b, "\n");
        }
    } else if (!ok) {
        sb_puts(b, "  (no findings at all)\n");
    }
out:
    free(pats);
    free(used);
    cw_findings_free(&fs);
    cw_eval_free(ev);
    cw_engine_free(e);
    return ok;
}

void cw_fixture_run_file(cw_ruleset *rs, const char *path, FILE *out, int verbose,
                         cw_fixture_stats *stats)
{
    const cw_ynode *root, *tests, *rules, *defaults;
    cw_ydoc *d;
    cw_err err;

    if (cw_ydoc_load(&d, path, &err) < 0) {
        fprintf(out, "FAIL %s\n  %s\n", path, err.msg);
        stats->failed++;
        return;
    }
    root = d->root;
    tests = cw_ymap_get(root, "tests");
    rules = cw_ymap_get(root, "rules");
    defaults = cw_ymap_get(root, "defaults");
    if (tests == NULL || tests->type != CW_Y_SEQ) {
        fprintf(out, "FAIL %s:%d: expected a top-level 'tests' list\n", path, root ? root->line : 1);
        stats->failed++;
        cw_ydoc_free(d);
        return;
    }
    for (size_t i = 0; rules && i < rules->n; i++)
        if (rules->kids[i]->type != CW_Y_SCALAR || cw_ruleset_find(rs, rules->kids[i]->text) == NULL) {
            fprintf(out, "FAIL %s:%d: 'rules' names an unknown rule '%s'\n", path,
                    rules->kids[i]->line, rules->kids[i]->text ? rules->kids[i]->text : "?");
            stats->failed++;
            cw_ydoc_free(d);
            return;
        }
    for (size_t i = 0; i < tests->n; i++) {
        const cw_ynode *t = tests->kids[i], *name = cw_ymap_get(t, "name");
        sbuf b = { 0 };
        bool ok;
        if (t->type != CW_Y_MAP) {
            fprintf(out, "FAIL %s:%d: a test is a map\n", path, t->line);
            stats->failed++;
            continue;
        }
        ok = run_test(rs, d, t, rules, defaults, &b, stats->produced);
        if (ok) {
            stats->passed++;
            if (verbose)
                fprintf(out, "ok   %s:%d: %s\n", path, t->line, name ? name->text : "(unnamed)");
        } else {
            stats->failed++;
            fprintf(out, "FAIL %s:%d: %s\n%s", path, t->line, name ? name->text : "(unnamed)",
                    b.p ? b.p : "");
        }
        free(b.p);
    }
    cw_ydoc_free(d);
}

int cw_fixture_run_dir(cw_ruleset *rs, const char *dir, FILE *out, int verbose,
                       cw_fixture_stats *stats, cw_err *err)
{
    char *tdir = cw_path_join(dir, "tests"), **names;
    size_t n;

    if (cw_dir_list(tdir, ".yaml", &names, &n) < 0) {
        int rc = cw_err_set(err, CW_EIO, "%s: no fixture directory", tdir);
        free(tdir);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        cw_fixture_run_file(rs, names[i], out, verbose, stats);
    cw_paths_free(names, n);
    free(tdir);
    return 0;
}
