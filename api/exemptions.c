/*
 * POST and DELETE /v1/findings/{id}/exemption: record or lift an
 * exemption (豁免) of a finding, or of its rule for the whole case.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/timeutil.h"

static bool text_field(req *r, json_t *body, const char *name, size_t max, const char **out)
{
    *out = json_string_value(json_object_get(body, name));
    if (cw_api_blank(*out) || strlen(*out) > max) {
        cw_api_error(r, 422, "invalid_exemption", name, "%s is required (text, at most %zu bytes)", name, max);
        return false;
    }
    return true;
}

static void answer(req *r, cw_db *db, int64_t fid, int rc, const cw_err *err, const char *id)
{
    json_t *f;

    if (rc == CW_ENOTFOUND)
        cw_api_error(r, 404, "not_found", NULL, "no finding %s", id);
    else if (rc == CW_ECONFLICT)
        cw_api_error(r, 409, "invalid_transition", NULL, "%s", err->msg);
    else if (rc < 0)
        cw_api_db_failed(r, err);
    else if ((f = cw_api_load_finding(r, db, fid)) != NULL)
        cw_api_json(r, rc == 0 && strcmp(r->method, "POST") == 0 ? 201 : 200, f);
}

/* {"reason": "...", "approver": "...", "expires": "YYYY-MM-DD" or RFC 3339,
 *  "scope": "finding" (the default) or "rule" (the rule for the case)} */
void cw_api_post_exemption(req *r, const char *id)
{
    cw_exemption_input in = { 0 };
    const char *expires, *scope;
    json_t *body;
    int64_t fid;
    cw_day d;
    cw_db *db;
    cw_err err;
    int rc;

    if (!cw_api_finding_id(r, id, &fid) || (body = cw_api_body(r)) == NULL)
        return;
    in.at = cw_group_now(r->a->g);
    in.who = cw_api_who(r);
    expires = json_string_value(json_object_get(body, "expires"));
    scope = json_string_value(json_object_get(body, "scope"));
    if (!text_field(r, body, "reason", 4000, &in.reason) || !text_field(r, body, "approver", 120, &in.approver))
        goto out;
    if (expires && cw_day_parse(expires, strlen(expires), &d) == 0)
        in.expires = cw_day_end(d, cw_group_tz(r->a->g));
    else if (expires == NULL || cw_time_parse(expires, strlen(expires), &in.expires, NULL) < 0) {
        cw_api_error(r, 422, "invalid_exemption", "expires", "expires is required: YYYY-MM-DD (the end of that "
                     "day) or an RFC 3339 time");
        goto out;
    }
    if (in.expires <= in.at) {
        cw_api_error(r, 422, "invalid_exemption", "expires", "an exemption must expire later than now");
        goto out;
    }
    if (scope && strcmp(scope, "finding") != 0 && strcmp(scope, "rule") != 0) {
        cw_api_error(r, 422, "invalid_exemption", "scope", "scope is finding (this finding) or rule (its rule "
                     "for the whole case)");
        goto out;
    }
    in.whole_rule = scope && strcmp(scope, "rule") == 0;
    if ((db = cw_api_db(r)) == NULL)
        goto out;
    rc = cw_store_exemption_record(db, fid, cw_api_scope(r), &in, NULL, &err);
    answer(r, db, fid, rc, &err, id);
out:
    json_decref(body);
}

/* An optional body {"comment": "..."}: why it is lifted. */
void cw_api_delete_exemption(req *r, const char *id)
{
    json_t *body = NULL;
    const char *comment = NULL;
    int64_t fid;
    cw_db *db;
    cw_err err;
    int rc;

    if (!cw_api_finding_id(r, id, &fid))
        return;
    if (r->body.n > 0) {
        if ((body = cw_api_body(r)) == NULL)
            return;
        comment = json_string_value(json_object_get(body, "comment"));
        if (comment && strlen(comment) > 4000) {
            cw_api_error(r, 422, "invalid_exemption", "comment", "a comment has at most 4000 bytes");
            goto out;
        }
    }
    if ((db = cw_api_db(r)) == NULL)
        goto out;
    rc = cw_store_exemption_lift(db, fid, cw_api_scope(r), cw_api_who(r), comment, cw_group_now(r->a->g), &err);
    answer(r, db, fid, rc, &err, id);
out:
    json_decref(body);
}
