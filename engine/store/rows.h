/*
 * What the store's files share beyond db.h: the finding row as the API
 * reads it, and statements built with their bound arguments. Only
 * engine/store/ includes this.
 */
#ifndef CW_STORE_ROWS_H
#define CW_STORE_ROWS_H

#include "store/db.h"

/* The columns of a finding row, in the order cw__finding_row reads them;
 * the API's reads (API_COLS, over `findings f`) add the inspectors'
 * columns and the exemption in force, whose expiry is compared with a
 * bound `now`: the statement's first argument. */
#define FINDING_COLS \
    "id, rule, case_id, subject, unit, severity, state, due, raised, message, basis, events, review"
#define API_COLS \
    "f.id, f.rule, f.case_id, f.subject, f.unit, f.severity, f.state, f.due, f.raised, f.message," \
    " f.basis, f.events, f.review, f.lead, f.assignee, f.assignee_kind, f.rect_due, f.resolved_at," \
    " (SELECT MAX(x.id) FROM finding_exemptions x WHERE " EXEMPT_MATCH "),"             \
    " f.rule_version, f.program, f.override_unit, f.override_at"
/* How many columns API_COLS has: what a statement selects after them
 * starts there. */
#define API_NCOLS 23
/* An exemption `x` in force over the finding `f` at the bound time. */
#define EXEMPT_MATCH                                                                          \
    "x.rule = f.rule AND x.case_id = f.case_id AND (x.subject IS NULL OR x.subject = f.subject)" \
    " AND x.lifted_at IS NULL AND x.expires > ?"

typedef struct cw__fread {
    cw_store_finding_fn fn;
    void *ud;
} cw__fread;

/* A row of FINDING_COLS or API_COLS into fn (ud: a cw__fread). */
int cw__finding_row(void *ud, char **row, unsigned long *lens, unsigned ncols);
/* The same row's first columns into *f; strings borrowed. */
void cw__finding_cols(char **row, unsigned ncols, cw_store_finding *f);

/* UPDATE partition_leases SET `set` (one optional ? bound to set_v) on the
 * leases (parts[i], tokens[i]) that are still me's and unexpired at now
 * (leases.c); *changed counts them. */
int cw__leases_touch(cw_db *db, const char *set, int64_t set_v, const char *me,
                     const unsigned *parts, const uint64_t *tokens, size_t n, int64_t now,
                     uint64_t *changed, cw_err *err);

/* An integer column, or CW_TIME_NONE for NULL. */
cw_time cw__opt_time(const char *v);

/* A statement being built with its bound arguments (and the strings made
 * for them, such as LIKE patterns). */
typedef struct cw__qb {
    cw_buf sql;
    cw_dbarg *a;
    size_t n, cap;
    char **own;
    size_t nown, capown;
} cw__qb;

void cw__qb_arg(cw__qb *b, cw_dbarg v);
/* " AND col LIKE 'prefix%'" when prefix is set. */
void cw__qb_prefix(cw__qb *b, const char *col, const char *prefix);
/* A unit prefix as the LIKE pattern argument. */
void cw__qb_prefix_arg(cw__qb *b, const char *prefix);
void cw__qb_free(cw__qb *b);

/* Row readers shared by the queries: the first column as a count into
 * the uint64_t at ud; a (value, count) row to the cw__facet at ud. */
int cw__count_row(void *ud, char **row, unsigned long *lens, unsigned ncols);
typedef struct cw__facet {
    cw_store_facet_fn fn;
    void *ud;
} cw__facet;
int cw__facet_row(void *ud, char **row, unsigned long *lens, unsigned ncols);

#endif
