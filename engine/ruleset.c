#include "ruleset.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cw_model *const models[] = { &cw_model_deadline };

static const char *const severities[] = { "low", "medium", "high", "critical" };

static char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p;

    if (name[0] == '/')
        return strdup(name);
    p = malloc(a + b + 2);
    if (p == NULL)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static void rule_free(cw_rule *r)
{
    if (r == NULL)
        return;
    if (r->model && r->model->free_state)
        r->model->free_state(r->state);
    for (size_t i = 0; i < r->nunits; i++)
        free(r->units[i]);
    free(r->units);
    free(r->id);
    free(r->title);
    free(r->severity);
    free(r->basis);
    free(r->file);
    free(r->kind);
    free(r);
}

void cw_ruleset_free(cw_ruleset *rs)
{
    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->nrules; i++)
        rule_free(rs->rules[i]);
    free(rs->rules);
    for (size_t i = 0; i < rs->nindexes; i++)
        free((char *)rs->indexes[i].field);
    free(rs->indexes);
    cw_catalogue_free(rs->cat);
    cw_calendar_free(rs->cal);
    free(rs->dir);
    free(rs);
}

const cw_rule *cw_ruleset_find(const cw_ruleset *rs, const char *id)
{
    for (size_t i = 0; i < rs->nrules; i++)
        if (strcmp(rs->rules[i]->id, id) == 0)
            return rs->rules[i];
    return NULL;
}

int cw_ruleset_want_index(cw_ruleset *rs, int type, const char *field)
{
    cw_index_spec *n;

    for (size_t i = 0; i < rs->nindexes; i++)
        if (rs->indexes[i].type == type && strcmp(rs->indexes[i].field, field) == 0)
            return 0;
    n = realloc(rs->indexes, (rs->nindexes + 1) * sizeof *n);
    if (n == NULL)
        return CW_ENOMEM;
    rs->indexes = n;
    n[rs->nindexes].type = type;
    if ((n[rs->nindexes].field = strdup(field)) == NULL)
        return CW_ENOMEM;
    rs->nindexes++;
    return 0;
}

int cw_ruleset_type(const cw_ruleset *rs, const cw_ydoc *doc, const cw_ynode *n,
                    int *type, cw_err *err)
{
    const char *name;
    int rc = cw_ynode_str(doc, n, "type", &name, err);

    if (rc < 0)
        return rc;
    *type = cw_catalogue_type_id(rs->cat, name);
    if (*type < 0)
        return cw_err_set(err, CW_ERULE, "%s:%d: unknown event type '%s' (not in the catalogue)",
                          doc->path, n->line, name);
    return 0;
}

bool cw_rule_applies(const cw_rule *r, const cw_ruleset *rs, const char *kind,
                     const char *unit, cw_time t)
{
    cw_day d;

    if (r->kind != NULL && (kind == NULL || strcmp(r->kind, kind) != 0))
        return false;
    if (r->nunits > 0) {
        size_t i;
        for (i = 0; i < r->nunits; i++)
            if (strncmp(unit, r->units[i], strlen(r->units[i])) == 0)
                break;
        if (i == r->nunits)
            return false;
    }
    d = cw_time_day(t, rs->tz);
    return d >= r->from && d <= r->to;
}

void cw_rule_emit(const cw_rule *r, cw_evalctx *ctx, cw_finding *f)
{
    int rc;

    f->rule = r->id;
    f->severity = r->severity;
    f->basis = r->basis;
    rc = ctx->emit(ctx->ud, f);
    if (rc < 0 && ctx->rc == 0)
        ctx->rc = rc;
}

/* Read a string field into a new copy; a missing optional field leaves
 * *out NULL. */
static int dup_field(const cw_ydoc *doc, const cw_ynode *map, const char *key,
                     bool required, char **out, cw_err *err)
{
    const cw_ynode *v = cw_ymap_get(map, key);
    const char *s;
    int rc;

    *out = NULL;
    if (v == NULL) {
        if (!required)
            return 0;
        return cw_err_set(err, CW_ERULE, "%s:%d: field '%s' is required",
                          doc->path, map->line, key);
    }
    if ((rc = cw_ynode_str(doc, v, key, &s, err)) < 0)
        return rc;
    if (required && s[0] == '\0')
        return cw_err_set(err, CW_ERULE, "%s:%d: field '%s' must not be empty",
                          doc->path, v->line, key);
    if ((*out = strdup(s)) == NULL)
        return CW_ENOMEM;
    return 0;
}

