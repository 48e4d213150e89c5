# offline: evaluation with no database (JSONL files), fixture tests and
# the static checks of `casewarden check`.
noinst_LTLIBRARIES += engine/offline/libcwoffline.la
engine_offline_libcwoffline_la_SOURCES = \
	engine/offline/eval.c engine/offline/eval.h \
	engine/offline/results.c engine/offline/results.h \
	engine/offline/fixture.c engine/offline/fixture.h \
	engine/offline/lint.c engine/offline/lint.h \
	engine/offline/explain.c engine/offline/explain.h
