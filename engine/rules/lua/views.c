#include "rules/lua/lua_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "base/util.h"

static const char DATA_MT[] = "casewarden.data";
static const char CASE_MT[] = "casewarden.case";

/* ---- views of cases and events -------------------------------------------- */

void cw__lua_need_check(lua_State *L, cw_luafile *lf, uint32_t gen)
{
    if (!lf->in_check || gen != lf->gen)
        luaL_error(L, "a case or event is only valid during the check that received it");
}

const cw_event *cw__lua_ev_of(lua_State *L, cw_luafile *lf, const evview *v)
{
    cw__lua_need_check(L, lf, v->gen);
    if (v->rec == NULL)
        return lf->ev;
    if (lf->scratch_rec != v->rec) {
        cw_rec_decode(v->rec, lf->scratch);
        lf->scratch->ev.case_id = v->c->id;
        lf->scratch_rec = v->rec;
    }
    return &lf->scratch->ev;
}

void cw__lua_push_str(lua_State *L, cw_luafile *lf, uint32_t id)
{
    size_t len = cw_strtab_len(lf->rs->world->strs, id);

    lua_pushlstring(L, cw_strtab_str(lf->rs->world->strs, id), len);
}

void cw__lua_push_fval(lua_State *L, cw_luafile *lf, const cw_fval *f)
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
        cw__lua_push_str(L, lf, f->v.s);
        break;
    case CW_V_LIST:
        lua_createtable(L, (int)f->n, 0);
        for (uint32_t i = 0; i < f->n; i++) {
            cw__lua_push_str(L, lf, f->v.list[i]);
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

void cw__lua_push_event(lua_State *L, cw_luafile *lf, const cw_case *c, const uint8_t *rec)
{
    /* the user value keeps ev.data once made: rules read it field by field */
    evview *v = lua_newuserdatauv(L, sizeof *v, 1);

    v->gen = lf->gen;
    v->c = c;
    v->rec = rec;
    set_mt(L, lf->mt_ev);
}

void cw__lua_push_case(lua_State *L, cw_luafile *lf, cw_case *c)
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
    cw_luafile *lf = cw__lua_lf(L);
    evview *v = lua_touserdata(L, 1);
    const cw_event *ev = cw__lua_ev_of(L, lf, v);

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
        cw__lua_push_str(L, lf, ev->case_id);
        break;
    case K_UNIT:
        cw__lua_push_str(L, lf, ev->unit);
        break;
    case K_ACTOR:
        if (ev->actor)
            cw__lua_push_str(L, lf, ev->actor);
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
    cw_luafile *lf = cw__lua_lf(L);
    evview *v = lua_touserdata(L, 1);
    const cw_event *ev = cw__lua_ev_of(L, lf, v);
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
        cw__lua_push_fval(L, lf, f);
    return 1;
}

static int view_newindex(lua_State *L)
{
    return luaL_error(L, "cases and events are read-only");
}

static caseview *check_case(lua_State *L, int i)
{
    cw_luafile *lf = cw__lua_lf(L);
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
    cw__lua_need_check(L, lf, v->gen);
    return v;
}

int cw__lua_type_arg(lua_State *L, cw_luafile *lf, int i)
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
    evfilter f = { cw__lua_type_arg(L, lf, i), -1, 0 };
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
    cw_luafile *lf = cw__lua_lf(L);
    caseview *cv = check_case(L, lua_upvalueindex(1));
    size_t off = (size_t)lua_tointeger(L, lua_upvalueindex(2));
    const evfilter *f = lua_touserdata(L, lua_upvalueindex(3));
    const cw_case *c = cv->c;

    for (; off < c->proclen; off += cw_rec_size(c->tl + off)) {
        if (!passes(lf, c->tl + off, f))
            continue;
        lua_pushinteger(L, (lua_Integer)(off + cw_rec_size(c->tl + off)));
        lua_replace(L, lua_upvalueindex(2));
        cw__lua_push_event(L, lf, c, c->tl + off);
        return 1;
    }
    lua_pushinteger(L, (lua_Integer)off);
    lua_replace(L, lua_upvalueindex(2));
    return 0;
}

