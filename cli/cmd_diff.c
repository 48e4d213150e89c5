/*
 * casewarden diff: what a rule change would flag. The same events are
 * judged by the new rules and the old; findings are matched by (rule,
 * case, subject).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "offline/eval.h"
#include "base/timeutil.h"
#include "base/util.h"

static const char help[] =
    "usage: casewarden diff --rules NEW --against OLD --events FILE [--now T] [OPTIONS]\n"
    "\n"
    "Judge the events of FILE with the rules in NEW and with those in OLD, as\n"
    "of --now, and print what the change would do: findings added (+),\n"
    "removed (-) and changed (~: another state or due time), matched by rule,\n"
    "case and subject; then a count line.\n"
    "\n"
    "options:\n"
    "  --rules NEW       the rules directory with the change\n"
    "  --against OLD     the rules directory in force\n"
    "  --events FILE     events, one JSON object per line\n"
    "  --now T           as of T (RFC 3339); default now\n"
    "  --format F        text (default) or json (one object per line:\n"
    "                    {\"change\":\"added\"|\"removed\"|\"changed\", \"old\":..., \"new\":...})\n"
    "  --plugins PATH    extra plugin directories (colon-separated)\n"
    "\n"
    "exit status: 0 done (whatever the differences), 2 usage or rules that do\n"
    "not load.\n";

typedef struct side {
    cw_world *w;
    cw_ruleset *rs;
    cw_engine *e;
    cw_findings fs;
} side;

static int judge(side *s, const char *label, const char *dir, const char *plugins,
                 const char *events, cw_time now)
{
    cw_eval_opts o = { .now = now, .errors = NULL };
    cw_eval_stats st = { 0 };
    cw_eval *ev;
    cw_err err;

    if (cw_cli_load_rules(label, dir, plugins, &s->w, &s->rs) < 0)
        return -1;
    s->e = cw_engine_new(s->w, s->rs);
    ev = cw_eval_new(s->e);
    if (cw_eval_read(ev, events, &o, &st, &err) < 0) {
        fprintf(stderr, "casewarden diff: %s\n", err.msg);
        cw_eval_free(ev);
        return -1;
    }
    cw_eval_run(ev, &o, &st);
    cw_eval_findings(ev, &s->fs);
    cw_eval_free(ev);
    return 0;
}

static void side_free(side *s)
{
    cw_findings_free(&s->fs);
    cw_engine_free(s->e);
    cw_ruleset_free(s->rs);
    cw_world_free(s->w);
}

static int key_cmp(const cw_finding *a, const cw_finding *b)
{
    int d;

    if ((d = strcmp(a->case_id, b->case_id)) != 0)
        return d;
    if ((d = strcmp(a->rule->info.id, b->rule->info.id)) != 0)
        return d;
    return strcmp(a->subject, b->subject);
}

static void text(char sign, const cw_finding *f, const cw_finding *old, int tz)
{
    char due[40] = "-";

    if (f->due != CW_TIME_NONE)
        cw_time_format(f->due, tz, due, sizeof due);
    printf("%c %s %s %s ", sign, f->rule->info.id, f->case_id, f->subject[0] ? f->subject : "-");
    if (old != NULL && old->state != f->state)
        printf("%s -> ", cw_state_name(old->state));
    printf("%s", cw_state_name(f->state));
    if (old != NULL && old->due != f->due) {
        char od[40] = "-";
        if (old->due != CW_TIME_NONE)
            cw_time_format(old->due, tz, od, sizeof od);
        printf(" due %s -> %s", od, due);
    } else {
        printf(" due %s", due);
    }
    printf(": %s", f->message);
    if (old != NULL && strcmp(old->rule->version, f->rule->version) != 0)
        printf(" [规则版本 %s -> %s]", old->rule->version, f->rule->version);
    else
        printf(" [规则版本 %s]", f->rule->version);
    if (f->rule->override != NULL)
        printf(" [单位 %s 覆盖参数 %s]", f->rule->override_unit, f->rule->override);
    printf("\n");
}

static void json(const char *change, const cw_finding *old, const cw_finding *nw, int tz)
{
    cw_buf b = { 0 };

    cw_buf_printf(&b, "{\"change\":\"%s\"", change);
    if (old) {
        cw_buf_puts(&b, ",\"old\":");
        cw_finding_json(old, tz, &b);
    }
    if (nw) {
        cw_buf_puts(&b, ",\"new\":");
        cw_finding_json(nw, tz, &b);
    }
    cw_buf_puts(&b, "}\n");
    fwrite(b.p, 1, b.n, stdout);
    cw_buf_free(&b);
}

int cw_cmd_diff(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "rules", required_argument, NULL, 'r' }, { "against", required_argument, NULL, 'a' },
        { "events", required_argument, NULL, 'e' }, { "now", required_argument, NULL, 'n' },
        { "format", required_argument, NULL, 'f' }, { "plugins", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *nw = NULL, *old = NULL, *events = NULL, *now_s = NULL, *format = "text",
               *plugins = NULL;
    side a = { 0 }, b = { 0 };
    size_t i = 0, j = 0, added = 0, removed = 0, changed = 0, same = 0, reversioned = 0;
    bool js;
    cw_time now;
    int opt, tz;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': nw = optarg; break;
        case 'a': old = optarg; break;
        case 'e': events = optarg; break;
        case 'n': now_s = optarg; break;
        case 'f': format = optarg; break;
        case 'P': plugins = optarg; break;
        case 'h': fputs(help, stdout); return CW_EXIT_OK;
        default:
            return cw_cli_usage_error("diff", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cw_cli_usage_error("diff", "unexpected argument '%s'", argv[optind]);
    if (nw == NULL || old == NULL || events == NULL)
        return cw_cli_usage_error("diff", "--rules, --against and --events are required");
    if (cw_cli_now(now_s, &now) < 0)
        return cw_cli_usage_error("diff", "--now '%s' is not an RFC 3339 time with offset", now_s);
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
        return cw_cli_usage_error("diff", "--format must be text or json, not '%s'", format);
    js = strcmp(format, "json") == 0;
    if (judge(&a, "diff", nw, plugins, events, now) < 0 ||
        judge(&b, "diff", old, plugins, events, now) < 0) {
        side_free(&a);
        side_free(&b);
        return CW_EXIT_USAGE;
    }
    tz = a.rs->tz;
    /* both lists are in (case, rule, subject) order: merge them */
    while (i < a.fs.n || j < b.fs.n) {
        int d = i == a.fs.n ? 1 : j == b.fs.n ? -1 : key_cmp(&a.fs.v[i], &b.fs.v[j]);
        if (d < 0) {
            js ? json("added", NULL, &a.fs.v[i], tz) : text('+', &a.fs.v[i], NULL, tz);
            added++;
            i++;
        } else if (d > 0) {
            js ? json("removed", &b.fs.v[j], NULL, tz) : text('-', &b.fs.v[j], NULL, tz);
            removed++;
            j++;
        } else {
            if (a.fs.v[i].state != b.fs.v[j].state || a.fs.v[i].due != b.fs.v[j].due) {
                js ? json("changed", &b.fs.v[j], &a.fs.v[i], tz) : text('~', &a.fs.v[i], &b.fs.v[j], tz);
                changed++;
            } else {
                same++;
                if (strcmp(a.fs.v[i].rule->version, b.fs.v[j].rule->version) != 0)
                    reversioned++;
            }
            i++;
            j++;
        }
    }
    fprintf(js ? stderr : stdout, "%zu added, %zu removed, %zu changed, %zu unchanged", added,
            removed, changed, same);
    if (reversioned > 0)
        fprintf(js ? stderr : stdout, " (%zu of them under another rule version)", reversioned);
    fprintf(js ? stderr : stdout, "\n");
    side_free(&a);
    side_free(&b);
    return CW_EXIT_OK;
}
