/*
 * The HTTP API (DESIGN.md "HTTP API"; api/openapi.yaml): libmicrohttpd
 * with a thread pool, JSON through jansson, MariaDB through a pool of
 * connections, one per worker thread at most. Events posted are stored
 * and committed before the answer, then the service is woken to evaluate
 * them.
 */
#ifndef CW_API_H
#define CW_API_H

#include "service/config.h"
#include "base/err.h"
#include "service/group.h"

typedef struct cw_api cw_api;

/* Listen on cfg->listen_host:listen_port. */
int cw_api_start(cw_api **out, cw_group *g, const cw_config *cfg, cw_err *err);
/* Stop accepting, finish the requests under way, close. */
void cw_api_stop(cw_api *a);

#endif
