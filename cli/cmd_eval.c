/*
 * casewarden eval: the rules over a JSONL file, no database.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "offline/eval.h"
#include "offline/peval.h"
#include "service/config.h"
#include "base/timeutil.h"
#include "base/util.h"

static const char help[] =
    "usage: casewarden eval --rules DIR --events FILE [OPTIONS]\n"
    "\n"
    "Evaluate the rules of DIR over the events of FILE (JSON lines; - for\n"
    "stdin) as of --now, and print the findings. Bad lines are reported on\n"
    "stderr as FILE:LINE: event ID: field 'F': what, and skipped.\n"
    "\n"
    "options:\n"
    "  --rules DIR       rules directory (engine.yaml, catalogue, calendar, *.lua)\n"
    "  --events FILE     events, one JSON object per line\n"
    "  --now T           evaluate as of T (RFC 3339, e.g. 2026-06-01T00:00:00+08:00);\n"
    "                    default: the current time. Events after T are left out.\n"
    "  --format F        json (one finding per line, the default) or table\n"
    "  --strict          stop at the first bad line, exit 1\n"
    "  --parse-only      only read and validate the events (no rules run)\n"
    "  --stats           print timings and memory on stderr\n"
    "  --quiet           no summary line on stderr\n"
    "  --plugins PATH    extra plugin directories (colon-separated)\n"
    "  --threads N       judge with N threads (1 to 64, or auto: one per core;\n"
    "                    default 1). Cases are divided by partition as between the\n"
    "                    engines of a cluster; the findings are the same as with 1.\n"
    "  --cross-case IDS  with threads: the rules that look across cases (comma-\n"
    "                    separated), run by one thread over every case; default\n"
    "                    OFFICER-OVERLAP,SANCTION-PEER,ALARM-ACCEPT (cluster.cross_case)\n"
    "\n"
    "exit status: 0 done (with or without findings), 1 a bad line with --strict,\n"
    "2 usage, unreadable files or rules that do not load.\n";

typedef struct json_out {
    cw_buf b;
    int tz;
} json_out;

/* Findings as JSON lines, written in large blocks. */
static int write_json(void *ud, const cw_finding *f)
{
    json_out *jo = ud;

    cw_finding_json(f, jo->tz, &jo->b);
    cw_buf_put(&jo->b, "\n", 1);
    if (jo->b.n >= (1u << 16)) {
        fwrite(jo->b.p, 1, jo->b.n, stdout);
        jo->b.n = 0;
    }
    return 0;
}

/* --threads: 1..CW_PEVAL_MAX, or auto (the cores online). */
/* Mark the cross-case rules of rs: those of the comma-separated list, or
 * the cluster's default (cluster.cross_case). A name no rule has is
 * refused only when the list was given. */
