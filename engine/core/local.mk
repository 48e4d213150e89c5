# core: cases, finding records, cross-case indexes, timers, dispatch to
# the rules' models, flush to a sink. Links no database and no Lua.
noinst_LTLIBRARIES += engine/core/libcwcore.la
engine_core_libcwcore_la_SOURCES = \
	engine/core/rule.c engine/core/rule.h \
	engine/core/engine.c engine/core/engine.h engine/core/engine_int.h \
	engine/core/case.c engine/core/index.c engine/core/frec.c \
	engine/core/run.c engine/core/run.h engine/core/image.c engine/core/snapshot.c \
	engine/core/finding.c \
	engine/core/flush.c \
	engine/core/timers.c engine/core/timers.h
