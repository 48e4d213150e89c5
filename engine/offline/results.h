/*
 * The findings of an evaluation without a database: what the engine's
 * flushes hand over (upserts and withdrawals, resolved at the
 * evaluation's `now`), kept by (rule, case, subject) so that the cases
 * that left memory keep their findings, and read out in output order
 * (case, rule, subject) at the end. The offline twin of the store's
 * findings table.
 */
#ifndef CW_OFFLINE_RESULTS_H
#define CW_OFFLINE_RESULTS_H

#include "core/engine.h"

typedef struct cw_results cw_results;

cw_results *cw_results_new(cw_engine *e);
void cw_results_free(cw_results *r);
/* A sink for cw_engine_flush that writes into r. */
cw_sink cw_results_sink(cw_results *r);
/* Every finding in output order; non-zero from fn stops and is returned. */
int cw_results_each(cw_results *r, int (*fn)(void *ud, const cw_finding *f), void *ud);
size_t cw_results_count(const cw_results *r);
size_t cw_results_memory(const cw_results *r);

#endif
