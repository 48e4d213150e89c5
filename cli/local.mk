bin_PROGRAMS += casewarden
casewarden_SOURCES = cli/main.c cli/cmd_eval.c cli/cmd_test.c cli/cli.h
casewarden_LDADD = engine/libcwcore.la
