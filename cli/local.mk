bin_PROGRAMS += casewarden
casewarden_SOURCES = cli/main.c cli/cli.h cli/cmd_eval.c cli/cmd_test.c \
	cli/cmd_check.c cli/cmd_diff.c cli/cmd_serve.c cli/cmd_migrate.c cli/cmd_sanction.c \
	cli/cmd_report.c cli/cmd_notify.c cli/cmd_explain.c cli/cmd_export.c cli/dbevents.c cli/dbevents.h \
	cli/api_glue.c
casewarden_CPPFLAGS = $(AM_CPPFLAGS)
casewarden_LDADD = api/libcwapi.la $(CW_ALL_LIBS)
