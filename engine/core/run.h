/*
 * A time-ordered run: many events added in any order (a file, the whole
 * event log), then processed in (at, seq) order across cases, letting
 * settled cases leave memory meanwhile. `casewarden eval` and the
 * service's rebuild use it; see run.c.
 */
#ifndef CW_CORE_RUN_H
#define CW_CORE_RUN_H

#include "core/engine.h"

typedef struct cw_run cw_run;

cw_run *cw_run_new(cw_engine *e);
void cw_run_free(cw_run *r);
/* Add one record of case csid (copied). Records' seqs must be unique.
 * Returns its number (the order of adding). */
uint32_t cw_run_add(cw_run *r, const uint8_t *rec, uint32_t csid);
/* The record added as number evno (valid until the next call), or NULL. */
const uint8_t *cw_run_record(cw_run *r, uint32_t evno);
size_t cw_run_size(const cw_run *r);
/* Process what was added since the last call, in time order; every n
 * events call every(ud) (the caller flushes there, so that cases can
 * leave memory). An engine without a loader gets the run's meanwhile
 * (images in the spool). */
void cw_run_process(cw_run *r, void (*every)(void *ud), void *ud, size_t n);

#endif
