#include "rules/lua/lua_int.h"
#include "rules/ruleset.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* ---- findings from Lua ----------------------------------------------------- */

/* The case named by the string at index i: in memory, or NULL when it
 * left memory (then judged again after this check); an unknown case is
 * an error. */
static cw_case *other_case(lua_State *L, cw_luafile *lf, int i)
{
    size_t len;
    const char *id = lua_tolstring(L, i, &len);
    uint32_t sid = cw_strtab_find(lf->rs->world->strs, id, len);
    cw_case *c = sid == UINT32_MAX ? NULL : cw__case_live(lf->ctx->e, sid);

    if (c == NULL && sid != UINT32_MAX && cw__case_gone(lf->ctx->e, sid)) {
        cw__defer_revisit(lf->ctx->e, sid);
        return NULL;
    }
    if (c == NULL)
        luaL_error(L, "no case '%s'", id);
    return c;
}

/* The case a finding is about: this one, or `case` (by number) of the
 * table at t. NULL when that case is out of memory: it is then judged
 * again from its own events once this check is done. */
static cw_case *target_case(lua_State *L, cw_luafile *lf, int t)
{
    cw_case *c = lf->c;

    if (lua_getfield(L, t, "case") == LUA_TSTRING)
        c = other_case(L, lf, -1);
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
            evview *v = luaL_testudata(L, -1, CW_LUA_EV_MT);
            if (v == NULL)
                return (size_t)luaL_error(L, "events: item %d is neither an event nor an id",
                                          (int)i);
            ids[n++] = cw__lua_ev_of(L, lf, v)->id;
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
    cw_luafile *lf = cw__lua_lf(L);
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
    f.message = cw__lua_opt_field(L, 1, "message");
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
        const char *st = cw__lua_opt_field(L, 1, "state");
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
    if (c == NULL)
        return 0;       /* out of memory: judged again from its events */
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
    cw_luafile *lf = cw__lua_lf(L);
    size_t len = 0;
    const char *s = luaL_optlstring(L, 1, "", &len);
    cw_case *c = lf->c;

    if (!lf->in_check)
        return luaL_error(L, "findings are withdrawn from a check function");
    if (!lua_isnoneornil(L, 2)) {
        luaL_checkstring(L, 2);
        if ((c = other_case(L, lf, 2)) == NULL)
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

    cw__lua_push_event(f->L, f->lf, c, rec);
    lua_rawseti(f->L, -2, ++f->n);
    return 0;
}

/* find(type, field, value [, from [, to [, case]]]): events in any case
 * (or only in case `case`), oldest first, through an index the rule
 * declared with index = {{type, field}}, optionally only those with
 * from <= at <= to. */
static int l_find(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);
    size_t len;
    const char *field, *value;
    cw_time from, to;
    uint32_t fid, vid;
    uint32_t only = CW_CASE_GONE;
    int type;
    find_ud ud = { L, lf, 0 };

    if (!lf->in_check)
        return luaL_error(L, "find is for check functions");
    type = cw__lua_type_arg(L, lf, 1);
    field = luaL_checkstring(L, 2);
    value = luaL_checklstring(L, 3, &len);
    from = lua_isnoneornil(L, 4) ? CW_TIME_NONE : cw__lua_check_time(L, 4);
    to = lua_isnoneornil(L, 5) ? INT64_MAX : cw__lua_check_time(L, 5);
    if (!lua_isnoneornil(L, 6)) {
        size_t clen;
        const char *cid = luaL_checklstring(L, 6, &clen);
        if ((only = cw_strtab_find(lf->rs->world->strs, cid, clen)) == UINT32_MAX) {
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
    cw_luafile *lf = cw__lua_lf(L);
    cw_case *c;

    if (!lf->in_check)
        return luaL_error(L, "case_of is for check functions");
    c = cw_engine_case(lf->ctx->e, luaL_checkstring(L, 1));
    if (c == NULL) {
        lua_pushnil(L);
        return 1;
    }
    cw__lua_push_case(L, lf, c);
    return 1;
}

/* found([subject [, case]]): this rule's finding on the case as it
 * stands, {state, raised, due, message, events}, or nil. For rules that
 * gather every occurrence into one finding without walking the whole
 * case again. */
static int l_found(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);
    size_t len = 0;
    const char *subj = luaL_optlstring(L, 1, "", &len);
    cw_case *c = lf->c;
    uint32_t sid, i;

    if (!lf->in_check)
        return luaL_error(L, "found is for check functions");
    if (!lua_isnoneornil(L, 2)) {
        luaL_checkstring(L, 2);
        if ((c = other_case(L, lf, 2)) == NULL) {
            lua_pushnil(L);
            return 1;
        }
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

/* param(name): the value of one of the rule's params = {...}, as the
 * rule's override for the case's unit sets it (rules/overrides.yaml). */
static int l_param(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);
    const char *k = luaL_checkstring(L, 1);
    const luarule *lr = lf->rule != NULL && lf->rule->model == &cw_lua_model ? lf->rule->inst : NULL;

    if (lr == NULL)
        return luaL_error(L, "param: only inside a check");
    if (lr->params == LUA_NOREF)
        return luaL_error(L, "param: rule %s declares no params", lf->rule->info.id);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lr->params);
    if (lua_getfield(L, -1, k) == LUA_TNIL)
        return luaL_error(L, "param: rule %s has no parameter '%s'", lf->rule->info.id, k);
    return 1;
}

static int l_now(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);

    if (lf->in_check && lf->ev != NULL)
        lua_pushinteger(L, lf->ev->at);
    else
        lua_pushnil(L);
    return 1;
}

