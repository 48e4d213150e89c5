# The core: everything the binary, the tests and the benches share.
noinst_LTLIBRARIES += engine/libcwcore.la
engine_libcwcore_la_SOURCES = \
	engine/err.c engine/err.h \
	engine/yamltree.c engine/yamltree.h \
	engine/timeutil.c engine/timeutil.h \
	engine/calendar.c engine/calendar.h \
	engine/catalogue.c engine/catalogue.h \
	engine/event.c engine/event.h \
	engine/cases.c engine/cases.h \
	engine/finding.c engine/finding.h \
	engine/ruleset.c engine/ruleset.h \
	engine/deadline.c \
	engine/eval.c engine/eval.h \
	engine/fixture.c engine/fixture.h
engine_libcwcore_la_LIBADD = $(LUA_LIBS) $(YAML_LIBS) $(JANSSON_LIBS)
