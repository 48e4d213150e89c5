/*
 * casewarden report: the quality assessment (执法质量考评) and 通报 figures
 * of a period, or the backlog (积案), from the database; the same figures
 * as GET /v1/reports/quality and /v1/reports/backlog.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "report/report.h"
#include "service/config.h"
#include "store/store.h"

static const char help[] =
    "usage: casewarden report [--config FILE] --from D --to D [--by unit|officer|rule]\n"
    "                         [--level N] [--unit PREFIX] [--format table|csv|json]\n"
    "       casewarden report [--config FILE] --backlog [--level N] [--unit PREFIX] [--format ...]\n"
    "\n"
    "The quality assessment of a period (days D in YYYY-MM-DD, both included):\n"
    "per unit, officer (the rectification's assignee) or rule, the findings by\n"
    "the rules' judgement, overdue and late rates, rectifications on time and\n"
    "overdue, 销号 and the median time to it, and a score out of the base of\n"
    "the rules directory's scoring.yaml less its deductions, ranked. With\n"
    "--backlog: the cases still open past scoring.yaml's age, by unit and age\n"
    "band, with their open findings. docs/SERVICE.md defines every figure.\n"
    "\n"
    "options:\n"
    "  --config FILE     the service configuration (database, rules)\n"
    "  --socket PATH     the MariaDB Unix socket (overrides the configuration)\n"
    "  --rules DIR       the rules directory (scoring.yaml, engine.yaml's timezone)\n"
    "  --from D, --to D  the period\n"
    "  --by WHAT         unit (default), officer or rule\n"
    "  --level N         by unit: the length of a group's unit prefix (default 6)\n"
    "  --unit PREFIX     only units under this prefix\n"
    "  --now T           the time the rectification dues and exemptions are judged\n"
    "                    at (RFC 3339; default: now)\n"
    "  --format F        table (default), csv (UTF-8 with BOM, Chinese headers) or json\n"
    "\n"
    "exit status: 0 done, 1 the database refused, 2 usage or configuration.\n";

int cw_cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' }, { "socket", required_argument, NULL, 's' },
        { "rules", required_argument, NULL, 'r' }, { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' }, { "by", required_argument, NULL, 'b' },
        { "level", required_argument, NULL, 'l' }, { "unit", required_argument, NULL, 'u' },
        { "now", required_argument, NULL, 'n' }, { "format", required_argument, NULL, 'F' },
        { "backlog", no_argument, NULL, 'B' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *path = NULL, *socket = NULL, *rules = NULL, *from = NULL, *to = NULL, *by = "unit";
    const char *format = "table", *now = NULL;
    cw_report_opts o = { 0 };
    bool backlog = false;
    cw_scoring *sc = NULL;
    cw_config *cfg = NULL;
    cw_db *db = NULL;
    cw_buf out = { 0 };
    cw_err err = { 0 };
    char *scoring;
    int opt, rc = CW_EXIT_USAGE;

    o.level = 6;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 's': socket = optarg; break;
        case 'r': rules = optarg; break;
        case 'f': from = optarg; break;
        case 't': to = optarg; break;
        case 'b': by = optarg; break;
        case 'n': now = optarg; break;
        case 'F': format = optarg; break;
        case 'B': backlog = true; break;
        case 'u':
            if (strlen(optarg) > 12 || strspn(optarg, "0123456789") != strlen(optarg))
                return cw_cli_usage_error("report", "--unit takes a unit prefix (digits)");
            o.scope = optarg;
            break;
        case 'l':
            o.level = (unsigned)atoi(optarg);
            if (o.level < 2 || o.level > 12 || strspn(optarg, "0123456789") != strlen(optarg))
                return cw_cli_usage_error("report", "--level takes a prefix length from 2 to 12");
            break;
        case 'h': fputs(help, stdout); return CW_EXIT_OK;
        default:
            return cw_cli_usage_error("report", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cw_cli_usage_error("report", "unexpected argument '%s'", argv[optind]);
    if (strcmp(format, "table") != 0 && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0)
        return cw_cli_usage_error("report", "--format is table, csv or json");
    if (cw_report_by_parse(by, &o.by) < 0)
        return cw_cli_usage_error("report", "--by is unit, officer or rule");
    if (!backlog && (from == NULL || to == NULL))
        return cw_cli_usage_error("report", "--from and --to are required (or --backlog)");
    if (!backlog && (cw_day_parse(from, strlen(from), &o.from) < 0 || cw_day_parse(to, strlen(to), &o.to) < 0 ||
                     o.to < o.from))
        return cw_cli_usage_error("report", "--from and --to are days (YYYY-MM-DD), --from first");
    if (cw_cli_now(now, &o.now) < 0)
        return cw_cli_usage_error("report", "--now takes an RFC 3339 time");
    if (o.scope && strlen(o.scope) > o.level)
        o.level = (unsigned)strlen(o.scope);
    if (cw_cli_config("report", path, socket, &cfg) < 0)
        return CW_EXIT_USAGE;
    if (rules == NULL)
        rules = cfg->rules;
    scoring = cw_path_join(rules, "scoring.yaml");
    if (cw_scoring_load(&sc, scoring, &err) < 0 || cw_report_tz(rules, &o.tz, &err) < 0) {
        fprintf(stderr, "casewarden report: %s\n", err.msg);
        goto out;
    }
    rc = CW_EXIT_FAIL;
    if (cw_db_connect(&db, &cfg->db, false, &err) < 0 || cw_store_check_schema(db, cfg->db.name, &err) < 0) {
        fprintf(stderr, "casewarden report: %s\n", err.msg);
        goto out;
    }
    if (backlog) {
        cw_backlog *bl;
        if (cw_report_backlog(db, sc, &o, &bl, &err) < 0) {
            fprintf(stderr, "casewarden report: %s\n", err.msg);
            goto out;
        }
        if (strcmp(format, "csv") == 0)
            cw_backlog_csv(bl, &out);
        else if (strcmp(format, "json") == 0)
            cw_backlog_json(bl, &out), cw_buf_puts(&out, "\n");
        else
            cw_backlog_table(bl, &out);
        cw_backlog_free(bl);
    } else {
        cw_report *rp;
        if (cw_report_quality(db, sc, &o, &rp, &err) < 0) {
            fprintf(stderr, "casewarden report: %s\n", err.msg);
            goto out;
        }
        if (strcmp(format, "csv") == 0)
            cw_report_csv(rp, &out);
        else if (strcmp(format, "json") == 0)
            cw_report_json(rp, &out), cw_buf_puts(&out, "\n");
        else
            cw_report_table(rp, &out);
        cw_report_free(rp);
    }
    fwrite(out.p ? out.p : "", 1, out.n, stdout);
    rc = CW_EXIT_OK;
out:
    free(scoring);
    cw_buf_free(&out);
    cw_scoring_free(sc);
    cw_db_close(db);
    cw_config_free(cfg);
    return rc;
}
