/*
 * casewarden export: stored events to JSON lines, so that real cases can
 * become fixtures or be judged offline.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/dbevents.h"
#include "base/timeutil.h"
#include "service/config.h"

static const char help[] =
    "usage: casewarden export --config FILE [--from T] [--to T] [--unit P] [--out FILE]\n"
    "\n"
    "Write the events stored in the database of FILE as JSON lines, one event a\n"
    "line in the order of the log, as `casewarden eval`, `diff --events` and\n"
    "`explain` read them. With --from, --to or --unit only the cases with an\n"
    "event in that time and under that unit prefix are written, each with all\n"
    "its events (the selection of `diff --db`). Progress on stderr.\n"
    "\n"
    "options:\n"
    "  --config FILE     the service configuration (its database:)\n"
    "  --socket PATH     the MariaDB socket, over the configuration's\n"
    "  --from T, --to T  cases with an event in [T, T] (RFC 3339)\n"
    "  --unit P          cases with an event of a unit under prefix P\n"
    "  --out FILE        write there instead of stdout\n"
    "\n"
    "exit status: 0 written, 2 usage or a database that cannot be read.\n";

typedef struct out {
    FILE *f;
    uint64_t n;
} out;

static int write_event(void *ud, const cw_store_event *ev)
{
    out *o = ud;

    if (memchr(ev->body, '\n', ev->len) != NULL) {
        /* a body received pretty-printed: one line of it */
        json_t *j = json_loadb(ev->body, ev->len, 0, NULL);
        char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (s != NULL)
            fputs(s, o->f);
        free(s);
        json_decref(j);
    } else {
        fwrite(ev->body, 1, ev->len, o->f);
    }
    fputc('\n', o->f);
    o->n++;
    return ferror(o->f) ? -1 : 0;
}

int cw_cmd_export(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' }, { "socket", required_argument, NULL, 'S' },
        { "from", required_argument, NULL, 'F' }, { "to", required_argument, NULL, 'T' },
        { "unit", required_argument, NULL, 'u' }, { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *config = NULL, *socket = NULL, *from_s = NULL, *to_s = NULL, *path = NULL;
    cw_dbsel sel = { CW_TIME_NONE, CW_TIME_NONE, NULL };
    out o = { stdout, 0 };
    cw_config *cfg;
    size_t ncases = 0;
    cw_err err = { 0 };
    int opt, rc;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': config = optarg; break;
        case 'S': socket = optarg; break;
        case 'F': from_s = optarg; break;
        case 'T': to_s = optarg; break;
        case 'u': sel.unit = optarg; break;
        case 'o': path = optarg; break;
        case 'h': fputs(help, stdout); return CW_EXIT_OK;
        default:
            return cw_cli_usage_error("export", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cw_cli_usage_error("export", "unexpected argument '%s'", argv[optind]);
    if (config == NULL)
        return cw_cli_usage_error("export", "--config is required");
    if ((from_s && cw_time_parse(from_s, strlen(from_s), &sel.from, NULL) < 0) ||
        (to_s && cw_time_parse(to_s, strlen(to_s), &sel.to, NULL) < 0))
        return cw_cli_usage_error("export", "--from and --to are RFC 3339 times with offset");
    if (sel.unit && (sel.unit[0] == '\0' || strspn(sel.unit, "0123456789") != strlen(sel.unit)))
        return cw_cli_usage_error("export", "--unit must be a unit prefix (digits), not '%s'", sel.unit);
    if (cw_cli_config("export", config, socket, &cfg) < 0)
        return CW_EXIT_USAGE;
    if (path != NULL && (o.f = fopen(path, "w")) == NULL) {
        fprintf(stderr, "casewarden export: %s: %s\n", path, strerror(errno));
        cw_config_free(cfg);
        return CW_EXIT_USAGE;
    }
    rc = cw_cli_db_events("export", cfg, &sel, write_event, &o, stderr, &ncases, &err);
    cw_config_free(cfg);
    if (path != NULL && fclose(o.f) != 0 && rc == 0) {
        fprintf(stderr, "casewarden export: %s: %s\n", path, strerror(errno));
        return CW_EXIT_USAGE;
    }
    if (rc != 0) {
        fprintf(stderr, "casewarden export: %s\n", rc < 0 && err.msg[0] ? err.msg : "write failed");
        return CW_EXIT_USAGE;
    }
    fflush(stdout);
    fprintf(stderr, "casewarden export: %llu events written", (unsigned long long)o.n);
    if (ncases)
        fprintf(stderr, " (%zu cases selected)", ncases);
    fprintf(stderr, "\n");
    return CW_EXIT_OK;
}