/* ---- the model behind rule{...} ------------------------------------------- */

/* The check function (argument 1) called with the views of the event,
 * under the caller's pcall: making views may run out of memory too. */
static int check_body(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);
    const cw_engine *e = lf->ctx->e;

    /* Rules of one file that check the same event share its views (and
     * ev.data): a new event makes the views of the last one dead. */
    if (!lf->views_ok || lf->view_gen != e->gen || lf->view_n != e->processed ||
        lf->view_case != lf->c) {
        lf->views_ok = false;
        lf->gen++;
        lf->scratch_rec = NULL;
        cw__lua_push_case(L, lf, lf->c);
        lua_pushvalue(L, -1);
        lua_rawseti(L, LUA_REGISTRYINDEX, lf->ref_case);
        cw__lua_push_event(L, lf, lf->c, NULL);
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
    lf->c = cw_engine_case_at(ctx->e, c->idx);
    lf->ev = ev;
    lf->rule = ctx->rule;
    lf->in_check = true;
    lua_settop(L, 0);
    lua_pushcfunction(L, check_body);
    lua_rawgeti(L, LUA_REGISTRYINDEX, lr->fn);
    cw__lua_arm(lf);
    rc = lua_pcall(L, 1, 0, 0);
    cw__lua_disarm(lf);
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
        cw__lua_failure(lf, rc, msg, sizeof msg);
        lua_settop(L, 0);
        ctx->rule->errors++;
        cw_rule_quarantine(ctx->rule, msg);
        lf->budget_hit = lf->mem_hit = false;
        lua_gc(L, LUA_GCCOLLECT);
    }
    lua_settop(L, 0);
    return 0;
}

/* ---- advise: a rule's answer to a query (cw_model.advise) ----------------- */

/* A cw_value as a Lua value: maps and lists as tables. */
static void push_value(lua_State *L, const cw_value *v, int depth)
{
    luaL_checkstack(L, 4, "advise: query too deep");
    switch (v->kind) {
    case CW_P_BOOL:
        lua_pushboolean(L, (int)v->i);
        break;
    case CW_P_INT:
        lua_pushinteger(L, v->i);
        break;
    case CW_P_NUM:
        lua_pushnumber(L, v->d);
        break;
    case CW_P_STR:
        lua_pushstring(L, v->s);
        break;
    case CW_P_LIST:
    case CW_P_MAP:
        lua_createtable(L, v->kind == CW_P_LIST ? (int)v->n : 0, v->kind == CW_P_MAP ? (int)v->n : 0);
        for (size_t i = 0; i < v->n && depth < MAX_VALUE_DEPTH; i++) {
            push_value(L, &v->items[i], depth + 1);
            if (v->kind == CW_P_LIST)
                lua_rawseti(L, -2, (lua_Integer)i + 1);
            else
                lua_setfield(L, -2, v->keys[i]);
        }
        break;
    default:
        lua_pushnil(L);
        break;
    }
}

