#include "rules/lua/lua_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "base/value.h"
#include "rules/ruleset.h"

/* ---- Lua tables to cw_value --------------------------------------------- */

int cw__lua_key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int to_value(lua_State *L, int idx, cw_varena *a, cw_value *v, int line, int depth,
                    const char *where, char *err, size_t errlen)
{
    idx = lua_absindex(L, idx);
    v->line = line;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        v->kind = CW_P_NULL;
        return 0;
    case LUA_TBOOLEAN:
        v->kind = CW_P_BOOL;
        v->i = lua_toboolean(L, idx);
        return 0;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            v->kind = CW_P_INT;
            v->i = lua_tointeger(L, idx);
            v->d = (double)v->i;
        } else {
            v->kind = CW_P_NUM;
            v->d = lua_tonumber(L, idx);
        }
        return 0;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        v->kind = CW_P_STR;
        v->s = cw_varena_str(a, s, len);
        return 0;
    }
    case LUA_TTABLE: {
        size_t n = lua_rawlen(L, idx), count = 0;
        if (depth > MAX_VALUE_DEPTH) {
            snprintf(err, errlen, "%s: tables nested too deep", where);
            return -1;
        }
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            count++;
            lua_pop(L, 1);
        }
        if (count == n) {
            cw_value *items = cw_varena_values(a, n);
            v->kind = CW_P_LIST;
            v->n = n;
            v->items = items;
            for (size_t i = 0; i < n; i++) {
                lua_rawgeti(L, idx, (lua_Integer)i + 1);
                if (to_value(L, -1, a, &items[i], line, depth + 1, where, err, errlen) < 0)
                    return -1;
                lua_pop(L, 1);
            }
            return 0;
        }
        {
            const char **keys = cw_varena_keys(a, count);
            cw_value *items = cw_varena_values(a, count);
            size_t k = 0;
            lua_pushnil(L);
            while (lua_next(L, idx)) {
                if (lua_type(L, -2) != LUA_TSTRING) {
                    lua_pop(L, 2);
                    snprintf(err, errlen, "%s: a table mixes list items and named keys", where);
                    return -1;
                }
                keys[k++] = cw_varena_str(a, lua_tostring(L, -2), lua_rawlen(L, -2));
                lua_pop(L, 1);
            }
            /* pairs() order is arbitrary; models see keys sorted */
            qsort(keys, count, sizeof *keys, cw__lua_key_cmp);
            for (k = 0; k < count; k++) {
                lua_getfield(L, idx, keys[k]);
                if (to_value(L, -1, a, &items[k], line, depth + 1, where, err, errlen) < 0)
                    return -1;
                lua_pop(L, 1);
            }
            v->kind = CW_P_MAP;
            v->n = count;
            v->items = items;
            v->keys = keys;
            return 0;
        }
    }
    default:
        snprintf(err, errlen, "%s: a %s cannot be a rule parameter", where,
                 luaL_typename(L, idx));
        return -1;
    }
}

int cw__lua_to_value(lua_State *L, int idx, cw_varena *a, cw_value *v, int line,
                     const char *where, char *err, size_t errlen)
{
    return to_value(L, idx, a, v, line, 0, where, err, errlen);
}

/* ---- declarations --------------------------------------------------------- */

static const char *const common_keys[] = {
    "id", "title", "severity", "basis", "scope", "effective", NULL
};

static bool is_common(const char *k)
{
    for (int i = 0; common_keys[i]; i++)
        if (strcmp(common_keys[i], k) == 0)
            return true;
    return false;
}

/* The line of the file's top-level statement that led to this call, so
 * a rule declared through a helper function is placed where the helper
 * was called for it. */
static int caller_line(lua_State *L)
{
    lua_Debug ar;
    int line = 0;

    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "lS", &ar))
            break;
        if (ar.currentline > 0)
            line = ar.currentline;
        if (strcmp(ar.what, "main") == 0)
            break;
    }
    return line;
}

const char *cw__lua_opt_field(lua_State *L, int t, const char *key)
{
    const char *s = NULL;

    if (lua_getfield(L, t, key) == LUA_TSTRING)
        s = lua_tostring(L, -1);
    lua_pop(L, 1);
    return s;
}

/*
 * deadline{...}, rule{...}: a declaration. The conversion runs protected
 * (decl_body) so that an error inside it, memory included, cannot leak
 * the arena.
 */
typedef struct decl {
    cw_luafile *lf;
    const cw_model *m;
    bool check_rule;
    cw_varena *a;
    cw_rule_info info;
    cw_value *params, *scope, *eff;
    int line;
    char where[320];
} decl;

static void conv(lua_State *L, decl *d, int idx, cw_value *v)
{
    char msg[512];

    if (to_value(L, idx, d->a, v, d->line, 0, d->where, msg, sizeof msg) < 0) {
        lua_pushstring(L, msg);
        lua_error(L);
    }
}

