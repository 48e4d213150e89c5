/*
 * POST /v1/sanctions/suggest: 智能量罚 for the handling officer, from the
 * rules in force and the running engine's peers (rules/advise.h; the
 * query and answer in docs/SANCTIONS.md, "Suggestions").
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

void cw_api_post_suggest(req *r, const char *arg)
{
    cw_err err = { 0 };
    char *out = NULL;
    int rc;

    if (r->body.n == 0)
        return cw_api_error(r, 400, "invalid_query", NULL, "send the query as a JSON object "
                            "{cause, circumstance, factors, offence_at, decided_at, unit, person}");
    rc = cw_group_advise(r->a->g, r->body.p, r->body.n, &out, &err);
    if (rc == CW_EINVAL)
        return cw_api_error(r, 400, "invalid_query", NULL, "%s", err.msg);
    if (rc < 0)
        return cw_api_error(r, 503, "unavailable", NULL, "%s", err.msg);
    cw_api_text(r, 200, "application/json", out, strlen(out));
}
