#include "core/rule.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"

cw_rule *cw_ruleset_find(const cw_ruleset *rs, const char *id)
{
    for (size_t i = 0; i < rs->nrules; i++)
        if (strcmp(rs->rules[i]->info.id, id) == 0)
            return rs->rules[i];
    return NULL;
}

bool cw_rule_in_scope(const cw_rule *r, const cw_ruleset *rs, uint32_t kind, const char *unit,
                      cw_time t)
{
    cw_day d;

    if (r->kind != 0 && kind != r->kind)
        return false;
    if (r->nunits > 0) {
        size_t i;
        for (i = 0; i < r->nunits; i++)
            if (strncmp(unit, r->units[i], strlen(r->units[i])) == 0)
                break;
        if (i == r->nunits)
            return false;
    }
    for (size_t i = 0; i < r->nxunits; i++)
        if (strncmp(unit, r->xunits[i], strlen(r->xunits[i])) == 0)
            return false;       /* a more specific override's */
    if (t == CW_TIME_NONE)
        return true;
    d = cw_time_day(t, rs->tz);
    return d >= r->from && d <= r->to;
}

void cw_rule_quarantine(cw_rule *r, const char *why)
{
    free(r->last_error);
    r->last_error = cw_xstrdup(why);
    if (r->status != CW_RULE_QUARANTINED)
        cw_log(CW_LOG_ERROR, "rule %s quarantined: %s", r->info.id, why);
    r->status = CW_RULE_QUARANTINED;
}

int cw__listen(cw_ruleset *rs, cw_rule *r, int type)
{
    if (type < 0 || type > 0xffff)
        return -1;
    if ((size_t)type >= rs->nlisten_types) {
        size_t n = (size_t)type + 1;
        rs->listen = cw_xrealloc(rs->listen, n * sizeof *rs->listen);
        rs->nlisten = cw_xrealloc(rs->nlisten, n * sizeof *rs->nlisten);
        for (size_t i = rs->nlisten_types; i < n; i++) {
            rs->listen[i] = NULL;
            rs->nlisten[i] = 0;
        }
        rs->nlisten_types = n;
    }
    for (uint16_t i = 0; i < rs->nlisten[type]; i++)
        if (rs->listen[type][i] == r->index)
            return 0;
    rs->listen[type] = cw_xrealloc(rs->listen[type], (rs->nlisten[type] + 1u) * sizeof **rs->listen);
    rs->listen[type][rs->nlisten[type]++] = r->index;
    return 0;
}

int cw__want_index_window(cw_ruleset *rs, int type, int fid, int64_t window)
{
    for (size_t i = 0; i < rs->nidx; i++)
        if (rs->idx[i].type == type && rs->idx[i].fid == fid) {
            if (window == 0 || (rs->idx[i].window != 0 && window > rs->idx[i].window))
                rs->idx[i].window = window;
            return 0;
        }
    rs->idx = cw_xrealloc(rs->idx, (rs->nidx + 1) * sizeof *rs->idx);
    rs->idx[rs->nidx].type = type;
    rs->idx[rs->nidx].fid = fid;
    rs->idx[rs->nidx].window = window;
    rs->nidx++;
    return 0;
}

int cw__want_index(cw_ruleset *rs, int type, int fid)
{
    return cw__want_index_window(rs, type, fid, rs->index_s > 0 ? rs->index_s : CW_INDEX_WINDOW_S);
}


uint32_t cw_rule_states(const cw_rule *r)
{
    if (r->states != 0)
        return r->states;
    if (r->model != NULL && CW_MODEL_HAS(r->model, states) && r->model->states != NULL)
        return r->model->states(r->inst);
    return 1u << CW_ST_VIOLATION;
}

#define CW_STR_(x) #x
#define CW_STR(x) CW_STR_(x)

const char *cw_program_version(void)
{
    return "casewarden " PACKAGE_VERSION " (plugin ABI " CW_STR(CW_ABI_MAJOR) "." CW_STR(CW_ABI_MINOR) ")";
}
