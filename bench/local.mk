noinst_PROGRAMS += bench/gen
bench_gen_SOURCES = bench/gen.c
bench_gen_LDADD = engine/libcwcore.la
