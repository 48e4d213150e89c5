# Benchmarks: bench/gen writes realistic case lifecycles with the findings
# the rules must produce (ground truth), bench/truth compares the engine's
# findings against them. Both link the core for the calendar and times.
noinst_PROGRAMS += bench/gen bench/truth
bench_gen_SOURCES = bench/gen.c
bench_gen_CPPFLAGS = $(AM_CPPFLAGS) -DCW_RULES_DIR='"$(abs_top_srcdir)/rules"'
bench_gen_LDADD = $(CW_RULES_LIBS)
bench_truth_SOURCES = bench/truth.c bench/jsonl.h
bench_truth_LDADD = $(CW_RULES_LIBS) $(JANSSON_LIBS)
EXTRA_DIST += bench/README.md tests/bench/smoke.sh

# Database and HTTP API measurements (bench/db/README.md): insert writes
# events straight into MariaDB, post drives the HTTP API on loopback.
noinst_PROGRAMS += bench/db/insert bench/db/post
bench_db_insert_SOURCES = bench/db/insert.c
bench_db_insert_LDADD = $(MARIADB_LIBS)
bench_db_insert_CFLAGS = $(AM_CFLAGS) $(MARIADB_CFLAGS)
bench_db_post_SOURCES = bench/db/post.c
EXTRA_DIST += bench/db/README.md bench/db/run.sh bench/db/api.sh bench/db/lib.sh bench/db/restart.sh \
	bench/db/post.lua bench/db/calendar.awk bench/db/sql

# bench/run's own probes: the deadline clock's cost per tick (timing wheel
# alone and through the engine), and the resident memory per case.
noinst_PROGRAMS += bench/ticks bench/resident
bench_ticks_SOURCES = bench/ticks.c bench/rss.h
bench_ticks_LDADD = $(CW_RULES_LIBS)
bench_resident_SOURCES = bench/resident.c bench/rss.h
bench_resident_LDADD = $(CW_RULES_LIBS)
EXTRA_DIST += bench/run

# The CLIPS 6.30 peer (bench/README.md, "The CLIPS peer"): sections 2 and 4
# of DOMAIN.md as CLIPS rules driven from C, and the comparison of its
# findings with casewarden's. Built only when configure found libclips.
if HAVE_CLIPS
noinst_PROGRAMS += bench/clips/peer bench/clips/compare
bench_clips_peer_SOURCES = bench/clips/peer.c bench/jsonl.h
bench_clips_peer_CPPFLAGS = $(AM_CPPFLAGS) \
	-DCW_CLIPS_RULES='"$(abs_top_srcdir)/bench/clips/rules.clp"'
bench_clips_peer_LDADD = $(CW_CORE_LIBS) $(CLIPS_LIBS) $(JANSSON_LIBS)
bench_clips_compare_SOURCES = bench/clips/compare.c bench/jsonl.h
bench_clips_compare_LDADD = $(CW_CORE_LIBS) $(JANSSON_LIBS)
endif
EXTRA_DIST += bench/clips/rules.clp tests/bench/clips.sh
