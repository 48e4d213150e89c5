# report: the quality assessment and the backlog, computed over the
# store with the deductions of rules/scoring.yaml, written as JSON, CSV
# and tables (the API and `casewarden report` share it).
noinst_LTLIBRARIES += engine/report/libcwreport.la
engine_report_libcwreport_la_SOURCES = \
	engine/report/report.h engine/report/report_int.h \
	engine/report/scoring.c engine/report/quality.c engine/report/backlog.c \
	engine/report/output.c
engine_report_libcwreport_la_CFLAGS = $(AM_CFLAGS) $(MARIADB_CFLAGS)
