/*
 * casewarden check: validate a rules directory, and optionally see how
 * its rules fare on an event file (which of them errors, and where).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "offline/eval.h"
#include "notify/notify.h"
#include "base/timeutil.h"
#include "base/util.h"
#include "base/value.h"

static const char help[] =
    "usage: casewarden check --rules DIR [--events FILE [--now T]] [OPTIONS]\n"
    "\n"
    "Validate the rules directory DIR: settings, catalogue, calendar, plugins,\n"
    "Lua syntax and declarations (missing id, title, basis or severity,\n"
    "duplicate ids, unknown models, event types and fields), names of event\n"
    "types and data fields used in Lua code, gaps in the calendar, and\n"
    "notify.yaml when there is one (receivers, routes, templates, ladders). Every\n"
    "problem is listed as FILE:LINE: what. A calendar that ends within 60\n"
    "days of --now (default today) is warned about (a warning, not a\n"
    "problem). Then the rules are listed.\n"
    "\n"
    "With --events, the rules also run over the file (as `eval` does) and the\n"
    "list shows how each fared: evaluations, microseconds per evaluation,\n"
    "errors, findings, and whether it was quarantined (stopped for an error,\n"
    "or for exceeding its instruction budget or memory cap), with the error\n"
    "and where it happened.\n"
    "\n"
    "options:\n"
    "  --rules DIR       the rules directory\n"
    "  --events FILE     also run the rules over these events\n"
    "  --now T           as of T (RFC 3339); default now\n"
    "  --plugins PATH    extra plugin directories (colon-separated)\n"
    "\n"
    "exit status: 0 no problem, 1 problems found (or a rule quarantined with\n"
    "--events), 2 usage.\n";

typedef struct counts {
    size_t *n;
} counts;

static int count_finding(void *ud, const cw_finding *f)
{
    counts *c = ud;

    c->n[f->rule->index]++;
    return 0;
}

/* The value of one parameter as the rule r takes it, as JSON. */
static void param_of(const cw_rule *r, const char *key, cw_buf *b)
{
    const cw_value *p = r->params, *v;

    if (r->model->configure == NULL)
        p = cw_value_get(p, "params");
    if ((v = cw_value_get(p, key)) != NULL)
        cw_value_json(b, v);
    else
        cw_buf_puts(b, "-");
}

/* For each rule rules/overrides.yaml changes: the parameters that vary,
 * as they take effect in each unit. */
static void print_overrides(const cw_ruleset *rs)
{
    bool any = false;

    for (size_t i = 0; i < rs->nrules; i++) {
        const cw_rule *base = rs->rules[i];
        if (base->override != NULL || base->nxunits == 0)
            continue;
        if (!any)
            printf("per-unit parameters (%s/overrides.yaml; the most specific unit prefix wins):\n",
                   rs->dir);
        any = true;
        printf("  %s (%s:%d)\n", base->info.id, base->info.file, base->info.line);
        for (size_t k = 0; k <= rs->novr; k++) {
            const cw_override *o = k == 0 ? NULL : &rs->ovr[k - 1];
            const cw_rule *r = base;
            cw_buf b = { 0 };
            if (o != NULL && strcmp(o->rule, base->info.id) != 0)
                continue;
            if (o != NULL && !o->disabled) {
                r = NULL;
                for (size_t j = 0; j < rs->nrules && r == NULL; j++)
                    if (rs->rules[j]->override_unit && rs->rules[j]->params &&
                        strcmp(rs->rules[j]->info.id, base->info.id) == 0 &&
                        strcmp(rs->rules[j]->override_unit, o->unit) == 0 &&
                        rs->rules[j]->from == base->from)
                        r = rs->rules[j];
                if (r == NULL)
                    continue;
            }
            if (o != NULL && o->disabled) {
                printf("    %-14s disabled  (%s:%d)\n", o->unit, o->file, o->line);
                continue;
            }
            cw_buf_printf(&b, "severity=%s", r->info.severity);
            /* every parameter some override of this rule changes */
            for (size_t q = 0; q < rs->novr; q++) {
                const cw_override *x = &rs->ovr[q];
                if (strcmp(x->rule, base->info.id) != 0)
                    continue;
                for (size_t n = 0; n < x->set->n; n++) {
                    const char *key = x->set->keys[n];
                    bool seen = strcmp(key, "severity") == 0 || strcmp(key, "enabled") == 0;
                    for (size_t p = 0; p < q && !seen; p++)
                        seen = strcmp(rs->ovr[p].rule, base->info.id) == 0 &&
                               cw_value_get(rs->ovr[p].set, key) != NULL;
                    for (size_t m = 0; m < n && !seen; m++)
                        seen = strcmp(x->set->keys[m], key) == 0;
                    if (seen)
                        continue;
                    cw_buf_printf(&b, " %s=", key);
                    param_of(r, key, &b);
                }
            }
            if (o == NULL)
                printf("    %-14s %s\n", "(other units)", b.p);
            else
                printf("    %-14s %s  (%s:%d)\n", o->unit, b.p, o->file, o->line);
            cw_buf_free(&b);
        }
    }
}

