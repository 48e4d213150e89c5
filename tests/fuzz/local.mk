# libFuzzer targets (scripts/build.sh fuzz; scripts/fuzz runs them, the
# suite runs each briefly through tests/cli/fuzz.sh): built only with
# --enable-fuzz, by clang, linked with -fsanitize=fuzzer.
if FUZZ
CW_FZ_CFLAGS = $(AM_CFLAGS) -DCW_SRCDIR='"$(abs_top_srcdir)"' -DCW_BUILDDIR='"$(abs_top_builddir)"'
CW_FZ_LINK = $(AM_LDFLAGS) -fsanitize=fuzzer
CW_FUZZ = tests/fuzz/fuzz_event tests/fuzz/fuzz_catalogue tests/fuzz/fuzz_calendar \
	tests/fuzz/fuzz_config tests/fuzz/fuzz_lua tests/fuzz/fuzz_engine_yaml \
	tests/fuzz/fuzz_discretion tests/fuzz/fuzz_http
noinst_PROGRAMS += $(CW_FUZZ)
tests_fuzz_fuzz_event_SOURCES = tests/fuzz/fuzz_event.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_event_CFLAGS = $(CW_FZ_CFLAGS)
tests_fuzz_fuzz_event_LDFLAGS = $(CW_FZ_LINK)
tests_fuzz_fuzz_event_LDADD = $(CW_ALL_LIBS)
tests_fuzz_fuzz_catalogue_SOURCES = tests/fuzz/fuzz_yaml.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_catalogue_CFLAGS = $(CW_FZ_CFLAGS) -DFUZZ_LOADER=1
tests_fuzz_fuzz_catalogue_LDFLAGS = $(CW_FZ_LINK)
tests_fuzz_fuzz_catalogue_LDADD = $(CW_ALL_LIBS)
tests_fuzz_fuzz_calendar_SOURCES = tests/fuzz/fuzz_yaml.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_calendar_CFLAGS = $(CW_FZ_CFLAGS) -DFUZZ_LOADER=2
tests_fuzz_fuzz_calendar_LDFLAGS = $(CW_FZ_LINK)
tests_fuzz_fuzz_calendar_LDADD = $(CW_ALL_LIBS)
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_yaml.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_config_CFLAGS = $(CW_FZ_CFLAGS) -DFUZZ_LOADER=3
tests_fuzz_fuzz_config_LDFLAGS = $(CW_FZ_LINK)
tests_fuzz_fuzz_config_LDADD = $(CW_ALL_LIBS)
tests_fuzz_fuzz_lua_SOURCES = tests/fuzz/fuzz_rules.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_lua_CFLAGS = $(CW_FZ_CFLAGS) -DFUZZ_PART=1
tests_fuzz_fuzz_lua_LDFLAGS = $(CW_FZ_LINK)
tests_fuzz_fuzz_lua_LDADD = $(CW_ALL_LIBS)
tests_fuzz_fuzz_engine_yaml_SOURCES = tests/fuzz/fuzz_rules.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_engine_yaml_CFLAGS = $(CW_FZ_CFLAGS) -DFUZZ_PART=2
tests_fuzz_fuzz_engine_yaml_LDFLAGS = $(CW_FZ_LINK)
tests_fuzz_fuzz_engine_yaml_LDADD = $(CW_ALL_LIBS)
tests_fuzz_fuzz_discretion_SOURCES = tests/fuzz/fuzz_rules.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_discretion_CFLAGS = $(CW_FZ_CFLAGS) -DFUZZ_PART=3
tests_fuzz_fuzz_discretion_LDFLAGS = $(CW_FZ_LINK)
tests_fuzz_fuzz_discretion_LDADD = $(CW_ALL_LIBS)
tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz_http.c tests/fuzz/fuzz.h
tests_fuzz_fuzz_http_CFLAGS = $(CW_FZ_CFLAGS) $(MHD_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_http_LDFLAGS = $(CW_FZ_LINK)
tests_fuzz_fuzz_http_LDADD = api/libcwapi.la $(CW_ALL_LIBS)
endif
EXTRA_DIST += tests/fuzz/corpus
