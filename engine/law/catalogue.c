#include "law/catalogue.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/yamltree.h"

struct cw_catalogue {
    char *path;
    cw_type_spec *types;
    size_t ntypes;
    /* type name hash: index + 1, 0 = empty; power-of-two size */
    uint32_t *slot;
    size_t nslot;
    /* names id -> type index + 1 (0 = not a type of this catalogue) */
    uint32_t *byid;
    size_t nbyid;
    bool *known_field;       /* names id -> declared by some type */
    size_t nknown;
    char **strings;          /* every string the specs point to */
    size_t nstrings, capstrings;
    size_t event_bytes, string_bytes;
    int years_before, years_after;
};

#define DEFAULT_EVENT_BYTES 65536
#define DEFAULT_STRING_BYTES 4096

static const char *const typenames[] = {
    [CW_FT_STRING] = "string", [CW_FT_BOOL] = "bool", [CW_FT_INT] = "int",
    [CW_FT_TIME] = "time", [CW_FT_DATE] = "date", [CW_FT_ENUM] = "enum",
    [CW_FT_LIST] = "list",
};

const char *cw_fieldtype_name(cw_fieldtype t)
{
    return (unsigned)t < sizeof typenames / sizeof *typenames ? typenames[t] : "?";
}

static const char *keep(cw_catalogue *c, const char *s)
{
    CW_GROW(c->strings, c->capstrings, c->nstrings + 1);
    return c->strings[c->nstrings++] = cw_xstrdup(s);
}

void cw_catalogue_free(cw_catalogue *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->ntypes; i++) {
        for (size_t j = 0; j < c->types[i].nfields; j++)
            free(c->types[i].fields[j].values);
        free(c->types[i].fields);
    }
    for (size_t i = 0; i < c->nstrings; i++)
        free(c->strings[i]);
    free(c->strings);
    free(c->types);
    free(c->slot);
    free(c->byid);
    free(c->known_field);
    free(c->path);
    free(c);
}

static int bad(const cw_ydoc *d, const cw_ynode *n, cw_err *err, const char *what,
               const char *name)
{
    return cw_err_set(err, CW_ECONFIG, "%s:%d: %s%s%s", d->path, n ? n->line : 1, what,
                      name ? " " : "", name ? name : "");
}

/* A whole number of the file, within [lo, hi]. */
static int whole(const cw_ydoc *d, const cw_ynode *n, const char *what, const char *field,
                 int64_t lo, int64_t hi, int64_t *out, cw_err *err)
{
    char *end;
    long long v;

    if (n->type != CW_Y_SCALAR || n->len == 0)
        return cw_err_set(err, CW_ECONFIG, "%s:%d: %s%s%s must be a whole number", d->path, n->line,
                          field ? "field " : "", field ? field : "", what);
    errno = 0;
    v = strtoll(n->text, &end, 10);
    if (*end != '\0' || errno != 0 || v < lo || v > hi)
        return cw_err_set(err, CW_ECONFIG, "%s:%d: %s%s%s must be a whole number from %lld to %lld (got '%s')",
                          d->path, n->line, field ? "field " : "", field ? field : "", what,
                          (long long)lo, (long long)hi, n->text);
    *out = v;
    return 0;
}

static int load_range(cw_catalogue *c, const cw_ydoc *d, const cw_ynode *k, const cw_ynode *v,
                      cw_field_spec *f, cw_err *err)
{
    const cw_ynode *mn = cw_ymap_get(v, "min"), *mx = cw_ymap_get(v, "max"), *mb = cw_ymap_get(v, "max_bytes");
    int64_t b;
    int rc;

    if ((mn || mx) && f->type != CW_FT_INT)
        return bad(d, mn ? mn : mx, err, "only int fields take 'min' and 'max': field", k->text);
    if (mb && f->type != CW_FT_STRING && f->type != CW_FT_LIST)
        return bad(d, mb, err, "only string and list fields take 'max_bytes': field", k->text);
    if (mn && (rc = whole(d, mn, ": min", k->text, INT64_MIN, INT64_MAX, &f->min, err)) < 0)
        return rc;
    if (mx && (rc = whole(d, mx, ": max", k->text, INT64_MIN, INT64_MAX, &f->max, err)) < 0)
        return rc;
    f->has_min = mn != NULL;
    f->has_max = mx != NULL;
    if (mn && mx && f->min > f->max)
        return bad(d, mn, err, "'min' is above 'max': field", k->text);
    f->max_bytes = c->string_bytes;
    if (mb) {
        if ((rc = whole(d, mb, ": max_bytes", k->text, 1, 1 << 24, &b, err)) < 0)
            return rc;
        f->max_bytes = (size_t)b;
    }
    return 0;
}

