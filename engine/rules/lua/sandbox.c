#include "rules/lua/lua_int.h"

#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"

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

static bool coverage;

void cw_lua_set_coverage(bool on)
{
    coverage = on;
}

bool cw_lua_coverage(const cw_luafile *lf, const uint8_t **can, const uint8_t **hit, int *n)
{
    if (lf->cov_hit == NULL)
        return false;
    for (int i = 0; i < lf->cov_n; i++)
        if (lf->cov_hit[i])
            lf->cov_can[i] = 1;
    *can = lf->cov_can;
    *hit = lf->cov_hit;
    *n = lf->cov_n;
    return true;
}

static void hook(lua_State *L, lua_Debug *ar)
{
    cw_luafile *lf = cw__lua_lf(L);

    if (ar->event == LUA_HOOKLINE && lf->cov_hit != NULL && ar->currentline > 0 &&
        ar->currentline < lf->cov_n)
        lf->cov_hit[ar->currentline] = 1;

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

void cw__lua_arm(cw_luafile *lf)
{
    lf->used = 0;
    lf->budget_hit = false;
    lf->mem_hit = false;
    lf->where[0] = '\0';
    lua_sethook(lf->L, hook, LUA_MASKCOUNT | (lf->cov_hit ? LUA_MASKLINE : 0), HOOK_STEP);
}

/* Coverage: mark the lines of the function or table on top of the stack,
 * and of what its upvalues or fields reach (pops it). seen: a table of
 * what was walked. */
static void cov_walk(lua_State *L, cw_luafile *lf, int seen, int depth)
{
    int t = lua_gettop(L);

    if (depth > 16 || !(lua_isfunction(L, t) || lua_istable(L, t)) || !lua_checkstack(L, 8)) {
        lua_pop(L, 1);
        return;
    }
    lua_pushvalue(L, t);
    if (lua_rawget(L, seen) != LUA_TNIL) {
        lua_pop(L, 2);
        return;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, t);
    lua_pushboolean(L, 1);
    lua_rawset(L, seen);
    if (lua_isfunction(L, t) && !lua_iscfunction(L, t)) {
        lua_Debug ar;
        lua_pushvalue(L, t);
        if (lua_getinfo(L, ">L", &ar) && lua_istable(L, -1)) {
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_Integer ln = lua_tointeger(L, -2);
                if (ln > 0 && ln < lf->cov_n)
                    lf->cov_can[ln] = 1;
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
        for (int i = 1; lua_getupvalue(L, t, i) != NULL; i++)
            cov_walk(L, lf, seen, depth + 1);
    } else if (lua_istable(L, t)) {
        lua_pushnil(L);
        while (lua_next(L, t))
            cov_walk(L, lf, seen, depth + 1);
    }
    lua_settop(L, t - 1);
}

void cw__lua_disarm(cw_luafile *lf)
{
    lua_sethook(lf->L, NULL, 0, 0);
}

/* The message for a failed call: the limit that stopped it, or the
 * error the rule raised. */
void cw__lua_failure(cw_luafile *lf, int rc, char *buf, size_t size)
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
    cw_luafile *lf = cw__lua_lf(L);
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
    luaL_setfuncs(L, cw__lua_declare_fns, 0);
    luaL_setfuncs(L, cw__lua_model_fns, 0);
    luaL_setfuncs(L, cw__lua_helper_fns, 0);
    lua_pushcfunction(L, l_print);
    lua_setfield(L, api, "print");
    lua_pushcfunction(L, l_setmetatable);
    lua_setfield(L, api, "setmetatable");
    /* one declaration function per model of the loaded plugins */
    for (size_t p = 0; p < lf->rs->nplugins; p++) {
        const cw_plugin *pl = lf->rs->plugins[p].p;
        for (size_t m = 0; m < pl->nmodels; m++) {
            lua_pushstring(L, pl->models[m]->name);
            lua_pushcclosure(L, cw__lua_l_model, 1);
            lua_setfield(L, api, pl->models[m]->name);
        }
    }
}

static int env_newindex(lua_State *L)
{
    return luaL_error(L, "rules cannot set global '%s' while checking "
                      "(keep values in locals)", lua_tostring(L, 2));
}

/* Build the state and run the file. Runs protected (lua_pcall). */
static int load_body(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);
    char *buf;
    size_t len;
    int rc;

    open_libs(L);
    cw__lua_view_metatables(L, lf);
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
    if (coverage) {
        lf->cov_n = 2;
        for (size_t i = 0; i < len; i++)
            lf->cov_n += buf[i] == '\n';
        lf->cov_can = cw_xcalloc((size_t)lf->cov_n, 1);
        lf->cov_hit = cw_xcalloc((size_t)lf->cov_n, 1);
        cw__lua_arm(lf);
    }
    rc = luaL_loadbufferx(L, buf, len, lua_pushfstring(L, "@%s", lf->path), "t");
    free(buf);
    lua_remove(L, -2);                             /* the chunk name */
    if (rc != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, -2);
    lua_setupvalue(L, -2, 1);                      /* _ENV of the chunk */
    if (coverage) {
        int top = lua_gettop(L);
        lua_newtable(L);
        lua_pushvalue(L, top);
        cov_walk(L, lf, top + 1, 0);
        /* the chunk's functions, reached once it ran: the rules' checks
         * and what they call */
        lua_pushvalue(L, top);
        lua_call(L, 0, 0);
        for (size_t i = 0; i < lf->rs->nrules; i++) {
            const cw_rule *r = lf->rs->rules[i];
            const luarule *lr = r->inst;
            if (r->lua != lf || r->model != &cw_lua_model || lr == NULL)
                continue;
            lua_rawgeti(L, LUA_REGISTRYINDEX, lr->fn);
            cov_walk(L, lf, top + 1, 0);
            if (lr->advise != LUA_NOREF) {
                lua_rawgeti(L, LUA_REGISTRYINDEX, lr->advise);
                cov_walk(L, lf, top + 1, 0);
            }
        }
        lua_pushvalue(L, top - 1);                 /* the env: global functions */
        cov_walk(L, lf, top + 1, 0);
        lua_settop(L, top - 1);
    } else {
        lua_call(L, 0, 0);
    }
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
    cw__lua_arm(lf);
    lua_pushcfunction(lf->L, load_body);
    rc = lua_pcall(lf->L, 0, 0, 0);
    cw__lua_disarm(lf);
    if (rc != LUA_OK) {
        cw__lua_failure(lf, rc, msg, sizeof msg);
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
    free(lf->cov_can);
    free(lf->cov_hit);
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

