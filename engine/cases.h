/*
 * The case store: every case's timeline, ordered by `at` then arrival,
 * and the cross-case indexes that rules ask for (an alarm's acceptance
 * lives in another case than the alarm).
 *
 * The store owns the events it is given.
 */
#ifndef CW_CASES_H
#define CW_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "event.h"

typedef struct cw_case {
    char *id;
    cw_event **ev;           /* timeline; ordered once cw_store_sort ran */
    uint32_t n, cap;
    bool unsorted;           /* an event arrived out of order since the last sort */
} cw_case;

/* One (event type, data field) pair to index across cases. */
typedef struct cw_index_spec {
    int type;
    const char *field;
} cw_index_spec;

typedef struct cw_store cw_store;

/* A store that maintains an index for each of the nspecs specs (copied). */
int cw_store_new(cw_store **out, const cw_index_spec *specs, size_t nspecs,
                 cw_err *err);
void cw_store_free(cw_store *st);

/* Add ev to its case; the store takes ev, even on error. ev->seq should
 * already be set (arrival order). Returns the case in *c (may be NULL). */
int cw_store_add(cw_store *st, cw_event *ev, cw_case **c, cw_err *err);
/* Order every timeline touched since the last call by (at, seq). */
void cw_store_sort(cw_store *st);

cw_case *cw_store_case(const cw_store *st, const char *id);
size_t cw_store_ncases(const cw_store *st);
/* Case i in insertion order, for iteration. */
cw_case *cw_store_case_at(const cw_store *st, size_t i);
size_t cw_store_nevents(const cw_store *st);

/* Events of `type` whose string field `field` equals value, across all
 * cases, in arrival order; *n receives the count. Only for an indexed
 * (type, field) pair: otherwise returns NULL with *n = 0. */
cw_event *const *cw_store_lookup(const cw_store *st, int type, const char *field,
                                 const char *value, size_t *n);

/* A string hash used by the store's tables (FNV-1a 64). */
uint64_t cw_hash(const char *s, size_t len);

#endif