static int read_day(const cw_ydoc *doc, const cw_ynode *v, const char *name,
                    cw_day *out, cw_err *err)
{
    if (v == NULL || v->type != CW_Y_SCALAR || cw_day_parse(v->text, v->len, out) < 0)
        return cw_err_set(err, CW_ERULE, "%s:%d: field '%s': expected a date YYYY-MM-DD",
                          doc->path, v ? v->line : 0, name);
    return 0;
}

static const char *const rule_keys[] = {
    "id", "title", "model", "severity", "basis", "scope", "effective", "params", NULL
};

static int check_keys(const cw_ydoc *doc, const cw_ynode *map,
                      const char *const *allowed, const char *what, cw_err *err)
{
    for (size_t i = 0; i < cw_ymap_size(map); i++) {
        const cw_ynode *k = cw_ymap_key(map, i);
        size_t j;
        for (j = 0; allowed[j]; j++)
            if (strcmp(allowed[j], k->text) == 0)
                break;
        if (allowed[j] == NULL)
            return cw_err_set(err, CW_ERULE, "%s:%d: %s: unknown field '%s'",
                              doc->path, k->line, what, k->text);
    }
    return 0;
}

static int load_rule(cw_ruleset *rs, const cw_ydoc *doc, const cw_ynode *m,
                     cw_rule **out, cw_err *err)
{
    cw_rule *r = calloc(1, sizeof *r);
    const cw_ynode *v;
    char *model = NULL;
    int rc;

    *out = NULL;
    if (r == NULL)
        return CW_ENOMEM;
    r->line = m->line;
    r->from = INT32_MIN;
    r->to = INT32_MAX;
    if ((r->file = strdup(doc->path)) == NULL) {
        rc = CW_ENOMEM;
        goto fail;
    }
    if (m->type != CW_Y_MAP) {
        rc = cw_err_set(err, CW_ERULE, "%s:%d: a rule must be a map", doc->path, m->line);
        goto fail;
    }
    if ((rc = check_keys(doc, m, rule_keys, "rule", err)) < 0 ||
        (rc = dup_field(doc, m, "id", true, &r->id, err)) < 0 ||
        (rc = dup_field(doc, m, "title", true, &r->title, err)) < 0 ||
        (rc = dup_field(doc, m, "severity", true, &r->severity, err)) < 0 ||
        (rc = dup_field(doc, m, "basis", true, &r->basis, err)) < 0 ||
        (rc = dup_field(doc, m, "model", true, &model, err)) < 0)
        goto fail;
    for (size_t i = 0; i < sizeof severities / sizeof *severities; i++)
        if (strcmp(severities[i], r->severity) == 0)
            goto severity_ok;
    rc = cw_err_set(err, CW_ERULE, "%s:%d: rule %s: severity '%s' is not one of low, medium, high, critical",
                    doc->path, cw_ymap_get(m, "severity")->line, r->id, r->severity);
    goto fail;
severity_ok:
    for (size_t i = 0; i < sizeof models / sizeof *models; i++)
        if (strcmp(models[i]->name, model) == 0)
            r->model = models[i];
    if (r->model == NULL) {
        rc = cw_err_set(err, CW_ERULE, "%s:%d: rule %s: unknown model '%s'",
                        doc->path, cw_ymap_get(m, "model")->line, r->id, model);
        goto fail;
    }
    if ((v = cw_ymap_get(m, "scope")) != NULL) {
        static const char *const scope_keys[] = { "kind", "units", NULL };
        const cw_ynode *u;
        if ((rc = check_keys(doc, v, scope_keys, "scope", err)) < 0 ||
            (rc = dup_field(doc, v, "kind", false, &r->kind, err)) < 0)
            goto fail;
        if ((u = cw_ymap_get(v, "units")) != NULL) {
            if (u->type != CW_Y_SEQ) {
                rc = cw_err_set(err, CW_ERULE, "%s:%d: scope.units: expected a list of unit prefixes",
                                doc->path, u->line);
                goto fail;
            }
            r->units = calloc(u->n ? u->n : 1, sizeof *r->units);
            if (r->units == NULL) {
                rc = CW_ENOMEM;
                goto fail;
            }
            for (size_t i = 0; i < u->n; i++) {
                const char *s;
                if ((rc = cw_ynode_str(doc, u->kids[i], "units", &s, err)) < 0)
                    goto fail;
                if ((r->units[r->nunits++] = strdup(s)) == NULL) {
                    rc = CW_ENOMEM;
                    goto fail;
                }
            }
        }
    }
    if ((v = cw_ymap_get(m, "effective")) != NULL) {
        static const char *const eff_keys[] = { "from", "to", NULL };
        if ((rc = check_keys(doc, v, eff_keys, "effective", err)) < 0)
            goto fail;
        if (cw_ymap_get(v, "from") &&
            (rc = read_day(doc, cw_ymap_get(v, "from"), "effective.from", &r->from, err)) < 0)
            goto fail;
        if (cw_ymap_get(v, "to") &&
            (rc = read_day(doc, cw_ymap_get(v, "to"), "effective.to", &r->to, err)) < 0)
            goto fail;
        if (r->from > r->to) {
            rc = cw_err_set(err, CW_ERULE, "%s:%d: rule %s: effective.from is after effective.to",
                            doc->path, v->line, r->id);
            goto fail;
        }
    }
    rc = r->model->configure(r, rs, doc, cw_ymap_get(m, "params"), err);
    if (rc < 0)
        goto fail;
    free(model);
    *out = r;
    return 0;
fail:
    free(model);
    rule_free(r);
    return rc;
}