typedef struct advice {
    luarule *lr;
    const cw_value *query;
    cw_buf out;                 /* the answer's JSON; empty: none */
    char err[400];
} advice;

/* Under the caller's pcall: advise(query), its result as JSON. */
static int advise_body(lua_State *L)
{
    advice *a = lua_touserdata(L, 1);
    cw_varena *arena;
    cw_value v;
    int rc;

    lua_rawgeti(L, LUA_REGISTRYINDEX, a->lr->advise);
    push_value(L, a->query, 0);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1))
        return 0;
    if (!lua_istable(L, -1))
        return luaL_error(L, "advise must return a table or nil, not a %s", luaL_typename(L, -1));
    arena = cw_varena_new();
    rc = cw__lua_to_value(L, -1, arena, &v, 0, "advise", a->err, sizeof a->err);
    if (rc == 0)
        cw_value_json(&a->out, &v);
    cw_varena_free(arena);
    if (rc < 0)
        return luaL_error(L, "%s", a->err);
    return 0;
}

static int lua_advise(void *inst, cw_ctx *ctx, const cw_value *query, char **answer, char *err,
                      size_t errlen)
{
    luarule *lr = inst;
    cw_luafile *lf = lr->lf;
    lua_State *L = lf->L;
    advice a = { lr, query, { 0 }, "" };
    int rc;

    *answer = NULL;
    if (lr->advise == LUA_NOREF)
        return 0;
    lf->ctx = ctx;
    lf->c = NULL;
    lf->ev = NULL;
    lf->rule = ctx->rule;
    lf->in_check = false;
    lua_settop(L, 0);
    lua_pushcfunction(L, advise_body);
    lua_pushlightuserdata(L, &a);
    cw__lua_arm(lf);
    rc = lua_pcall(L, 1, 0, 0);
    cw__lua_disarm(lf);
    if (rc != LUA_OK) {
        cw__lua_failure(lf, rc, err, errlen);
        lf->budget_hit = lf->mem_hit = false;
        lua_settop(L, 0);
        cw_buf_free(&a.out);
        return -1;
    }
    lua_settop(L, 0);
    *answer = a.out.p;      /* NULL when nothing was said */
    return 0;
}

static void lua_advice_free(void *inst, char *answer)
{
    (void)inst;
    free(answer);
}

static void lua_release(void *inst)
{
    luarule *lr = inst;

    /* The state goes with its file; only the record is ours. */
    free(lr);
}

void *cw__lua_variant(const void *inst, const cw_value *set)
{
    const luarule *base = inst;
    luarule *lr = cw_xcalloc(1, sizeof *lr);
    lua_State *L = base->lf->L;

    *lr = *base;
    luaL_checkstack(L, 8, "override");
    lua_newtable(L);
    if (base->params != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, base->params);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, -5);
        }
        lua_pop(L, 1);
    }
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->keys[i], "severity") == 0 || strcmp(set->keys[i], "enabled") == 0)
            continue;
        push_value(L, &set->items[i], 0);
        lua_setfield(L, -2, set->keys[i]);
    }
    lr->params = luaL_ref(L, LUA_REGISTRYINDEX);
    return lr;
}

const cw_model cw_lua_model = {
    .struct_size = sizeof(cw_model),
    .name = "rule",
    .summary = "a self-contained check written in Lua",
    .configure = NULL,
    .on_event = lua_on_event,
    .release = lua_release,
    .advise = lua_advise,
    .advice_free = lua_advice_free,
};


const luaL_Reg cw__lua_model_fns[] = {
    { "report", l_report }, { "obligation", l_obligation }, { "withdraw", l_withdraw },
    { "find", l_find }, { "case_of", l_case_of }, { "found", l_found }, { "now", l_now }, { "param", l_param },
    { NULL, NULL },
};
