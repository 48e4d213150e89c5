/*
 * The host API table handed to plugins (cw_host in plugin.h): every
 * function a model may call, over the engine's internals.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "rules/ruleset.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "base/value.h"
#include "base/yamltree.h"

static int h_type_id(cw_ctx *ctx, const char *name)
{
    const cw_type_spec *t = cw_catalogue_find(ctx->rs->cat, name, strlen(name));

    return t ? t->id : -1;
}

static const char *h_type_name(cw_ctx *ctx, int type)
{
    return cw_strtab_str(ctx->rs->world->names, (uint32_t)type);
}

static const char *h_type_title(cw_ctx *ctx, int type)
{
    const cw_type_spec *t = cw_catalogue_type(ctx->rs->cat, type);

    return t ? t->title : cw_strtab_str(ctx->rs->world->names, (uint32_t)type);
}

static int h_field_id(cw_ctx *ctx, const char *name)
{
    uint32_t id;

    if (ctx->e == NULL) {
        id = cw_strtab_intern(ctx->rs->world->names, name, strlen(name));
    } else {
        /* While evaluating, a name nobody declared cannot be on any
         * stored event, and adding it would grow the table for nothing. */
        id = cw_strtab_find(ctx->rs->world->names, name, strlen(name));
        if (id == UINT32_MAX)
            return 0xffff;
    }
    return id > 0xfffe ? -1 : (int)id;
}

static bool h_type_has_field(cw_ctx *ctx, int type, int fid)
{
    const cw_type_spec *t = cw_catalogue_type(ctx->rs->cat, type);

    return t != NULL && cw_type_field_id(t, fid) != NULL;
}

static uint32_t h_intern(cw_ctx *ctx, const char *s, size_t len)
{
    return cw_strtab_intern(ctx->rs->world->strs, s, len);
}

static const char *h_str(cw_ctx *ctx, uint32_t id)
{
    return cw_strtab_str(ctx->rs->world->strs, id);
}

static int h_listen(cw_ctx *ctx, int type)
{
    if (ctx->e != NULL || ctx->rule == NULL)
        return -1;
    return cw__listen(ctx->rs, ctx->rule, type);
}

static int h_want_index(cw_ctx *ctx, int type, int fid)
{
    if (ctx->e != NULL)
        return -1;
    if (ctx->rule != NULL)
        ctx->rule->indexes = true;
    return cw__want_index(ctx->rs, type, fid);
}

static int h_data_files(cw_ctx *ctx, const char *dir, const char *suffix,
                        int (*fn)(void *ud, const char *path, const cw_value *doc), void *ud,
                        char *err, size_t errlen)
{
    char *full, **names = NULL;
    size_t n = 0;
    int rc = 0;

    if (ctx->e != NULL || strstr(dir, "..") != NULL) {
        snprintf(err, errlen, "data files are read at configuration, inside the rules directory");
        return -1;
    }
    full = cw_path_join(ctx->rs->dir, dir);
    if ((rc = cw_dir_list(full, suffix, &names, &n)) < 0) {
        snprintf(err, errlen, "%s: %s", full, strerror(-rc));
        free(full);
        return -1;
    }
    rc = 0;
    if (ctx->rs->data == NULL)
        ctx->rs->data = cw_varena_new();
    for (size_t i = 0; i < n; i++) {
        cw_ydoc *doc;
        cw_err e;
        if (rc == 0 && cw_ydoc_load(&doc, names[i], &e) < 0) {
            snprintf(err, errlen, "%s", e.msg);
            rc = -1;
        } else if (rc == 0) {
            /* the rule's version covers the data it read */
            if (ctx->rule != NULL) {
                char *text;
                size_t len;
                if (cw_read_file(names[i], &text, &len) == 0) {
                    ctx->rule->data_digest = (ctx->rule->data_digest ^ cw_hash(text, len)) *
                                             0x100000001b3ULL;
                    free(text);
                }
            }
            /* the tree outlives the document: copy it into the ruleset */
            const cw_value *v = cw_value_from_yaml(ctx->rs->data, doc->root);
            const char *path = cw_varena_str(ctx->rs->data, names[i], strlen(names[i]));
            cw_ydoc_free(doc);
            rc = fn(ud, path, v);
        }
        free(names[i]);
    }
    free(names);
    free(full);
    return rc;
}