int cw_cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "rules", required_argument, NULL, 'r' }, { "events", required_argument, NULL, 'e' },
        { "now", required_argument, NULL, 'n' }, { "plugins", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *dir = NULL, *events = NULL, *now_s = NULL, *plugins = NULL;
    cw_load_opts lo = { 0 };
    cw_world *w = cw_world_new();
    cw_ruleset *rs = NULL;
    size_t *found = NULL;
    int opt, problems = 0, quarantined = 0;
    cw_time now;
    cw_err err = { 0 };

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': dir = optarg; break;
        case 'e': events = optarg; break;
        case 'n': now_s = optarg; break;
        case 'P': plugins = optarg; break;
        case 'h': fputs(help, stdout); cw_world_free(w); return CW_EXIT_OK;
        default:
            cw_world_free(w);
            return cw_cli_usage_error("check", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc && dir == NULL)
        dir = argv[optind++];
    if (optind < argc || dir == NULL) {
        cw_world_free(w);
        return cw_cli_usage_error("check", optind < argc ? "unexpected argument" : "--rules is required");
    }
    if (cw_cli_now(now_s, &now) < 0) {
        cw_world_free(w);
        return cw_cli_usage_error("check", "--now '%s' is not an RFC 3339 time with offset", now_s);
    }
    lo.plugin_path = plugins;
    lo.report = stdout;
    if (cw_ruleset_load(&rs, w, dir, &lo, &err) < 0) {
        printf("%s: not loaded; fix the problems above\n", dir);
        cw_world_free(w);
        return CW_EXIT_FAIL;
    }
    {
        /* notify.yaml is loaded with the rules, so it is checked with them */
        cw_notify *n = NULL;
        if (cw_notify_load(&n, dir, rs->tz, &err) < 0) {
            printf("%s\n", err.msg);
            problems++;
        } else if (n != NULL) {
            printf("%s: %zu receivers, %zu escalation ladders\n", n->path, n->nreceivers, n->nladders);
        }
        cw_notify_free(n);
    }
    {
        char warn[400];
        cw_ruleset_calendar_note(rs, warn, sizeof warn);
        printf("%s\n", warn);
        if (cw_calendar_end_warning(rs->cal, now, warn, sizeof warn))
            printf("%s/calendar: warning: %s\n", dir, warn);
    }
    found = cw_xcalloc(rs->nrules + 1, sizeof *found);
    if (events != NULL) {
        cw_engine *e = cw_engine_new(w, rs);
        cw_eval *ev = cw_eval_new(e);
        cw_eval_opts o = { .now = now, .errors = NULL };
        cw_eval_stats st = { 0 };
        counts c = { found };
        cw_engine_time_rules(e, true);
        if (cw_eval_read(ev, events, &o, &st, &err) < 0) {
            fprintf(stderr, "casewarden check: %s\n", err.msg);
            cw_eval_free(ev);
            cw_engine_free(e);
            free(found);
            cw_ruleset_free(rs);
            cw_world_free(w);
            return CW_EXIT_USAGE;
        }
        cw_eval_run(ev, &o, &st);
        cw_eval_each_finding(ev, count_finding, &c);
        printf("%s: %zu events (%zu rejected)\n", events, st.lines, st.rejected);
        cw_eval_free(ev);
        cw_engine_free(e);
    }
    printf("%-26s %-10s %-8s %-23s %-12s %10s %8s %7s %9s  %s\n", "RULE", "MODEL", "SEVERITY",
           "EFFECTIVE", "STATE", "EVALS", "US/EVAL", "ERRORS", "FINDINGS", "DECLARED");
    for (size_t i = 0; i < rs->nrules; i++) {
        const cw_rule *r = rs->rules[i];
        char where[300], from[16] = "", to[16] = "", eff[40];
        snprintf(where, sizeof where, "%s:%d", r->info.file, r->info.line);
        if (r->from != INT32_MIN)
            cw_day_format(r->from, from, sizeof from);
        if (r->to != INT32_MAX)
            cw_day_format(r->to, to, sizeof to);
        snprintf(eff, sizeof eff, "%s", from[0] || to[0] ? "" : "always");
        if (from[0] || to[0])
            snprintf(eff, sizeof eff, "%s..%s", from, to);
        char us[16] = "-";
        if (r->evals > 0)
            snprintf(us, sizeof us, "%.2f", (double)r->nanos / 1e3 / (double)r->evals);
        printf("%-26s %-10s %-8s %-23s %-12s %10llu %8s %7llu %9zu  %s\n", r->info.id,
               r->model->name, r->info.severity, eff,
               r->status == CW_RULE_ACTIVE ? "active" : "quarantined",
               (unsigned long long)r->evals, us, (unsigned long long)r->errors, found[i], where);
        if (r->status != CW_RULE_ACTIVE) {
            printf("    %s\n", r->last_error ? r->last_error : "");
            quarantined++;
        }
    }
    print_overrides(rs);
    printf("%zu rules, %d problem%s%s\n", rs->nrules, problems, problems == 1 ? "" : "s",
           quarantined ? ", some rules quarantined" : "");
    free(found);
    cw_ruleset_free(rs);
    cw_world_free(w);
    return problems || quarantined ? CW_EXIT_FAIL : CW_EXIT_OK;
}