static int add_rule(cw_ruleset *rs, cw_rule *r)
{
    cw_rule **n = realloc(rs->rules, (rs->nrules + 1) * sizeof *n);

    if (n == NULL)
        return CW_ENOMEM;
    rs->rules = n;
    rs->rules[rs->nrules++] = r;
    return 0;
}

/* Keep the first error for the caller and print every one to report. */
static void note(FILE *report, cw_err *first, const cw_err *e, int *nerr)
{
    if (report)
        fprintf(report, "%s\n", e->msg);
    if ((*nerr)++ == 0 && first)
        *first = *e;
}

static int load_rule_file(cw_ruleset *rs, const char *path, FILE *report,
                          cw_err *first, int *nerr)
{
    cw_ydoc *doc;
    const cw_ynode *list;
    cw_err e;

    if (cw_ydoc_load(&doc, path, &e) < 0) {
        note(report, first, &e, nerr);
        return 0;
    }
    list = cw_ymap_get(doc->root, "rules");
    if (list == NULL || list->type != CW_Y_SEQ) {
        cw_err_set(&e, CW_ERULE, "%s:%d: expected a top-level 'rules:' list",
                   path, doc->root ? doc->root->line : 1);
        note(report, first, &e, nerr);
        cw_ydoc_free(doc);
        return 0;
    }
    for (size_t i = 0; i < list->n; i++) {
        cw_rule *r;
        if (load_rule(rs, doc, list->kids[i], &r, &e) < 0) {
            note(report, first, &e, nerr);
            continue;
        }
        if (cw_ruleset_find(rs, r->id) != NULL) {
            const cw_rule *o = cw_ruleset_find(rs, r->id);
            cw_err_set(&e, CW_ERULE, "%s:%d: duplicate rule id %s (first at %s:%d)",
                       path, r->line, r->id, o->file, o->line);
            note(report, first, &e, nerr);
            rule_free(r);
            continue;
        }
        if (add_rule(rs, r) < 0) {
            rule_free(r);
            cw_ydoc_free(doc);
            return CW_ENOMEM;
        }
    }
    cw_ydoc_free(doc);
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml names in dir, sorted; NULL-terminated. */
static char **yaml_files(const char *dir, cw_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;

    if (d == NULL) {
        cw_err_set(err, CW_EIO, "%s: cannot open directory", dir);
        return NULL;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        char **nn;
        if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0 || de->d_name[0] == '.')
            continue;
        nn = realloc(names, (n + 2) * sizeof *nn);
        if (nn == NULL || (nn[n] = strdup(de->d_name)) == NULL) {
            free(nn ? nn : names);
            closedir(d);
            cw_err_set(err, CW_ENOMEM, "out of memory");
            return NULL;
        }
        names = nn;
        names[++n] = NULL;
    }
    closedir(d);
    if (names == NULL && (names = calloc(1, sizeof *names)) == NULL)
        cw_err_set(err, CW_ENOMEM, "out of memory");
    else if (n > 1)
        qsort(names, n, sizeof *names, name_cmp);
    return names;
}

