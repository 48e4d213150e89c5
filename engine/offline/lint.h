/*
 * Static checks of a loaded ruleset, for `casewarden check`: what loading
 * alone cannot see. Names of event types and data fields written in the
 * Lua source (case:events("..."), ev.data.NAME, x.type == "..."), and the
 * calendar's coverage.
 */
#ifndef CW_LINT_H
#define CW_LINT_H

#include <stdio.h>

#include "rules/ruleset.h"

/* Report each problem as a "FILE:LINE: what" line to out; returns how
 * many. Notes that are not problems (the calendar's last year) go to
 * notes when it is not NULL. */
int cw_ruleset_lint(const cw_ruleset *rs, FILE *out, FILE *notes);

#endif
