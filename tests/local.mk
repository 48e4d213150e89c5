# One cmocka binary per module; `make check` runs them all.
CW_UNIT_LIBS = engine/libcwcore.la $(CMOCKA_LIBS)
CW_UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -DCW_SRCDIR='"$(abs_top_srcdir)"' \
	-DCW_BUILDDIR='"$(abs_top_builddir)"'
CW_UNITS = tests/unit/test_timeutil tests/unit/test_calendar tests/unit/test_yamltree
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
