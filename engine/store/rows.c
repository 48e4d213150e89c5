/*
 * The finding row reader and the statement builder the store's files share.
 */
#include <stdlib.h>
#include <string.h>

#include "store/rows.h"

cw_time cw__opt_time(const char *v)
{
    return v ? strtoll(v, NULL, 10) : CW_TIME_NONE;
}

void cw__finding_cols(char **row, unsigned ncols, cw_store_finding *f)
{
    memset(f, 0, sizeof *f);
    f->id = strtoll(row[0], NULL, 10);
    f->rule = row[1];
    f->case_id = row[2];
    f->subject = row[3];
    f->unit = row[4];
    f->severity = row[5];
    f->state = row[6];
    f->due = cw__opt_time(row[7]);
    f->raised = strtoll(row[8], NULL, 10);
    f->message = row[9];
    f->basis = row[10];
    f->events = row[11];
    f->review = row[12];
    f->rect_due = f->resolved_at = CW_TIME_NONE;
    if (ncols >= 19) {
        f->lead = row[13] ? strtoll(row[13], NULL, 10) : 0;
        f->assignee = row[14];
        f->assignee_kind = row[15];
        f->rect_due = cw__opt_time(row[16]);
        f->resolved_at = cw__opt_time(row[17]);
        f->exemption = row[18] ? strtoll(row[18], NULL, 10) : 0;
    }
    if (ncols >= 23) {
        f->rule_version = row[19];
        f->program = row[20];
        f->override_unit = row[21];
        f->override_at = row[22];
    }
}

int cw__finding_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    cw__fread *r = ud;
    cw_store_finding f;

    (void)lens;
    if (ncols < 13)
        return 0;
    cw__finding_cols(row, ncols, &f);
    return r->fn(r->ud, &f);
}

void cw__qb_arg(cw__qb *b, cw_dbarg v)
{
    CW_GROW(b->a, b->cap, b->n + 1);
    b->a[b->n++] = v;
}

/* Prefixes are digits (the API checks them): nothing to escape. */
void cw__qb_prefix_arg(cw__qb *b, const char *prefix)
{
    char *p = cw_xasprintf("%s%%", prefix);

    CW_GROW(b->own, b->capown, b->nown + 1);
    b->own[b->nown++] = p;
    cw__qb_arg(b, CW_DBA_S(p));
}

void cw__qb_prefix(cw__qb *b, const char *col, const char *prefix)
{
    if (prefix == NULL || prefix[0] == '\0')
        return;
    cw_buf_printf(&b->sql, " AND %s LIKE ?", col);
    cw__qb_prefix_arg(b, prefix);
}

void cw__qb_free(cw__qb *b)
{
    for (size_t i = 0; i < b->nown; i++)
        free(b->own[i]);
    free(b->own);
    free(b->a);
    cw_buf_free(&b->sql);
}

int cw__count_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    (void)lens;
    if (ncols > 0 && row[0])
        *(uint64_t *)ud = strtoull(row[0], NULL, 10);
    return 0;
}

int cw__facet_row(void *ud, char **row, unsigned long *lens, unsigned ncols)
{
    cw__facet *f = ud;

    (void)lens;
    if (ncols < 2)
        return 0;
    return f->fn(f->ud, row[0] ? row[0] : "", strtoull(row[1], NULL, 10));
}
