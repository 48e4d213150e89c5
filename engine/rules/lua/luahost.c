#include "rules/lua/lua.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "base/value.h"

#define HOOK_STEP 1000          /* instructions between count hooks */
#define SMALL_STEP 16           /* size classes of the small-block allocator */
#define SMALL_MAX 256
#define SLAB_SIZE (64u << 10)

struct slab {
    struct slab *next;
    max_align_t data[];
};
#define MAX_VALUE_DEPTH 32

struct cw_luafile {
    char *path;
    lua_State *L;
    cw_ruleset *rs;
    size_t mem, cap;
    bool mem_hit;
    uint64_t budget, used;
    bool budget_hit;
    char where[300];            /* file:line where a limit stopped it */
    int problems;               /* declarations refused while loading */
    /* the call under way */
    cw_ctx *ctx;
    cw_case *c;
    const cw_event *ev;
    cw_rule *rule;
    uint32_t gen;               /* views of earlier calls are dead */
    bool in_check;
    cw_evbuf *scratch;          /* a timeline event being looked at */
    const uint8_t *scratch_rec;
    int err_budget, err_mem;    /* registry refs of the stop messages */
    int mt_ev, mt_data, mt_case;    /* registry refs of the view metatables */
    /* the views of the event being dispatched, shared by the file's rules
     * that check it: registry refs, and which dispatch they belong to */
    int ref_case, ref_ev;
    uint64_t view_gen, view_n;
    const cw_case *view_case;
    bool views_ok;
    /* small blocks: free lists by size class, carved from slabs */
    void *freel[SMALL_MAX / SMALL_STEP];
    struct slab *slabs;
    char *carve, *carve_end;
    cw_luafile *self;
};

typedef struct luarule {
    cw_luafile *lf;
    int fn;                     /* registry ref of check */
} luarule;

/* A read-only view of an event: the current one (rec NULL) or one of a
 * case's timeline (rec into it). Valid only during the call that made it. */
typedef struct evview {
    uint32_t gen;
    const cw_case *c;
    const uint8_t *rec;
} evview;

typedef struct caseview {
    uint32_t gen;
    cw_case *c;
} caseview;

static const char EV_MT[] = "casewarden.event";
static const char DATA_MT[] = "casewarden.data";
static const char CASE_MT[] = "casewarden.case";

static cw_luafile *lf_of(lua_State *L)
{
    return *(cw_luafile **)lua_getextraspace(L);
}

/* ---- limits ------------------------------------------------------------- */

/*
 * Most of what a check allocates is small and short-lived (event views,
 * strings, little tables): those blocks come from free lists by size
 * class, carved from 64 KiB slabs that live as long as the state, which
 * costs a fraction of malloc. Larger blocks go to malloc. Under
 * AddressSanitizer everything goes to malloc, so that it sees every
 * block.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SMALL_ALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SMALL_ALLOC 0
#endif
#endif
#ifndef SMALL_ALLOC
#define SMALL_ALLOC 1
#endif

static inline size_t small_class(size_t n)
{
    return (n - 1) / SMALL_STEP;
}

static void *small_get(cw_luafile *lf, size_t n)
{
    size_t k = small_class(n), size = (k + 1) * SMALL_STEP;
    void *p = lf->freel[k];

    if (p != NULL) {
        memcpy(&lf->freel[k], p, sizeof(void *));
        return p;
    }
    if ((size_t)(lf->carve_end - lf->carve) < size) {
        struct slab *s = malloc(sizeof *s + SLAB_SIZE);
        if (s == NULL)
            return NULL;
        s->next = lf->slabs;
        lf->slabs = s;
        lf->carve = (char *)s->data;
        lf->carve_end = lf->carve + SLAB_SIZE;
    }
    p = lf->carve;
    lf->carve += size;
    return p;
}

static void small_put(cw_luafile *lf, void *p, size_t n)
{
    size_t k = small_class(n);

    memcpy(p, &lf->freel[k], sizeof(void *));
    lf->freel[k] = p;
}

static void *lalloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    cw_luafile *lf = ud;
    size_t old = ptr ? osize : 0;
    void *p;

    if (nsize == 0) {
        lf->mem -= old;
        if (SMALL_ALLOC && old > 0 && old <= SMALL_MAX)
            small_put(lf, ptr, old);
        else
            free(ptr);
        return NULL;
    }
    if (nsize > old && lf->mem + (nsize - old) > lf->cap) {
        lf->mem_hit = true;
        return NULL;
    }
    if (!SMALL_ALLOC || ((old == 0 || old > SMALL_MAX) && nsize > SMALL_MAX)) {
        p = realloc(ptr, nsize);
    } else if (old > 0 && old <= SMALL_MAX && nsize <= SMALL_MAX &&
               small_class(old) == small_class(nsize)) {
        p = ptr;
    } else {
        /* between the two kinds, or between classes: move */
        p = nsize <= SMALL_MAX ? small_get(lf, nsize) : malloc(nsize);
        if (p == NULL)
            return NULL;
        if (old > 0) {
            memcpy(p, ptr, old < nsize ? old : nsize);
            if (old <= SMALL_MAX)
                small_put(lf, ptr, old);
            else
                free(ptr);
        }
    }
    if (p == NULL)
        return NULL;
    lf->mem = lf->mem - old + nsize;
    return p;
}

static void note_where(lua_State *L, cw_luafile *lf)
{
    lua_Debug ar;

    if (lf->where[0])
        return;
    if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0)
        snprintf(lf->where, sizeof lf->where, "%s:%d", ar.short_src, ar.currentline);
    else
        snprintf(lf->where, sizeof lf->where, "%s", lf->path);
}

static void hook(lua_State *L, lua_Debug *ar)
{
    cw_luafile *lf = lf_of(L);

    if (ar->event == LUA_HOOKCOUNT && !lf->budget_hit) {
        lf->used += HOOK_STEP;
        if (lf->used > lf->budget)
            lf->budget_hit = true;
    }
    if (lf->budget_hit || lf->mem_hit) {
        note_where(L, lf);
        /* From now on stop at every line and instruction, so an error
         * caught by a pcall in the rule is raised again at once. */
        lua_sethook(L, hook, LUA_MASKCOUNT | LUA_MASKLINE, 1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, lf->budget_hit ? lf->err_budget : lf->err_mem);
        lua_error(L);
    }
}

static void arm(cw_luafile *lf)
{
    lf->used = 0;
    lf->budget_hit = false;
    lf->mem_hit = false;
    lf->where[0] = '\0';
    lua_sethook(lf->L, hook, LUA_MASKCOUNT, HOOK_STEP);
}

static void disarm(cw_luafile *lf)
{
    lua_sethook(lf->L, NULL, 0, 0);
}

