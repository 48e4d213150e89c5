/*
 * casewarden: one binary, one verb per job.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "service/config.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/util.h"

static const struct verb {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} verbs[] = {
    { "eval", cw_cmd_eval, "evaluate the rules over a JSONL event file, no database" },
    { "test", cw_cmd_test, "run the fixture tests of a rules directory" },
    { "check", cw_cmd_check, "validate a rules directory; with --events, how each rule fares" },
    { "explain", cw_cmd_explain, "why a case has its findings, or none: the reasoning step by step" },
    { "diff", cw_cmd_diff, "what a rule change would flag: findings added, removed, changed" },
    { "sanction", cw_cmd_sanction, "智能量罚: the lawful penalty for an act, before it is decided" },
    { "export", cw_cmd_export, "stored events to JSON lines (all, or the cases of a time and unit)" },
    { "serve", cw_cmd_serve, "the service: MariaDB events, timers, findings, HTTP API; --threads N" },
    { "migrate", cw_cmd_migrate, "create or upgrade the MariaDB schema" },
    { "report", cw_cmd_report, "quality assessment (考评, 通报) and backlog figures from the database" },
    { "notify", cw_cmd_notify, "notify test: which receivers and escalation levels a finding reaches" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: casewarden VERB [OPTIONS]\n\n"
               "casewarden evaluates law-enforcement supervision rules over case events.\n\n"
               "verbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\n`casewarden VERB --help` describes a verb; `casewarden --version` the build.\n");
}

int cw_cli_usage_error(const char *verb, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "casewarden %s: ", verb);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see casewarden %s --help)\n", verb);
    return CW_EXIT_USAGE;
}

int cw_cli_load_rules(const char *verb, const char *dir, const char *plugins, cw_world **w,
                      cw_ruleset **rs)
{
    cw_load_opts o = { plugins, NULL };
    char *buf = NULL;
    size_t len = 0;
    cw_err err = { 0 };
    FILE *rep = open_memstream(&buf, &len);

    o.report = rep;
    *w = cw_world_new();
    if (cw_ruleset_load(rs, *w, dir, &o, &err) < 0) {
        char *line, *save = NULL;
        fclose(rep);
        for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            fprintf(stderr, "casewarden %s: %s\n", verb, line);
        fprintf(stderr, "casewarden %s: rules in %s not loaded\n", verb, dir);
        free(buf);
        cw_world_free(*w);
        *w = NULL;
        return -1;
    }
    fclose(rep);
    free(buf);
    return 0;
}

int cw_cli_config(const char *verb, const char *path, const char *socket, cw_config **out)
{
    cw_err err = { 0 };

    if (path == NULL) {
        *out = cw_config_defaults();
    } else if (cw_config_load(out, path, &err) < 0) {
        fprintf(stderr, "casewarden %s: %s\n", verb, err.msg);
        return -1;
    }
    if (socket != NULL) {
        free((*out)->db.socket);
        (*out)->db.socket = cw_xstrdup(socket);
        cw_db_nodes_free(&(*out)->db);      /* --socket is the one server */
    }
    return 0;
}

int cw_cli_now(const char *s, cw_time *out)
{
    if (s == NULL) {
        *out = (cw_time)time(NULL);
        return 0;
    }
    return cw_time_parse(s, strlen(s), out, NULL);
}

int cw_cli_threads(const char *s, unsigned max, unsigned *n)
{
    char *end;
    long v;

    if (strcmp(s, "auto") == 0) {
        v = sysconf(_SC_NPROCESSORS_ONLN);
        *n = v < 1 ? 1 : v > (long)max ? max : (unsigned)v;
        return 0;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != 0 || v < 1 || v > (long)max)
        return -1;
    *n = (unsigned)v;
    return 0;
}

size_t cw_cli_peak_rss(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (size_t)ru.ru_maxrss * 1024;
}

int main(int argc, char **argv)
{
    cw_log_set(stderr, CW_LOG_WARN, 0);
    if (argc < 2) {
        usage(stderr);
        return CW_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc > 2)
            for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
                if (strcmp(argv[2], verbs[i].name) == 0) {
                    char *hargv[] = { argv[2], "--help", NULL };
                    return verbs[i].run(2, hargv);
                }
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("casewarden %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, CW_ABI_MAJOR, CW_ABI_MINOR);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "casewarden: unknown verb '%s'\n\n", argv[1]);
    usage(stderr);
    return CW_EXIT_USAGE;
}
