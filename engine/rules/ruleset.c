#include "rules/ruleset.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/engine_int.h"
#include "base/log.h"
#include "rules/lua/lua.h"
#include "base/util.h"
#include "base/value.h"
#include "base/yamltree.h"

#define DEFAULT_LUA_MEMORY (32u << 20)
#define DEFAULT_LUA_BUDGET 1000000u

static const char *const severities[] = { "low", "medium", "high", "critical" };

/* ---- problems ----------------------------------------------------------- */

typedef struct loader {
    cw_ruleset *rs;
    const cw_load_opts *opts;
    cw_err *err;
    int problems;
} loader;

/* Record a problem: the first goes to err, every one to the report. */
static void problem(loader *ld, const cw_err *e)
{
    if (ld->problems++ == 0 && ld->err != NULL && ld->err != e)
        *ld->err = *e;
    if (ld->opts && ld->opts->report)
        fprintf(ld->opts->report, "%s\n", e->msg);
}

void cw__ruleset_problem(cw_ruleset *rs, const cw_err *e)
{
    if (rs->loading != NULL)
        problem(rs->loading, e);
}

/* ---- rules ---------------------------------------------------------------- */

static void rule_free(cw_rule *r)
{
    if (r == NULL)
        return;
    if (r->model && r->model->release && r->inst)
        r->model->release(r->inst);
    for (size_t i = 0; i < r->nunits; i++)
        free(r->units[i]);
    free(r->units);
    for (size_t i = 0; i < r->nxunits; i++)
        free(r->xunits[i]);
    free(r->xunits);
    free(r->override);
    free((char *)r->info.id);
    free((char *)r->info.title);
    free((char *)r->info.severity);
    free((char *)r->info.basis);
    free((char *)r->info.file);
    free(r->last_error);
    free(r);
}

const cw_model *cw__ruleset_model(const cw_ruleset *rs, const char *name)
{
    for (size_t p = 0; p < rs->nplugins; p++)
        for (size_t m = 0; m < rs->plugins[p].p->nmodels; m++)
            if (strcmp(rs->plugins[p].p->models[m]->name, name) == 0)
                return rs->plugins[p].p->models[m];
    return NULL;
}

static int read_scope(cw_ruleset *rs, cw_rule *r, const cw_value *scope, const char *where,
                      cw_err *err)
{
    const cw_value *kind, *units;

    if (scope == NULL)
        return 0;
    if (scope->kind != CW_P_MAP)
        return cw_err_set(err, CW_ERULE, "%s: 'scope' must be a table {kind=..., units={...}}", where);
    for (size_t i = 0; i < scope->n; i++)
        if (strcmp(scope->keys[i], "kind") && strcmp(scope->keys[i], "units"))
            return cw_err_set(err, CW_ERULE, "%s: scope: unknown key '%s' (kind, units)", where,
                              scope->keys[i]);
    if ((kind = cw_value_get(scope, "kind")) != NULL) {
        if (kind->kind != CW_P_STR ||
            (strcmp(kind->s, "administrative") != 0 && strcmp(kind->s, "criminal") != 0))
            return cw_err_set(err, CW_ERULE, "%s: scope.kind must be \"administrative\" or \"criminal\"",
                              where);
        r->kind = cw_strtab_intern(rs->world->strs, kind->s, strlen(kind->s));
    }
    if ((units = cw_value_get(scope, "units")) != NULL) {
        if (units->kind != CW_P_LIST)
            return cw_err_set(err, CW_ERULE, "%s: scope.units must be a list of unit prefixes", where);
        r->units = cw_xcalloc(units->n, sizeof *r->units);
        for (size_t i = 0; i < units->n; i++) {
            const cw_value *u = &units->items[i];
            size_t len;
            if (u->kind != CW_P_STR || (len = strlen(u->s)) == 0 || len > 12 ||
                strspn(u->s, "0123456789") != len)
                return cw_err_set(err, CW_ERULE, "%s: scope.units: '%s' is not a unit prefix (1-12 digits)",
                                  where, u->kind == CW_P_STR ? u->s : cw_value_kind_name(u));
            r->units[r->nunits++] = cw_xstrdup(u->s);
        }
    }
    return 0;
}

static int read_effective(cw_rule *r, const cw_value *eff, const char *where, cw_err *err)
{
    r->from = INT32_MIN;
    r->to = INT32_MAX;
    if (eff == NULL)
        return 0;
    if (eff->kind != CW_P_MAP)
        return cw_err_set(err, CW_ERULE, "%s: 'effective' must be a table {from=\"YYYY-MM-DD\", to=...}",
                          where);
    for (size_t i = 0; i < eff->n; i++) {
        const cw_value *v = &eff->items[i];
        cw_day *d;
        if (strcmp(eff->keys[i], "from") == 0)
            d = &r->from;
        else if (strcmp(eff->keys[i], "to") == 0)
            d = &r->to;
        else
            return cw_err_set(err, CW_ERULE, "%s: effective: unknown key '%s' (from, to)", where,
                              eff->keys[i]);
        if (v->kind != CW_P_STR || cw_day_parse(v->s, strlen(v->s), d) < 0)
            return cw_err_set(err, CW_ERULE, "%s: effective.%s must be a date \"YYYY-MM-DD\"", where,
                              eff->keys[i]);
    }
    if (r->from > r->to)
        return cw_err_set(err, CW_ERULE, "%s: effective.from is after effective.to", where);
    return 0;
}

/* rule{...}: `on` lists the event types, `index` the cross-case lookups. */
/* needs = "type" or {"type", ...}: the check runs only in cases that have
 * an event of each type (the one being checked included). The engine
 * keeps one bit per such type in every case, so this costs nothing per
 * event, while a check that returns at once still costs a Lua call. */
static int read_needs(cw_ruleset *rs, cw_rule *r, const cw_value *v, const char *where, cw_err *err)
{
    const cw_value *items = v->kind == CW_P_LIST ? v->items : v;
    size_t n = v->kind == CW_P_LIST ? v->n : 1;

    for (size_t i = 0; i < n; i++) {
        const cw_type_spec *t;
        if (items[i].kind != CW_P_STR)
            return cw_err_set(err, CW_ERULE, "%s: 'needs' is an event type or a list of them", where);
        if ((t = cw_catalogue_find(rs->cat, items[i].s, strlen(items[i].s))) == NULL)
            return cw_err_set(err, CW_ERULE, "%s: needs: unknown event type '%s'", where, items[i].s);
        if ((size_t)t->id >= rs->nneedbit) {
            size_t m = (size_t)t->id + 1;
            rs->needbit = cw_xrealloc(rs->needbit, m);
            memset(rs->needbit + rs->nneedbit, 0, m - rs->nneedbit);
            rs->nneedbit = m;
        }
        if (rs->needbit[t->id] == 0) {
            if (rs->nneeds == 64)
                return cw_err_set(err, CW_ELIMIT, "%s: needs: at most 64 event types across the "
                                  "rules", where);
            rs->needbit[t->id] = (uint8_t)++rs->nneeds;
        }
        r->needs |= 1ull << (rs->needbit[t->id] - 1);
    }
    return 0;
}