/* The message for a failed call: the limit that stopped it, or the
 * error the rule raised. */
static void failure(cw_luafile *lf, int rc, char *buf, size_t size)
{
    lua_State *L = lf->L;

    if (lf->budget_hit)
        snprintf(buf, size, "%s: instruction budget of %llu exceeded", lf->where,
                 (unsigned long long)lf->budget);
    else if (lf->mem_hit || rc == LUA_ERRMEM)
        snprintf(buf, size, "%s: memory cap of %zu KiB exceeded",
                 lf->where[0] ? lf->where : lf->path, lf->cap / 1024);
    else if (lua_type(L, -1) == LUA_TSTRING)
        snprintf(buf, size, "%s", lua_tostring(L, -1));
    else
        snprintf(buf, size, "%s: error object is a %s value", lf->path, luaL_typename(L, -1));
}

/* ---- helpers for both load and check time ------------------------------- */

static int l_blocked(lua_State *L)
{
    return luaL_error(L, "%s is not available to rules", lua_tostring(L, lua_upvalueindex(1)));
}

static int l_setmetatable(lua_State *L)
{
    /* Finalizers would run at times no budget covers. */
    if (lua_istable(L, 2) && lua_getfield(L, 2, "__gc") != LUA_TNIL)
        return luaL_error(L, "__gc metamethods are not available to rules");
    lua_settop(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_setmetatable(L, 1);
    return 1;
}

static int l_print(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    luaL_Buffer b;
    lua_Debug ar;
    int n = lua_gettop(L);
    int line = 0;

    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar))
        line = ar.currentline;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    cw_log(CW_LOG_INFO, "%s:%d: %s", lf->path, line, lua_tostring(L, -1));
    return 0;
}

static int tz_of(cw_luafile *lf)
{
    return lf->rs->tz;
}

static cw_time check_time(lua_State *L, int i)
{
    return (cw_time)luaL_checkinteger(L, i);
}

static int l_hours(lua_State *L)
{
    lua_pushinteger(L, luaL_checkinteger(L, 1) * 3600);
    return 1;
}

static int l_minutes(lua_State *L)
{
    lua_pushinteger(L, luaL_checkinteger(L, 1) * 60);
    return 1;
}

static int l_days(lua_State *L)
{
    lua_pushinteger(L, luaL_checkinteger(L, 1) * 86400);
    return 1;
}

static int l_date(lua_State *L)
{
    char buf[16];

    cw_day_format(cw_time_day(check_time(L, 1), tz_of(lf_of(L))), buf, sizeof buf);
    lua_pushstring(L, buf);
    return 1;
}

static int l_datetime(lua_State *L)
{
    char iso[40], buf[40];

    cw_time_format(check_time(L, 1), tz_of(lf_of(L)), iso, sizeof iso);
    snprintf(buf, sizeof buf, "%.10s %.8s", iso, iso + 11);
    lua_pushstring(L, buf);
    return 1;
}

static int l_parse_time(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    cw_time t;
    cw_day d;

    if (cw_time_parse(s, len, &t, NULL) == 0)
        lua_pushinteger(L, t);
    else if (cw_day_parse(s, len, &d) == 0)
        lua_pushinteger(L, cw_day_start(d, tz_of(lf_of(L))));
    else
        lua_pushnil(L);
    return 1;
}

/* age(birth_date "YYYY-MM-DD", t): completed years at time t. */
static int l_age(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    cw_time t = check_time(L, 2);
    cw_day birth;

    if (cw_day_parse(s, len, &birth) < 0)
        return luaL_error(L, "age: '%s' is not a date YYYY-MM-DD", s);
    lua_pushinteger(L, cw_age_years(birth, cw_time_day(t, tz_of(lf_of(L)))));
    return 1;
}

static int l_has(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TTABLE) {
        lua_pushboolean(L, 0);
        return 1;
    }
    for (lua_Integer i = 1;; i++) {
        if (lua_rawgeti(L, 1, i) == LUA_TNIL)
            break;
        if (lua_rawequal(L, -1, 2)) {
            lua_pushboolean(L, 1);
            return 1;
        }
        lua_pop(L, 1);
    }
    /* a set: {blind = true} */
    lua_pushvalue(L, 2);
    lua_pushboolean(L, lua_rawget(L, 1) != LUA_TNIL && lua_toboolean(L, -1));
    return 1;
}

static int l_add_days(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    bool custody = lua_toboolean(L, 3);

    lua_pushinteger(L, cw_calendar_add_days(lf->rs->cal, check_time(L, 1),
                                            (int)luaL_checkinteger(L, 2), !custody, NULL));
    return 1;
}

static int l_add_months(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    bool custody = lua_toboolean(L, 3);

    lua_pushinteger(L, cw_calendar_add_months(lf->rs->cal, check_time(L, 1),
                                              (int)luaL_checkinteger(L, 2), 0, !custody, NULL));
    return 1;
}

static int l_add_workdays(lua_State *L)
{
    cw_luafile *lf = lf_of(L);

    lua_pushinteger(L, cw_calendar_add_workdays(lf->rs->cal, check_time(L, 1),
                                                (int)luaL_checkinteger(L, 2), NULL));
    return 1;
}

static int l_is_workday(lua_State *L)
{
    cw_luafile *lf = lf_of(L);

    lua_pushboolean(L, cw_calendar_is_workday(lf->rs->cal,
                                              cw_time_day(check_time(L, 1), lf->rs->tz)));
    return 1;
}

/* ---- Lua tables to cw_value --------------------------------------------- */

static int key_cmp(const void *a, const void *b)
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
            qsort(keys, count, sizeof *keys, key_cmp);
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

static const char *opt_field(lua_State *L, int t, const char *key)
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
        if (is_common(k) || (d->check_rule && strcmp(k, "check") == 0))
            continue;
        keys[n++] = cw_varena_str(d->a, k, strlen(k));
    }
    qsort(keys, n, sizeof *keys, key_cmp);
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
    cw_luafile *lf = lf_of(L);
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
    d.info.id = opt_field(L, 1, "id");
    d.info.title = opt_field(L, 1, "title");
    d.info.severity = opt_field(L, 1, "severity");
    d.info.basis = opt_field(L, 1, "basis");
    d.info.file = lf->path;
    d.info.line = d.line;
    snprintf(d.where, sizeof d.where, "%s:%d: rule %s", lf->path, d.line,
             d.info.id ? d.info.id : "(no id)");
    if (check_rule) {
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
    }
    rc = cw__ruleset_declare(lf->rs, lf, lf->path, d.line, &d.info, d.scope, d.eff, m,
                             d.params, lr, &err);
    cw_varena_free(d.a);
    if (rc < 0) {
        if (lr != NULL) {
            luaL_unref(L, LUA_REGISTRYINDEX, fn);
            free(lr);
        }
        lf->problems++;
        cw__ruleset_problem(lf->rs, &err);
    }
    return 0;
}

