#include "base/yamltree.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Deep enough for any data file we ship; deeper input is refused rather
 * than recursed into without bound. */
#define MAX_DEPTH 64

static void node_free(cw_ynode *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->n; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->text);
    free(n);
}

static int add_kid(cw_ynode *parent, cw_ynode *kid)
{
    if ((parent->n & (parent->n - 1)) == 0) {   /* 0,1,2,4,8...: grow */
        size_t cap = parent->n ? parent->n * 2 : 4;
        cw_ynode **k = realloc(parent->kids, cap * sizeof *k);
        if (k == NULL)
            return CW_ENOMEM;
        parent->kids = k;
    }
    parent->kids[parent->n++] = kid;
    return 0;
}

static int parse_node(yaml_parser_t *p, yaml_event_t *ev, const char *name,
                      int depth, cw_ynode **out, cw_err *err);

static int parse_children(yaml_parser_t *p, cw_ynode *node, yaml_event_type_t end,
                          const char *name, int depth, cw_err *err)
{
    for (;;) {
        yaml_event_t ev;
        cw_ynode *kid;
        int rc;

        if (!yaml_parser_parse(p, &ev))
            return cw_err_set(err, CW_EPARSE, "%s:%zu: %s", name,
                              p->problem_mark.line + 1,
                              p->problem ? p->problem : "YAML syntax error");
        if (ev.type == end) {
            yaml_event_delete(&ev);
            return 0;
        }
        rc = parse_node(p, &ev, name, depth + 1, &kid, err);
        yaml_event_delete(&ev);
        if (rc < 0)
            return rc;
        if (add_kid(node, kid) < 0) {
            node_free(kid);
            return cw_err_set(err, CW_ENOMEM, "%s: out of memory", name);
        }
    }
}

static int parse_node(yaml_parser_t *p, yaml_event_t *ev, const char *name,
                      int depth, cw_ynode **out, cw_err *err)
{
    cw_ynode *n;
    int rc = 0;

    if (depth > MAX_DEPTH)
        return cw_err_set(err, CW_EPARSE, "%s:%zu: nesting deeper than %d",
                          name, ev->start_mark.line + 1, MAX_DEPTH);
    if (ev->type == YAML_ALIAS_EVENT)
        return cw_err_set(err, CW_EPARSE, "%s:%zu: aliases are not supported",
                          name, ev->start_mark.line + 1);
    n = calloc(1, sizeof *n);
    if (n == NULL)
        return cw_err_set(err, CW_ENOMEM, "%s: out of memory", name);
    n->line = (int)ev->start_mark.line + 1;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n->type = CW_Y_SCALAR;
        n->len = ev->data.scalar.length;
        n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
        n->text = malloc(n->len + 1);
        if (n->text == NULL) {
            rc = cw_err_set(err, CW_ENOMEM, "%s: out of memory", name);
            break;
        }
        memcpy(n->text, ev->data.scalar.value, n->len);
        n->text[n->len] = '\0';
        break;
    case YAML_SEQUENCE_START_EVENT:
        n->type = CW_Y_SEQ;
        rc = parse_children(p, n, YAML_SEQUENCE_END_EVENT, name, depth, err);
        break;
    case YAML_MAPPING_START_EVENT:
        n->type = CW_Y_MAP;
        rc = parse_children(p, n, YAML_MAPPING_END_EVENT, name, depth, err);
        if (rc == 0) {
            for (size_t i = 0; i < n->n; i += 2) {
                if (n->kids[i]->type != CW_Y_SCALAR) {
                    rc = cw_err_set(err, CW_EPARSE, "%s:%d: map keys must be scalars",
                                    name, n->kids[i]->line);
                    break;
                }
                for (size_t j = 0; j < i; j += 2)
                    if (strcmp(n->kids[i]->text, n->kids[j]->text) == 0) {
                        rc = cw_err_set(err, CW_EPARSE, "%s:%d: duplicate key '%s' (first at line %d)",
                                        name, n->kids[i]->line, n->kids[i]->text,
                                        n->kids[j]->line);
                        break;
                    }
                if (rc < 0)
                    break;
            }
        }
        break;
    default:
        rc = cw_err_set(err, CW_EPARSE, "%s:%zu: unexpected YAML event", name,
                        ev->start_mark.line + 1);
        break;
    }
    if (rc < 0) {
        node_free(n);
        return rc;
    }
    *out = n;
    return 0;
}

