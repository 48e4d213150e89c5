#include "rules/lua/lua_int.h"
#include "rules/ruleset.h"

#include <string.h>

#include "base/timeutil.h"

int cw__lua_tz(cw_luafile *lf)
{
    return lf->rs->tz;
}

cw_time cw__lua_check_time(lua_State *L, int i)
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

    cw_day_format(cw_time_day(cw__lua_check_time(L, 1), cw__lua_tz(cw__lua_lf(L))), buf, sizeof buf);
    lua_pushstring(L, buf);
    return 1;
}

static int l_datetime(lua_State *L)
{
    char iso[40], buf[40];

    cw_time_format(cw__lua_check_time(L, 1), cw__lua_tz(cw__lua_lf(L)), iso, sizeof iso);
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
        lua_pushinteger(L, cw_day_start(d, cw__lua_tz(cw__lua_lf(L))));
    else
        lua_pushnil(L);
    return 1;
}

bool cw__lua_tracing(cw_luafile *lf)
{
    return lf->in_check && lf->ctx != NULL && cw__host.tracing(lf->ctx);
}

void cw__lua_trace_age(cw_luafile *lf, const char *who, cw_day birth, cw_time t, int years)
{
    char b[16], on[16];
    int by, bm, bd, oy, om, od;
    cw_day day = cw_time_day(t, lf->rs->tz);

    cw_day_format(birth, b, sizeof b);
    cw_day_format(day, on, sizeof on);
    cw_day_to_civil(birth, &by, &bm, &bd);
    cw_day_to_civil(day, &oy, &om, &od);
    cw__host.trace(lf->ctx, 0, "age", "%s%s出生于 %s, 至 %s 为 %d 周岁 (%s)%s", who ? who : "",
                   who && who[0] ? " " : "", b, on, years, cw_age_from_words(lf->rs->age_from),
                   bm == om && bd == od && oy > by ? "; 当日为其生日" : "");
}

/* explain(label, value): value unchanged; while the case is being
 * explained, "label: value" is one step of the rule's reasoning. */
static int l_explain(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);
    const char *label = luaL_checkstring(L, 1);

    if (cw__lua_tracing(lf)) {
        if (lua_type(L, 2) == LUA_TBOOLEAN) {
            cw__host.trace(lf->ctx, 0, "condition", "%s: %s", label, lua_toboolean(L, 2) ? "是" : "否");
        } else if (lua_isnoneornil(L, 2)) {
            cw__host.trace(lf->ctx, 0, "condition", "%s: (无)", label);
        } else {
            const char *v = luaL_tolstring(L, 2, NULL);
            cw__host.trace(lf->ctx, 0, "condition", "%s: %s", label, v);
            lua_pop(L, 1);
        }
    }
    lua_settop(L, 2);
    return 1;
}

/* age(birth_date "YYYY-MM-DD", t): completed years at time t, counted as
 * the ruleset's age_from says (law/age.h). */
static int l_age(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    cw_time t = cw__lua_check_time(L, 2);
    cw_day birth;

    int years;

    if (cw_day_parse(s, len, &birth) < 0)
        return luaL_error(L, "age: '%s' is not a date YYYY-MM-DD", s);
    years = cw_age_years(birth, cw_time_day(t, cw__lua_tz(cw__lua_lf(L))),
                         cw__lua_lf(L)->rs->age_from);
    if (cw__lua_tracing(cw__lua_lf(L)))
        cw__lua_trace_age(cw__lua_lf(L), NULL, birth, t, years);
    lua_pushinteger(L, years);
    return 1;
}

/* age_convention(): how ages are counted, in the words of a message. */
static int l_age_convention(lua_State *L)
{
    lua_pushstring(L, cw_age_from_words(cw__lua_lf(L)->rs->age_from));
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

/* set_of(list): {item = true, ...}, so that a rule asks set.x. */
static int l_set_of(lua_State *L)
{
    lua_newtable(L);
    if (lua_type(L, 1) != LUA_TTABLE)
        return 1;
    for (lua_Integer i = 1; lua_rawgeti(L, 1, i) != LUA_TNIL; i++) {
        lua_pushboolean(L, 1);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    return 1;
}

static int l_add_days(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);
    bool custody = lua_toboolean(L, 3);

    lua_pushinteger(L, cw_calendar_add_days(lf->rs->cal, cw__lua_check_time(L, 1),
                                            (int)luaL_checkinteger(L, 2), !custody, NULL));
    return 1;
}

static int l_add_months(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);
    bool custody = lua_toboolean(L, 3);

    lua_pushinteger(L, cw_calendar_add_months(lf->rs->cal, cw__lua_check_time(L, 1),
                                              (int)luaL_checkinteger(L, 2), 0, !custody, NULL));
    return 1;
}

static int l_add_workdays(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);

    lua_pushinteger(L, cw_calendar_add_workdays(lf->rs->cal, cw__lua_check_time(L, 1),
                                                (int)luaL_checkinteger(L, 2), NULL));
    return 1;
}

static int l_is_workday(lua_State *L)
{
    cw_luafile *lf = cw__lua_lf(L);

    lua_pushboolean(L, cw_calendar_is_workday(lf->rs->cal,
                                              cw_time_day(cw__lua_check_time(L, 1), lf->rs->tz)));
    return 1;
}


const luaL_Reg cw__lua_helper_fns[] = {
    { "hours", l_hours }, { "minutes", l_minutes }, { "days", l_days },
    { "date", l_date }, { "datetime", l_datetime }, { "parse_time", l_parse_time },
    { "age", l_age }, { "age_convention", l_age_convention }, { "has", l_has }, { "set_of", l_set_of }, { "add_days", l_add_days },
    { "add_months", l_add_months }, { "add_workdays", l_add_workdays },
    { "is_workday", l_is_workday }, { "explain", l_explain }, { NULL, NULL },
};
