/*
 * Internals shared by the Lua host's files (rules/lua/): the state of a
 * rule file, the views rules see, and the helpers that cross files.
 *
 *   sandbox.c   the state: libraries, allocator with its cap, instruction
 *               budget, the read-only API every file's _ENV falls back to
 *   declare.c   rule{...} and model{...} declarations, Lua tables to
 *               cw_value parameters
 *   views.c     read-only views of cases and events
 *   model.c     the model behind rule{...}: the check call, report,
 *               obligation, withdraw, find, found, case_of, now
 *   helpers.c   the vocabulary of times and the legal calendar
 */
#ifndef CW_RULES_LUA_INT_H
#define CW_RULES_LUA_INT_H

#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/value.h"
#include "core/engine_int.h"
#include "rules/lua/lua.h"

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
    /* casewarden test --coverage: the lines that can run and those that
     * ran, by line number; NULL otherwise */
    uint8_t *cov_can, *cov_hit;
    int cov_n;
};

typedef struct luarule {
    cw_luafile *lf;
    int fn;                     /* registry ref of check */
    int advise;                 /* registry ref of advise, or LUA_NOREF */
    int params;                 /* registry ref of its params table, or LUA_NOREF */
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

#define CW_LUA_EV_MT "casewarden.event"

static inline cw_luafile *cw__lua_lf(lua_State *L)
{
    return *(cw_luafile **)lua_getextraspace(L);
}

/* sandbox.c: the limits around every call into a state */
void cw__lua_arm(cw_luafile *lf);
void cw__lua_disarm(cw_luafile *lf);
/* The message for a failed call: the limit that stopped it, or the
 * error the rule raised. */
void cw__lua_failure(cw_luafile *lf, int rc, char *buf, size_t size);

/* helpers.c */
int cw__lua_tz(cw_luafile *lf);
cw_time cw__lua_check_time(lua_State *L, int i);
extern const luaL_Reg cw__lua_helper_fns[];
/* explain: whether the check under way is traced, and its age step. */
bool cw__lua_tracing(cw_luafile *lf);
void cw__lua_trace_age(cw_luafile *lf, const char *who, cw_day birth, cw_time t, int years);

/* declare.c */
int cw__lua_key_cmp(const void *a, const void *b);
/* The Lua value at idx as a cw_value in arena a (tables: lists or maps
 * with sorted keys); -1 with the reason, prefixed by where, in err. */
int cw__lua_to_value(lua_State *L, int idx, cw_varena *a, cw_value *v, int line,
                     const char *where, char *err, size_t errlen);
const char *cw__lua_opt_field(lua_State *L, int t, const char *key);
extern const luaL_Reg cw__lua_declare_fns[];
/* The declaration function of a plugin model (upvalue 1: its name). */
int cw__lua_l_model(lua_State *L);

/* views.c */
void cw__lua_view_metatables(lua_State *L, cw_luafile *lf);
void cw__lua_need_check(lua_State *L, cw_luafile *lf, uint32_t gen);
const cw_event *cw__lua_ev_of(lua_State *L, cw_luafile *lf, const evview *v);
void cw__lua_push_str(lua_State *L, cw_luafile *lf, uint32_t id);
void cw__lua_push_fval(lua_State *L, cw_luafile *lf, const cw_fval *f);
void cw__lua_push_event(lua_State *L, cw_luafile *lf, const cw_case *c, const uint8_t *rec);
void cw__lua_push_case(lua_State *L, cw_luafile *lf, cw_case *c);
int cw__lua_type_arg(lua_State *L, cw_luafile *lf, int i);

/* model.c */
extern const luaL_Reg cw__lua_model_fns[];

#endif