static void h_problem(cw_ctx *ctx, const char *file, int line, const char *fmt, ...)
{
    cw_err e;
    va_list ap;
    int n;

    n = snprintf(e.msg, sizeof e.msg, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vsnprintf(e.msg + n, sizeof e.msg - (size_t)n, fmt, ap);
    va_end(ap);
    e.code = CW_ERULE;
    if (ctx->e == NULL)
        cw__ruleset_problem(ctx->rs, &e);
    else
        cw_log(CW_LOG_ERROR, "%s", e.msg);
}

static void h_case_info(cw_ctx *ctx, const cw_case *c, cw_case_info *out)
{
    (void)ctx;
    out->id = c->id;
    out->unit = c->unit;
    out->kind = c->kind;
    out->cause = c->cause;
    out->accepted_at = c->accepted_at;
    out->offence_at = c->offence_at;
}

static int h_case_events(cw_ctx *ctx, const cw_case *c, const int *types, size_t ntypes,
                         cw_event_fn fn, void *ud)
{
    if (ctx->e == NULL)
        return -1;
    return cw__case_events(ctx->e, c, types, ntypes, fn, ud);
}

static int h_find_events(cw_ctx *ctx, int type, int fid, uint32_t value, cw_time from,
                         cw_time to, cw_event_fn fn, void *ud)
{
    if (ctx->e == NULL)
        return -1;
    return cw__find_events(ctx->e, type, fid, value, from, to, fn, ud);
}

static cw_time h_now(cw_ctx *ctx)
{
    return ctx->now;
}

static uint64_t h_generation(cw_ctx *ctx)
{
    return ctx->e ? ctx->e->gen : 0;
}

static bool h_applies(cw_ctx *ctx, const cw_case *c, cw_time t)
{
    return cw_rule_in_scope(ctx->rule, ctx->rs, c->kind, cw_strtab_str(ctx->rs->world->strs, c->unit), t);
}

static cw_time h_add_days(cw_ctx *ctx, cw_time start, int n, bool rollover, bool *uncovered)
{
    return cw_calendar_add_days(ctx->rs->cal, start, n, rollover, uncovered);
}

static cw_time h_add_workdays(cw_ctx *ctx, cw_time start, int n, bool *uncovered)
{
    return cw_calendar_add_workdays(ctx->rs->cal, start, n, uncovered);
}

static cw_time h_add_months(cw_ctx *ctx, cw_time start, int n, int extra, bool rollover,
                            bool *uncovered)
{
    return cw_calendar_add_months(ctx->rs->cal, start, n, extra, rollover, uncovered);
}

static int h_tz_offset(cw_ctx *ctx)
{
    return ctx->rs->tz;
}

static size_t h_format_time(cw_ctx *ctx, cw_time t, bool date_only, char *buf, size_t size)
{
    char iso[40];
    size_t n = date_only ? 10 : 16;

    if (size == 0)
        return 0;
    cw_time_format(t, ctx->rs->tz, iso, sizeof iso);
    iso[10] = ' ';
    if (n >= size)
        n = size - 1;
    memcpy(buf, iso, n);
    buf[n] = '\0';
    return n;
}

static int h_sync(cw_ctx *ctx, const cw_case *c, const cw_finding_in *f, size_t n)
{
    if (ctx->e == NULL)
        return -1;
    return cw__sync(ctx->e, ctx->rule->index, cw_engine_case_at(ctx->e, c->idx), f, n);
}

static int h_emit(cw_ctx *ctx, const cw_case *c, const cw_finding_in *f)
{
    if (ctx->e == NULL)
        return -1;
    return cw__emit(ctx->e, ctx->rule->index, cw_engine_case_at(ctx->e, c->idx), f);
}

static int h_retract(cw_ctx *ctx, const cw_case *c, uint32_t subject)
{
    if (ctx->e == NULL)
        return -1;
    return cw__retract(ctx->e, ctx->rule->index, cw_engine_case_at(ctx->e, c->idx), subject);
}

static void **h_case_slot(cw_ctx *ctx, const cw_case *c)
{
    if (ctx->e == NULL || ctx->rule == NULL)
        return NULL;
    /* the engine's own, writable record of the case */
    return cw__case_slot(cw_engine_case_at(ctx->e, c->idx), ctx->rule->index);
}

static int h_index_window(cw_ctx *ctx, int type, int fid, int64_t seconds)
{
    if (ctx->e != NULL || seconds < 0)
        return -1;
    if (ctx->rule != NULL)
        ctx->rule->indexes = true;
    return cw__want_index_window(ctx->rs, type, fid, seconds);
}

static void h_revisit_indexed(cw_ctx *ctx, int type, int fid, uint32_t value)
{
    if (ctx->e != NULL)
        cw__revisit_indexed(ctx->e, type, fid, value);
}

static void h_revisit_case(cw_ctx *ctx, uint32_t case_id)
{
    /* a case's state being rebuilt learns nothing new */
    if (ctx->e != NULL && ctx->e->rebuilding == 0 && case_id != 0)
        cw__defer_revisit(ctx->e, case_id);
}

static void h_log(cw_ctx *ctx, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cw_log(level, "rule %s: %s", ctx->rule ? ctx->rule->info.id : "-", msg);
}

static bool h_tracing(cw_ctx *ctx)
{
    return ctx->e != NULL && ctx->e->trace != NULL && ctx->e->trace->active &&
           ctx->rule != NULL && ctx->e->trace->rule == ctx->rule->index;
}

static void h_trace(cw_ctx *ctx, uint32_t subject, const char *kind, const char *fmt, ...)
{
    char text[1024];
    va_list ap;

    if (!h_tracing(ctx))
        return;
    text[0] = '\0';
    if (fmt != NULL) {
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
    }
    cw__trace_step(ctx->e, ctx->rule->index, subject, kind, text);
}

const cw_host cw__host = {
    .abi_major = CW_ABI_MAJOR,
    .abi_minor = CW_ABI_MINOR,
    .struct_size = sizeof(cw_host),
    .type_id = h_type_id,
    .type_name = h_type_name,
    .type_title = h_type_title,
    .field_id = h_field_id,
    .type_has_field = h_type_has_field,
    .intern = h_intern,
    .str = h_str,
    .listen = h_listen,
    .want_index = h_want_index,
    .data_files = h_data_files,
    .problem = h_problem,
    .case_info = h_case_info,
    .case_events = h_case_events,
    .find_events = h_find_events,
    .now = h_now,
    .applies = h_applies,
    .add_days = h_add_days,
    .add_workdays = h_add_workdays,
    .add_months = h_add_months,
    .tz_offset = h_tz_offset,
    .format_time = h_format_time,
    .sync = h_sync,
    .emit = h_emit,
    .retract = h_retract,
    .log = h_log,
    .generation = h_generation,
    .case_slot = h_case_slot,
    .index_window = h_index_window,
    .revisit_indexed = h_revisit_indexed,
    .tracing = h_tracing,
    .trace = h_trace,
    .revisit_case = h_revisit_case,
};