static int l_model(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    const cw_model *m = cw__ruleset_model(lf->rs, lua_tostring(L, lua_upvalueindex(1)));

    return declare(L, m, false);
}

static int l_rule(lua_State *L)
{
    return declare(L, &cw_lua_model, true);
}

/* ---- views of cases and events -------------------------------------------- */

static void need_check(lua_State *L, cw_luafile *lf, uint32_t gen)
{
    if (!lf->in_check || gen != lf->gen)
        luaL_error(L, "a case or event is only valid during the check that received it");
}

static const cw_event *ev_of(lua_State *L, cw_luafile *lf, const evview *v)
{
    need_check(L, lf, v->gen);
    if (v->rec == NULL)
        return lf->ev;
    if (lf->scratch_rec != v->rec) {
        cw_rec_decode(v->rec, lf->scratch);
        lf->scratch->ev.case_id = v->c->id;
        lf->scratch_rec = v->rec;
    }
    return &lf->scratch->ev;
}

static void push_str(lua_State *L, cw_luafile *lf, uint32_t id)
{
    size_t len = cw_strtab_len(lf->rs->world->strs, id);

    lua_pushlstring(L, cw_strtab_str(lf->rs->world->strs, id), len);
}

static void push_fval(lua_State *L, cw_luafile *lf, const cw_fval *f)
{
    char buf[16];

    switch (f->kind) {
    case CW_V_BOOL:
        lua_pushboolean(L, f->v.i != 0);
        break;
    case CW_V_INT:
    case CW_V_TIME:
        lua_pushinteger(L, f->v.i);
        break;
    case CW_V_DATE:
        cw_day_format((cw_day)f->v.i, buf, sizeof buf);
        lua_pushstring(L, buf);
        break;
    case CW_V_STR:
        push_str(L, lf, f->v.s);
        break;
    case CW_V_LIST:
        lua_createtable(L, (int)f->n, 0);
        for (uint32_t i = 0; i < f->n; i++) {
            push_str(L, lf, f->v.list[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    case CW_V_RAW:
        lua_pushlstring(L, f->v.raw, f->n);
        break;
    default:
        lua_pushnil(L);
        break;
    }
}

/* Give the value on top the metatable of registry ref mt. */
static void set_mt(lua_State *L, int mt)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, mt);
    lua_setmetatable(L, -2);
}

static void push_event(lua_State *L, cw_luafile *lf, const cw_case *c, const uint8_t *rec)
{
    /* the user value keeps ev.data once made: rules read it field by field */
    evview *v = lua_newuserdatauv(L, sizeof *v, 1);

    v->gen = lf->gen;
    v->c = c;
    v->rec = rec;
    set_mt(L, lf->mt_ev);
}

static void push_case(lua_State *L, cw_luafile *lf, cw_case *c)
{
    caseview *cv = lua_newuserdatauv(L, sizeof *cv, 0);

    cv->gen = lf->gen;
    cv->c = c;
    set_mt(L, lf->mt_case);
}

/* What a view's key means, looked up in the table the __index closure
 * holds as its upvalue: an integer code, or (cases) a method. Lua strings
 * are interned, so this is one hash probe, not a chain of strcmp. */
enum { K_DATA = 1, K_ID, K_TYPE, K_AT, K_CASE, K_UNIT, K_ACTOR, K_SEQ, K_KIND, K_CAUSE,
       K_ACCEPTED_AT, K_OFFENCE_AT };

static int view_key(lua_State *L)
{
    int code;

    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) == LUA_TFUNCTION)
        return -1;
    code = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return code;
}

/* The __index of events. Only the VM calls it, with one of our event
 * views (the metatable is hidden from rules), so the userdata need not be
 * checked. */
static int ev_index(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    evview *v = lua_touserdata(L, 1);
    const cw_event *ev = ev_of(L, lf, v);

    switch (view_key(L)) {
    case K_DATA:
        if (lua_getiuservalue(L, 1, 1) == LUA_TUSERDATA)
            return 1;
        lua_pop(L, 1);
        *(evview *)lua_newuserdatauv(L, sizeof *v, 0) = *v;
        set_mt(L, lf->mt_data);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, 1, 1);
        break;
    case K_ID:
        lua_pushstring(L, ev->id);
        break;
    case K_TYPE:
        lua_pushstring(L, cw_strtab_str(lf->rs->world->names, ev->type));
        break;
    case K_AT:
        lua_pushinteger(L, ev->at);
        break;
    case K_CASE:
        push_str(L, lf, ev->case_id);
        break;
    case K_UNIT:
        push_str(L, lf, ev->unit);
        break;
    case K_ACTOR:
        if (ev->actor)
            push_str(L, lf, ev->actor);
        else
            lua_pushnil(L);
        break;
    case K_SEQ:
        lua_pushinteger(L, (lua_Integer)ev->seq);
        break;
    default:
        lua_pushnil(L);
        break;
    }
    return 1;
}

/* The __index of ev.data: field names to ids through the upvalue table,
 * filled as names are asked for. */
static int data_index(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    evview *v = lua_touserdata(L, 1);
    const cw_event *ev = ev_of(L, lf, v);
    const cw_fval *f = NULL;
    uint32_t fid;

    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) == LUA_TNUMBER) {
        fid = (uint32_t)lua_tointeger(L, -1);
    } else {
        size_t len;
        const char *k = lua_tolstring(L, 2, &len);
        fid = k ? cw_strtab_find(lf->rs->world->names, k, len) : UINT32_MAX;
        if (k != NULL && fid != UINT32_MAX) {
            lua_pushvalue(L, 2);
            lua_pushinteger(L, fid);
            lua_rawset(L, lua_upvalueindex(1));
        }
    }
    lua_pop(L, 1);
    if (fid != UINT32_MAX)
        f = cw_event_field(ev, (int)fid);
    if (f == NULL)
        lua_pushnil(L);
    else
        push_fval(L, lf, f);
    return 1;
}

static int view_newindex(lua_State *L)
{
    return luaL_error(L, "cases and events are read-only");
}

static caseview *check_case(lua_State *L, int i)
{
    cw_luafile *lf = lf_of(L);
    caseview *v = lua_touserdata(L, i);
    bool ours = false;

    /* luaL_checkudata, comparing with the metatable's ref, not its name */
    if (v != NULL && lua_getmetatable(L, i)) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, lf->mt_case);
        ours = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    if (!ours)
        luaL_typeerror(L, i, CASE_MT);
    need_check(L, lf, v->gen);
    return v;
}

