/*
 * The service configuration: defaults, the engine's keys read with their
 * bounds, and every refusal naming file:line and the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "service/config.h"
#include "base/err.h"

static char path[64];

/* Write text to a fresh file and load it; the result's code. */
static int load(const char *text, cw_config **out, cw_err *err)
{
    int fd;

    snprintf(path, sizeof path, "/tmp/cw-config-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    memset(err, 0, sizeof *err);
    *out = NULL;
    int rc = cw_config_load(out, path, err);
    unlink(path);
    return rc;
}

static void defaults(void **state)
{
    cw_config *c = cw_config_defaults();

    (void)state;
    assert_int_equal(c->poll_ms, 50);
    assert_int_equal(c->batch, 2000);
    assert_int_equal(c->snapshot_s, 300);
    assert_int_equal(c->max_lag, 100000);
    cw_config_free(c);
}

static void cluster_keys(void **state)
{
    cw_config *c;
    cw_err err;

    (void)state;
    c = cw_config_defaults();
    assert_int_equal(c->lease_ms, 0);            /* one engine alone */
    assert_int_equal(c->ncross, 3);
    cw_config_free(c);
    assert_int_equal(load("cluster:\n  lease_ms: 4000\n  renew_ms: 1000\n"
                          "  cross_case: [OFFICER-OVERLAP]\n", &c, &err), 0);
    assert_int_equal(c->lease_ms, 4000);
    assert_int_equal(c->renew_ms, 1000);
    assert_int_equal(c->ncross, 1);
    assert_string_equal(c->cross[0], "OFFICER-OVERLAP");
    assert_true(c->cross_set);
    cw_config_free(c);
    assert_int_equal(load("cluster: {}\n", &c, &err), 0);
    assert_int_equal(c->lease_ms, 3000);         /* the section alone: leases of 3 s */
    cw_config_free(c);
    assert_int_equal(load("cluster:\n  lease_ms: 1000\n  renew_ms: 800\n", &c, &err), CW_ECONFIG);
    assert_non_null(strstr(err.msg, ":3: cluster.renew_ms must be at most half"));
    assert_int_equal(load("cluster:\n  cross_case: OFFICER-OVERLAP\n", &c, &err), CW_ECONFIG);
    assert_non_null(strstr(err.msg, ":2: cluster.cross_case must be a list"));
    assert_int_equal(load("cluster:\n  leases: 3\n", &c, &err), CW_ECONFIG);
    assert_non_null(strstr(err.msg, "cluster: unknown key 'leases'"));
}

static void engine_keys(void **state)
{
    cw_config *c;
    cw_err err;

    (void)state;
    assert_int_equal(load("engine:\n  poll_ms: 20\n  batch: 500\n  name: second\n", &c, &err), 0);
    assert_int_equal(c->poll_ms, 20);
    assert_int_equal(c->batch, 500);
    assert_string_equal(c->engine_name, "second");
    assert_int_equal(c->snapshot_s, 300);         /* not given: the default */
    cw_config_free(c);
    assert_int_equal(load("engine:\n  snapshot_s: 86400\n  poll_ms: 60000\n  max_lag: 1\n", &c, &err), 0);
    assert_int_equal(c->snapshot_s, 86400);
    assert_int_equal(c->poll_ms, 60000);
    assert_int_equal(c->max_lag, 1);
    cw_config_free(c);
    /* a setting of earlier versions is taken, and ignored */
    assert_int_equal(load("engine:\n  gap_timeout_s: 30\n  tick_ms: 1000\n", &c, &err), 0);
    cw_config_free(c);
}

/* A refusal: non-zero, no configuration, and the message names where. */
static void refused(const char *text, const char *want)
{
    cw_config *c;
    cw_err err;
    char where[96];

    assert_true(load(text, &c, &err) < 0);
    assert_null(c);
    snprintf(where, sizeof where, "%s:", path);
    if (strstr(err.msg, want) == NULL || strncmp(err.msg, where, strlen(where)) != 0)
        fail_msg("'%s' for\n%s", err.msg, text);
}

static void engine_refusals(void **state)
{
    (void)state;
    refused("engine:\n  snapshot_s: 86401\n", ":2: 'engine.snapshot_s' must be a number from 0 to 86400");
    refused("engine:\n  max_lag: 0\n", ":2: 'engine.max_lag' must be a number from 1 to 1000000000");
    refused("engine:\n  poll_ms: 5\n  batch: -1\n", ":3: 'engine.batch' must be a number");
    refused("engine:\n  batch: \"5\"\n", ":2: 'engine.batch' must be a number");
    refused("engine:\n  poll_ms: 0\n", ":2: 'engine.poll_ms' must be a number from 1 to 60000");
    refused("engine:\n  poll_ms: 5\n  pollms: 5\n", ":3: engine: unknown key 'pollms'");
}

/* database.nodes: sockets and host:port tried in turn; the single form
 * still works; the two forms together are refused. */
static void database_nodes(void **state)
{
    cw_config *c;
    cw_err err;

    (void)state;
    assert_int_equal(load("database:\n  nodes:\n    - /run/a.sock\n    - db2.example:3307\n"
                          "    - db3\n    - run/b.sock\n", &c, &err), 0);
    assert_int_equal(c->db.nnodes, 4);
    assert_string_equal(c->db.nodes[0].socket, "/run/a.sock");
    assert_null(c->db.nodes[1].socket);
    assert_string_equal(c->db.nodes[1].host, "db2.example");
    assert_int_equal(c->db.nodes[1].port, 3307);
    assert_string_equal(c->db.nodes[2].host, "db3");
    assert_int_equal(c->db.nodes[2].port, 3306);
    /* relative to the file, as every path */
    assert_string_equal(c->db.nodes[3].socket, "/tmp/run/b.sock");
    cw_config_free(c);
    assert_int_equal(load("database:\n  socket: /run/x.sock\n", &c, &err), 0);
    assert_int_equal(c->db.nnodes, 0);
    assert_string_equal(c->db.socket, "/run/x.sock");
    cw_config_free(c);
    refused("database:\n  nodes: []\n", ":2: database: 'nodes' must be a list");
    refused("database:\n  nodes: /run/a.sock\n", ":2: database: 'nodes' must be a list");
    refused("database:\n  nodes:\n    - db1:3306\n    - db2:99999\n",
            ":4: database.nodes: 'db2:99999' is not host:port");
    refused("database:\n  nodes:\n    - \"db1:\"\n", ":3: database.nodes: 'db1:' is not host:port");
    refused("database:\n  nodes:\n    - :3306\n", ":3: database.nodes: ':3306' has no host");
    refused("database:\n  nodes: [db1, db2]\n  host: db1\n", ":3: database: 'host' and 'nodes' together");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(engine_keys),
        cmocka_unit_test(cluster_keys),
        cmocka_unit_test(engine_refusals),
        cmocka_unit_test(database_nodes),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
