# One cmocka binary per module; `make check` runs them all.
CW_UNIT_LIBS = $(CW_ALL_LIBS) $(CMOCKA_LIBS)
CW_UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -DCW_SRCDIR='"$(abs_top_srcdir)"' \
	-DCW_BUILDDIR='"$(abs_top_builddir)"'
CW_UNITS = tests/unit/test_timeutil tests/unit/test_calendar tests/unit/test_yamltree \
	tests/unit/test_luahost tests/unit/test_plugin tests/unit/test_evjson \
	tests/unit/test_strtab tests/unit/test_timeline tests/unit/test_timers \
	tests/unit/test_ruleset tests/unit/test_config tests/unit/test_engine tests/unit/test_age \
	tests/unit/test_lease tests/unit/test_join \
	tests/unit/test_crypto tests/unit/test_notify
check_PROGRAMS += $(CW_UNITS)
TESTS += $(CW_UNITS)
tests_unit_test_timeutil_SOURCES = tests/unit/test_timeutil.c
tests_unit_test_timeutil_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_timeutil_LDADD = $(CW_UNIT_LIBS)
tests_unit_test_calendar_SOURCES = tests/unit/test_calendar.c
tests_unit_test_calendar_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_calendar_LDADD = $(CW_UNIT_LIBS)
tests_unit_test_yamltree_SOURCES = tests/unit/test_yamltree.c
tests_unit_test_yamltree_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_yamltree_LDADD = $(CW_UNIT_LIBS)
tests_unit_test_luahost_SOURCES = tests/unit/test_luahost.c tests/unit/ruledir.h
tests_unit_test_luahost_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_luahost_LDADD = $(CW_UNIT_LIBS)
tests_unit_test_evjson_SOURCES = tests/unit/test_evjson.c
tests_unit_test_evjson_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_evjson_LDADD = $(CW_UNIT_LIBS)
tests_unit_test_strtab_SOURCES = tests/unit/test_strtab.c
tests_unit_test_strtab_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_strtab_LDADD = $(CW_UNIT_LIBS)
tests_unit_test_timeline_SOURCES = tests/unit/test_timeline.c
tests_unit_test_timeline_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_timeline_LDADD = $(CW_UNIT_LIBS)
tests_unit_test_timers_SOURCES = tests/unit/test_timers.c
tests_unit_test_timers_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_timers_LDADD = $(CW_UNIT_LIBS)
tests_unit_test_ruleset_SOURCES = tests/unit/test_ruleset.c tests/unit/ruledir.h
tests_unit_test_ruleset_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_ruleset_LDADD = $(CW_UNIT_LIBS)
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(CW_UNIT_LIBS)
# The core's own test links the core and the layers below it, nothing
# else: a core that called the store or the Lua host would not link.
tests_unit_test_engine_SOURCES = tests/unit/test_engine.c
tests_unit_test_engine_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_engine_LDADD = $(CW_CORE_LIBS) $(CMOCKA_LIBS)
tests_unit_test_age_SOURCES = tests/unit/test_age.c
tests_unit_test_age_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_age_LDADD = $(CW_UNIT_LIBS)
tests_unit_test_crypto_SOURCES = tests/unit/test_crypto.c
tests_unit_test_crypto_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_crypto_LDADD = $(CW_UNIT_LIBS)
tests_unit_test_notify_SOURCES = tests/unit/test_notify.c
tests_unit_test_notify_CFLAGS = $(CW_UNIT_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_notify_LDADD = $(CW_UNIT_LIBS) $(JANSSON_LIBS)
tests_unit_test_join_SOURCES = tests/unit/test_join.c tests/unit/ruledir.h
tests_unit_test_join_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_join_LDADD = $(CW_UNIT_LIBS)
tests_unit_test_plugin_SOURCES = tests/unit/test_plugin.c
tests_unit_test_plugin_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_plugin_LDADD = $(CW_UNIT_LIBS)

# Fixture plugins, built only for the tests: an ABI the host refuses, and
# a shared object that is no plugin at all.
CW_FIXTURE_PLUGIN_LDFLAGS = -module -avoid-version -shared -no-undefined -rpath /nowhere
check_LTLIBRARIES += tests/plugins/badabi_major.la tests/plugins/badabi_minor.la \
	tests/plugins/noentry.la tests/plugins/oldmodel.la
tests_plugins_badabi_major_la_SOURCES = tests/plugins/badabi.c
tests_plugins_badabi_major_la_CPPFLAGS = -I$(top_srcdir)/include -DBADABI_MAJOR=2 -DBADABI_MINOR=0
tests_plugins_badabi_major_la_LDFLAGS = $(CW_FIXTURE_PLUGIN_LDFLAGS)
tests_plugins_badabi_minor_la_SOURCES = tests/plugins/badabi.c
tests_plugins_badabi_minor_la_CPPFLAGS = -I$(top_srcdir)/include -DBADABI_MAJOR=CW_ABI_MAJOR \
	-DBADABI_MINOR="(CW_ABI_MINOR + 1)"
tests_plugins_badabi_minor_la_LDFLAGS = $(CW_FIXTURE_PLUGIN_LDFLAGS)
tests_plugins_noentry_la_SOURCES = tests/plugins/noentry.c
tests_plugins_noentry_la_LDFLAGS = $(CW_FIXTURE_PLUGIN_LDFLAGS)
tests_plugins_oldmodel_la_SOURCES = tests/plugins/oldmodel.c
tests_plugins_oldmodel_la_CPPFLAGS = -I$(top_srcdir)/include
tests_plugins_oldmodel_la_LDFLAGS = $(CW_FIXTURE_PLUGIN_LDFLAGS)
# The lease arithmetic links the lease library alone: no database.
tests_unit_test_lease_SOURCES = tests/unit/test_lease.c
tests_unit_test_lease_CFLAGS = $(CW_UNIT_CFLAGS)
tests_unit_test_lease_LDADD = engine/lease/libcwlease.la $(CMOCKA_LIBS)
