# offline: evaluation with no database (JSONL files) and fixture tests.
noinst_LTLIBRARIES += engine/offline/libcwoffline.la
engine_offline_libcwoffline_la_SOURCES = \
	engine/offline/eval.c engine/offline/eval.h \
	engine/offline/peval.c engine/offline/peval.h \
	engine/offline/results.c engine/offline/results.h \
	engine/offline/fixture.c engine/offline/fixture.h \
	engine/offline/explain.c engine/offline/explain.h
