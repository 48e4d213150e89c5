/*
 * A ruleset: the configuration, catalogue, calendar, plugins and rules of
 * a rules directory, loaded as one unit, so that a reload replaces all of
 * it or nothing.
 *
 *     DIR/engine.yaml         settings (optional): timezone, catalogue and
 *                             calendar paths, plugins, Lua limits
 *     DIR/catalogue.yaml      event catalogue
 *     DIR/calendar/NNNN.yaml  legal calendar, one file per year
 *     DIR/NAME.lua            rules (docs/RULES.md)
 *     DIR/tests/NAME.yaml     fixture tests (casewarden test)
 */
#ifndef CW_RULESET_H
#define CW_RULESET_H

#include <stdbool.h>
#include <stdio.h>

#include "base/err.h"
#include "core/rule.h"

typedef struct cw_load_opts {
    const char *plugin_path; /* colon-separated; NULL = default search */
    FILE *report;            /* every problem, one line each; NULL = none */
} cw_load_opts;

/*
 * Load everything under dir. Returns 0, or an error after reporting every
 * problem found (file:line) to opts->report; err holds the first. The
 * world must outlive the ruleset.
 */
int cw_ruleset_load(cw_ruleset **out, cw_world *w, const char *dir,
                    const cw_load_opts *opts, cw_err *err);
void cw_ruleset_free(cw_ruleset *rs);

/* Load one plugin file: the entry symbol, the ABI check (another major,
 * or a newer minor, is refused naming both versions), then its init.
 * Returns 0 or CW_EIO/CW_EABI with the reason in err. */
int cw_plugin_open(const char *path, cw_plugin_handle *h, cw_err *err);
void cw_plugin_close(cw_plugin_handle *h);

/* Used by the Lua host while a file runs: declare a rule backed by model
 * m with params (m == NULL: a Lua check rule, inst given). Takes nothing;
 * copies what it keeps. Returns 0 or an error with file:line in err. */
int cw__ruleset_declare(cw_ruleset *rs, cw_luafile *lf, const char *file, int line,
                        const cw_rule_info *info, const cw_value *scope,
                        const cw_value *effective, const cw_model *m,
                        const cw_value *params, void *inst, cw_err *err);
/* While loading: record one problem and go on (a declaration that is
 * wrong does not stop the rest of its file from being checked). */
void cw__ruleset_problem(cw_ruleset *rs, const cw_err *e);
/* The checks of the Lua source and the calendar (engine/rules/lint.c),
 * while loading: each problem reported; returns how many. */
int cw__ruleset_lint(cw_ruleset *rs);
/* "calendar: FIRST-LAST; ..." for casewarden check. */
void cw_ruleset_calendar_note(const cw_ruleset *rs, char *buf, size_t size);
/* The host API table handed to plugins (rules/host.c). */
extern const cw_host cw__host;

/* The model named name among the loaded plugins, or NULL. */
const cw_model *cw__ruleset_model(const cw_ruleset *rs, const char *name);

#endif