static int load_limits(cw_catalogue *c, const cw_ydoc *d, const cw_ynode *v, cw_err *err)
{
    const cw_ynode *x;
    int64_t n;
    int rc;

    if (v->type != CW_Y_MAP)
        return bad(d, v, err, "'limits' must be a map {event_bytes: N, string_bytes: N}", NULL);
    for (size_t i = 0; i < cw_ymap_size(v); i++) {
        const char *key = cw_ymap_key(v, i)->text;
        if (strcmp(key, "event_bytes") && strcmp(key, "string_bytes"))
            return cw_err_set(err, CW_ECONFIG, "%s:%d: limits: unknown key '%s' (event_bytes, string_bytes)",
                              d->path, cw_ymap_key(v, i)->line, key);
    }
    if ((x = cw_ymap_get(v, "event_bytes")) != NULL) {
        if ((rc = whole(d, x, "limits.event_bytes", NULL, 256, 1 << 26, &n, err)) < 0)
            return rc;
        c->event_bytes = (size_t)n;
    }
    if ((x = cw_ymap_get(v, "string_bytes")) != NULL) {
        if ((rc = whole(d, x, "limits.string_bytes", NULL, 1, 1 << 24, &n, err)) < 0)
            return rc;
        c->string_bytes = (size_t)n;
    }
    return 0;
}

static int load_field(cw_catalogue *c, const cw_ydoc *d, const cw_ynode *k,
                      const cw_ynode *v, cw_strtab *names, cw_field_spec *f, cw_err *err)
{
    const cw_ynode *t, *vals, *req;
    size_t i;
    int rc;

    f->name = keep(c, k->text);
    f->line = k->line;
    if (k->len == 0 || k->len > 64)
        return bad(d, k, err, "a field name must have 1-64 characters:", k->text);
    f->fid = (int)cw_strtab_intern(names, k->text, k->len);
    if (f->fid > 0xffff)
        return bad(d, k, err, "too many distinct field names at", k->text);
    if (v->type != CW_Y_MAP)
        return bad(d, v, err, "expected a map {type: ..., ...} for field", k->text);
    for (i = 0; i < cw_ymap_size(v); i++) {
        const char *key = cw_ymap_key(v, i)->text;
        if (strcmp(key, "type") && strcmp(key, "values") && strcmp(key, "required") &&
            strcmp(key, "title") && strcmp(key, "min") && strcmp(key, "max") && strcmp(key, "max_bytes"))
            return cw_err_set(err, CW_ECONFIG, "%s:%d: field %s: unknown key '%s' "
                              "(type, values, required, title, min, max, max_bytes)", d->path,
                              cw_ymap_key(v, i)->line, k->text, key);
    }
    if ((t = cw_ymap_get(v, "type")) == NULL || t->type != CW_Y_SCALAR)
        return bad(d, v, err, "missing 'type' for field", k->text);
    for (i = 0; i < sizeof typenames / sizeof *typenames; i++)
        if (strcmp(t->text, typenames[i]) == 0)
            break;
    if (i == sizeof typenames / sizeof *typenames)
        return cw_err_set(err, CW_ECONFIG, "%s:%d: field %s: unknown type '%s' "
                          "(string, bool, int, time, date, enum, list)",
                          d->path, t->line, k->text, t->text);
    f->type = (cw_fieldtype)i;
    if ((req = cw_ymap_get(v, "required")) != NULL &&
        (rc = cw_ynode_bool(d, req, "required", &f->required, err)) < 0)
        return rc;
    if ((rc = load_range(c, d, k, v, f, err)) < 0)
        return rc;
    vals = cw_ymap_get(v, "values");
    if (f->type == CW_FT_ENUM && vals == NULL)
        return bad(d, v, err, "an enum needs 'values': field", k->text);
    if (vals != NULL) {
        if (f->type != CW_FT_ENUM && f->type != CW_FT_LIST)
            return bad(d, vals, err, "only enum and list fields take 'values': field", k->text);
        if (vals->type != CW_Y_SEQ || vals->n == 0)
            return bad(d, vals, err, "'values' must be a non-empty list: field", k->text);
        f->values = cw_xcalloc(vals->n, sizeof *f->values);
        for (i = 0; i < vals->n; i++) {
            if (vals->kids[i]->type != CW_Y_SCALAR)
                return bad(d, vals->kids[i], err, "a value must be a string: field", k->text);
            f->values[f->nvalues++] = keep(c, vals->kids[i]->text);
        }
    }
    return 0;
}