static int mark_cross(cw_ruleset *rs, const char *list, const char *dir)
{
    cw_config *c = cw_config_defaults();
    char *copy = list ? cw_xstrdup(list) : NULL, *save = NULL;
    int rc = 0;

    for (size_t i = 0; i < rs->nrules; i++)
        rs->rules[i]->cross = false;
    if (copy == NULL) {
        for (size_t i = 0; i < c->ncross; i++) {
            cw_rule *r = cw_ruleset_find(rs, c->cross[i]);
            if (r != NULL)
                r->cross = true;
        }
    } else {
        for (char *id = strtok_r(copy, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
            cw_rule *r;
            if (*id == 0)
                continue;
            if ((r = cw_ruleset_find(rs, id)) == NULL) {
                cw_cli_usage_error("eval", "--cross-case: no rule '%s' in %s", id, dir);
                rc = -1;
                break;
            }
            r->cross = true;
        }
    }
    free(copy);
    cw_config_free(c);
    return rc;
}

typedef struct threaded {
    unsigned n;
    cw_world *w[CW_PEVAL_MAX];
    cw_ruleset *rs[CW_PEVAL_MAX];
} threaded;

static void threaded_free(threaded *t)
{
    for (unsigned k = 0; k < t->n; k++) {
        cw_ruleset_free(t->rs[k]);
        cw_world_free(t->w[k]);
    }
    t->n = 0;
}

/* eval --threads N (N > 1): the rules loaded once per thread. */
static int eval_threaded(unsigned n, const char *rules, const char *plugins, const char *cross,
                         const char *events, const char *format, bool stats, bool quiet,
                         cw_eval_opts *o)
{
    threaded t = { 0 };
    cw_eval_stats st = { 0 };
    cw_findings fs = { 0 };
    cw_peval *pv = NULL;
    cw_err err = { 0 };
    int rc;

    for (unsigned k = 0; k < n; k++) {
        if (cw_cli_load_rules("eval", rules, plugins, &t.w[k], &t.rs[k]) < 0) {
            rc = CW_EXIT_USAGE;
            goto out;
        }
        t.n = k + 1;
        if (mark_cross(t.rs[k], cross, rules) < 0) {
            rc = CW_EXIT_USAGE;
            goto out;
        }
    }
    if ((pv = cw_peval_new(n, t.w, t.rs)) == NULL) {
        fprintf(stderr, "casewarden eval: cannot start %u threads (%s)\n", n, strerror(errno));
        rc = CW_EXIT_USAGE;
        goto out;
    }
    rc = cw_peval_read(pv, events, o, &st, &err);
    if (rc < 0 && err.code == CW_EIO) {
        fprintf(stderr, "casewarden eval: %s\n", err.msg);
        rc = CW_EXIT_USAGE;
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "casewarden eval: %zu events read, %zu accepted, %zu duplicate, %zu rejected\n",
                st.lines, st.accepted, st.duplicates, st.rejected);
    if (st.future > 0 && !quiet)
        fprintf(stderr, "casewarden eval: %zu events after --now left out\n", st.future);
    if (rc < 0) {
        fprintf(stderr, "casewarden eval: stopped: %s\n", err.msg);
        rc = CW_EXIT_FAIL;
        goto out;
    }
    if (!o->parse_only) {
        if (cw_peval_run(pv, o, &st, &fs) < 0) {
            fprintf(stderr, "casewarden eval: the threads did not judge every event\n");
            rc = CW_EXIT_FAIL;
            goto out;
        }
        if (strcmp(format, "table") == 0) {
            cw_findings_write_table(&fs, t.rs[0]->tz, stdout);
        } else {
            cw_buf b = { 0 };
            for (size_t i = 0; i < fs.n; i++) {
                cw_finding_json(&fs.v[i], t.rs[0]->tz, &b);
                cw_buf_put(&b, "\n", 1);
                if (b.n >= (1u << 16)) {
                    fwrite(b.p, 1, b.n, stdout);
                    b.n = 0;
                }
            }
            fwrite(b.p ? b.p : "", 1, b.n, stdout);
            cw_buf_free(&b);
        }
        /* a rule quarantined in any thread, once, as one engine says it */
        for (size_t i = 0; i < t.rs[0]->nrules; i++)
            for (unsigned k = 0; k < n; k++)
                if (t.rs[k]->rules[i]->status == CW_RULE_QUARANTINED) {
                    fprintf(stderr, "casewarden eval: rule %s quarantined: %s (only in the "
                            "threads where it failed: its findings may differ from one thread's)\n",
                            t.rs[k]->rules[i]->info.id, t.rs[k]->rules[i]->last_error);
                    break;
                }
    }
    if (stats) {
        double total = st.read_s + st.process_s;
        fprintf(stderr, "casewarden eval: read %.3f s, rules %.3f s, %.0f events/s overall; "
                "%zu cases, engine memory %.1f MiB, peak RSS %.1f MiB; %u threads\n",
                st.read_s, st.process_s, total > 0 ? (double)st.accepted / total : 0.0,
                cw_peval_ncases(pv), (double)cw_peval_memory(pv) / 1048576.0,
                (double)cw_cli_peak_rss() / 1048576.0, n);
        fprintf(stderr, "casewarden eval: reader: CPU %.3f s\n", cw_peval_read_cpu(pv));
        for (unsigned k = 0; k < n; k++) {
            double store_s, run_s, cpu_s;
            cw_peval_thread_times(pv, k, &store_s, &run_s, &cpu_s);
            fprintf(stderr, "casewarden eval: thread %u%s: storing %.3f s, rules %.3f s, "
                    "CPU %.3f s\n", k, k == 0 ? " (cross-case rules)" : "", store_s, run_s, cpu_s);
        }
    }
    rc = CW_EXIT_OK;
out:
    fflush(stdout);
    cw_findings_free(&fs);
    cw_peval_free(pv);
    threaded_free(&t);
    return rc;
}

int cw_cmd_eval(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "rules", required_argument, NULL, 'r' }, { "events", required_argument, NULL, 'e' },
        { "now", required_argument, NULL, 'n' }, { "format", required_argument, NULL, 'f' },
        { "strict", no_argument, NULL, 's' }, { "parse-only", no_argument, NULL, 'p' },
        { "stats", no_argument, NULL, 'S' }, { "quiet", no_argument, NULL, 'q' },
        { "plugins", required_argument, NULL, 'P' }, { "help", no_argument, NULL, 'h' },
        { "threads", required_argument, NULL, 't' }, { "cross-case", required_argument, NULL, 'c' },
        { NULL, 0, NULL, 0 },
    };
    const char *rules = NULL, *events = NULL, *now_s = NULL, *format = "json", *plugins = NULL;
    const char *cross = NULL;
    unsigned threads = 1;
    bool stats = false, quiet = false;
    cw_eval_opts o = { 0 };
    cw_eval_stats st = { 0 };
    cw_findings fs = { 0 };
    cw_world *w;
    cw_ruleset *rs;
    cw_engine *e;
    cw_eval *ev;
    cw_err err = { 0 };
    int opt, rc;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': rules = optarg; break;
        case 'e': events = optarg; break;
        case 'n': now_s = optarg; break;
        case 'f': format = optarg; break;
        case 's': o.strict = true; break;
        case 'p': o.parse_only = true; break;
        case 'S': stats = true; break;
        case 'q': quiet = true; break;
        case 'P': plugins = optarg; break;
        case 'c': cross = optarg; break;
        case 't':
            if (cw_cli_threads(optarg, CW_PEVAL_MAX, &threads) < 0)
                return cw_cli_usage_error("eval", "--threads must be 1 to %d or auto, not '%s'",
                                          CW_PEVAL_MAX, optarg);
            break;
        case 'h': fputs(help, stdout); return CW_EXIT_OK;
        default:
            return cw_cli_usage_error("eval", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cw_cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    if (rules == NULL || events == NULL)
        return cw_cli_usage_error("eval", "--rules and --events are required");
    if (cw_cli_now(now_s, &o.now) < 0)
        return cw_cli_usage_error("eval", "--now '%s' is not an RFC 3339 time with offset "
                                  "(2026-06-01T00:00:00+08:00)", now_s);
    if (strcmp(format, "json") != 0 && strcmp(format, "table") != 0)
        return cw_cli_usage_error("eval", "--format must be json or table, not '%s'", format);
    if (strcmp(events, "-") != 0 && access(events, R_OK) != 0) {
        fprintf(stderr, "casewarden eval: %s: cannot read (%s)\n", events, strerror(errno));
        return CW_EXIT_USAGE;
    }
    o.errors = stderr;
    o.progress = isatty(2) && !quiet ? stderr : NULL;
    if (threads > 1 && !o.parse_only)     /* reading alone is the reader's */
        return eval_threaded(threads, rules, plugins, cross, events, format, stats, quiet, &o);
    if (cw_cli_load_rules("eval", rules, plugins, &w, &rs) < 0)
        return CW_EXIT_USAGE;
    e = cw_engine_new(w, rs);
    ev = cw_eval_new(e);
    o.errors = stderr;
    o.progress = isatty(2) && !quiet ? stderr : NULL;
    rc = cw_eval_read(ev, events, &o, &st, &err);
    if (rc < 0 && err.code == CW_EIO) {
        fprintf(stderr, "casewarden eval: %s\n", err.msg);
        rc = CW_EXIT_USAGE;
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "casewarden eval: %zu events read, %zu accepted, %zu duplicate, %zu rejected%s\n",
                st.lines, st.accepted, st.duplicates, st.rejected,
                st.future ? "" : "");
    if (st.future > 0 && !quiet)
        fprintf(stderr, "casewarden eval: %zu events after --now left out\n", st.future);
    if (rc < 0) {
        fprintf(stderr, "casewarden eval: stopped: %s\n", err.msg);
        rc = CW_EXIT_FAIL;
        goto out;
    }
    if (!o.parse_only) {
        cw_eval_run(ev, &o, &st);
        if (strcmp(format, "table") == 0) {
            cw_eval_findings(ev, &fs);
            cw_findings_write_table(&fs, rs->tz, stdout);
        } else {
            json_out jo = { { 0 }, rs->tz };
            cw_eval_each_finding(ev, write_json, &jo);
            fwrite(jo.b.p ? jo.b.p : "", 1, jo.b.n, stdout);
            cw_buf_free(&jo.b);
        }
        for (size_t i = 0; i < rs->nrules; i++)
            if (rs->rules[i]->status == CW_RULE_QUARANTINED)
                fprintf(stderr, "casewarden eval: rule %s quarantined: %s\n", rs->rules[i]->info.id,
                        rs->rules[i]->last_error);
    }
    if (stats) {
        double total = st.read_s + st.process_s;
        fprintf(stderr, "casewarden eval: read %.3f s, rules %.3f s, %.0f events/s overall; "
                "%zu cases, engine memory %.1f MiB, peak RSS %.1f MiB\n",
                st.read_s, st.process_s, total > 0 ? (double)st.accepted / total : 0.0,
                cw_engine_ncases(e), (double)cw_engine_memory(e) / 1048576.0,
                (double)cw_cli_peak_rss() / 1048576.0);
    }
    rc = CW_EXIT_OK;
out:
    fflush(stdout);
    cw_findings_free(&fs);
    cw_eval_free(ev);
    cw_engine_free(e);
    cw_ruleset_free(rs);
    cw_world_free(w);
    return rc;
}
