#include "rules/advise.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "rules/lua/lua.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "base/value.h"
#include "base/yamltree.h"

/* A map being built. */
typedef struct mapb {
    cw_value *items;
    const char **keys;
    size_t n;
} mapb;

/* The query as models get it (times as integers), and as the answer
 * repeats it (times in the deployment's offset). */
typedef struct query {
    cw_ruleset *rs;
    cw_varena *a;
    mapb q, echo;
    cw_time now, decided;
    cw_err *err;
} query;

enum { Q_CAUSE, Q_CIRC, Q_FACTORS, Q_OFFENCE, Q_DECIDED, Q_UNIT, Q_PERSON, NQ };
static const char *const qkeys[NQ + 1] = {
    "cause", "circumstance", "factors", "offence_at", "decided_at", "unit", "person", NULL
};
static const char *const pkeys[] = { "birth_date", "flags", "first_offence", NULL };

static int bad(query *x, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(query *x, const char *field, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cw_err_set(x->err, CW_EINVAL, "查询字段 %s: %s", field, msg);
}

static int key_index(const char *const *keys, const char *k)
{
    for (int i = 0; keys[i]; i++)
        if (strcmp(keys[i], k) == 0)
            return i;
    return -1;
}

static mapb new_map(query *x, size_t cap)
{
    mapb m = { cw_varena_values(x->a, cap), cw_varena_keys(x->a, cap), 0 };

    return m;
}

/* The next member of m, named key. */
static cw_value *member(mapb *m, const char *key)
{
    m->keys[m->n] = key;
    return &m->items[m->n++];
}

static cw_value as_value(const mapb *m)
{
    cw_value v = { .kind = CW_P_MAP, .n = m->n, .items = m->items, .keys = m->keys };

    return v;
}

/* A string member of both maps. */
static void put_str(query *x, mapb *q, mapb *e, const char *key, const char *s)
{
    cw_value *v = member(q, key), *w = member(e, key);

    v->kind = w->kind = CW_P_STR;
    v->s = w->s = cw_varena_str(x->a, s, strlen(s));
}

/* A time: an integer for models, RFC 3339 in the answer. */
static void put_time(query *x, const char *key, cw_time t)
{
    cw_value *v = member(&x->q, key), *w = member(&x->echo, key);
    char iso[40];

    v->kind = CW_P_INT;
    v->i = t;
    cw_time_format(t, x->rs->tz, iso, sizeof iso);
    w->kind = CW_P_STR;
    w->s = cw_varena_str(x->a, iso, strlen(iso));
}

/* A list of names, checked against the values the catalogue allows for
 * type.field (any when it declares none). */
static int put_names(query *x, mapb *q, mapb *e, const char *key, const cw_ynode *v,
                     const char *type, const char *field)
{
    const cw_type_spec *t = cw_catalogue_find(x->rs->cat, type, strlen(type));
    const cw_field_spec *f = t ? cw_type_field(t, field, strlen(field)) : NULL;
    cw_value *items, *a, *b;

    if (v->type != CW_Y_SEQ)
        return bad(x, key, "应为名称的列表, 如 [multiple_attackers]");
    items = cw_varena_values(x->a, v->n);
    for (size_t i = 0; i < v->n; i++) {
        const cw_ynode *s = v->kids[i];
        if (s->type != CW_Y_SCALAR || s->len == 0)
            return bad(x, key, "第 %zu 项应为名称", i + 1);
        if (f != NULL && !cw_field_allows(f, s->text, s->len))
            return bad(x, key, "'%s' 不是目录中 %s.%s 的取值", s->text, type, field);
        items[i].kind = CW_P_STR;
        items[i].s = cw_varena_str(x->a, s->text, s->len);
    }
    a = member(q, key);
    b = member(e, key);
    a->kind = b->kind = CW_P_LIST;
    a->n = b->n = v->n;
    a->items = b->items = items;
    return 0;
}

/* A time or a date (the start of that day). */
static int read_time(query *x, const cw_ynode *v, const char *key, cw_time *t)
{
    cw_day d;

    if (v->type == CW_Y_SCALAR && cw_time_parse(v->text, v->len, t, NULL) == 0)
        return 0;
    if (v->type == CW_Y_SCALAR && cw_day_parse(v->text, v->len, &d) == 0) {
        *t = cw_day_start(d, x->rs->tz);
        return 0;
    }
    return bad(x, key, "应为 RFC 3339 时间 (如 2026-03-02T09:30:00+08:00) 或日期 YYYY-MM-DD");
}

static int read_person(query *x, const cw_ynode *m)
{
    mapb q = new_map(x, 3), e = new_map(x, 3);
    const cw_ynode *v;
    cw_day d;
    int rc;

    if (m->type != CW_Y_MAP)
        return bad(x, "person", "应为 {birth_date, flags, first_offence}");
    for (size_t i = 0; i < cw_ymap_size(m); i++)
        if (key_index(pkeys, cw_ymap_key(m, i)->text) < 0)
            return bad(x, "person", "未知字段 '%s' (birth_date, flags, first_offence)",
                       cw_ymap_key(m, i)->text);
    if ((v = cw_ymap_get(m, "birth_date")) != NULL) {
        if (v->type != CW_Y_SCALAR || cw_day_parse(v->text, v->len, &d) < 0)
            return bad(x, "person.birth_date", "应为日期 YYYY-MM-DD");
        put_str(x, &q, &e, "birth_date", v->text);
    }
    if ((v = cw_ymap_get(m, "flags")) != NULL &&
        (rc = put_names(x, &q, &e, "flags", v, "person.added", "flags")) < 0)
        return rc;
    if ((v = cw_ymap_get(m, "first_offence")) != NULL) {
        cw_value *a, *b;
        if (v->type != CW_Y_SCALAR || v->quoted ||
            (strcmp(v->text, "true") != 0 && strcmp(v->text, "false") != 0))
            return bad(x, "person.first_offence", "应为 true 或 false");
        a = member(&q, "first_offence");
        b = member(&e, "first_offence");
        a->kind = b->kind = CW_P_BOOL;
        a->i = b->i = strcmp(v->text, "true") == 0;
    }
    *member(&x->q, "person") = as_value(&q);
    *member(&x->echo, "person") = as_value(&e);
    return 0;
}

/* The query as JSON into the two maps, every field checked. */
static int read_query(query *x, const cw_ynode *root)
{
    const cw_ynode *v[NQ] = { 0 };
    static const char *const tiers[] = { "lighter", "normal", "heavier", NULL };
    cw_time offence, decided = x->now;
    int rc;

    if (root == NULL || root->type != CW_Y_MAP)
        return cw_err_set(x->err, CW_EINVAL, "查询应为 JSON 对象 {cause, circumstance, factors, "
                          "offence_at, decided_at, unit, person}");
    for (size_t i = 0; i < cw_ymap_size(root); i++) {
        int k = key_index(qkeys, cw_ymap_key(root, i)->text);
        if (k < 0)
            return bad(x, cw_ymap_key(root, i)->text, "未知字段 (cause, circumstance, factors, "
                       "offence_at, decided_at, unit, person)");
        v[k] = cw_ymap_val(root, i);
    }
    x->q = new_map(x, NQ + 1);          /* + advice, for the Lua rules */
    x->echo = new_map(x, NQ);
    if (v[Q_CAUSE] == NULL || v[Q_CAUSE]->type != CW_Y_SCALAR || v[Q_CAUSE]->len == 0)
        return bad(x, "cause", "违法行为代码必填 (如 PSAL-51)");
    put_str(x, &x->q, &x->echo, "cause", v[Q_CAUSE]->text);
    if (v[Q_CIRC] != NULL && (v[Q_CIRC]->type != CW_Y_SCALAR || key_index(tiers, v[Q_CIRC]->text) < 0))
        return bad(x, "circumstance", "应为 lighter (情节较轻)、normal 或 heavier (情节较重)");
    put_str(x, &x->q, &x->echo, "circumstance", v[Q_CIRC] ? v[Q_CIRC]->text : "normal");
    if (v[Q_FACTORS] != NULL &&
        (rc = put_names(x, &x->q, &x->echo, "factors", v[Q_FACTORS], "penalty.decided", "factors")) < 0)
        return rc;
    if (v[Q_OFFENCE] == NULL)
        return bad(x, "offence_at", "违法行为发生时间必填");
    if ((rc = read_time(x, v[Q_OFFENCE], "offence_at", &offence)) < 0 ||
        (v[Q_DECIDED] != NULL && (rc = read_time(x, v[Q_DECIDED], "decided_at", &decided)) < 0))
        return rc;
    if (decided < offence)
        return bad(x, "decided_at", "决定时间早于违法行为发生时间");
    put_time(x, "offence_at", offence);
    put_time(x, "decided_at", decided);
    x->decided = decided;
    if (v[Q_UNIT] != NULL) {
        if (v[Q_UNIT]->type != CW_Y_SCALAR || v[Q_UNIT]->len < 2 ||
            strspn(v[Q_UNIT]->text, "0123456789") != v[Q_UNIT]->len)
            return bad(x, "unit", "应为单位代码 (数字, 如 370102)");
        put_str(x, &x->q, &x->echo, "unit", v[Q_UNIT]->text);
    }
    if (v[Q_PERSON] != NULL && (rc = read_person(x, v[Q_PERSON])) < 0)
        return rc;
    return 0;
}

/* Whether rule r gives advice for a decision at t, in this pass (the C
 * models first, then the Lua rules, which see their answers). */
static bool advises(const cw_ruleset *rs, const cw_rule *r, bool lua, cw_time t)
{
    cw_day day = cw_time_day(t, rs->tz);

    return r->status == CW_RULE_ACTIVE && (r->model == &cw_lua_model) == lua &&
           CW_MODEL_HAS(r->model, advise) && r->model->advise != NULL && day >= r->from &&
           day <= r->to;
}

/* One rule's answer: into out, and, parsed, into `advice` for the Lua
 * rules. */
static void ask(query *x, cw_engine *e, cw_rule *r, mapb *advice, cw_buf *out)
{
    char msg[400] = "", *ans = NULL;
    cw_value q = as_value(&x->q);
    cw_ctx ctx;
    int rc;

    cw__ctx_init(&ctx, e, x->rs, r);
    rc = r->model->advise(r->inst, &ctx, &q, &ans, msg, sizeof msg);
    if (rc == 0 && ans == NULL)
        return;
    cw_buf_puts(out, out->n > 1 ? ",{\"rule\":" : "{\"rule\":");
    cw_buf_json(out, r->info.id, strlen(r->info.id));
    cw_buf_puts(out, ",\"title\":");
    cw_buf_json(out, r->info.title, strlen(r->info.title));
    cw_buf_puts(out, ",\"basis\":");
    cw_buf_json(out, r->info.basis, strlen(r->info.basis));
    if (rc != 0) {
        cw_buf_puts(out, ",\"error\":");
        cw_buf_json(out, msg, strlen(msg));
    } else {
        cw_ydoc *doc = NULL;
        cw_err perr;
        cw_buf_puts(out, ",\"answer\":");
        cw_buf_puts(out, ans);
        if (cw_ydoc_parse(&doc, r->info.id, ans, strlen(ans), &perr) == 0 && doc->root)
            *member(advice, cw_varena_str(x->a, r->info.id, strlen(r->info.id))) =
                *cw_value_from_yaml(x->a, doc->root);
        cw_ydoc_free(doc);
        r->model->advice_free(r->inst, ans);
    }
    cw_buf_puts(out, "}");
}

int cw_advise(cw_ruleset *rs, cw_engine *e, const char *json, size_t len, cw_time now,
              char **out, cw_err *err)
{
    query x = { rs, cw_varena_new(), { 0 }, { 0 }, now, now, err };
    cw_ydoc *doc = NULL;
    cw_buf b = { 0 }, list = { 0 };
    cw_value echo;
    mapb advice;
    int rc;

    *out = NULL;
    if (cw_ydoc_parse(&doc, "query", json, len, err) < 0)
        rc = cw_err_set(err, CW_EINVAL, "查询不是有效的 JSON: %s", err->msg);
    else
        rc = read_query(&x, doc->root);
    if (rc < 0) {
        cw_ydoc_free(doc);
        cw_varena_free(x.a);
        return rc;
    }
    advice = new_map(&x, rs->nrules);
    cw_buf_puts(&list, "[");
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)      /* the Lua rules see what the models answered */
            *member(&x.q, "advice") = as_value(&advice);
        for (size_t i = 0; i < rs->nrules; i++)
            if (advises(rs, rs->rules[i], pass == 1, x.decided))
                ask(&x, e, rs->rules[i], &advice, &list);
    }
    cw_buf_puts(&list, "]");
    echo = as_value(&x.echo);
    cw_buf_puts(&b, "{\"query\":");
    cw_value_json(&b, &echo);
    cw_buf_puts(&b, ",\"advice\":");
    cw_buf_puts(&b, list.p);
    cw_buf_puts(&b, "}");
    cw_buf_free(&list);
    cw_ydoc_free(doc);
    cw_varena_free(x.a);
    *out = b.p;
    return 0;
}