static void free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

/* engine.yaml: the deployment's settings. Everything has a default. */
static int load_engine(cw_ruleset *rs, char **catalogue, char **calendar, cw_err *err)
{
    static const char *const keys[] = { "timezone", "catalogue", "calendar", NULL };
    char *path = path_join(rs->dir, "engine.yaml");
    cw_ydoc *doc = NULL;
    const cw_ynode *v;
    int rc = 0;
    FILE *f;

    if (path == NULL)
        return CW_ENOMEM;
    if ((f = fopen(path, "r")) == NULL)
        goto out;   /* optional file */
    fclose(f);
    if ((rc = cw_ydoc_load(&doc, path, err)) < 0 ||
        (rc = check_keys(doc, doc->root, keys, "engine", err)) < 0)
        goto out;
    if ((v = cw_ymap_get(doc->root, "timezone")) != NULL &&
        (v->type != CW_Y_SCALAR || cw_tz_parse(v->text, &rs->tz) < 0)) {
        rc = cw_err_set(err, CW_ECONFIG, "%s:%d: timezone: expected an offset like +08:00",
                        path, v->line);
        goto out;
    }
    if ((v = cw_ymap_get(doc->root, "catalogue")) != NULL && v->type == CW_Y_SCALAR) {
        free(*catalogue);
        *catalogue = path_join(rs->dir, v->text);
    }
    if ((v = cw_ymap_get(doc->root, "calendar")) != NULL && v->type == CW_Y_SCALAR) {
        free(*calendar);
        *calendar = path_join(rs->dir, v->text);
    }
    if (*catalogue == NULL || *calendar == NULL)
        rc = CW_ENOMEM;
out:
    cw_ydoc_free(doc);
    free(path);
    return rc;
}

int cw_ruleset_load(cw_ruleset **out, const char *dir, FILE *report, cw_err *err)
{
    cw_ruleset *rs = calloc(1, sizeof *rs);
    char *catalogue = NULL, *calendar = NULL, **names = NULL;
    int nerr = 0, rc;
    cw_err e;

    *out = NULL;
    if (rs == NULL || (rs->dir = strdup(dir)) == NULL)
        goto nomem;
    rs->tz = 8 * 60;
    catalogue = path_join(dir, "catalogue.yaml");
    calendar = path_join(dir, "calendar");
    if (catalogue == NULL || calendar == NULL)
        goto nomem;
    if ((rc = load_engine(rs, &catalogue, &calendar, &e)) < 0 ||
        (rc = cw_catalogue_load(&rs->cat, catalogue, &e)) < 0 ||
        (rc = cw_calendar_new(&rs->cal, rs->tz, &e)) < 0 ||
        (rc = cw_calendar_load_dir(rs->cal, calendar, &e)) < 0) {
        /* Without these nothing else can be checked. */
        note(report, err, &e, &nerr);
        goto fail;
    }
    rs->t_accepted = cw_catalogue_type_id(rs->cat, "case.accepted");
    if ((names = yaml_files(dir, &e)) == NULL) {
        note(report, err, &e, &nerr);
        goto fail;
    }
    for (size_t i = 0; names[i]; i++) {
        char *path;
        if (strcmp(names[i], "engine.yaml") == 0 || strcmp(names[i], "catalogue.yaml") == 0)
            continue;
        if ((path = path_join(dir, names[i])) == NULL)
            goto nomem;
        if (strcmp(path, catalogue) == 0) {
            free(path);
            continue;
        }
        rc = load_rule_file(rs, path, report, err, &nerr);
        free(path);
        if (rc < 0)
            goto nomem;
    }
    if (nerr > 0)
        goto fail;
    free_names(names);
    free(catalogue);
    free(calendar);
    *out = rs;
    return 0;
nomem:
    cw_err_set(&e, CW_ENOMEM, "%s: out of memory", dir);
    note(report, err, &e, &nerr);
fail:
    free_names(names);
    free(catalogue);
    free(calendar);
    cw_ruleset_free(rs);
    if (err && err->code == 0)
        err->code = CW_ERULE;
    return err ? err->code : CW_ERULE;
}
