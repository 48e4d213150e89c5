/*
 * Rule fixture tests: YAML files of small cases with a `now` and the
 * findings expected, run by `casewarden test`. The format is in
 * docs/RULES.md ("Fixture tests").
 */
#ifndef CW_FIXTURE_H
#define CW_FIXTURE_H

#include <stdint.h>
#include <stdio.h>

#include "rules/ruleset.h"

typedef struct cw_fixture_stats {
    int passed, failed;
    /* coverage (may be NULL): for each rule index, the states its
     * findings had in the tests that name it (bits 1 << cw_state) */
    uint32_t *produced;
} cw_fixture_stats;

/* Run every test of one fixture file; a block per failure with what was
 * expected and what came, to out. A file that cannot be read or is
 * malformed counts as one failed test. verbose also names passing tests. */
void cw_fixture_run_file(cw_ruleset *rs, const char *path, FILE *out, int verbose,
                         cw_fixture_stats *stats);
/* Every *.yaml under dir/tests (sorted). Returns CW_EIO when there is no
 * such directory. */
int cw_fixture_run_dir(cw_ruleset *rs, const char *dir, FILE *out, int verbose,
                       cw_fixture_stats *stats, cw_err *err);

#endif
