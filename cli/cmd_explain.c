/*
 * casewarden explain: why a case has the findings it has, or has none,
 * step by step.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/dbevents.h"
#include "service/config.h"
#include "offline/eval.h"
#include "offline/explain.h"
#include "base/util.h"

static const char help[] =
    "usage: casewarden explain --rules DIR --events FILE --case C [OPTIONS]\n"
    "       casewarden explain --rules DIR --config FILE --case C [OPTIONS]\n"
    "\n"
    "Judge the events of FILE with the rules of DIR as of --now, as eval does,\n"
    "recording the reasoning of every rule on case C, and print it step by step\n"
    "for each finding of C, or for its absence: the events the rule used; for a\n"
    "deadline the start, the period in its unit, each extension added (or refused\n"
    "as unlawful), the holidays and make-up working days crossed, the rollover,\n"
    "the due and warning times, and the event that met it; for a check each\n"
    "condition the rule noted (ages with their convention, the discretion table\n"
    "and row chosen and why, the peers counted); and the rule's file:line.\n"
    "Rules that did not judge C are counted, not listed, unless named by --rule.\n"
    "\n"
    "options:\n"
    "  --rules DIR       rules directory\n"
    "  --events FILE     events, one JSON object per line (- for stdin)\n"
    "  --config FILE     or the events stored in the database of this service\n"
    "                    configuration (the whole log, as the service judges it;\n"
    "                    GET /v1/findings/{id}/explain answers from the running\n"
    "                    service instead)\n"
    "  --socket PATH     the MariaDB socket, over the configuration's\n"
    "  --only-case       with --config: read the events of case C only (fast on\n"
    "                    a large log; rules that look across cases, such as\n"
    "                    joins, peers and overlaps, then see no other case)\n"
    "  --case C          the case number to explain\n"
    "  --rule R          only rule R (explained even when it found nothing)\n"
    "  --subject S       only the findings about subject S\n"
    "  --now T           as of T (RFC 3339); default now\n"
    "  --format F        text (default, Chinese) or json (one object)\n"
    "  --plugins PATH    extra plugin directories (colon-separated)\n"
    "\n"
    "exit status: 0 explained, 1 no rule named R, 2 usage, unreadable files or\n"
    "rules that do not load.\n";

typedef struct feed {
    cw_eval *ev;
    const cw_eval_opts *o;
    cw_eval_stats *st;
} feed;

static int feed_event(void *ud, const cw_store_event *e)
{
    feed *f = ud;
    cw_err err;

    cw_eval_add(f->ev, e->body, e->len, "database", (size_t)e->gseq, f->o, f->st, &err);
    return 0;
}

int cw_cmd_explain(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "rules", required_argument, NULL, 'r' }, { "events", required_argument, NULL, 'e' },
        { "case", required_argument, NULL, 'c' }, { "rule", required_argument, NULL, 'R' },
        { "subject", required_argument, NULL, 's' }, { "now", required_argument, NULL, 'n' },
        { "format", required_argument, NULL, 'f' }, { "plugins", required_argument, NULL, 'P' },
        { "config", required_argument, NULL, 'C' }, { "socket", required_argument, NULL, 'S' },
        { "only-case", no_argument, NULL, 'O' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *rules = NULL, *events = NULL, *case_id = NULL, *rule = NULL, *subject = NULL,
               *now_s = NULL, *format = "text", *plugins = NULL, *config = NULL, *socket = NULL;
    cw_eval_opts o = { 0 };
    cw_eval_stats st = { 0 };
    cw_explain x;
    cw_world *w;
    cw_ruleset *rs;
    cw_engine *e;
    cw_eval *ev;
    cw_err err = { 0 };
    int opt, rc = CW_EXIT_OK;
    bool only_case = false;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': rules = optarg; break;
        case 'e': events = optarg; break;
        case 'c': case_id = optarg; break;
        case 'R': rule = optarg; break;
        case 's': subject = optarg; break;
        case 'n': now_s = optarg; break;
        case 'f': format = optarg; break;
        case 'P': plugins = optarg; break;
        case 'C': config = optarg; break;
        case 'S': socket = optarg; break;
        case 'O': only_case = true; break;
        case 'h': fputs(help, stdout); return CW_EXIT_OK;
        default:
            return cw_cli_usage_error("explain", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cw_cli_usage_error("explain", "unexpected argument '%s'", argv[optind]);
    if (rules == NULL || (events == NULL) == (config == NULL) || case_id == NULL)
        return cw_cli_usage_error("explain", "--rules, --events (or --config) and --case are required");
    if (cw_cli_now(now_s, &o.now) < 0)
        return cw_cli_usage_error("explain", "--now '%s' is not an RFC 3339 time with offset "
                                  "(2026-06-01T00:00:00+08:00)", now_s);
    if (only_case && config == NULL)
        return cw_cli_usage_error("explain", "--only-case reads the database: use it with --config");
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
        return cw_cli_usage_error("explain", "--format must be text or json, not '%s'", format);
    if (events != NULL && strcmp(events, "-") != 0 && access(events, R_OK) != 0) {
        fprintf(stderr, "casewarden explain: %s: cannot read (%s)\n", events, strerror(errno));
        return CW_EXIT_USAGE;
    }
    if (cw_cli_load_rules("explain", rules, plugins, &w, &rs) < 0)
        return CW_EXIT_USAGE;
    if (rule != NULL && cw_ruleset_find(rs, rule) == NULL) {
        fprintf(stderr, "casewarden explain: %s: no rule %s\n", rules, rule);
        cw_ruleset_free(rs);
        cw_world_free(w);
        return CW_EXIT_FAIL;
    }
    rs->idle_s = 0;     /* the case stays in memory, its records with it */
    e = cw_engine_new(w, rs);
    cw_engine_trace(e, case_id);
    ev = cw_eval_new(e);
    o.errors = stderr;
    if (config != NULL) {
        cw_dbsel sel = { CW_TIME_NONE, CW_TIME_NONE, NULL };
        feed f = { ev, &o, &st };
        cw_config *cfg;
        size_t ncases;
        if (cw_cli_config("explain", config, socket, &cfg) < 0) {
            rc = CW_EXIT_USAGE;
            goto out;
        }
        rc = only_case ? cw_cli_db_case_events(cfg, case_id, feed_event, &f, &err)
                       : cw_cli_db_events("explain", cfg, &sel, feed_event, &f, NULL, &ncases, &err);
        cw_config_free(cfg);
        if (rc != 0) {
            fprintf(stderr, "casewarden explain: %s\n", err.msg);
            rc = CW_EXIT_USAGE;
            goto out;
        }
    } else if (cw_eval_read(ev, events, &o, &st, &err) < 0 && err.code == CW_EIO) {
        fprintf(stderr, "casewarden explain: %s\n", err.msg);
        rc = CW_EXIT_USAGE;
        goto out;
    }
    cw_eval_run(ev, &o, &st);
    cw_explain_build(e, case_id, rule, subject, o.now, &x);
    if (strcmp(format, "json") == 0) {
        cw_buf b = { 0 };
        cw_explain_json(&x, &b);
        cw_buf_puts(&b, "\n");
        fwrite(b.p, 1, b.n, stdout);
        cw_buf_free(&b);
    } else {
        cw_explain_text(&x, stdout);
    }
    cw_explain_free(&x);
out:
    fflush(stdout);
    cw_eval_free(ev);
    cw_engine_free(e);
    cw_ruleset_free(rs);
    cw_world_free(w);
    return rc;
}