static int type_arg(lua_State *L, cw_luafile *lf, int i)
{
    size_t len;
    const char *s;
    const cw_type_spec *t;

    if (lua_isnoneornil(L, i))
        return -1;
    s = luaL_checklstring(L, i, &len);
    if ((t = cw_catalogue_find(lf->rs->cat, s, len)) == NULL)
        luaL_error(L, "unknown event type '%s'", s);
    return t->id;
}

/* Which events of a case a query wants: a type (-1: any), and maybe a
 * string field equal to (or a list field containing) a value. */
typedef struct evfilter {
    int type;
    int fid;                 /* -1: no field condition */
    uint32_t value;          /* UINT32_MAX: a value no event has */
} evfilter;

/* Arguments i, i+1, i+2: [type [, field, value]]. */
static evfilter filter_args(lua_State *L, cw_luafile *lf, int i)
{
    evfilter f = { type_arg(L, lf, i), -1, 0 };
    size_t len;

    if (!lua_isnoneornil(L, i + 1)) {
        const char *field = luaL_checklstring(L, i + 1, &len);
        const char *v = luaL_checklstring(L, i + 2, &len);
        uint32_t fid = cw_strtab_find(lf->rs->world->names, field, strlen(field));
        f.fid = fid == UINT32_MAX ? 0xffff : (int)fid;
        f.value = cw_strtab_find(lf->rs->world->strs, v, len);
    }
    return f;
}

/* Whether the record at rec passes f (decoding it only when a field
 * must be looked at). */
static bool passes(cw_luafile *lf, const uint8_t *rec, const evfilter *f)
{
    const cw_fval *fv;

    if (f->type >= 0 && cw_rec_type(rec) != f->type)
        return false;
    if (f->fid < 0)
        return true;
    if (f->value == UINT32_MAX)
        return false;
    cw_rec_decode(rec, lf->scratch);
    lf->scratch_rec = rec;
    if ((fv = cw_event_field(&lf->scratch->ev, f->fid)) == NULL)
        return false;
    if (fv->kind == CW_V_STR)
        return fv->v.s == f->value;
    if (fv->kind == CW_V_LIST)
        for (uint32_t k = 0; k < fv->n; k++)
            if (fv->v.list[k] == f->value)
                return true;
    return false;
}

/* The processed timeline of c, through a filter kept in a userdata. */
static int case_events_iter(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    caseview *cv = check_case(L, lua_upvalueindex(1));
    size_t off = (size_t)lua_tointeger(L, lua_upvalueindex(2));
    const evfilter *f = lua_touserdata(L, lua_upvalueindex(3));
    const cw_case *c = cv->c;

    for (; off < c->proclen; off += cw_rec_size(c->tl + off)) {
        if (!passes(lf, c->tl + off, f))
            continue;
        lua_pushinteger(L, (lua_Integer)(off + cw_rec_size(c->tl + off)));
        lua_replace(L, lua_upvalueindex(2));
        push_event(L, lf, c, c->tl + off);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)off);
    lua_replace(L, lua_upvalueindex(2));
    return 0;
}

/* case:events([type [, field, value]]): an iterator in time order. */
static int case_events(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    evfilter f0, *f;

    check_case(L, 1);
    f0 = filter_args(L, lf, 2);
    lua_settop(L, 1);
    f = lua_newuserdatauv(L, sizeof *f, 0);
    *f = f0;
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    lua_pushvalue(L, -3);
    lua_pushcclosure(L, case_events_iter, 3);
    return 1;
}

static int case_first_last(lua_State *L, bool last)
{
    cw_luafile *lf = lf_of(L);
    caseview *cv = check_case(L, 1);
    evfilter f = filter_args(L, lf, 2);
    const cw_case *c = cv->c;
    const uint8_t *hit = NULL;

    for (size_t off = 0; off < c->proclen; off += cw_rec_size(c->tl + off))
        if (passes(lf, c->tl + off, &f)) {
            hit = c->tl + off;
            if (!last)
                break;
        }
    if (hit == NULL)
        lua_pushnil(L);
    else
        push_event(L, lf, c, hit);
    return 1;
}

static int case_first(lua_State *L)
{
    return case_first_last(L, false);
}

static int case_last(lua_State *L)
{
    return case_first_last(L, true);
}

static int case_count(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    caseview *cv = check_case(L, 1);
    evfilter f = filter_args(L, lf, 2);
    const cw_case *c = cv->c;
    lua_Integer n = 0;

    for (size_t off = 0; off < c->proclen; off += cw_rec_size(c->tl + off))
        if (passes(lf, c->tl + off, &f))
            n++;
    lua_pushinteger(L, n);
    return 1;
}

/*
 * Persons of a case, from its person.added events (a later event about
 * the same person updates the earlier): a table per person with id, role,
 * birth_date, flags (a set) and first_offence.
 */
