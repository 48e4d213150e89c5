/*
 * Timers for deadline transitions: a hierarchical timing wheel of four
 * levels of 256 one-second slots (256 s, 18 h, 194 days, 136 years), so
 * adding a timer and advancing the clock cost the same whether ten
 * thousand or ten million deadlines are open. A timer carries a 32-bit
 * payload (the case to look at again).
 */
#ifndef CW_TIMERS_H
#define CW_TIMERS_H

#include <stddef.h>
#include <stdint.h>

#include "casewarden/plugin.h"

typedef struct cw_timers cw_timers;

/* A wheel whose clock starts at now. */
cw_timers *cw_timers_new(cw_time now);
void cw_timers_free(cw_timers *t);

/* Fire payload at `when` (at the next advance if already past). */
void cw_timers_add(cw_timers *t, cw_time when, uint32_t payload);
/* Move the clock to now, calling fn for every timer due by then, in
 * time order (timers of the same second in any order). Returns how many
 * fired. The clock never goes back. */
size_t cw_timers_advance(cw_timers *t, cw_time now, void (*fn)(void *ud, uint32_t payload),
                         void *ud);
size_t cw_timers_count(const cw_timers *t);
cw_time cw_timers_clock(const cw_timers *t);

#endif
