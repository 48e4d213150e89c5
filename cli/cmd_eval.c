#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "eval.h"

static void eval_usage(FILE *f)
{
    fprintf(f,
        "usage: casewarden eval --rules DIR --events FILE [--now TIME] [--format json|table]\n"
        "                       [--strict] [--parse-only] [--quiet]\n\n"
        "Evaluate the rules of DIR over the events of FILE (JSON lines, '-' for stdin)\n"
        "as of TIME, with no database, and print the findings.\n\n"
        "  --rules DIR       rules directory (engine.yaml, catalogue, calendar, rules)\n"
        "  --events FILE     events, one JSON object per line\n"
        "  --now TIME        the evaluation time, RFC 3339 with offset\n"
        "                    (default: the current time; give it for repeatable output)\n"
        "  --format FMT      json: one finding per line (default); table: aligned text\n"
        "  --strict          stop with exit 1 at the first bad event\n"
        "                    (default: report each bad event on stderr and skip it)\n"
        "  --parse-only      read and validate the events, evaluate nothing\n"
        "  --quiet           no summary line on stderr\n\n"
        "Exit status: 0 when the events were read and evaluated (with or without\n"
        "findings); 1 when --strict met a bad event; 2 on usage or rules errors.\n");
}

int cw_cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        { "rules", required_argument, NULL, 'r' },
        { "events", required_argument, NULL, 'e' },
        { "now", required_argument, NULL, 'n' },
        { "format", required_argument, NULL, 'f' },
        { "strict", no_argument, NULL, 's' },
        { "parse-only", no_argument, NULL, 'p' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *rules = NULL, *events = NULL, *now_s = NULL, *format = "json";
    cw_load_opts lo = { .errors = stderr };
    cw_findings found = { 0 };
    cw_ruleset *rs = NULL;
    cw_store *st = NULL;
    cw_load_stats stats;
    bool quiet = false;
    cw_time now;
    cw_err err;
    int c, rc, status = 0;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': rules = optarg; break;
        case 'e': events = optarg; break;
        case 'n': now_s = optarg; break;
        case 'f': format = optarg; break;
        case 's': lo.strict = true; break;
        case 'p': lo.parse_only = true; break;
        case 'q': quiet = true; break;
        case 'h': eval_usage(stdout); return 0;
        default: eval_usage(stderr); return CW_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "casewarden eval: unexpected argument '%s'\n", argv[optind]);
        return CW_EXIT_USAGE;
    }
    if (rules == NULL || events == NULL) {
        fprintf(stderr, "casewarden eval: --rules and --events are required (see --help)\n");
        return CW_EXIT_USAGE;
    }
    if (strcmp(format, "json") != 0 && strcmp(format, "table") != 0) {
        fprintf(stderr, "casewarden eval: --format must be json or table, not '%s'\n", format);
        return CW_EXIT_USAGE;
    }
    if (now_s == NULL)
        now = (cw_time)time(NULL);
    else if (cw_time_parse(now_s, strlen(now_s), &now, NULL) < 0) {
        fprintf(stderr, "casewarden eval: --now '%s' is not an RFC 3339 time with offset "
                        "(e.g. 2026-06-01T00:00:00+08:00)\n", now_s);
        return CW_EXIT_USAGE;
    }
    if (cw_ruleset_load(&rs, rules, stderr, &err) < 0) {
        fprintf(stderr, "casewarden eval: rules in %s not loaded\n", rules);
        return CW_EXIT_USAGE;
    }
    if ((rc = cw_eval_store_new(rs, &st, &err)) < 0)
        goto fail;
    rc = cw_eval_load_jsonl(rs, st, events, &lo, &stats, &err);
    if (rc == CW_EEVENT || rc == CW_ECONFLICT || (rc == CW_ELIMIT && lo.strict)) {
        fprintf(stderr, "casewarden eval: stopped at the first bad event (--strict)\n");
        status = 1;
        goto out;
    }
    if (rc < 0)
        goto fail;
    if (!lo.parse_only) {
        if ((rc = cw_eval_all(rs, st, now, cw_findings_emit, &found)) < 0) {
            cw_err_set(&err, rc, "evaluation: %s", cw_strerror(rc));
            goto fail;
        }
        cw_findings_sort(&found);
        if (strcmp(format, "table") == 0)
            rc = cw_findings_write_table(&found, rs->tz, stdout);
        else
            for (size_t i = 0; i < found.n && rc == 0; i++)
                rc = cw_finding_write_json(&found.v[i], rs->tz, stdout);
        if (rc < 0) {
            cw_err_set(&err, rc, "writing findings: %s", cw_strerror(rc));
            goto fail;
        }
    }
    if (!quiet)
        fprintf(stderr, "casewarden eval: %zu events read, %zu accepted, %zu duplicate, "
                        "%zu rejected; %zu cases; %zu findings\n",
                stats.lines, stats.accepted, stats.duplicates, stats.rejected,
                cw_store_ncases(st), found.n);
    goto out;
fail:
    fprintf(stderr, "casewarden eval: %s\n", err.msg);
    status = CW_EXIT_USAGE;
out:
    cw_findings_clear(&found);
    cw_store_free(st);
    cw_ruleset_free(rs);
    return status;
}
