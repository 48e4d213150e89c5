/*
 * A plugin built for ABI 1.1: its model table ends before the members
 * 1.2 appended (advise, advice_free). The host must load it and never
 * read past its struct_size.
 */
#include <stddef.h>
#include <stdio.h>

#include "casewarden/plugin.h"

static int configure(cw_ctx *ctx, const cw_rule_info *rule, const cw_value *params, void **inst,
                     char *err, size_t errlen)
{
    (void)ctx, (void)rule, (void)params, (void)err, (void)errlen;
    *inst = NULL;
    return 0;
}

static int on_event(void *inst, cw_ctx *ctx, const cw_case *c, const cw_event *ev)
{
    (void)inst, (void)ctx, (void)c, (void)ev;
    return 0;
}

static void release(void *inst)
{
    (void)inst;
}

static const cw_model model = {
    .struct_size = offsetof(cw_model, advise),
    .name = "oldmodel",
    .summary = "a model as ABI 1.1 knew them",
    .configure = configure,
    .on_event = on_event,
    .release = release,
};

static const cw_model *const models[] = { &model };

static const cw_plugin plugin = {
    .abi_major = CW_ABI_MAJOR,
    .abi_minor = 1,
    .struct_size = sizeof(cw_plugin),
    .name = "oldmodel",
    .version = "1.1",
    .models = models,
    .nmodels = 1,
};

const cw_plugin *cw_plugin_entry(void);

const cw_plugin *cw_plugin_entry(void)
{
    return &plugin;
}