static void push_persons_of(lua_State *L, cw_luafile *lf, const cw_case *c, uint32_t only)
{
    cw_strtab *names = lf->rs->world->names;
    uint32_t t_added = cw_strtab_find(names, "person.added", 12);
    uint32_t f_person = cw_strtab_find(names, "person", 6);
    int persons;

    lua_newtable(L);
    persons = lua_gettop(L);
    if (t_added == UINT32_MAX || f_person == UINT32_MAX)
        return;
    for (size_t off = 0; off < c->proclen; off += cw_rec_size(c->tl + off)) {
        const cw_event *ev;
        const cw_fval *pf;
        if (cw_rec_type(c->tl + off) != t_added)
            continue;
        cw_rec_decode(c->tl + off, lf->scratch);
        lf->scratch_rec = c->tl + off;
        ev = &lf->scratch->ev;
        if ((pf = cw_event_field(ev, (int)f_person)) == NULL || pf->kind != CW_V_STR)
            continue;
        if (only != UINT32_MAX && pf->v.s != only)
            continue;
        push_str(L, lf, pf->v.s);
        if (lua_rawget(L, persons) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            push_str(L, lf, pf->v.s);
            lua_pushvalue(L, -2);
            lua_rawset(L, persons);
        }
        for (uint16_t i = 0; i < ev->nf; i++) {
            const cw_fval *f = &ev->f[i];
            const char *name = cw_strtab_str(names, f->fid);
            if (f->kind == CW_V_LIST && strcmp(name, "flags") == 0) {
                lua_createtable(L, 0, (int)f->n);
                for (uint32_t j = 0; j < f->n; j++) {
                    push_str(L, lf, f->v.list[j]);
                    lua_pushboolean(L, 1);
                    lua_rawset(L, -3);
                }
            } else {
                push_fval(L, lf, f);
            }
            lua_setfield(L, -2, strcmp(name, "person") == 0 ? "id" : name);
        }
        if (lua_getfield(L, -1, "flags") == LUA_TNIL) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_setfield(L, -2, "flags");
        } else {
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

static void push_persons(lua_State *L, cw_luafile *lf, const cw_case *c)
{
    push_persons_of(L, lf, c, UINT32_MAX);
}

/* The persons table holding at most the one person named at index i. */
static void push_person_only(lua_State *L, cw_luafile *lf, const cw_case *c, int i)
{
    size_t len;
    const char *id = luaL_checklstring(L, i, &len);
    uint32_t sid = cw_strtab_find(lf->rs->world->strs, id, len);

    if (sid == UINT32_MAX)
        lua_newtable(L);
    else
        push_persons_of(L, lf, c, sid);
}

static int case_person(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    caseview *cv = check_case(L, 1);

    push_person_only(L, lf, cv->c, 2);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

/* persons([role]): a list ordered by id, so iteration is deterministic. */
static int case_persons(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    caseview *cv = check_case(L, 1);
    const char *role = luaL_optstring(L, 2, NULL);
    const char **ids;
    size_t n = 0, count = 0;
    int all, out;

    push_persons(L, lf, cv->c);
    all = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, all)) {
        lua_pop(L, 1);
        count++;
    }
    /* a userdata, so an error below frees it with everything else */
    ids = lua_newuserdatauv(L, (count ? count : 1) * sizeof *ids, 0);
    lua_pushnil(L);
    while (lua_next(L, all)) {
        lua_pop(L, 1);
        ids[n++] = lua_tostring(L, -1);
    }
    qsort(ids, n, sizeof *ids, key_cmp);
    lua_newtable(L);
    out = lua_gettop(L);
    for (size_t i = 0, k = 1; i < n; i++) {
        lua_getfield(L, all, ids[i]);
        if (role != NULL) {
            bool match;
            lua_getfield(L, -1, "role");
            match = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), role) == 0;
            lua_pop(L, 1);
            if (!match) {
                lua_pop(L, 1);
                continue;
            }
        }
        lua_rawseti(L, out, (lua_Integer)k++);
    }
    return 1;
}

/* age(person_id [, t]): the person's age at t, default the offence time. */
/* The birth date of person `sid` in c: the latest one its person.added
 * events give. Returns false when none does. */
static bool person_birth(cw_luafile *lf, const cw_case *c, uint32_t sid, cw_day *birth)
{
    cw_strtab *names = lf->rs->world->names;
    uint32_t t_added = cw_strtab_find(names, "person.added", 12);
    uint32_t f_person = cw_strtab_find(names, "person", 6);
    uint32_t f_birth = cw_strtab_find(names, "birth_date", 10);
    bool found = false;

    if (t_added == UINT32_MAX || f_person == UINT32_MAX || f_birth == UINT32_MAX)
        return false;
    for (size_t off = 0; off < c->proclen; off += cw_rec_size(c->tl + off)) {
        const cw_fval *pf, *bf;
        if (cw_rec_type(c->tl + off) != t_added)
            continue;
        cw_rec_decode(c->tl + off, lf->scratch);
        lf->scratch_rec = c->tl + off;
        pf = cw_event_field(&lf->scratch->ev, (int)f_person);
        if (pf == NULL || pf->kind != CW_V_STR || pf->v.s != sid)
            continue;
        bf = cw_event_field(&lf->scratch->ev, (int)f_birth);
        if (bf != NULL && bf->kind == CW_V_DATE) {
            *birth = (cw_day)bf->v.i;
            found = true;
        }
    }
    return found;
}

/* age(person_id [, t]): the person's age at t, default the offence time. */
static int case_age(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    caseview *cv = check_case(L, 1);
    size_t len;
    const char *id = luaL_checklstring(L, 2, &len);
    cw_time t = lua_isnoneornil(L, 3) ? cv->c->offence_at : check_time(L, 3);
    uint32_t sid = cw_strtab_find(lf->rs->world->strs, id, len);
    cw_day birth;

    if (sid == UINT32_MAX || t == CW_TIME_NONE || !person_birth(lf, cv->c, sid, &birth))
        lua_pushnil(L);
    else
        lua_pushinteger(L, cw_age_years(birth, cw_time_day(t, lf->rs->tz)));
    return 1;
}

static const luaL_Reg case_methods[] = {
    { "events", case_events }, { "first", case_first }, { "last", case_last },
    { "count", case_count }, { "person", case_person }, { "persons", case_persons },
    { "age", case_age }, { NULL, NULL },
};

static int case_index(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    caseview *cv = lua_touserdata(L, 1);
    const cw_case *c;

    need_check(L, lf, cv->gen);
    c = cv->c;
    switch (view_key(L)) {
    case -1:
        return 1;       /* a method */
    case K_ID:
        push_str(L, lf, c->id);
        break;
    case K_UNIT:
        push_str(L, lf, c->unit);
        break;
    case K_KIND:
        c->kind ? push_str(L, lf, c->kind) : lua_pushnil(L);
        break;
    case K_CAUSE:
        c->cause ? push_str(L, lf, c->cause) : lua_pushnil(L);
        break;
    case K_ACCEPTED_AT:
        c->accepted_at != CW_TIME_NONE ? lua_pushinteger(L, c->accepted_at) : lua_pushnil(L);
        break;
    case K_OFFENCE_AT:
        c->offence_at != CW_TIME_NONE ? lua_pushinteger(L, c->offence_at) : lua_pushnil(L);
        break;
    default:
        lua_pushnil(L);
        break;
    }
    return 1;
}

/* ---- findings from Lua ----------------------------------------------------- */

static cw_case *target_case(lua_State *L, cw_luafile *lf, int t)
{
    cw_case *c = lf->c;

    if (lua_getfield(L, t, "case") == LUA_TSTRING) {
        c = cw_engine_case(lf->ctx->e, lua_tostring(L, -1));
        if (c == NULL)
            luaL_error(L, "no case '%s'", lua_tostring(L, -1));
    }
    lua_pop(L, 1);
    return c;
}

/* events = {ev, "id", ...} into ids. The strings stay valid: Lua ones
 * are held by the table (an argument of the call), event ids point into
 * the timeline. Without `events`, the event being checked. */