static int decl_body(lua_State *L)
{
    decl *d = lua_touserdata(L, 1);
    cw_value *items;
    const char **keys;
    size_t n = 0, count = 0;

    /* the declaration table is argument 2 */
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            return luaL_error(L, "%s: the keys of a declaration are names", d->where);
        count++;
        lua_pop(L, 1);
    }
    keys = cw_varena_keys(d->a, count);
    items = cw_varena_values(d->a, count);
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        const char *k = lua_tostring(L, -2);
        lua_pop(L, 1);
        if (is_common(k) || (d->check_rule && (strcmp(k, "check") == 0 || strcmp(k, "advise") == 0)))
            continue;
        keys[n++] = cw_varena_str(d->a, k, strlen(k));
    }
    qsort(keys, n, sizeof *keys, cw__lua_key_cmp);
    for (size_t i = 0; i < n; i++) {
        lua_getfield(L, 2, keys[i]);
        conv(L, d, -1, &items[i]);
        lua_pop(L, 1);
    }
    d->params = cw_varena_values(d->a, 1);
    d->params->kind = CW_P_MAP;
    d->params->line = d->line;
    d->params->n = n;
    d->params->items = items;
    d->params->keys = keys;
    if (lua_getfield(L, 2, "scope") != LUA_TNIL) {
        d->scope = cw_varena_values(d->a, 1);
        conv(L, d, -1, d->scope);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 2, "effective") != LUA_TNIL) {
        d->eff = cw_varena_values(d->a, 1);
        conv(L, d, -1, d->eff);
    }
    lua_pop(L, 1);
    return 0;
}

static int declare(lua_State *L, const cw_model *m, bool check_rule)
{
    cw_luafile *lf = cw__lua_lf(L);
    luarule *lr = NULL;
    decl d;
    cw_err err;
    int rc, fn = LUA_NOREF;

    if (lf->in_check)
        return luaL_error(L, "rules are declared when the file loads, not inside a check");
    luaL_checktype(L, 1, LUA_TTABLE);
    memset(&d, 0, sizeof d);
    d.lf = lf;
    d.m = m;
    d.check_rule = check_rule;
    d.line = caller_line(L);
    d.info.id = cw__lua_opt_field(L, 1, "id");
    d.info.title = cw__lua_opt_field(L, 1, "title");
    d.info.severity = cw__lua_opt_field(L, 1, "severity");
    d.info.basis = cw__lua_opt_field(L, 1, "basis");
    d.info.file = lf->path;
    d.info.line = d.line;
    snprintf(d.where, sizeof d.where, "%s:%d: rule %s", lf->path, d.line,
             d.info.id ? d.info.id : "(no id)");
    if (check_rule) {
        int t = lua_getfield(L, 1, "advise");
        lua_pop(L, 1);
        if (t != LUA_TNIL && t != LUA_TFUNCTION)
            return luaL_error(L, "rule %s: 'advise' must be a function (query)",
                              d.info.id ? d.info.id : "(no id)");
        if (lua_getfield(L, 1, "check") != LUA_TFUNCTION)
            return luaL_error(L, "rule %s: 'check' must be a function (case, ev)",
                              d.info.id ? d.info.id : "(no id)");
        fn = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    d.a = cw_varena_new();
    lua_pushcfunction(L, decl_body);
    lua_pushlightuserdata(L, &d);
    lua_pushvalue(L, 1);
    if ((rc = lua_pcall(L, 2, 0, 0)) != LUA_OK) {
        cw_varena_free(d.a);
        luaL_unref(L, LUA_REGISTRYINDEX, fn);
        if (rc == LUA_ERRMEM || lf->budget_hit || lf->mem_hit)
            return lua_error(L);
        /* a wrong declaration: note it, and check the rest of the file */
        cw_err_set(&err, CW_ERULE, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        lf->problems++;
        cw__ruleset_problem(lf->rs, &err);
        return 0;
    }
    if (check_rule) {
        lr = cw_xcalloc(1, sizeof *lr);
        lr->lf = lf;
        lr->fn = fn;
        lua_getfield(L, 1, "advise");
        lr->advise = lua_isfunction(L, -1) ? luaL_ref(L, LUA_REGISTRYINDEX) : (lua_pop(L, 1), LUA_NOREF);
        lua_getfield(L, 1, "params");
        lr->params = lua_istable(L, -1) ? luaL_ref(L, LUA_REGISTRYINDEX) : (lua_pop(L, 1), LUA_NOREF);
    }
    rc = cw__ruleset_declare(lf->rs, lf, lf->path, d.line, &d.info, d.scope, d.eff, m,
                             d.params, lr, &err);
    cw_varena_free(d.a);
    if (rc < 0) {
        if (lr != NULL) {
            luaL_unref(L, LUA_REGISTRYINDEX, fn);
            luaL_unref(L, LUA_REGISTRYINDEX, lr->advise);
            luaL_unref(L, LUA_REGISTRYINDEX, lr->params);
            free(lr);
        }
        lf->problems++;
        cw__ruleset_problem(lf->rs, &err);
    }
    return 0;
}

int cw__lua_l_model(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);
    const cw_model *m = cw__ruleset_model(lf->rs, lua_tostring(L, lua_upvalueindex(1)));

    return declare(L, m, false);
}

static int l_rule(lua_State *L)
{
    return declare(L, &cw_lua_model, true);
}


const luaL_Reg cw__lua_declare_fns[] = {
    { "rule", l_rule }, { NULL, NULL },
};
