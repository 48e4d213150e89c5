/*
 * The service configuration (casewarden serve / migrate --config FILE),
 * a YAML file; every key is documented in docs/SERVICE.md.
 *
 * Paths in it are relative to the file's directory. A password is never
 * required in the file: `password_env` names an environment variable.
 * Tokens are stored as SHA-256 hex digests, never in clear.
 */
#ifndef CW_CONFIG_H
#define CW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

/* ingest posts events; inspector reads and reviews the findings of its
 * unit prefix; reviewer (a unit's 法制 reviewer) does what an inspector
 * does and records exemptions; admin does everything; handler, a
 * case-handling officer, may only ask for suggestions (POST
 * /v1/sanctions/suggest). */
typedef enum {
    CW_ROLE_INGEST = 1, CW_ROLE_INSPECTOR = 2, CW_ROLE_ADMIN = 4, CW_ROLE_HANDLER = 8,
    CW_ROLE_REVIEWER = 16
} cw_role;
/* The roles whose tokens carry a unit scope. */
#define CW_ROLE_SCOPED (CW_ROLE_INSPECTOR | CW_ROLE_REVIEWER)
/* The role's name in the configuration ("inspector"), "?" for another. */
const char *cw_role_name(cw_role role);

typedef struct cw_token {
    char *name;
    cw_role role;
    char *unit;              /* unit prefix for inspectors and reviewers; "" = all units */
    uint8_t sha256[32];
} cw_token;

typedef struct cw_config {
    char *path;
    cw_db_params db;         /* database */
    /* engine */
    char *rules, *plugins;
    unsigned poll_ms, batch;
    unsigned snapshot_s;     /* seconds between snapshots; 0: none */
    unsigned max_lag;        /* events behind the log past which /readyz says not ready */
    char *engine_name;       /* checkpoint row; with cluster, this engine's name */
    /* cluster: several engines dividing the partitions (docs/SCALING.md) */
    unsigned lease_ms;       /* a lease's life; 0: this engine is alone (the default) */
    unsigned renew_ms;       /* how often leases are renewed and looked at */
    char **cross;            /* the rules that see other cases */
    size_t ncross;
    bool cross_set;          /* cross was given (else the default list) */
    /* api */
    char *listen_host;
    unsigned listen_port;
    size_t max_body;
    unsigned max_batch, threads, connection_limit, timeout_s, page_max;
    unsigned max_streams, stream_max_s;   /* GET /v1/stream: at once; one connection's life */
    char *console;           /* the directory of the console's files; NULL: none served */
    cw_token *tokens;
    size_t ntokens;
    /* log */
    int log_level;
} cw_config;

/* Read and check the file; every problem names path:line. */
int cw_config_load(cw_config **out, const char *path, cw_err *err);
/* A configuration of defaults only (database from flags). */
cw_config *cw_config_defaults(void);
void cw_config_free(cw_config *c);

/* Parse "64 hex digits" into 32 bytes. Returns 0 or -1. */
int cw_sha256_hex(const char *hex, uint8_t out[32]);

#endif
