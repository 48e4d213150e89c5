/*
 * The stored events a selection takes, for diff --db and export.
 */
#ifndef CW_CLI_DBEVENTS_H
#define CW_CLI_DBEVENTS_H

#include <stdio.h>

#include "store/store.h"

struct cw_config;

/* Which cases: those with an event of a unit under `unit` (NULL: any)
 * whose time is within [from, to] (CW_TIME_NONE: open). Every event of a
 * case taken is given, whatever its own time or unit, so that its
 * deadlines are whole. No filter: every event. */
typedef struct cw_dbsel {
    cw_time from, to;
    const char *unit;
} cw_dbsel;

typedef int (*cw_dbevent_fn)(void *ud, const cw_store_event *ev);

/* Call fn for each stored event of the cases sel takes, in gseq order,
 * reading the log in batches (twice when sel filters: once to choose the
 * cases); progress lines on `progress` (may be NULL). *ncases: the cases
 * chosen (0 without a filter). Returns 0, fn's first non-zero return, or
 * -1 with err. */
int cw_cli_db_events(const char *verb, const struct cw_config *cfg, const cw_dbsel *sel,
                     cw_dbevent_fn fn, void *ud, FILE *progress, size_t *ncases, cw_err *err);

/* The stored events of one case, in gseq order, to fn. Returns 0, fn's
 * first non-zero return, or -1 with err. */
int cw_cli_db_case_events(const struct cw_config *cfg, const char *case_id, cw_dbevent_fn fn,
                          void *ud, cw_err *err);

#endif
