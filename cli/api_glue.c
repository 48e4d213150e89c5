/*
 * serve's link to the HTTP API, so that cmd_serve.c needs only cli.h.
 */
#include "api/api.h"
#include "cli/cli.h"

int cw_cli_api_start(void **api, struct cw_group *g, struct cw_config *cfg, cw_err *err)
{
    cw_api *a;
    int rc = cw_api_start(&a, g, cfg, err);

    *api = rc == 0 ? a : NULL;
    return rc;
}

void cw_cli_api_stop(void *api)
{
    cw_api_stop(api);
}
