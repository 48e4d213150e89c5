# Benchmarks: bench/gen writes realistic case lifecycles with the findings
# the rules must produce (ground truth), bench/truth compares the engine's
# findings against them. Both link the core for the calendar and times.
noinst_PROGRAMS += bench/gen bench/truth
bench_gen_SOURCES = bench/gen.c
bench_gen_CPPFLAGS = $(AM_CPPFLAGS) -DCW_RULES_DIR='"$(abs_top_srcdir)/rules"'
bench_gen_LDADD = engine/libcwcore.la
bench_truth_SOURCES = bench/truth.c
bench_truth_LDADD = engine/libcwcore.la $(JANSSON_LIBS)
EXTRA_DIST += bench/README.md tests/bench/smoke.sh