static int load_type(cw_catalogue *c, const cw_ydoc *d, const cw_ynode *k,
                     const cw_ynode *v, cw_strtab *names, cw_type_spec *t, cw_err *err)
{
    const cw_ynode *fields, *title;
    int rc;

    t->name = keep(c, k->text);
    t->line = k->line;
    if (k->len == 0 || k->len > 64)
        return bad(d, k, err, "a type name must have 1-64 characters:", k->text);
    t->id = (int)cw_strtab_intern(names, k->text, k->len);
    if (t->id > 0xffff)
        return bad(d, k, err, "too many distinct names at", k->text);
    t->title = t->name;
    if (cw_ynode_is_null(v))
        return 0;
    if (v->type != CW_Y_MAP)
        return bad(d, v, err, "expected a map {title: ..., fields: ...} for type", k->text);
    for (size_t i = 0; i < cw_ymap_size(v); i++) {
        const char *key = cw_ymap_key(v, i)->text;
        if (strcmp(key, "title") && strcmp(key, "fields"))
            return cw_err_set(err, CW_ECONFIG, "%s:%d: type %s: unknown key '%s' (title, fields)",
                              d->path, cw_ymap_key(v, i)->line, k->text, key);
    }
    if ((title = cw_ymap_get(v, "title")) != NULL && title->type == CW_Y_SCALAR)
        t->title = keep(c, title->text);
    fields = cw_ymap_get(v, "fields");
    if (fields == NULL || cw_ynode_is_null(fields))
        return 0;
    if (fields->type != CW_Y_MAP)
        return bad(d, fields, err, "'fields' must be a map of field name to spec: type", k->text);
    t->fields = cw_xcalloc(cw_ymap_size(fields), sizeof *t->fields);
    for (size_t i = 0; i < cw_ymap_size(fields); i++) {
        rc = load_field(c, d, cw_ymap_key(fields, i), cw_ymap_val(fields, i), names,
                        &t->fields[t->nfields++], err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void index_types(cw_catalogue *c)
{
    int maxid = 0, maxfid = 0;

    for (c->nslot = 16; c->nslot < c->ntypes * 4; c->nslot *= 2)
        ;
    c->slot = cw_xcalloc(c->nslot, sizeof *c->slot);
    for (size_t i = 0; i < c->ntypes; i++) {
        size_t h = cw_hash(c->types[i].name, strlen(c->types[i].name)) & (c->nslot - 1);
        while (c->slot[h])
            h = (h + 1) & (c->nslot - 1);
        c->slot[h] = (uint32_t)i + 1;
        if (c->types[i].id > maxid)
            maxid = c->types[i].id;
        for (size_t j = 0; j < c->types[i].nfields; j++)
            if (c->types[i].fields[j].fid > maxfid)
                maxfid = c->types[i].fields[j].fid;
    }
    c->nbyid = (size_t)maxid + 1;
    c->byid = cw_xcalloc(c->nbyid, sizeof *c->byid);
    for (size_t i = 0; i < c->ntypes; i++)
        c->byid[c->types[i].id] = (uint32_t)i + 1;
    c->nknown = (size_t)maxfid + 1;
    c->known_field = cw_xcalloc(c->nknown, sizeof *c->known_field);
    for (size_t i = 0; i < c->ntypes; i++)
        for (size_t j = 0; j < c->types[i].nfields; j++)
            c->known_field[c->types[i].fields[j].fid] = true;
}

int cw_catalogue_load(cw_catalogue **out, const char *path, cw_strtab *names, cw_err *err)
{
    cw_catalogue *c;
    cw_ydoc *d;
    const cw_ynode *types, *root;
    int rc;

    *out = NULL;
    if ((rc = cw_ydoc_load(&d, path, err)) < 0)
        return rc;
    c = cw_xcalloc(1, sizeof *c);
    c->path = cw_xstrdup(path);
    c->event_bytes = DEFAULT_EVENT_BYTES;
    c->string_bytes = DEFAULT_STRING_BYTES;
    c->years_before = 30;
    c->years_after = 1;
    root = d->root;
    if (root == NULL || root->type != CW_Y_MAP) {
        rc = cw_err_set(err, CW_ECONFIG, "%s:1: expected a map with 'types'", path);
        goto out;
    }
    for (size_t i = 0; i < cw_ymap_size(root); i++) {
        const char *key = cw_ymap_key(root, i)->text;
        if (strcmp(key, "types") && strcmp(key, "version") && strcmp(key, "limits")) {
            rc = cw_err_set(err, CW_ECONFIG, "%s:%d: unknown key '%s' (version, limits, types)",
                            path, cw_ymap_key(root, i)->line, key);
            goto out;
        }
    }
    if (cw_ymap_get(root, "limits") != NULL && (rc = load_limits(c, d, cw_ymap_get(root, "limits"), err)) < 0)
        goto out;
    types = cw_ymap_get(root, "types");
    if (types == NULL || types->type != CW_Y_MAP || cw_ymap_size(types) == 0) {
        rc = cw_err_set(err, CW_ECONFIG, "%s:%d: 'types' must be a non-empty map of event types",
                        path, types ? types->line : root->line);
        goto out;
    }
    c->types = cw_xcalloc(cw_ymap_size(types), sizeof *c->types);
    for (size_t i = 0; i < cw_ymap_size(types); i++) {
        rc = load_type(c, d, cw_ymap_key(types, i), cw_ymap_val(types, i), names,
                       &c->types[c->ntypes++], err);
        if (rc < 0)
            goto out;
    }
    index_types(c);
out:
    cw_ydoc_free(d);
    if (rc < 0) {
        cw_catalogue_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

size_t cw_catalogue_event_bytes(const cw_catalogue *cat)
{
    return cat->event_bytes;
}

void cw_catalogue_set_years(cw_catalogue *cat, int before, int after)
{
    cat->years_before = before;
    cat->years_after = after;
}

void cw_catalogue_years(const cw_catalogue *cat, int *before, int *after)
{
    *before = cat->years_before;
    *after = cat->years_after;
}

const char *cw_catalogue_path(const cw_catalogue *c)
{
    return c->path;
}

size_t cw_catalogue_count(const cw_catalogue *c)
{
    return c->ntypes;
}

const cw_type_spec *cw_catalogue_at(const cw_catalogue *c, size_t i)
{
    return i < c->ntypes ? &c->types[i] : NULL;
}

const cw_type_spec *cw_catalogue_find(const cw_catalogue *c, const char *name, size_t len)
{
    size_t h = cw_hash(name, len) & (c->nslot - 1);

    for (; c->slot[h]; h = (h + 1) & (c->nslot - 1)) {
        const cw_type_spec *t = &c->types[c->slot[h] - 1];
        if (strncmp(t->name, name, len) == 0 && t->name[len] == '\0')
            return t;
    }
    return NULL;
}

const cw_type_spec *cw_catalogue_type(const cw_catalogue *c, int id)
{
    if (id < 0 || (size_t)id >= c->nbyid || c->byid[id] == 0)
        return NULL;
    return &c->types[c->byid[id] - 1];
}

const cw_field_spec *cw_type_field(const cw_type_spec *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (strncmp(t->fields[i].name, name, len) == 0 && t->fields[i].name[len] == '\0')
            return &t->fields[i];
    return NULL;
}

const cw_field_spec *cw_type_field_id(const cw_type_spec *t, int fid)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (t->fields[i].fid == fid)
            return &t->fields[i];
    return NULL;
}

bool cw_field_allows(const cw_field_spec *f, const char *value, size_t len)
{
    if (f->values == NULL)
        return true;
    for (size_t i = 0; i < f->nvalues; i++)
        if (strncmp(f->values[i], value, len) == 0 && f->values[i][len] == '\0')
            return true;
    return false;
}

bool cw_catalogue_knows_field(const cw_catalogue *c, int fid)
{
    return fid >= 0 && (size_t)fid < c->nknown && c->known_field[fid];
}