static size_t event_ids(lua_State *L, cw_luafile *lf, int t, const char **ids, size_t max)
{
    size_t n = 0;

    if (lua_getfield(L, t, "events") != LUA_TTABLE) {
        lua_pop(L, 1);
        if (lf->ev != NULL)
            ids[n++] = lf->ev->id;
        return n;
    }
    for (lua_Integer i = 1; n < max; i++) {
        int ty = lua_rawgeti(L, -1, i);
        if (ty == LUA_TNIL) {
            lua_pop(L, 1);
            break;
        }
        if (ty == LUA_TSTRING) {
            ids[n++] = lua_tostring(L, -1);
        } else {
            evview *v = luaL_testudata(L, -1, EV_MT);
            if (v == NULL)
                return (size_t)luaL_error(L, "events: item %d is neither an event nor an id",
                                          (int)i);
            ids[n++] = ev_of(L, lf, v)->id;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return n;
}

static uint32_t subject_of(lua_State *L, cw_luafile *lf, int t)
{
    uint32_t s = 0;
    size_t len;

    if (lua_getfield(L, t, "subject") != LUA_TNIL) {
        const char *p = luaL_tolstring(L, -1, &len);
        s = cw_strtab_intern(lf->rs->world->strs, p, len);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return s;
}

static cw_time opt_time(lua_State *L, int t, const char *key, cw_time dflt)
{
    cw_time v = dflt;

    if (lua_getfield(L, t, key) != LUA_TNIL) {
        if (!lua_isinteger(L, -1))
            luaL_error(L, "'%s' must be a time (integer seconds)", key);
        v = lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

static int emit_common(lua_State *L, bool deadline)
{
    cw_luafile *lf = lf_of(L);
    const char *ids[8];
    cw_finding_in f;
    cw_case *c;
    int rc;

    if (!lf->in_check)
        return luaL_error(L, "findings are reported from a check function");
    luaL_checktype(L, 1, LUA_TTABLE);
    memset(&f, 0, sizeof f);
    c = target_case(L, lf, 1);
    f.subject = subject_of(L, lf, 1);
    f.message = opt_field(L, 1, "message");
    f.nevents = event_ids(L, lf, 1, ids, 8);
    f.events = ids;
    if (deadline) {
        f.mode = CW_FM_DEADLINE;
        f.due = opt_time(L, 1, "due", CW_TIME_NONE);
        if (f.due == CW_TIME_NONE)
            return luaL_error(L, "obligation: 'due' is required");
        f.lead = opt_time(L, 1, "lead", 0);
        f.met = opt_time(L, 1, "met", CW_TIME_NONE);
    } else {
        const char *st = opt_field(L, 1, "state");
        int state = st ? cw_state_parse(st) : CW_ST_VIOLATION;
        if (state < 0)
            return luaL_error(L, "report: unknown state '%s'", st);
        f.mode = CW_FM_FIXED;
        f.state = (uint8_t)state;
        f.raised = opt_time(L, 1, "raised", lf->ev ? lf->ev->at : CW_TIME_NONE);
        f.due = opt_time(L, 1, "due", CW_TIME_NONE);
        if (f.message == NULL)
            return luaL_error(L, "report: 'message' is required");
    }
    rc = cw__emit(lf->ctx->e, lf->rule->index, c, &f);
    if (rc < 0)
        return luaL_error(L, "could not record the finding");
    return 0;
}

static int l_report(lua_State *L)
{
    return emit_common(L, false);
}

static int l_obligation(lua_State *L)
{
    return emit_common(L, true);
}

static int l_withdraw(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    size_t len = 0;
    const char *s = luaL_optlstring(L, 1, "", &len);
    cw_case *c = lf->c;

    if (!lf->in_check)
        return luaL_error(L, "findings are withdrawn from a check function");
    if (!lua_isnoneornil(L, 2)) {
        c = cw_engine_case(lf->ctx->e, luaL_checkstring(L, 2));
        if (c == NULL)
            return 0;
    }
    cw__retract(lf->ctx->e, lf->rule->index, c, cw_strtab_intern(lf->rs->world->strs, s, len));
    return 0;
}

typedef struct find_ud {
    lua_State *L;
    cw_luafile *lf;
    lua_Integer n;
} find_ud;

static int find_one(void *ud, const cw_case *c, const uint8_t *rec)
{
    find_ud *f = ud;

    push_event(f->L, f->lf, c, rec);
    lua_rawseti(f->L, -2, ++f->n);
    return 0;
}

/* find(type, field, value [, from [, to [, case]]]): events in any case
 * (or only in case `case`), oldest first, through an index the rule
 * declared with index = {{type, field}}, optionally only those with
 * from <= at <= to. */
static int l_find(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    size_t len;
    const char *field, *value;
    cw_time from, to;
    uint32_t fid, vid;
    const cw_case *only = NULL;
    int type;
    find_ud ud = { L, lf, 0 };

    if (!lf->in_check)
        return luaL_error(L, "find is for check functions");
    type = type_arg(L, lf, 1);
    field = luaL_checkstring(L, 2);
    value = luaL_checklstring(L, 3, &len);
    from = lua_isnoneornil(L, 4) ? CW_TIME_NONE : check_time(L, 4);
    to = lua_isnoneornil(L, 5) ? INT64_MAX : check_time(L, 5);
    if (!lua_isnoneornil(L, 6)) {
        size_t clen;
        const char *cid = luaL_checklstring(L, 6, &clen);
        if ((only = cw_engine_case(lf->ctx->e, cid)) == NULL) {
            lua_newtable(L);
            return 1;
        }
    }
    fid = cw_strtab_find(lf->rs->world->names, field, strlen(field));
    /* a value never seen cannot be in any event */
    vid = cw_strtab_find(lf->rs->world->strs, value, len);
    lua_newtable(L);
    if (fid == UINT32_MAX || vid == UINT32_MAX)
        return 1;
    cw__find_records(lf->ctx->e, type, (int)fid, vid, from, to, only, find_one, &ud);
    return 1;
}

/* case_of(id): a read-only view of another case, or nil. */
static int l_case_of(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    cw_case *c;

    if (!lf->in_check)
        return luaL_error(L, "case_of is for check functions");
    c = cw_engine_case(lf->ctx->e, luaL_checkstring(L, 1));
    if (c == NULL) {
        lua_pushnil(L);
        return 1;
    }
    push_case(L, lf, c);
    return 1;
}

/* found([subject [, case]]): this rule's finding on the case as it
 * stands, {state, raised, due, message, events}, or nil. For rules that
 * gather every occurrence into one finding without walking the whole
 * case again. */
static int l_found(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    size_t len = 0;
    const char *subj = luaL_optlstring(L, 1, "", &len);
    cw_case *c = lf->c;
    uint32_t sid, i;

    if (!lf->in_check)
        return luaL_error(L, "found is for check functions");
    if (!lua_isnoneornil(L, 2) && (c = cw_engine_case(lf->ctx->e, luaL_checkstring(L, 2))) == NULL) {
        lua_pushnil(L);
        return 1;
    }
    sid = cw_strtab_find(lf->rs->world->strs, subj, len);
    i = sid == UINT32_MAX ? UINT32_MAX : cw__frec_find(c, lf->rule->index, sid, NULL);
    if (i != UINT32_MAX) {
        const cw_frec *r = &c->fr[i];
        cw_time raised;
        int state;
        state = cw_frec_state(r, lf->ev ? lf->ev->at : CW_TIME_NONE, &raised);
        lua_createtable(L, 0, 5);
        lua_pushstring(L, cw_state_name(state));
        lua_setfield(L, -2, "state");
        lua_pushinteger(L, raised);
        lua_setfield(L, -2, "raised");
        if (r->due != CW_TIME_NONE) {
            lua_pushinteger(L, r->due);
            lua_setfield(L, -2, "due");
        }
        lua_pushstring(L, r->msg ? r->msg : "");
        lua_setfield(L, -2, "message");
        lua_newtable(L);
        for (const char *p = r->evids; p && *p; p += strlen(p) + 1) {
            lua_pushstring(L, p);
            lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
        }
        lua_setfield(L, -2, "events");
        return 1;
    }
    lua_pushnil(L);
    return 1;
}

static int l_now(lua_State *L)
{
    cw_luafile *lf = lf_of(L);

    if (lf->in_check && lf->ev != NULL)
        lua_pushinteger(L, lf->ev->at);
    else
        lua_pushnil(L);
    return 1;
}

/* ---- the state ------------------------------------------------------------ */

static const char *const blocked_base[] = {
    "load", "loadfile", "dofile", "require", "collectgarbage", NULL
};

static void open_libs(lua_State *L)
{
    static const luaL_Reg libs[] = {
        { LUA_GNAME, luaopen_base }, { LUA_STRLIBNAME, luaopen_string },
        { LUA_TABLIBNAME, luaopen_table }, { LUA_MATHLIBNAME, luaopen_math },
        { LUA_UTF8LIBNAME, luaopen_utf8 }, { NULL, NULL },
    };

    for (const luaL_Reg *l = libs; l->name; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
}

/* The read-only table every rule file's _ENV falls back to. */
static void build_api(lua_State *L, cw_luafile *lf)
{
    static const char *const base[] = {
        "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawlen",
        "select", "tonumber", "tostring", "type", "xpcall", "getmetatable", "_VERSION", NULL
    };
    static const luaL_Reg fns[] = {
        { "rule", l_rule }, { "report", l_report }, { "obligation", l_obligation },
        { "withdraw", l_withdraw }, { "find", l_find }, { "case_of", l_case_of },
        { "found", l_found },
        { "now", l_now },
        { "hours", l_hours }, { "minutes", l_minutes }, { "days", l_days },
        { "date", l_date }, { "datetime", l_datetime }, { "parse_time", l_parse_time },
        { "age", l_age }, { "has", l_has }, { "add_days", l_add_days },
        { "add_months", l_add_months }, { "add_workdays", l_add_workdays },
        { "is_workday", l_is_workday }, { "print", l_print },
        { "setmetatable", l_setmetatable }, { NULL, NULL },
    };
    int api;

    lua_newtable(L);
    api = lua_gettop(L);
    for (int i = 0; base[i]; i++) {
        lua_getglobal(L, base[i]);
        lua_setfield(L, api, base[i]);
    }
    for (const char *const *lib = (const char *const[]){ "string", "table", "math", "utf8", NULL };
         *lib; lib++) {
        lua_getglobal(L, *lib);
        lua_setfield(L, api, *lib);
    }
    /* string.dump makes bytecode; math.random is not deterministic */
    lua_getfield(L, api, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    lua_getfield(L, api, "math");
    lua_pushnil(L);
    lua_setfield(L, -2, "random");
    lua_pushnil(L);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);
    for (int i = 0; blocked_base[i]; i++) {
        lua_pushstring(L, blocked_base[i]);
        lua_pushcclosure(L, l_blocked, 1);
        lua_setfield(L, api, blocked_base[i]);
    }
    luaL_setfuncs(L, fns, 0);
    /* one declaration function per model of the loaded plugins */
    for (size_t p = 0; p < lf->rs->nplugins; p++) {
        const cw_plugin *pl = lf->rs->plugins[p].p;
        for (size_t m = 0; m < pl->nmodels; m++) {
            lua_pushstring(L, pl->models[m]->name);
            lua_pushcclosure(L, l_model, 1);
            lua_setfield(L, api, pl->models[m]->name);
        }
    }
}

/* A metatable for read-only views: index through fn, which gets a table
 * of the keys it knows as its upvalue; no writes; getmetatable gives
 * nothing away. Returns its registry ref. */
static int view_metatable(lua_State *L, const char *name, lua_CFunction index,
                          const char *const *keys, const int *codes, const luaL_Reg *methods)
{
    luaL_newmetatable(L, name);
    lua_newtable(L);
    for (int i = 0; keys && keys[i]; i++) {
        lua_pushinteger(L, codes[i]);
        lua_setfield(L, -2, keys[i]);
    }
    for (const luaL_Reg *m = methods; m && m->name; m++) {
        lua_pushcfunction(L, m->func);
        lua_setfield(L, -2, m->name);
    }
    lua_pushcclosure(L, index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, view_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

static void view_metatables(lua_State *L, cw_luafile *lf)
{
    static const char *const ev_keys[] = { "data", "id", "type", "at", "case", "unit", "actor",
                                           "seq", NULL };
    static const int ev_codes[] = { K_DATA, K_ID, K_TYPE, K_AT, K_CASE, K_UNIT, K_ACTOR, K_SEQ };
    static const char *const case_keys[] = { "id", "unit", "kind", "cause", "accepted_at",
                                             "offence_at", NULL };
    static const int case_codes[] = { K_ID, K_UNIT, K_KIND, K_CAUSE, K_ACCEPTED_AT,
                                      K_OFFENCE_AT };

    lf->mt_ev = view_metatable(L, EV_MT, ev_index, ev_keys, ev_codes, NULL);
    lf->mt_data = view_metatable(L, DATA_MT, data_index, NULL, NULL, NULL);
    lf->mt_case = view_metatable(L, CASE_MT, case_index, case_keys, case_codes, case_methods);
}

static int env_newindex(lua_State *L)
{
    return luaL_error(L, "rules cannot set global '%s' while checking "
                      "(keep values in locals)", lua_tostring(L, 2));
}

/* Build the state and run the file. Runs protected (lua_pcall). */
static int load_body(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    char *buf;
    size_t len;
    int rc;

    open_libs(L);
    view_metatables(L, lf);
    lua_pushboolean(L, 0);
    lf->ref_case = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushboolean(L, 0);
    lf->ref_ev = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushstring(L, "instruction budget exceeded");
    lf->err_budget = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushstring(L, "memory cap exceeded");
    lf->err_mem = luaL_ref(L, LUA_REGISTRYINDEX);
    build_api(L, lf);                              /* api */
    lua_newtable(L);                               /* api env */
    lua_newtable(L);                               /* api env mt */
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);                       /* api env */
    if ((rc = cw_read_file(lf->path, &buf, &len)) < 0)
        return luaL_error(L, "%s: %s", lf->path, strerror(-rc));
    rc = luaL_loadbufferx(L, buf, len, lua_pushfstring(L, "@%s", lf->path), "t");
    free(buf);
    lua_remove(L, -2);                             /* the chunk name */
    if (rc != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, -2);
    lua_setupvalue(L, -2, 1);                      /* _ENV of the chunk */
    lua_call(L, 0, 0);
    /* after loading, globals stay as they are */
    lua_getmetatable(L, -1);
    lua_pushcfunction(L, env_newindex);
    lua_setfield(L, -2, "__newindex");
    return 0;
}

int cw_lua_load_file(cw_ruleset *rs, const char *path, cw_err *err)
{
    cw_luafile *lf = cw_xcalloc(1, sizeof *lf);
    char msg[512];
    int rc;

    lf->path = cw_xstrdup(path);
    lf->rs = rs;
    lf->cap = rs->lua_memory;
    lf->budget = rs->lua_budget;
    lf->scratch = cw_xmalloc(sizeof *lf->scratch);
    rs->files = cw_xrealloc(rs->files, (rs->nfiles + 1) * sizeof *rs->files);
    rs->files[rs->nfiles++] = lf;
    lf->L = lua_newstate(lalloc, lf);
    if (lf->L == NULL)
        return cw_err_set(err, CW_ENOMEM, "%s: cannot create a Lua state", path);
    *(cw_luafile **)lua_getextraspace(lf->L) = lf;
    /* Loading runs under the same limits as a check. */
    arm(lf);
    lua_pushcfunction(lf->L, load_body);
    rc = lua_pcall(lf->L, 0, 0, 0);
    disarm(lf);
    if (rc != LUA_OK) {
        failure(lf, rc, msg, sizeof msg);
        lua_settop(lf->L, 0);
        return cw_err_set(err, CW_ERULE, "%s", msg);
    }
    lua_settop(lf->L, 0);
    lua_gc(lf->L, LUA_GCCOLLECT);
    /* the problems themselves were reported as they were found */
    return lf->problems > 0 ? 1 : 0;
}

void cw_lua_close(cw_luafile *lf)
{
    if (lf == NULL)
        return;
    if (lf->L)
        lua_close(lf->L);
    while (lf->slabs) {
        struct slab *next = lf->slabs->next;
        free(lf->slabs);
        lf->slabs = next;
    }
    free(lf->scratch);
    free(lf->path);
    free(lf);
}

const char *cw_lua_path(const cw_luafile *lf)
{
    return lf->path;
}

size_t cw_lua_memory(const cw_luafile *lf)
{
    return lf->mem;
}

/* ---- the model behind rule{...} ------------------------------------------- */

/* The check function (argument 1) called with the views of the event,
 * under the caller's pcall: making views may run out of memory too. */
static int check_body(lua_State *L)
{
    cw_luafile *lf = lf_of(L);
    const cw_engine *e = lf->ctx->e;

    /* Rules of one file that check the same event share its views (and
     * ev.data): a new event makes the views of the last one dead. */
    if (!lf->views_ok || lf->view_gen != e->gen || lf->view_n != e->processed ||
        lf->view_case != lf->c) {
        lf->views_ok = false;
        lf->gen++;
        lf->scratch_rec = NULL;
        push_case(L, lf, lf->c);
        lua_pushvalue(L, -1);
        lua_rawseti(L, LUA_REGISTRYINDEX, lf->ref_case);
        push_event(L, lf, lf->c, NULL);
        lua_pushvalue(L, -1);
        lua_rawseti(L, LUA_REGISTRYINDEX, lf->ref_ev);
        lf->view_gen = e->gen;
        lf->view_n = e->processed;
        lf->view_case = lf->c;
        lf->views_ok = true;
    } else {
        lua_rawgeti(L, LUA_REGISTRYINDEX, lf->ref_case);
        lua_rawgeti(L, LUA_REGISTRYINDEX, lf->ref_ev);
    }
    lua_call(L, 2, 0);
    return 0;
}

static int lua_on_event(void *inst, cw_ctx *ctx, const cw_case *c, const cw_event *ev)
{
    luarule *lr = inst;
    cw_luafile *lf = lr->lf;
    lua_State *L = lf->L;
    char msg[512];
    int rc;

    if (!cw_rule_in_scope(ctx->rule, ctx->rs, c->kind,
                          cw_strtab_str(ctx->rs->world->strs, c->unit), ev->at))
        return 0;
    lf->ctx = ctx;
    lf->c = (cw_case *)c;
    lf->ev = ev;
    lf->rule = ctx->rule;
    lf->in_check = true;
    lua_settop(L, 0);
    lua_pushcfunction(L, check_body);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lr->fn);
    arm(lf);
    rc = lua_pcall(L, 1, 0, 0);
    disarm(lf);
    lf->in_check = false;
    if (rc != LUA_OK) {
        if (lf->where[0] == '\0' && (rc == LUA_ERRMEM || lf->mem_hit)) {
            /* Refused inside a library function, before any hook could
             * see where: name the check function itself. */
            lua_Debug ar;
            lua_rawgeti(L, LUA_REGISTRYINDEX, lr->fn);
            if (lua_getinfo(L, ">S", &ar))
                snprintf(lf->where, sizeof lf->where, "%s:%d", ar.short_src, ar.linedefined);
        }
        failure(lf, rc, msg, sizeof msg);
        lua_settop(L, 0);
        ctx->rule->errors++;
        cw_rule_quarantine(ctx->rule, msg);
        lf->budget_hit = lf->mem_hit = false;
        lua_gc(L, LUA_GCCOLLECT);
    }
    lua_settop(L, 0);
    return 0;
}

static void lua_release(void *inst)
{
    luarule *lr = inst;

    /* The state goes with its file; only the record is ours. */
    free(lr);
}

const cw_model cw_lua_model = {
    .struct_size = sizeof(cw_model),
    .name = "rule",
    .summary = "a self-contained check written in Lua",
    .configure = NULL,
    .on_event = lua_on_event,
    .release = lua_release,
};
