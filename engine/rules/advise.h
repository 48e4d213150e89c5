/*
 * Suggestions (智能量罚): what the rules would accept for a penalty still
 * to be decided, answered by every rule whose model advises
 * (cw_model.advise), with the code those rules judge decisions with.
 * `casewarden sanction` and POST /v1/sanctions/suggest ask here; the
 * query and the answer are in docs/SANCTIONS.md ("Suggestions").
 */
#ifndef CW_RULES_ADVISE_H
#define CW_RULES_ADVISE_H

#include <stddef.h>

#include "base/err.h"
#include "core/engine.h"
#include "rules/ruleset.h"

/*
 * Answer `query` (a JSON object, len bytes) with the rules of rs. e (may
 * be NULL) is the engine whose state models consult (the peers of
 * SANCTION-PEER); `now` is the decision time when the query gives none.
 * On success *out is a JSON object {"query": ..., "advice": [...]}, to
 * be freed with free(). A query that cannot be answered is CW_EINVAL with
 * what is wrong, in Chinese and naming the field, in err.
 */
int cw_advise(cw_ruleset *rs, cw_engine *e, const char *query, size_t len, cw_time now,
              char **out, cw_err *err);

#endif