static int configure_lua_rule(cw_ruleset *rs, cw_rule *r, const cw_value *params,
                              const char *where, cw_err *err)
{
    const cw_value *on = cw_value_get(params, "on"), *idx = cw_value_get(params, "index");
    const cw_value *needs = cw_value_get(params, "needs"), *states = cw_value_get(params, "states");
    const cw_type_spec *t;

    for (size_t i = 0; i < params->n; i++)
        if (strcmp(params->keys[i], "on") && strcmp(params->keys[i], "index") &&
            strcmp(params->keys[i], "needs") && strcmp(params->keys[i], "states") &&
            strcmp(params->keys[i], "params"))
            return cw_err_set(err, CW_ERULE, "%s: unknown key '%s' (a rule has id, title, severity, "
                              "basis, scope, effective, on, needs, index, states, params, check)",
                              where, params->keys[i]);
    if (states != NULL) {
        if (states->kind != CW_P_LIST || states->n == 0)
            return cw_err_set(err, CW_ERULE, "%s: 'states' must list the states the rule reports "
                              "(violation, anomaly, late, warning, overdue, cleared)", where);
        for (size_t i = 0; i < states->n; i++) {
            int st = states->items[i].kind == CW_P_STR ? cw_state_parse(states->items[i].s) : -1;
            if (st <= 0)
                return cw_err_set(err, CW_ERULE, "%s: states: unknown state '%s'", where,
                                  states->items[i].kind == CW_P_STR ? states->items[i].s : "?");
            r->states |= 1u << st;
        }
    }
    if (needs != NULL && read_needs(rs, r, needs, where, err) < 0)
        return CW_ERULE;
    if (cw_value_get(params, "params") != NULL && cw_value_get(params, "params")->kind != CW_P_MAP)
        return cw_err_set(err, CW_ERULE, "%s: 'params' must be a table of named values "
                          "(read with param(\"name\"))", where);
    if (on == NULL || on->kind != CW_P_LIST || on->n == 0)
        return cw_err_set(err, CW_ERULE, "%s: 'on' must list the event types the rule checks", where);
    for (size_t i = 0; i < on->n; i++) {
        const cw_value *v = &on->items[i];
        if (v->kind != CW_P_STR || (t = cw_catalogue_find(rs->cat, v->s, strlen(v->s))) == NULL)
            return cw_err_set(err, CW_ERULE, "%s: on: unknown event type '%s'", where,
                              v->kind == CW_P_STR ? v->s : cw_value_kind_name(v));
        cw__listen(rs, r, t->id);
    }
    if (idx == NULL)
        return 0;
    if (idx->kind != CW_P_LIST)
        return cw_err_set(err, CW_ERULE, "%s: 'index' must be a list of {type, field}", where);
    for (size_t i = 0; i < idx->n; i++) {
        const cw_value *p = &idx->items[i];
        const cw_field_spec *f;
        if (p->kind != CW_P_LIST || p->n != 2 || p->items[0].kind != CW_P_STR ||
            p->items[1].kind != CW_P_STR)
            return cw_err_set(err, CW_ERULE, "%s: index: each entry is {\"type\", \"field\"}", where);
        t = cw_catalogue_find(rs->cat, p->items[0].s, strlen(p->items[0].s));
        if (t == NULL)
            return cw_err_set(err, CW_ERULE, "%s: index: unknown event type '%s'", where, p->items[0].s);
        f = cw_type_field(t, p->items[1].s, strlen(p->items[1].s));
        if (f == NULL || (f->type != CW_FT_STRING && f->type != CW_FT_ENUM && f->type != CW_FT_LIST))
            return cw_err_set(err, CW_ERULE, "%s: index: %s has no string or list field '%s'", where,
                              t->name, p->items[1].s);
        cw__want_index(rs, t->id, f->fid);
        r->indexes = true;
    }
    return 0;
}

static int override_scope(cw_ruleset *rs, cw_rule *r, const cw_override *o, const char *where,
                          cw_err *err);

