# rules: loading a rules directory (settings, catalogue, calendar,
# plugins, Lua files) into the core's ruleset, the host API models call,
# and the Lua sandbox.
noinst_LTLIBRARIES += engine/rules/libcwrules.la
engine_rules_libcwrules_la_SOURCES = \
	engine/rules/ruleset.c engine/rules/ruleset.h \
	engine/rules/host.c \
	engine/rules/lua/luahost.c engine/rules/lua/lua.h
engine_rules_libcwrules_la_LIBADD = $(LUA_LIBS)
pkginclude_HEADERS += include/casewarden/plugin.h
