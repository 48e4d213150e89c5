# rules: loading a rules directory (settings, catalogue, calendar,
# plugins, Lua files) into the core's ruleset, the host API models call,
# and the Lua sandbox.
noinst_LTLIBRARIES += engine/rules/libcwrules.la
engine_rules_libcwrules_la_SOURCES = \
	engine/rules/ruleset.c engine/rules/ruleset.h engine/rules/lint.c \
	engine/rules/host.c \
	engine/rules/advise.c engine/rules/advise.h \
	engine/rules/lua/lua.h engine/rules/lua/lua_int.h \
	engine/rules/lua/sandbox.c engine/rules/lua/declare.c engine/rules/lua/views.c \
	engine/rules/lua/model.c engine/rules/lua/helpers.c
engine_rules_libcwrules_la_LIBADD = $(LUA_LIBS)
pkginclude_HEADERS += include/casewarden/plugin.h
engine_rules_libcwrules_la_CFLAGS = $(AM_CFLAGS) $(LUA_CFLAGS)