int cw_ydoc_parse(cw_ydoc **out, const char *name, const char *buf, size_t len,
                  cw_err *err)
{
    yaml_parser_t p;
    cw_ydoc *doc;
    int rc = 0, done = 0, docs = 0;

    *out = NULL;
    doc = calloc(1, sizeof *doc);
    if (doc == NULL || (doc->path = strdup(name)) == NULL) {
        free(doc);
        return cw_err_set(err, CW_ENOMEM, "%s: out of memory", name);
    }
    if (!yaml_parser_initialize(&p)) {
        cw_ydoc_free(doc);
        return cw_err_set(err, CW_ENOMEM, "%s: out of memory", name);
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    while (!done && rc == 0) {
        yaml_event_t ev;

        if (!yaml_parser_parse(&p, &ev)) {
            rc = cw_err_set(err, CW_EPARSE, "%s:%zu: %s", name,
                            p.problem_mark.line + 1,
                            p.problem ? p.problem : "YAML syntax error");
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                rc = cw_err_set(err, CW_EPARSE, "%s:%zu: only one YAML document per file",
                                name, ev.start_mark.line + 1);
            break;
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            break;
        default:
            rc = parse_node(&p, &ev, name, 0, &doc->root, err);
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (rc < 0) {
        cw_ydoc_free(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

int cw_ydoc_load(cw_ydoc **out, const char *path, cw_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;

    *out = NULL;
    if (f == NULL)
        return cw_err_set(err, CW_EIO, "%s: %s", path, strerror(errno));
    for (;;) {
        size_t got;
        if (cap - len < 4096) {
            char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return cw_err_set(err, CW_ENOMEM, "%s: out of memory", path);
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return cw_err_set(err, CW_EIO, "%s: read error", path);
    }
    fclose(f);
    rc = cw_ydoc_parse(out, path, buf, len, err);
    free(buf);
    return rc;
}

void cw_ydoc_free(cw_ydoc *doc)
{
    if (doc == NULL)
        return;
    node_free(doc->root);
    free(doc->path);
    free(doc);
}

const cw_ynode *cw_ymap_get(const cw_ynode *m, const char *key)
{
    if (m == NULL || m->type != CW_Y_MAP)
        return NULL;
    for (size_t i = 0; i < m->n; i += 2)
        if (strcmp(m->kids[i]->text, key) == 0)
            return m->kids[i + 1];
    return NULL;
}

bool cw_ynode_is_null(const cw_ynode *v)
{
    return v == NULL || (v->type == CW_Y_SCALAR && !v->quoted &&
                         (v->len == 0 || strcmp(v->text, "~") == 0 ||
                          strcmp(v->text, "null") == 0));
}

static int expect(const cw_ydoc *d, const cw_ynode *v, const char *name,
                  const char *what, cw_err *err)
{
    return cw_err_set(err, CW_EPARSE, "%s:%d: field '%s': expected %s",
                      d ? d->path : "?", v ? v->line : 0, name, what);
}

int cw_ynode_str(const cw_ydoc *d, const cw_ynode *v, const char *name,
                 const char **out, cw_err *err)
{
    if (v == NULL || v->type != CW_Y_SCALAR)
        return expect(d, v, name, "a string", err);
    *out = v->text;
    return 0;
}

int cw_ynode_int(const cw_ydoc *d, const cw_ynode *v, const char *name,
                 int64_t *out, cw_err *err)
{
    char *end;
    long long x;

    if (v == NULL || v->type != CW_Y_SCALAR || v->quoted || v->len == 0)
        return expect(d, v, name, "an integer", err);
    errno = 0;
    x = strtoll(v->text, &end, 10);
    if (errno != 0 || *end != '\0')
        return expect(d, v, name, "an integer", err);
    *out = x;
    return 0;
}

int cw_ynode_bool(const cw_ydoc *d, const cw_ynode *v, const char *name,
                  bool *out, cw_err *err)
{
    if (v != NULL && v->type == CW_Y_SCALAR && !v->quoted) {
        if (strcmp(v->text, "true") == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(v->text, "false") == 0) {
            *out = false;
            return 0;
        }
    }
    return expect(d, v, name, "true or false", err);
}