/* case:events([type [, field, value]]): an iterator in time order. */
static int case_events(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);
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
    cw_luafile *lf = cw__lua_lf(L);
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
        cw__lua_push_event(L, lf, c, hit);
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
    cw_luafile *lf = cw__lua_lf(L);
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
        cw__lua_push_str(L, lf, pf->v.s);
        if (lua_rawget(L, persons) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            cw__lua_push_str(L, lf, pf->v.s);
            lua_pushvalue(L, -2);
            lua_rawset(L, persons);
        }
        for (uint16_t i = 0; i < ev->nf; i++) {
            const cw_fval *f = &ev->f[i];
            const char *name = cw_strtab_str(names, f->fid);
            if (f->kind == CW_V_LIST && strcmp(name, "flags") == 0) {
                lua_createtable(L, 0, (int)f->n);
                for (uint32_t j = 0; j < f->n; j++) {
                    cw__lua_push_str(L, lf, f->v.list[j]);
                    lua_pushboolean(L, 1);
                    lua_rawset(L, -3);
                }
            } else {
                cw__lua_push_fval(L, lf, f);
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
    cw_luafile *lf = cw__lua_lf(L);
    caseview *cv = check_case(L, 1);

    push_person_only(L, lf, cv->c, 2);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

/* persons([role]): a list ordered by id, so iteration is deterministic. */
static int case_persons(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);
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
    qsort(ids, n, sizeof *ids, cw__lua_key_cmp);
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

/* age(person_id [, t]): the person's age at t, default the offence time,
 * counted as the ruleset's age_from says (law/age.h). */
static int case_age(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);
    caseview *cv = check_case(L, 1);
    size_t len;
    const char *id = luaL_checklstring(L, 2, &len);
    cw_time t = lua_isnoneornil(L, 3) ? cv->c->offence_at : cw__lua_check_time(L, 3);
    uint32_t sid = cw_strtab_find(lf->rs->world->strs, id, len);
    cw_day birth;

    if (sid == UINT32_MAX || t == CW_TIME_NONE || !person_birth(lf, cv->c, sid, &birth))
        lua_pushnil(L);
    else {
        int years = cw_age_years(birth, cw_time_day(t, lf->rs->tz), lf->rs->age_from);
        if (cw__lua_tracing(lf))
            cw__lua_trace_age(lf, id, birth, t, years);
        lua_pushinteger(L, years);
    }
    return 1;
}

static const luaL_Reg case_methods[] = {
    { "events", case_events }, { "first", case_first }, { "last", case_last },
    { "count", case_count }, { "person", case_person }, { "persons", case_persons },
    { "age", case_age }, { NULL, NULL },
};

static int case_index(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);
    caseview *cv = lua_touserdata(L, 1);
    const cw_case *c;

    cw__lua_need_check(L, lf, cv->gen);
    c = cv->c;
    switch (view_key(L)) {
    case -1:
        return 1;       /* a method */
    case K_ID:
        cw__lua_push_str(L, lf, c->id);
        break;
    case K_UNIT:
        cw__lua_push_str(L, lf, c->unit);
        break;
    case K_KIND:
        c->kind ? cw__lua_push_str(L, lf, c->kind) : lua_pushnil(L);
        break;
    case K_CAUSE:
        c->cause ? cw__lua_push_str(L, lf, c->cause) : lua_pushnil(L);
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

void cw__lua_view_metatables(lua_State *L, cw_luafile *lf)
{
    static const char *const ev_keys[] = { "data", "id", "type", "at", "case", "unit", "actor",
                                           "seq", NULL };
    static const int ev_codes[] = { K_DATA, K_ID, K_TYPE, K_AT, K_CASE, K_UNIT, K_ACTOR, K_SEQ };
    static const char *const case_keys[] = { "id", "unit", "kind", "cause", "accepted_at",
                                             "offence_at", NULL };
    static const int case_codes[] = { K_ID, K_UNIT, K_KIND, K_CAUSE, K_ACCEPTED_AT,
                                      K_OFFENCE_AT };

    lf->mt_ev = view_metatable(L, CW_LUA_EV_MT, ev_index, ev_keys, ev_codes, NULL);
    lf->mt_data = view_metatable(L, DATA_MT, data_index, NULL, NULL, NULL);
    lf->mt_case = view_metatable(L, CASE_MT, case_index, case_keys, case_codes, case_methods);
}

