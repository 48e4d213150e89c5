# The core: everything the binary, the tests and the benches share.
noinst_LTLIBRARIES += engine/libcwcore.la
engine_libcwcore_la_SOURCES = \
	engine/util.c engine/util.h \
	engine/err.c engine/err.h \
	engine/log.c engine/log.h \
	engine/strtab.c engine/strtab.h \
	engine/yamltree.c engine/yamltree.h \
	engine/value.c engine/value.h \
	engine/timeutil.c engine/timeutil.h \
	engine/calendar.c engine/calendar.h \
	engine/catalogue.c engine/catalogue.h \
	engine/evjson.c engine/evjson.h \
	engine/timeline.c engine/timeline.h \
	engine/engine.c engine/engine.h engine/engine_int.h \
	engine/finding.c \
	engine/host.c \
	engine/luahost.c engine/luahost.h \
	engine/ruleset.c engine/ruleset.h \
	engine/eval.c engine/eval.h \
	engine/fixture.c engine/fixture.h \
	engine/lint.c engine/lint.h \
	engine/sink.c engine/timers.c engine/timers.h \
	engine/config.c engine/config.h \
	engine/db.c engine/db.h \
	engine/service.c engine/service.h \
	engine/sha256.c engine/sha256.h
engine_libcwcore_la_LIBADD = $(LUA_LIBS) $(YAML_LIBS) $(JANSSON_LIBS) $(MARIADB_LIBS)
pkginclude_HEADERS += include/casewarden/plugin.h