static int declare_one(cw_ruleset *rs, cw_luafile *lf, const char *file, int line,
                       const cw_rule_info *info, const cw_value *scope, const cw_value *effective,
                       const cw_model *m, const cw_value *params, void *inst,
                       const cw_override *o, cw_rule **out, cw_err *err)
{
    char where[400];
    cw_rule *r, *dup;
    int rc, sev;

    *out = NULL;
    if (o != NULL)
        snprintf(where, sizeof where, "%s:%d: rule %s for unit %s", o->file, o->line, info->id,
                 o->unit);
    else
        snprintf(where, sizeof where, "%s:%d: rule %s", file, line, info->id ? info->id : "(no id)");
    if (info->id == NULL || info->id[0] == '\0' || strlen(info->id) > 64 ||
        strspn(info->id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:") !=
            strlen(info->id))
        return cw_err_set(err, CW_ERULE, "%s: 'id' must be 1-64 letters, digits, '-', '_', '.' or ':'",
                          where);
    if (info->title == NULL || info->title[0] == '\0')
        return cw_err_set(err, CW_ERULE, "%s: missing 'title'", where);
    if (info->basis == NULL || info->basis[0] == '\0')
        return cw_err_set(err, CW_ERULE, "%s: missing 'basis' (the legal basis shown with every finding)",
                          where);
    for (sev = 0; sev < 4; sev++)
        if (info->severity && strcmp(info->severity, severities[sev]) == 0)
            break;
    if (sev == 4)
        return cw_err_set(err, CW_ERULE, "%s: 'severity' must be low, medium, high or critical", where);
    if (m == NULL)
        return cw_err_set(err, CW_ERULE, "%s: unknown model", where);
    if (rs->nrules >= 0xfffe)
        return cw_err_set(err, CW_ELIMIT, "%s: too many rules", where);

    r = cw_xcalloc(1, sizeof *r);
    r->info.id = cw_xstrdup(info->id);
    r->info.title = cw_xstrdup(info->title);
    r->info.severity = cw_xstrdup(info->severity);
    r->info.basis = cw_xstrdup(info->basis);
    r->info.file = cw_xstrdup(file);
    r->info.line = line;
    r->sev = sev;
    r->lua = lf;
    if ((rc = read_scope(rs, r, scope, where, err)) < 0 ||
        (rc = read_effective(r, effective, where, err)) < 0) {
        rule_free(r);
        return rc;
    }
    if (o != NULL && (rc = override_scope(rs, r, o, where, err)) < 0) {
        rule_free(r);
        return rc;
    }
    /* The same id may appear again only as another version of the rule,
     * for a period that does not overlap (the 2012 and 2025 laws), or
     * made by an override for its units. */
    for (size_t i = 0; o == NULL && i < rs->nrules; i++) {
        dup = rs->rules[i];
        if (strcmp(dup->info.id, r->info.id) == 0 && dup->from <= r->to && r->from <= dup->to) {
            rc = cw_err_set(err, CW_ERULE, "%s: duplicate rule id (also %s:%d, and their "
                            "effective periods overlap)", where, dup->info.file, dup->info.line);
            rule_free(r);
            return rc;
        }
    }
    r->index = (uint16_t)rs->nrules;
    rs->rules = cw_xrealloc(rs->rules, (rs->nrules + 1) * sizeof *rs->rules);
    rs->rules[rs->nrules++] = r;
    r->model = m;
    if (m->configure == NULL) {
        r->inst = inst;
        rc = configure_lua_rule(rs, r, params, where, err);
    } else {
        char msg[400] = "";
        cw_ctx ctx;
        cw__ctx_init(&ctx, NULL, rs, r);
        rc = m->configure(&ctx, &r->info, params, &r->inst, msg, sizeof msg);
        if (rc != 0) {
            /* A Lua declaration gives every value its own line: drop a
             * "line N: " that repeats the one in `where`. */
            char prefix[32];
            const char *m2 = msg;
            snprintf(prefix, sizeof prefix, "line %d: ", line);
            if (strncmp(msg, prefix, strlen(prefix)) == 0)
                m2 = msg + strlen(prefix);
            rc = cw_err_set(err, CW_ERULE, "%s: %s", where, m2[0] ? m2 : "the model refused it");
        }
    }
    if (rc < 0) {
        /* keep the rule table consistent: drop it again */
        rs->nrules--;
        if (m->configure == NULL)
            r->inst = NULL;     /* the caller frees what it passed */
        for (size_t t = 0; t < rs->nlisten_types; t++)
            for (uint16_t i = 0; i < rs->nlisten[t];)
                if (rs->listen[t][i] == r->index)
                    rs->listen[t][i] = rs->listen[t][--rs->nlisten[t]];
                else
                    i++;
        rule_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* ---- per-unit overrides (rules/overrides.yaml) ------------------------------ */

static const cw_value *value_copy(cw_varena *a, const cw_value *v)
{
    cw_value *c = cw_varena_values(a, 1);

    *c = *v;
    if (v->kind == CW_P_STR)
        c->s = cw_varena_str(a, v->s, strlen(v->s));
    if (v->kind == CW_P_LIST || v->kind == CW_P_MAP) {
        cw_value *items = cw_varena_values(a, v->n ? v->n : 1);
        const char **keys = v->kind == CW_P_MAP ? cw_varena_keys(a, v->n ? v->n : 1) : NULL;
        for (size_t i = 0; i < v->n; i++) {
            items[i] = *value_copy(a, &v->items[i]);
            if (keys)
                keys[i] = cw_varena_str(a, v->keys[i], strlen(v->keys[i]));
        }
        c->items = items;
        c->keys = keys;
    }
    return c;
}

static bool set_key(const char *k)
{
    return strcmp(k, "severity") != 0 && strcmp(k, "enabled") != 0;
}

/* base (a map, or NULL) with the parameters of set over it. */
static const cw_value *merge(cw_varena *a, const cw_value *base, const cw_value *set)
{
    size_t n = base ? base->n : 0, k = 0;
    cw_value *m = cw_varena_values(a, 1), *items = cw_varena_values(a, n + set->n + 1);
    const char **keys = cw_varena_keys(a, n + set->n + 1);

    for (size_t i = 0; i < n; i++) {
        const cw_value *over = cw_value_get(set, base->keys[i]);
        keys[k] = cw_varena_str(a, base->keys[i], strlen(base->keys[i]));
        items[k++] = *value_copy(a, over ? over : &base->items[i]);
    }
    for (size_t i = 0; i < set->n; i++)
        if (set_key(set->keys[i]) && cw_value_get(base, set->keys[i]) == NULL) {
            keys[k] = cw_varena_str(a, set->keys[i], strlen(set->keys[i]));
            items[k++] = *value_copy(a, &set->items[i]);
        }
    m->kind = CW_P_MAP;
    m->line = base ? base->line : set->line;
    m->n = k;
    m->items = items;
    m->keys = keys;
    return m;
}

/* The rule made by override o takes o's unit, inside the scope of the
 * rule it overrides, less the units of more specific overrides. */
static int override_scope(cw_ruleset *rs, cw_rule *r, const cw_override *o, const char *where,
                          cw_err *err)
{
    size_t ul = strlen(o->unit);
    bool inside = r->nunits == 0;

    for (size_t i = 0; i < r->nunits; i++)
        if (strncmp(o->unit, r->units[i], strlen(r->units[i])) == 0)
            inside = true;
    if (!inside)
        return cw_err_set(err, CW_ERULE, "%s: unit %s is outside the rule's scope.units", where,
                          o->unit);
    for (size_t i = 0; i < r->nunits; i++)
        free(r->units[i]);
    r->units = cw_xrealloc(r->units, sizeof *r->units);
    r->units[0] = cw_xstrdup(o->unit);
    r->nunits = 1;
    for (size_t i = 0; i < rs->novr; i++) {
        const cw_override *q = &rs->ovr[i];
        if (q != o && strcmp(q->rule, o->rule) == 0 && strlen(q->unit) > ul &&
            strncmp(q->unit, o->unit, ul) == 0) {
            r->xunits = cw_xrealloc(r->xunits, (r->nxunits + 1) * sizeof *r->xunits);
            r->xunits[r->nxunits++] = cw_xstrdup(q->unit);
        }
    }
    return 0;
}

/* Names of the parameters a rule exposes, for a message. */
static void exposed_names(const cw_value *p, char *buf, size_t size)
{
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; p != NULL && i < p->n && n + 1 < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", p->keys[i]);
    if (buf[0] == '\0')
        snprintf(buf, size, "none");
}

int cw__ruleset_declare(cw_ruleset *rs, cw_luafile *lf, const char *file, int line,
                        const cw_rule_info *info, const cw_value *scope, const cw_value *effective,
                        const cw_model *m, const cw_value *params, void *inst, cw_err *err)
{
    bool lua = m != NULL && m->configure == NULL;
    const cw_value *exposed;
    cw_rule *r;
    int rc;

    if ((rc = declare_one(rs, lf, file, line, info, scope, effective, m, params, inst, NULL, &r,
                          err)) < 0)
        return rc;
    if (rs->data == NULL)
        rs->data = cw_varena_new();
    r->params = value_copy(rs->data, params);
    exposed = lua ? cw_value_get(params, "params") : params;
    for (size_t i = 0; i < rs->novr; i++)
        if (strcmp(rs->ovr[i].rule, r->info.id) == 0) {
            rs->ovr[i].used = true;
            r->xunits = cw_xrealloc(r->xunits, (r->nxunits + 1) * sizeof *r->xunits);
            r->xunits[r->nxunits++] = cw_xstrdup(rs->ovr[i].unit);
        }
    for (size_t i = 0; i < rs->novr; i++) {
        cw_override *o = &rs->ovr[i];
        cw_rule_info vi = r->info;
        const cw_value *merged;
        bool ok = true;
        void *vinst = NULL;
        cw_rule *v;
        cw_err e;
        if (strcmp(o->rule, r->info.id) != 0 || o->disabled)
            continue;
        for (size_t k = 0; k < o->set->n; k++) {
            const char *key = o->set->keys[k];
            char names[300];
            if (!set_key(key) || cw_value_get(exposed, key) != NULL ||
                (!lua && (strcmp(key, "lead") == 0 || strcmp(key, "period") == 0)))
                continue;
            exposed_names(exposed, names, sizeof names);
            cw_err_set(&e, CW_ERULE, "%s:%d: rule %s for unit %s: '%s' is not a parameter the rule "
                       "exposes (%s: %s)", o->file, o->set->items[k].line ? o->set->items[k].line
                                                                          : o->line,
                       r->info.id, o->unit, key, lua ? "its params" : "its parameters", names);
            cw__ruleset_problem(rs, &e);
            ok = false;
        }
        if (!ok)
            continue;
        if (lua) {
            merged = merge(rs->data, params, &(cw_value){ .kind = CW_P_MAP, .n = 1,
                           .items = merge(rs->data, exposed, o->set),
                           .keys = (const char *const[]){ "params" } });
            vinst = cw__lua_variant(inst, o->set);
        } else {
            merged = merge(rs->data, params, o->set);
        }
        if (o->sev >= 0)
            vi.severity = severities[o->sev];
        if (declare_one(rs, lf, file, line, &vi, scope, effective, m, merged, vinst, o, &v, &e) < 0) {
            if (vinst != NULL)
                m->release(vinst);
            cw__ruleset_problem(rs, &e);
            continue;
        }
        {
            char buf[320];
            const char *base = strrchr(o->file, '/');
            snprintf(buf, sizeof buf, "%s:%d", base ? base + 1 : o->file, o->line);
            v->override = cw_xstrdup(buf);
        }
        v->override_unit = o->unit;
        v->override_set = o->set;
        v->params = merged;
    }
    return 0;
}

static int load_overrides(loader *ld)
{
    cw_ruleset *rs = ld->rs;
    char *path = cw_path_join(rs->dir, "overrides.yaml");
    const cw_value *root, *list;
    cw_ydoc *doc;
    struct stat st;
    cw_err e;
    int bad = 0;

    if (stat(path, &st) != 0) {
        free(path);
        return 0;
    }
    if (cw_ydoc_load(&doc, path, &e) < 0) {
        problem(ld, &e);
        free(path);
        return -1;
    }
    if (rs->data == NULL)
        rs->data = cw_varena_new();
    root = doc->root ? cw_value_from_yaml(rs->data, doc->root) : NULL;
    cw_ydoc_free(doc);
    list = cw_value_get(root, "overrides");
    if (root == NULL || root->kind != CW_P_MAP || root->n != 1 || list == NULL ||
        list->kind != CW_P_LIST) {
        cw_err_set(&e, CW_ERULE, "%s:%d: an overrides file is a map with one key, 'overrides', "
                   "a list of {unit, rule, set}", path, root ? root->line : 1);
        problem(ld, &e);
        free(path);
        return -1;
    }
    rs->ovr = cw_xcalloc(list->n + 1, sizeof *rs->ovr);
    for (size_t i = 0; i < list->n; i++) {
        const cw_value *it = &list->items[i], *u, *r, *set, *v;
        char unit[32];
        cw_override *o;
        int line = it->line;
        u = cw_value_get(it, "unit");
        r = cw_value_get(it, "rule");
        set = cw_value_get(it, "set");
        if (it->kind != CW_P_MAP) {
            cw_err_set(&e, CW_ERULE, "%s:%d: an override is a map {unit, rule, set}", path, line);
            problem(ld, &e);
            bad++;
            continue;
        }
        for (size_t k = 0; k < it->n; k++)
            if (strcmp(it->keys[k], "unit") && strcmp(it->keys[k], "rule") && strcmp(it->keys[k], "set")) {
                cw_err_set(&e, CW_ERULE, "%s:%d: unknown key '%s' in an override (unit, rule, set)",
                           path, it->items[k].line ? it->items[k].line : line, it->keys[k]);
                problem(ld, &e);
                bad++;
            }
        if (u != NULL && u->kind == CW_P_INT)
            snprintf(unit, sizeof unit, "%lld", (long long)u->i);
        else
            snprintf(unit, sizeof unit, "%s", u && u->kind == CW_P_STR ? u->s : "");
        if (unit[0] == '\0' || strlen(unit) > 12 || strspn(unit, "0123456789") != strlen(unit)) {
            cw_err_set(&e, CW_ERULE, "%s:%d: 'unit' must be a unit prefix (1-12 digits)", path,
                       u && u->line ? u->line : line);
            problem(ld, &e);
            bad++;
            continue;
        }
        if (r == NULL || r->kind != CW_P_STR || r->s[0] == '\0') {
            cw_err_set(&e, CW_ERULE, "%s:%d: 'rule' must name a rule id", path, r && r->line ? r->line : line);
            problem(ld, &e);
            bad++;
            continue;
        }
        if (set == NULL || set->kind != CW_P_MAP || set->n == 0) {
            cw_err_set(&e, CW_ERULE, "%s:%d: 'set' must be a map of the parameters to change", path,
                       set && set->line ? set->line : line);
            problem(ld, &e);
            bad++;
            continue;
        }
        for (size_t k = 0; k < rs->novr; k++)
            if (strcmp(rs->ovr[k].unit, unit) == 0 && strcmp(rs->ovr[k].rule, r->s) == 0) {
                cw_err_set(&e, CW_ERULE, "%s:%d: rule %s for unit %s is overridden twice (also line %d)",
                           path, line, r->s, unit, rs->ovr[k].line);
                problem(ld, &e);
                bad++;
            }
        o = &rs->ovr[rs->novr++];
        o->unit = cw_xstrdup(unit);
        o->rule = cw_xstrdup(r->s);
        o->file = cw_xstrdup(path);
        o->line = line;
        o->set = set;
        o->sev = -1;
        if ((v = cw_value_get(set, "severity")) != NULL) {
            for (o->sev = 0; o->sev < 4; o->sev++)
                if (v->kind == CW_P_STR && strcmp(v->s, severities[o->sev]) == 0)
                    break;
            if (o->sev == 4) {
                o->sev = -1;
                cw_err_set(&e, CW_ERULE, "%s:%d: severity must be low, medium, high or critical",
                           path, v->line ? v->line : line);
                problem(ld, &e);
                bad++;
            }
        }
        if ((v = cw_value_get(set, "enabled")) != NULL) {
            if (v->kind != CW_P_BOOL) {
                cw_err_set(&e, CW_ERULE, "%s:%d: enabled must be true or false", path,
                           v->line ? v->line : line);
                problem(ld, &e);
                bad++;
            }
            o->disabled = v->kind == CW_P_BOOL && v->i == 0;
        }
    }
    free(path);
    return bad ? -1 : 0;
}

static void overrides_unused(loader *ld)
{
    for (size_t i = 0; i < ld->rs->novr; i++)
        if (!ld->rs->ovr[i].used) {
            cw_err e;
            cw_err_set(&e, CW_ERULE, "%s:%d: no rule %s in %s", ld->rs->ovr[i].file,
                       ld->rs->ovr[i].line, ld->rs->ovr[i].rule, ld->rs->dir);
            problem(ld, &e);
        }
}

/* ---- plugins -------------------------------------------------------------- */

static char *exe_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    char *slash;

    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    if ((slash = strrchr(buf, '/')) == NULL)
        return NULL;
    *slash = '\0';
    return cw_xstrdup(buf);
}

static char *find_plugin(const char *name, const char *path)
{
    char *dir = exe_dir(), *list, *tok, *save = NULL, *found = NULL;
    const char *env = getenv("CASEWARDEN_PLUGIN_PATH");

    list = cw_xasprintf("%s:%s:%s/plugins/.libs:%s/plugins:%s/../lib/casewarden:%s",
                        path ? path : "", env ? env : "", dir ? dir : ".", dir ? dir : ".",
                        dir ? dir : ".", CW_PLUGINDIR);
    for (tok = strtok_r(list, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
        char *p = cw_xasprintf("%s/%s.so", tok, name);
        if (access(p, R_OK) == 0) {
            found = p;
            break;
        }
        free(p);
    }
    free(list);
    free(dir);
    return found;
}

static pthread_mutex_t plugin_init_mu = PTHREAD_MUTEX_INITIALIZER;

/* Load one plugin: the entry symbol, the ABI check, init. */
int cw_plugin_open(const char *path, cw_plugin_handle *h, cw_err *err)
{
    cw_plugin_entry_fn entry;
    const cw_plugin *p;
    char msg[256] = "";
    int refused;

    memset(h, 0, sizeof *h);
    h->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h->dl == NULL)
        return cw_err_set(err, CW_EIO, "plugin %s: %s", path, dlerror());
    *(void **)&entry = dlsym(h->dl, CW_PLUGIN_ENTRY);
    if (entry == NULL) {
        dlclose(h->dl);
        return cw_err_set(err, CW_EABI, "plugin %s: no %s symbol (not a casewarden plugin)",
                          path, CW_PLUGIN_ENTRY);
    }
    p = entry();
    if (p == NULL || p->abi_major != CW_ABI_MAJOR || p->abi_minor > CW_ABI_MINOR) {
        int rc = cw_err_set(err, CW_EABI, "plugin %s: built for plugin ABI %u.%u, this casewarden "
                            "has ABI %d.%d (a plugin needs the same major version and a minor "
                            "version no newer)", path, p ? p->abi_major : 0, p ? p->abi_minor : 0,
                            CW_ABI_MAJOR, CW_ABI_MINOR);
        dlclose(h->dl);
        return rc;
    }
    if (p->struct_size < offsetof(cw_plugin, nmodels) + sizeof p->nmodels) {
        dlclose(h->dl);
        return cw_err_set(err, CW_EABI, "plugin %s: plugin table too small (%u bytes)", path,
                          p->struct_size);
    }
    for (size_t i = 0; i < p->nmodels; i++)
        if (p->models[i] == NULL || !CW_MODEL_HAS(p->models[i], release) ||
            p->models[i]->name == NULL || p->models[i]->on_event == NULL ||
            p->models[i]->configure == NULL) {
            dlclose(h->dl);
            return cw_err_set(err, CW_EABI, "plugin %s: model %zu is incomplete", path, i);
        }
    /* one init at a time in the process: rulesets loaded in several
     * threads (serve --threads) share the library and its statics */
    pthread_mutex_lock(&plugin_init_mu);
    refused = p->init != NULL && p->init(&cw__host, msg, sizeof msg) != 0;
    pthread_mutex_unlock(&plugin_init_mu);
    if (refused) {
        dlclose(h->dl);
        return cw_err_set(err, CW_EABI, "plugin %s: refused to start: %s", path, msg);
    }
    h->p = p;
    h->path = cw_xstrdup(path);
    return 0;
}

void cw_plugin_close(cw_plugin_handle *h)
{
    if (h->dl != NULL)
        dlclose(h->dl);
    free(h->path);
    memset(h, 0, sizeof *h);
}

static int load_plugins(loader *ld, const cw_ydoc *d, const cw_ynode *list, const char *path)
{
    cw_ruleset *rs = ld->rs;
    static const char *const dflt[] = { "deadline" };
    size_t n = list ? list->n : 1;
    cw_err e;

    if (list != NULL && list->type != CW_Y_SEQ) {
        cw_err_set(&e, CW_ECONFIG, "%s:%d: 'plugins' must be a list of names", d->path, list->line);
        problem(ld, &e);
        return -1;
    }
    rs->plugins = cw_xcalloc(n ? n : 1, sizeof *rs->plugins);
    for (size_t i = 0; i < n; i++) {
        const char *name = list ? list->kids[i]->text : dflt[i];
        char *file;
        if (list && list->kids[i]->type != CW_Y_SCALAR) {
            cw_err_set(&e, CW_ECONFIG, "%s:%d: a plugin is named by a string", d->path,
                       list->kids[i]->line);
            problem(ld, &e);
            return -1;
        }
        if ((file = find_plugin(name, path)) == NULL) {
            cw_err_set(&e, CW_ECONFIG, "%s%s%d: plugin '%s' not found (searched --plugins, "
                       "$CASEWARDEN_PLUGIN_PATH, next to the program and %s)",
                       list ? d->path : "", list ? ":" : "",
                       list ? list->kids[i]->line : 0, name, CW_PLUGINDIR);
            if (!list)
                cw_err_set(&e, CW_ECONFIG, "plugin '%s' not found (searched --plugins, "
                           "$CASEWARDEN_PLUGIN_PATH, next to the program and %s)", name, CW_PLUGINDIR);
            problem(ld, &e);
            return -1;
        }
        if (cw_plugin_open(file, &rs->plugins[rs->nplugins], &e) < 0) {
            free(file);
            problem(ld, &e);
            return -1;
        }
        free(file);
        rs->nplugins++;
    }
    return 0;
}

/* ---- settings --------------------------------------------------------------- */

typedef struct settings {
    cw_ydoc *doc;
    const cw_ynode *plugins;
    char *catalogue, *calendar, *plugin_path;
    int years_before, years_after;   /* events: the years around now `at` may fall in */
} settings;

/* memory: {idle_days: N, index_days: N} (docs/RULES.md). */
static int read_memory(loader *ld, settings *s, const cw_ynode *v)
{
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        { "idle_days", offsetof(cw_ruleset, idle_s) },
        { "index_days", offsetof(cw_ruleset, index_s) },
    };
    cw_err e;
    int rc = 0;

    if (v->type != CW_Y_MAP) {
        cw_err_set(&e, CW_ECONFIG, "%s:%d: memory: expected {idle_days: N, index_days: N}",
                   s->doc->path, v->line);
        problem(ld, &e);
        return -1;
    }
    for (size_t j = 0; j < cw_ymap_size(v); j++) {
        const cw_ynode *k = cw_ymap_key(v, j), *x = cw_ymap_val(v, j);
        size_t i;
        int64_t n;
        for (i = 0; i < sizeof keys / sizeof *keys && strcmp(keys[i].key, k->text); i++)
            ;
        if (i == sizeof keys / sizeof *keys) {
            cw_err_set(&e, CW_ECONFIG, "%s:%d: memory: unknown key '%s' (idle_days, index_days)",
                       s->doc->path, k->line, k->text);
        } else if (cw_ynode_int(s->doc, x, k->text, &n, &e) < 0 || n < 1 || n > 3650) {
            cw_err_set(&e, CW_ECONFIG, "%s:%d: memory.%s must be 1-3650 days", s->doc->path,
                       x->line, k->text);
        } else {
            *(int64_t *)((char *)ld->rs + keys[i].off) = n * 86400;
            continue;
        }
        problem(ld, &e);
        rc = -1;
    }
    return rc;
}

/* events: {years_before: N, years_after: N}: the years around now an
 * event's `at` may fall in. */
static int read_events(loader *ld, settings *s, const cw_ynode *v)
{
    static const char *const keys[] = { "years_before", "years_after" };
    int *dest[] = { &s->years_before, &s->years_after };
    cw_err e;
    int rc = 0;

    if (v->type != CW_Y_MAP) {
        cw_err_set(&e, CW_ECONFIG, "%s:%d: events must be a map {years_before: N, years_after: N}",
                   s->doc->path, v->line);
        problem(ld, &e);
        return -1;
    }
    for (size_t j = 0; j < cw_ymap_size(v); j++) {
        const cw_ynode *k = cw_ymap_key(v, j), *x = cw_ymap_val(v, j);
        int64_t n;
        size_t i;
        for (i = 0; i < 2 && strcmp(k->text, keys[i]) != 0; i++)
            ;
        if (i == 2) {
            cw_err_set(&e, CW_ECONFIG, "%s:%d: events: unknown key '%s' (years_before, years_after)",
                       s->doc->path, k->line, k->text);
        } else if (cw_ynode_int(s->doc, x, keys[i], &n, &e) < 0 || n < 0 || n > 1000) {
            cw_err_set(&e, CW_ECONFIG, "%s:%d: events.%s must be 0-1000 years", s->doc->path, x->line,
                       keys[i]);
        } else {
            *dest[i] = (int)n;
            continue;
        }
        problem(ld, &e);
        rc = -1;
    }
    return rc;
}

static int read_settings(loader *ld, settings *s)
{
    cw_ruleset *rs = ld->rs;
    char *path = cw_path_join(rs->dir, "engine.yaml");
    const cw_ynode *root, *v;
    cw_err e;
    int rc = 0;

    s->catalogue = cw_path_join(rs->dir, "catalogue.yaml");
    s->calendar = cw_path_join(rs->dir, "calendar");
    if (access(path, F_OK) != 0) {
        free(path);
        return 0;
    }
    if (cw_ydoc_load(&s->doc, path, &e) < 0) {
        free(path);
        problem(ld, &e);
        return -1;
    }
    free(path);
    root = s->doc->root;
    if (root == NULL)
        return 0;
    if (root->type != CW_Y_MAP) {
        cw_err_set(&e, CW_ECONFIG, "%s:%d: expected a map of settings", s->doc->path, root->line);
        problem(ld, &e);
        return -1;
    }
    for (size_t i = 0; i < cw_ymap_size(root); i++) {
        const cw_ynode *k = cw_ymap_key(root, i);
        v = cw_ymap_val(root, i);
        if (strcmp(k->text, "timezone") == 0) {
            if (v->type != CW_Y_SCALAR || cw_tz_parse(v->text, &rs->tz) < 0) {
                cw_err_set(&e, CW_ECONFIG, "%s:%d: timezone must be an offset like \"+08:00\"",
                           s->doc->path, v->line);
                problem(ld, &e);
                rc = -1;
            }
        } else if (strcmp(k->text, "age_from") == 0) {
            if (v->type != CW_Y_SCALAR || cw_age_from_parse(v->text, &rs->age_from) < 0) {
                cw_err_set(&e, CW_ECONFIG, "%s:%d: age_from must be day_after_birthday (周岁自生日"
                           "次日起算, the default) or birthday", s->doc->path, v->line);
                problem(ld, &e);
                rc = -1;
            }
        } else if (strcmp(k->text, "catalogue") == 0 && v->type == CW_Y_SCALAR) {
            free(s->catalogue);
            s->catalogue = cw_path_join(rs->dir, v->text);
        } else if (strcmp(k->text, "calendar") == 0 && v->type == CW_Y_SCALAR) {
            free(s->calendar);
            s->calendar = cw_path_join(rs->dir, v->text);
        } else if (strcmp(k->text, "plugin_path") == 0 && v->type == CW_Y_SCALAR) {
            s->plugin_path = cw_path_join(rs->dir, v->text);
        } else if (strcmp(k->text, "plugins") == 0) {
            s->plugins = v;
        } else if (strcmp(k->text, "memory") == 0) {
            if (read_memory(ld, s, v) < 0)
                rc = -1;
        } else if (strcmp(k->text, "events") == 0) {
            if (read_events(ld, s, v) < 0)
                rc = -1;
        } else if (strcmp(k->text, "lua") == 0 && v->type == CW_Y_MAP) {
            const cw_ynode *mem = cw_ymap_get(v, "memory_mb"), *ins = cw_ymap_get(v, "instructions");
            int64_t n;
            for (size_t j = 0; j < cw_ymap_size(v); j++)
                if (strcmp(cw_ymap_key(v, j)->text, "memory_mb") &&
                    strcmp(cw_ymap_key(v, j)->text, "instructions")) {
                    cw_err_set(&e, CW_ECONFIG, "%s:%d: lua: unknown key '%s' (memory_mb, instructions)",
                               s->doc->path, cw_ymap_key(v, j)->line, cw_ymap_key(v, j)->text);
                    problem(ld, &e);
                    rc = -1;
                }
            if (mem && (cw_ynode_int(s->doc, mem, "memory_mb", &n, &e) < 0 || n < 1 || n > 4096)) {
                cw_err_set(&e, CW_ECONFIG, "%s:%d: lua.memory_mb must be 1-4096", s->doc->path, mem->line);
                problem(ld, &e);
                rc = -1;
            } else if (mem) {
                rs->lua_memory = (size_t)n << 20;
            }
            if (ins && (cw_ynode_int(s->doc, ins, "instructions", &n, &e) < 0 || n < 1000)) {
                cw_err_set(&e, CW_ECONFIG, "%s:%d: lua.instructions must be at least 1000",
                           s->doc->path, ins->line);
                problem(ld, &e);
                rc = -1;
            } else if (ins) {
                rs->lua_budget = (uint64_t)n;
            }
        } else {
            cw_err_set(&e, CW_ECONFIG, "%s:%d: unknown setting '%s' (timezone, age_from, catalogue, "
                       "calendar, plugins, plugin_path, lua, memory, events)", s->doc->path, k->line, k->text);
            problem(ld, &e);
            rc = -1;
        }
    }
    return rc;
}

/* Fold the files of dir ending in suffix (name and content) into h. */
static uint64_t digest_files(uint64_t h, const char *dir, const char *suffix)
{
    char **paths;
    size_t n;

    if (cw_dir_list(dir, suffix, &paths, &n) < 0)
        return h;
    for (size_t i = 0; i < n; i++) {
        char *text;
        size_t len;
        const char *name = strrchr(paths[i], '/');
        name = name ? name + 1 : paths[i];
        /* who hears of findings changes no finding: a snapshot stays good */
        if (strcmp(name, "notify.yaml") == 0)
            continue;
        h = (h ^ cw_hash(name, strlen(name))) * 0x100000001b3ULL;
        if (cw_read_file(paths[i], &text, &len) == 0) {
            h = (h ^ cw_hash(text, len)) * 0x100000001b3ULL;
            free(text);
        }
    }
    cw_paths_free(paths, n);
    return h;
}

/* What the rules directory says, as one number: every *.lua and *.yaml
 * of it and of its subdirectories (tests/ and notify.yaml apart), and the plugins' names
 * and versions. A snapshot is read back only under the same digest. */
static uint64_t mix_str(uint64_t h, const char *s)
{
    return (h ^ cw_hash(s ? s : "", s ? strlen(s) : 0)) * 0x100000001b3ULL;
}

/* Each rule's version: its declaration (what it is, its scope and
 * period, its parameters as they take effect, a Lua check's file), the
 * data it reads (calendar, catalogue, its model's data files) and the
 * plugin that implements it, and the settings that change judgements
 * (time zone, how ages are counted). The same rule in another directory, or at
 * another line, has the same version. */
static void rule_versions(cw_ruleset *rs, const settings *s)
{
    uint64_t cal = digest_files(0xcbf29ce484222325ULL, s->calendar, ".yaml"), cat = 0;
    char *text;
    size_t len;

    if (cw_read_file(s->catalogue, &text, &len) == 0) {
        cat = cw_hash(text, len);
        free(text);
    }
    for (size_t i = 0; i < rs->nrules; i++) {
        cw_rule *r = rs->rules[i];
        uint64_t h = 0xcbf29ce484222325ULL ^ cal ^ (cat * 31) ^ (r->data_digest * 131) ^
                     ((uint64_t)(uint32_t)rs->tz << 32) ^ ((uint64_t)rs->age_from << 48);
        cw_buf b = { 0 };
        h = mix_str(h, r->info.id);
        h = mix_str(h, r->info.title);
        h = mix_str(h, r->info.severity);
        h = mix_str(h, r->info.basis);
        h = mix_str(h, r->model->name);
        h = mix_str(h, r->kind ? cw_strtab_str(rs->world->strs, r->kind) : "");
        for (size_t k = 0; k < r->nunits; k++)
            h = mix_str(h, r->units[k]);
        h = mix_str(h, "|");
        for (size_t k = 0; k < r->nxunits; k++)
            h = mix_str(h, r->xunits[k]);
        h = (h ^ (uint64_t)(uint32_t)r->from) * 0x100000001b3ULL;
        h = (h ^ (uint64_t)(uint32_t)r->to) * 0x100000001b3ULL;
        h = (h ^ r->states) * 0x100000001b3ULL;
        if (r->params != NULL) {
            cw_value_json(&b, r->params);
            h = (h ^ cw_hash(b.p ? b.p : "", b.n)) * 0x100000001b3ULL;
            cw_buf_free(&b);
        }
        if (r->model->configure == NULL && r->lua != NULL &&
            cw_read_file(cw_lua_path(r->lua), &text, &len) == 0) {
            h = (h ^ cw_hash(text, len)) * 0x100000001b3ULL;
            free(text);
        }
        for (size_t k = 0; k < rs->nplugins; k++)
            for (size_t m = 0; m < rs->plugins[k].p->nmodels; m++)
                if (rs->plugins[k].p->models[m] == r->model) {
                    h = mix_str(h, rs->plugins[k].p->name);
                    h = mix_str(h, rs->plugins[k].p->version);
                }
        snprintf(r->version, sizeof r->version, "%016llx", (unsigned long long)h);
    }
}

static uint64_t ruleset_digest(const cw_ruleset *rs)
{
    uint64_t h = digest_files(digest_files(0xcbf29ce484222325ULL, rs->dir, ".lua"), rs->dir, ".yaml");
    char **subs;
    size_t n;
    struct stat st;

    if (cw_dir_list(rs->dir, "", &subs, &n) >= 0) {
        for (size_t i = 0; i < n; i++) {
            const char *name = strrchr(subs[i], '/') + 1;
            if (strcmp(name, "tests") != 0 && stat(subs[i], &st) == 0 && S_ISDIR(st.st_mode))
                h = digest_files((h ^ cw_hash(name, strlen(name))) * 0x100000001b3ULL, subs[i],
                                 ".yaml");
        }
        cw_paths_free(subs, n);
    }
    for (size_t i = 0; i < rs->nplugins; i++) {
        const cw_plugin *p = rs->plugins[i].p;
        h = (h ^ cw_hash(p->name, strlen(p->name))) * 0x100000001b3ULL;
        h = (h ^ cw_hash(p->version, strlen(p->version))) * 0x100000001b3ULL;
    }
    return h ? h : 1;
}

int cw_ruleset_load(cw_ruleset **out, cw_world *w, const char *dir, const cw_load_opts *opts,
                    cw_err *err)
{
    cw_ruleset *rs = cw_xcalloc(1, sizeof *rs);
    loader ld = { rs, opts, err, 0 };
    settings s = { .years_before = 30, .years_after = 1 };
    struct stat st;
    char **files = NULL;
    size_t nfiles = 0;
    cw_err e;

    *out = NULL;
    rs->dir = cw_xstrdup(dir);
    rs->world = w;
    rs->tz = 8 * 60;
    rs->lua_memory = DEFAULT_LUA_MEMORY;
    rs->lua_budget = DEFAULT_LUA_BUDGET;
    rs->t_accepted = rs->t_transfer_unit = rs->f_kind = rs->f_cause = rs->f_offence_at = -1;
    rs->idle_s = CW_IDLE_S;
    rs->index_s = CW_INDEX_WINDOW_S;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cw_err_set(&e, CW_EIO, "%s: %s", dir, stat(dir, &st) != 0 ? strerror(errno)
                                                                   : "not a directory");
        problem(&ld, &e);
        goto fail;
    }
    if (read_settings(&ld, &s) < 0)
        goto fail;
    if (cw_catalogue_load(&rs->cat, s.catalogue, w->names, &e) < 0) {
        problem(&ld, &e);
        goto fail;
    }
    cw_catalogue_set_years(rs->cat, s.years_before, s.years_after);
    if (cw_calendar_new(&rs->cal, rs->tz, &e) < 0 || cw_calendar_load_dir(rs->cal, s.calendar, &e) < 0) {
        problem(&ld, &e);
        goto fail;
    }
    if (load_plugins(&ld, s.doc, s.plugins, s.plugin_path ? s.plugin_path : opts ? opts->plugin_path : NULL) < 0)
        goto fail;
    if (opts && opts->plugin_path && s.plugin_path == NULL) {
        /* already searched */
    }
    {
        const cw_type_spec *t = cw_catalogue_find(rs->cat, "case.accepted", 13);
        rs->t_accepted = t ? t->id : -1;
        t = cw_catalogue_find(rs->cat, "case.transferred_unit", 21);
        rs->t_transfer_unit = t ? t->id : -1;
        rs->f_kind = (int)cw_strtab_intern(w->names, "kind", 4);
        rs->f_cause = (int)cw_strtab_intern(w->names, "cause", 5);
        rs->f_offence_at = (int)cw_strtab_intern(w->names, "offence_at", 10);
    }
    load_overrides(&ld);
    cw_dir_list(dir, ".lua", &files, &nfiles);
    rs->loading = &ld;
    for (size_t i = 0; i < nfiles; i++)
        if (cw_lua_load_file(rs, files[i], &e) < 0)
            problem(&ld, &e);       /* positive: reported one by one */
    if (ld.problems == 0)
        cw__ruleset_lint(rs);
    rs->loading = NULL;
    overrides_unused(&ld);
    cw_paths_free(files, nfiles);
    rs->digest = ruleset_digest(rs);
    rule_versions(rs, &s);
    if (ld.problems == 0 && rs->nrules == 0) {
        cw_err_set(&e, CW_ERULE, "%s: no rules (no *.lua file declares any)", dir);
        problem(&ld, &e);
    }
    if (ld.problems > 0)
        goto fail;
    free(s.catalogue);
    free(s.calendar);
    free(s.plugin_path);
    cw_ydoc_free(s.doc);
    *out = rs;
    return 0;
fail:
    free(s.catalogue);
    free(s.calendar);
    free(s.plugin_path);
    cw_ydoc_free(s.doc);
    cw_ruleset_free(rs);
    return err ? (err->code ? err->code : CW_ERULE) : CW_ERULE;
}

void cw_ruleset_free(cw_ruleset *rs)
{
    if (rs == NULL)
        return;
    /* rules first (their instances belong to plugins), then Lua states,
     * then the plugins themselves */
    for (size_t i = 0; i < rs->nrules; i++)
        rule_free(rs->rules[i]);
    free(rs->rules);
    for (size_t i = 0; i < rs->nfiles; i++)
        cw_lua_close(rs->files[i]);
    free(rs->files);
    for (size_t i = 0; i < rs->nplugins; i++)
        cw_plugin_close(&rs->plugins[i]);
    free(rs->plugins);
    for (size_t i = 0; i < rs->nlisten_types; i++)
        free(rs->listen[i]);
    free(rs->listen);
    free(rs->nlisten);
    free(rs->needbit);
    free(rs->idx);
    for (size_t i = 0; i < rs->novr; i++) {
        free(rs->ovr[i].unit);
        free(rs->ovr[i].rule);
        free(rs->ovr[i].file);
    }
    free(rs->ovr);
    cw_varena_free(rs->data);
    cw_catalogue_free(rs->cat);
    cw_calendar_free(rs->cal);
    free(rs->dir);
    free(rs);
}
