#include "base/value.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

typedef struct block {
    struct block *next;
    size_t used, size;
    max_align_t data[];
} block;

struct cw_varena {
    block *b;
};

cw_varena *cw_varena_new(void)
{
    return cw_xcalloc(1, sizeof(cw_varena));
}

void cw_varena_free(cw_varena *a)
{
    if (a == NULL)
        return;
    while (a->b) {
        block *b = a->b;
        a->b = b->next;
        free(b);
    }
    free(a);
}

static void *take(cw_varena *a, size_t n)
{
    block *b = a->b;
    void *p;

    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    if (b == NULL || b->size - b->used < n) {
        size_t sz = n > 16384 ? n : 16384;
        b = cw_xmalloc(sizeof *b + sz);
        b->size = sz;
        b->used = 0;
        b->next = a->b;
        a->b = b;
    }
    p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

cw_value *cw_varena_values(cw_varena *a, size_t n)
{
    return take(a, (n ? n : 1) * sizeof(cw_value));
}

const char **cw_varena_keys(cw_varena *a, size_t n)
{
    return take(a, (n ? n : 1) * sizeof(char *));
}

const char *cw_varena_str(cw_varena *a, const char *s, size_t len)
{
    char *p = take(a, len + 1);

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

static void scalar(cw_varena *a, const cw_ynode *n, cw_value *v)
{
    char *end;

    v->line = n->line;
    if (!n->quoted) {
        if (cw_ynode_is_null(n)) {
            v->kind = CW_P_NULL;
            return;
        }
        if (strcmp(n->text, "true") == 0 || strcmp(n->text, "false") == 0) {
            v->kind = CW_P_BOOL;
            v->i = n->text[0] == 't';
            return;
        }
        errno = 0;
        v->i = strtoll(n->text, &end, 10);
        if (errno == 0 && *end == '\0' && end != n->text) {
            v->kind = CW_P_INT;
            v->d = (double)v->i;
            return;
        }
        errno = 0;
        v->d = strtod(n->text, &end);
        if (errno == 0 && *end == '\0' && end != n->text) {
            v->kind = CW_P_NUM;
            return;
        }
    }
    v->kind = CW_P_STR;
    v->s = cw_varena_str(a, n->text, n->len);
}

static void fill(cw_varena *a, const cw_ynode *n, cw_value *v)
{
    cw_value *items;
    const char **keys;

    v->line = n->line;
    switch (n->type) {
    case CW_Y_SCALAR:
        scalar(a, n, v);
        return;
    case CW_Y_SEQ:
        v->kind = CW_P_LIST;
        v->n = n->n;
        items = cw_varena_values(a, n->n);
        for (size_t i = 0; i < n->n; i++)
            fill(a, n->kids[i], &items[i]);
        v->items = items;
        return;
    case CW_Y_MAP:
        v->kind = CW_P_MAP;
        v->n = n->n / 2;
        items = cw_varena_values(a, v->n);
        keys = cw_varena_keys(a, v->n);
        for (size_t i = 0; i < v->n; i++) {
            keys[i] = cw_varena_str(a, n->kids[2 * i]->text, n->kids[2 * i]->len);
            fill(a, n->kids[2 * i + 1], &items[i]);
        }
        v->items = items;
        v->keys = keys;
        return;
    }
}

const cw_value *cw_value_from_yaml(cw_varena *a, const cw_ynode *n)
{
    cw_value *v = cw_varena_values(a, 1);

    if (n != NULL)
        fill(a, n, v);
    return v;
}

const char *cw_value_kind_name(const cw_value *v)
{
    if (v == NULL)
        return "nothing";
    switch (v->kind) {
    case CW_P_NULL: return "nil";
    case CW_P_BOOL: return "a boolean";
    case CW_P_INT: return "an integer";
    case CW_P_NUM: return "a number";
    case CW_P_STR: return "a string";
    case CW_P_LIST: return "a list";
    case CW_P_MAP: return "a table";
    }
    return "?";
}

void cw_value_json(cw_buf *b, const cw_value *v)
{
    switch (v->kind) {
    case CW_P_BOOL:
        cw_buf_puts(b, v->i ? "true" : "false");
        break;
    case CW_P_INT:
        cw_buf_printf(b, "%lld", (long long)v->i);
        break;
    case CW_P_NUM:
        if (isfinite(v->d))
            cw_buf_printf(b, "%.17g", v->d);
        else
            cw_buf_puts(b, "null");
        break;
    case CW_P_STR:
        cw_buf_json(b, v->s, strlen(v->s));
        break;
    case CW_P_LIST:
    case CW_P_MAP:
        cw_buf_puts(b, v->kind == CW_P_LIST ? "[" : "{");
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                cw_buf_puts(b, ",");
            if (v->kind == CW_P_MAP) {
                cw_buf_json(b, v->keys[i], strlen(v->keys[i]));
                cw_buf_puts(b, ":");
            }
            cw_value_json(b, &v->items[i]);
        }
        cw_buf_puts(b, v->kind == CW_P_LIST ? "]" : "}");
        break;
    default:
        cw_buf_puts(b, "null");
        break;
    }
}
