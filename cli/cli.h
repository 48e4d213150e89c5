/*
 * The verbs of the casewarden binary and what they share.
 */
#ifndef CW_CLI_H
#define CW_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "core/engine.h"
#include "rules/ruleset.h"

/* Exit statuses: 0 done, 1 the verb's own "no" (failed tests, bad input
 * with --strict), 2 usage or configuration errors. */
enum { CW_EXIT_OK = 0, CW_EXIT_FAIL = 1, CW_EXIT_USAGE = 2 };

int cw_cmd_eval(int argc, char **argv);
int cw_cmd_test(int argc, char **argv);
int cw_cmd_check(int argc, char **argv);
int cw_cmd_diff(int argc, char **argv);
int cw_cmd_serve(int argc, char **argv);
int cw_cmd_migrate(int argc, char **argv);
int cw_cmd_sanction(int argc, char **argv);
int cw_cmd_report(int argc, char **argv);
int cw_cmd_notify(int argc, char **argv);
int cw_cmd_explain(int argc, char **argv);
int cw_cmd_export(int argc, char **argv);

struct cw_group;
struct cw_config;
/* The HTTP API of serve (api/). */
int cw_cli_api_start(void **api, struct cw_group *g, struct cw_config *cfg, cw_err *err);
void cw_cli_api_stop(void *api);

/* A --threads value: 1 to max, or "auto" (one per core, at most max).
 * Returns 0, or -1 for anything else. */
int cw_cli_threads(const char *s, unsigned max, unsigned *n);

/* Print "casewarden VERB: msg" to stderr and return CW_EXIT_USAGE. */
int cw_cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Load a rules directory into a new world, printing every problem as
 * "casewarden VERB: FILE:LINE: ..." on stderr. Returns 0 or -1. */
int cw_cli_load_rules(const char *verb, const char *dir, const char *plugins, cw_world **w,
                      cw_ruleset **rs);

/* The configuration of serve and migrate: the file at path, or the
 * defaults when path is NULL, with --socket applied over it when given.
 * A file that cannot be used is reported as "casewarden VERB: ..." on
 * stderr. Returns 0 or -1. */
int cw_cli_config(const char *verb, const char *path, const char *socket, struct cw_config **out);

/* Parse a --now value; the wall clock when s is NULL. Returns 0 or -1. */
int cw_cli_now(const char *s, cw_time *out);

/* Peak resident set size of this process, bytes (0 if unknown). */
size_t cw_cli_peak_rss(void);

#endif
