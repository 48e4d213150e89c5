/*
 * Query parameters and bodies, as every handler reads them.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

bool cw_api_digits(const char *v, size_t max)
{
    size_t n = strlen(v);

    return n > 0 && n <= max && strspn(v, "0123456789") == n;
}

static bool one_of(const char *v, const char *const *set)
{
    for (int i = 0; set[i]; i++)
        if (strcmp(v, set[i]) == 0)
            return true;
    return false;
}

#define ASCII_ID "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

typedef struct collect {
    const char *name;
    cw_apilist *l;
} collect;

static enum MHD_Result take_value(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    collect *c = cls;
    char *copy, *p, *save = NULL;

    (void)kind;
    if (strcmp(key, c->name) != 0 || value == NULL)
        return MHD_YES;
    copy = cw_xstrdup(value);
    CW_GROW(c->l->own, c->l->capown, c->l->nown + 1);
    c->l->own[c->l->nown++] = copy;
    for (p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        CW_GROW(c->l->v, c->l->cap, c->l->n + 1);
        c->l->v[c->l->n++] = p;
    }
    return MHD_YES;
}

bool cw_api_list(req *r, const char *name, const char *const *set, size_t digits, cw_apilist *out)
{
    collect c = { name, out };

    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, take_value, &c);
    for (size_t i = 0; i < out->n; i++) {
        const char *v = out->v[i];
        if (set != NULL && !one_of(v, set)) {
            char allowed[256];
            size_t n = 0;
            allowed[0] = '\0';
            for (int k = 0; set[k] && n < sizeof allowed; k++)
                n += (size_t)snprintf(allowed + n, sizeof allowed - n, "%s%s", k ? ", " : "", set[k]);
            cw_api_error(r, 400, "bad_request", name, "%s must be one or more of %s (got '%s')", name, allowed, v);
            return false;
        }
        if (set == NULL && digits > 0 && digits != CW_API_ASCII && !cw_api_digits(v, digits)) {
            cw_api_error(r, 400, "bad_request", name, "%s takes digits (1-%zu of them)", name, digits);
            return false;
        }
        if (set == NULL && digits == CW_API_ASCII && (strlen(v) == 0 || strlen(v) > 64 ||
                                                      strspn(v, ASCII_ID) != strlen(v))) {
            cw_api_error(r, 400, "bad_request", name, "%s takes letters, digits and - _ . (1-64 of them)", name);
            return false;
        }
        if (set == NULL && digits == 0 && strlen(v) > 64) {
            cw_api_error(r, 400, "bad_request", name, "a value of %s is longer than 64 characters", name);
            return false;
        }
    }
    return true;
}

void cw_apilist_free(cw_apilist *l)
{
    for (size_t i = 0; i < l->nown; i++)
        free(l->own[i]);
    free(l->own);
    free(l->v);
    memset(l, 0, sizeof *l);
}

typedef struct argcheck {
    const char *const *known;
    const char *bad;
} argcheck;

static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    argcheck *ac = cls;

    (void)kind;
    (void)value;
    if (!one_of(key, ac->known)) {
        ac->bad = key;
        return MHD_NO;
    }
    return MHD_YES;
}

bool cw_api_known_args(req *r, const char *const *known)
{
    argcheck ac = { known, NULL };
    char list[512];
    size_t n = 0;

    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_arg, &ac);
    if (ac.bad == NULL)
        return true;
    list[0] = '\0';
    for (int k = 0; known[k] && n < sizeof list; k++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", k ? ", " : "", known[k]);
    cw_api_error(r, 400, "bad_request", ac.bad, "unknown parameter '%s' (%s)", ac.bad, list);
    return false;
}

json_t *cw_api_body(req *r)
{
    json_error_t je;
    json_t *body = json_loadb(r->body.p ? r->body.p : "", r->body.n, 0, &je);

    if (body == NULL) {
        cw_api_error_at(r, 400, "malformed_json", (size_t)je.position, "%s at line %d, column %d (byte %d)",
                        je.text, je.line, je.column, je.position);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        cw_api_error(r, 400, "bad_request", NULL, "the body must be a JSON object");
        return NULL;
    }
    return body;
}

bool cw_api_finding_id(req *r, const char *id, int64_t *out)
{
    if (cw_api_digits(id, 18)) {
        *out = strtoll(id, NULL, 10);
        return true;
    }
    cw_api_error(r, 404, "not_found", NULL, "no finding %s", id);
    return false;
}

bool cw_api_blank(const char *s)
{
    return s == NULL || strspn(s, " \t\r\n") == strlen(s);
}

bool cw_api_limit(req *r, size_t *out)
{
    const char *lim = cw_api_arg(r, "limit");
    unsigned long v;
    char *end;

    if (lim == NULL)
        return true;
    v = strtoul(lim, &end, 10);
    if (*end || v == 0 || v > r->a->cfg->page_max) {
        cw_api_error(r, 400, "bad_request", "limit", "limit must be 1-%u", r->a->cfg->page_max);
        return false;
    }
    *out = v;
    return true;
}
