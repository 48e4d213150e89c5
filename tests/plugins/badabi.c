/*
 * A plugin built for an ABI this host does not speak, to test that the
 * loader refuses it with both versions in the message. BADABI_MAJOR and
 * BADABI_MINOR are set on the compile line.
 */
#include "casewarden/plugin.h"

static const cw_plugin plugin = {
    .abi_major = BADABI_MAJOR,
    .abi_minor = BADABI_MINOR,
    .struct_size = sizeof(cw_plugin),
    .name = "badabi",
    .version = "0",
};

const cw_plugin *cw_plugin_entry(void);

const cw_plugin *cw_plugin_entry(void)
{
    return &plugin;
}
