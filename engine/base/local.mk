# base: what every layer uses (allocation, errors, logging, strings,
# times, YAML trees). Depends on nothing of ours.
noinst_LTLIBRARIES += engine/base/libcwbase.la
engine_base_libcwbase_la_SOURCES = \
	engine/base/util.c engine/base/util.h engine/base/clock.h \
	engine/base/err.c engine/base/err.h \
	engine/base/log.c engine/base/log.h \
	engine/base/strtab.c engine/base/strtab.h \
	engine/base/yamltree.c engine/base/yamltree.h \
	engine/base/value.c engine/base/value.h \
	engine/base/timeutil.c engine/base/timeutil.h \
	engine/base/sha256.c engine/base/sha256.h
engine_base_libcwbase_la_LIBADD = $(YAML_LIBS) $(CRYPTO_LIBS)
engine_base_libcwbase_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
