/*
 * casewarden serve: the service. The engine fed from MariaDB, timers,
 * and the HTTP API.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "service/config.h"
#include "base/log.h"
#include "service/group.h"
#include "base/timeutil.h"
#include "base/util.h"

static const char help[] =
    "usage: casewarden serve [--config FILE] [OPTIONS]\n"
    "\n"
    "Run the service: rebuild every case from the MariaDB `events` table,\n"
    "evaluate new events as they arrive (inserted by the API or straight into\n"
    "the table), keep deadline timers, write findings to the `findings` table,\n"
    "and serve the HTTP API (docs/SERVICE.md). SIGHUP reloads the rules (a\n"
    "ruleset that does not load is refused and the old one keeps running);\n"
    "SIGTERM or Ctrl-C stops after writing what was read.\n"
    "\n"
    "options:\n"
    "  --config FILE     the configuration (database, rules, listen, tokens)\n"
    "  --socket PATH     the MariaDB Unix socket (overrides the configuration)\n"
    "  --rules DIR       the rules directory (overrides the configuration)\n"
    "  --now T           freeze the clock at T (RFC 3339): for tests and demos\n"
    "  --clock-from T    start the clock at T and let it run (tests of timers)\n"
    "  --once            rebuild, take the new events once, write, and exit\n"
    "  --no-http         do not serve the HTTP API\n"
    "  --threads N       judge with N engines in N threads (1 to 64, or auto: one\n"
    "                    per core; default 1), dividing the partitions through the\n"
    "                    leases of cluster: as N processes would, named NAME,\n"
    "                    NAME/t2 ... (engine.name); without a cluster: section its\n"
    "                    defaults (docs/SCALING.md)\n"
    "\n"
    "exit status: 0 stopped cleanly, 1 could not start, 2 usage or configuration.\n";

static volatile sig_atomic_t stop_flag, hup_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    hup_flag = 1;
}

int cw_cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' }, { "socket", required_argument, NULL, 's' },
        { "rules", required_argument, NULL, 'r' }, { "now", required_argument, NULL, 'n' },
        { "once", no_argument, NULL, 'o' }, { "no-http", no_argument, NULL, 'H' },
        { "clock-from", required_argument, NULL, 'C' }, { "threads", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *path = NULL, *socket = NULL, *rules = NULL, *now_s = NULL;
    bool once = false, http = true;
    unsigned threads = 1;
    cw_service_opts so = { CW_TIME_NONE, false, stderr };
    struct sigaction sa;
    cw_group *g;
    cw_config *cfg;
    cw_err err = { 0 };
    void *api = NULL;
    int opt, rc;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 's': socket = optarg; break;
        case 'r': rules = optarg; break;
        case 'n': now_s = optarg; break;
        case 'C': now_s = optarg; so.clock_runs = true; break;
        case 'o': once = true; break;
        case 'H': http = false; break;
        case 't':
            if (cw_cli_threads(optarg, CW_GROUP_MAX, &threads) < 0)
                return cw_cli_usage_error("serve", "--threads must be 1 to %d or auto, not '%s'",
                                          CW_GROUP_MAX, optarg);
            break;
        case 'h': fputs(help, stdout); return CW_EXIT_OK;
        default:
            return cw_cli_usage_error("serve", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cw_cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (now_s != NULL && cw_cli_now(now_s, &so.fixed_now) < 0)
        return cw_cli_usage_error("serve", "--now '%s' is not an RFC 3339 time with offset", now_s);
    if (cw_cli_config("serve", path, socket, &cfg) < 0)
        return CW_EXIT_USAGE;
    if (rules != NULL) {
        free(cfg->rules);
        cfg->rules = cw_xstrdup(rules);
    }
    cw_log_set(stderr, cfg->log_level, 1);
    if (cw_group_open(&g, cfg, threads, once, &so, &err) < 0) {
        fprintf(stderr, "casewarden serve: %s\n", err.msg);
        cw_config_free(cfg);
        return CW_EXIT_FAIL;
    }
    if (once) {
        rc = cw_group_once(g, &err);
        if (rc < 0)
            fprintf(stderr, "casewarden serve: %s\n", err.msg);
        cw_group_close(g);
        cw_config_free(cfg);
        return rc < 0 ? CW_EXIT_FAIL : CW_EXIT_OK;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (http && cw_cli_api_start(&api, g, cfg, &err) < 0) {
        fprintf(stderr, "casewarden serve: %s\n", err.msg);
        cw_group_close(g);
        cw_config_free(cfg);
        return CW_EXIT_FAIL;
    }
    if (http)
        cw_log(CW_LOG_INFO, "serving on http://%s:%u", cfg->listen_host, cfg->listen_port);
    else
        cw_log(CW_LOG_INFO, "serving");
    rc = cw_group_run(g, &stop_flag, &hup_flag);
    cw_log(CW_LOG_INFO, "stopping");
    cw_cli_api_stop(api);
    cw_group_close(g);
    cw_config_free(cfg);
    return rc < 0 ? CW_EXIT_FAIL : CW_EXIT_OK;
}
