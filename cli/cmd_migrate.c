/*
 * casewarden migrate: create or upgrade the MariaDB schema.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "service/config.h"
#include "store/store.h"

static const char help[] =
    "usage: casewarden migrate [--config FILE] [--partitions N] [--status]\n"
    "\n"
    "Create the database and its tables, or bring an older schema up to this\n"
    "version. Safe to run again, and from two hosts at once; refuses a database\n"
    "whose schema is newer than this casewarden.\n"
    "\n"
    "options:\n"
    "  --config FILE     the service configuration (database settings;\n"
    "                    docs/SERVICE.md); default: root over the local socket,\n"
    "                    database `casewarden`\n"
    "  --socket PATH     the MariaDB Unix socket (overrides the configuration)\n"
    "  --partitions N    the number of partitions of the cases, 1-1000 (default\n"
    "                    256), fixed when the database is created: the unit of\n"
    "                    work several engines divide (docs/SCALING.md)\n"
    "  --status          only print the schema version in the database\n"
    "\n"
    "exit status: 0 done, 1 the database refused, 2 usage or configuration.\n";

int cw_cmd_migrate(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' }, { "socket", required_argument, NULL, 's' },
        { "status", no_argument, NULL, 'S' }, { "help", no_argument, NULL, 'h' },
        { "partitions", required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = NULL, *socket = NULL;
    bool status = false;
    unsigned long parts = 0;
    char *end;
    cw_config *cfg;
    cw_db *db;
    cw_err err = { 0 };
    int opt, version, rc;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 's': socket = optarg; break;
        case 'S': status = true; break;
        case 'p':
            parts = strtoul(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || parts < 1 || parts > 1000)
                return cw_cli_usage_error("migrate", "--partitions must be 1 to 1000, not '%s'", optarg);
            break;
        case 'h': fputs(help, stdout); return CW_EXIT_OK;
        default:
            return cw_cli_usage_error("migrate", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cw_cli_usage_error("migrate", "unexpected argument '%s'", argv[optind]);
    if (cw_cli_config("migrate", path, socket, &cfg) < 0)
        return CW_EXIT_USAGE;
    if (cw_db_connect(&db, &cfg->db, !status, &err) < 0) {
        fprintf(stderr, "casewarden migrate: %s\n", err.msg);
        cw_config_free(cfg);
        return CW_EXIT_FAIL;
    }
    if (status) {
        rc = cw_store_schema_version(db, &version, &err);
        if (rc == 0)
            printf("schema version %d (this casewarden: %d)\n", version, cw_store_schema_latest());
    } else {
        rc = cw_store_migrate_parts(db, (unsigned)parts, stdout, &err);
        if (rc == 0 && cw_store_schema_version(db, &version, &err) == 0)
            printf("casewarden migrate: database '%s' at schema version %d\n", cfg->db.name, version);
    }
    if (rc < 0)
        fprintf(stderr, "casewarden migrate: %s\n", err.msg);
    cw_db_close(db);
    cw_config_free(cfg);
    return rc < 0 ? CW_EXIT_FAIL : CW_EXIT_OK;
}
