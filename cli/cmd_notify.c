/*
 * casewarden notify test: which receivers and escalation levels a finding
 * would reach under a rules directory's notify.yaml, and the bodies they
 * would get, without sending anything (amtool's routing test).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "notify/notify.h"
#include "law/calendar.h"
#include "base/timeutil.h"
#include "base/util.h"

static const char help[] =
    "usage: casewarden notify test --rules DIR --finding JSON [OPTIONS]\n"
    "\n"
    "Route one finding through DIR/notify.yaml as the service would, and print\n"
    "the receivers it reaches (with the route, its group and whether quiet\n"
    "hours hold it), the escalation ladders it starts (each level's delay,\n"
    "condition and receivers), and the body each receiver would be sent.\n"
    "Nothing is sent.\n"
    "\n"
    "JSON is a finding as GET /v1/findings/{id} gives it (or @FILE to read one):\n"
    "  {\"id\":981,\"rule\":\"ADM-HANDLING\",\"case\":\"A370102202600017\",\"unit\":\"370102\",\n"
    "   \"severity\":\"high\",\"state\":\"overdue\",\"due\":\"2026-04-01T23:59:59+08:00\",\n"
    "   \"message\":\"...\",\"review\":\"open\"}\n"
    "\n"
    "options:\n"
    "  --rules DIR        the rules directory (notify.yaml, calendar)\n"
    "  --finding JSON     the finding, or @FILE\n"
    "  --transition T     raised, overdue, late, cleared or reopened (default:\n"
    "                     overdue for an overdue finding, late for a late one,\n"
    "                     cleared for a cleared one, raised otherwise)\n"
    "  --now T            judge quiet hours at T (RFC 3339); default now\n"
    "  --tz +HH:MM        the offset days are counted in (default +08:00)\n"
    "\n"
    "exit status: 0 done, 1 notify.yaml refused or missing, 2 usage.\n";

static const char *jstr(json_t *o, const char *k, const char *def)
{
    json_t *v = json_object_get(o, k);

    return json_is_string(v) ? json_string_value(v) : def;
}

static cw_time jtime(json_t *o, const char *k)
{
    const char *s = jstr(o, k, NULL);
    cw_time t;

    if (s == NULL || cw_time_parse(s, strlen(s), &t, NULL) < 0)
        return CW_TIME_NONE;
    return t;
}

static void duration(int64_t s, char *buf, size_t size)
{
    if (s % 86400 == 0 && s > 0)
        snprintf(buf, size, "%lldd", (long long)(s / 86400));
    else if (s % 3600 == 0 && s > 0)
        snprintf(buf, size, "%lldh", (long long)(s / 3600));
    else if (s % 60 == 0 && s > 0)
        snprintf(buf, size, "%lldm", (long long)(s / 60));
    else
        snprintf(buf, size, "%llds", (long long)s);
}

static void print_body(const cw_notify *n, const cw_notify_receiver *r, const cw_notify_finding *f,
                       int tr, const char *key, const char *group, const char *ladder, int level)
{
    cw_notify_item it = { *f, tr, key };
    cw_notify_msg m = { r->name, group, key, ladder, level, &it, 1 };
    char *body = cw_notify_render(n, r, &m, NULL);

    printf("--- %s (%s: %s)\n%s\n", r->name, r->key_header, key, body);
    free(body);
}

static int run_test(const char *dir, const char *finding, const char *trname, cw_time now, int tz)
{
    cw_notify *n = NULL;
    cw_notify_hit hits[32];
    json_error_t je;
    json_t *j;
    cw_err err = { 0 };
    size_t nh;
    int tr;

    if (finding[0] == '@')
        j = json_load_file(finding + 1, 0, &je);
    else
        j = json_loads(finding, 0, &je);
    if (j == NULL || !json_is_object(j)) {
        fprintf(stderr, "casewarden notify test: --finding: %s (line %d, column %d)\n",
                j ? "not a JSON object" : je.text, je.line, je.column);
        json_decref(j);
        return CW_EXIT_USAGE;
    }
    cw_notify_finding f = {
        json_integer_value(json_object_get(j, "id")), jstr(j, "rule", ""), jstr(j, "case", ""),
        jstr(j, "subject", ""), jstr(j, "unit", ""), jstr(j, "severity", "medium"),
        jstr(j, "state", "warning"), jstr(j, "review", "open"), jstr(j, "message", ""),
        jstr(j, "basis", ""), jtime(j, "due"), jtime(j, "raised"),
        json_is_true(json_object_get(j, "exempted")) || json_is_object(json_object_get(j, "exemption")),
    };
    if (trname)
        tr = cw_notify_transition_find(trname);
    else
        tr = strcmp(f.state, "overdue") == 0 ? CW_TR_OVERDUE
             : strcmp(f.state, "late") == 0 ? CW_TR_LATE
             : strcmp(f.state, "cleared") == 0 ? CW_TR_CLEARED : CW_TR_RAISED;
    if (tr < 0 || tr == CW_TR_ESCALATED) {
        json_decref(j);
        return cw_cli_usage_error("notify test", "--transition '%s' is not raised, overdue, late, "
                                  "cleared or reopened", trname);
    }
    if (cw_notify_load(&n, dir, tz, &err) < 0) {
        fprintf(stderr, "casewarden notify test: %s\n", err.msg);
        json_decref(j);
        return CW_EXIT_FAIL;
    }
    if (n == NULL) {
        fprintf(stderr, "casewarden notify test: %s/notify.yaml: no such file (nothing is notified)\n", dir);
        json_decref(j);
        return CW_EXIT_FAIL;
    }
    printf("finding %lld %s %s %s (%s, %s, review %s), transition %s\n", (long long)f.id, f.rule,
           f.case_id, f.unit, f.severity, f.state, f.review, cw_notify_transition_name(tr));
    nh = cw_notify_route_finding(n, &f, tr, hits, 32);
    printf("\nreceivers (%zu):\n", nh);
    for (size_t i = 0; i < nh; i++) {
        const cw_notify_receiver *r = &n->receivers[hits[i].receiver];
        cw_time at = cw_notify_release_at(n, r, now, cw_notify_is_high(f.severity));
        char when[40] = "at once", wait[32];
        if (at > now) {
            char t[40];
            cw_time_format(at, tz, t, sizeof t);
            snprintf(when, sizeof when, "held until %s", t);
        }
        duration(hits[i].route->group_wait_ms / 1000, wait, sizeof wait);
        printf("  %-20s %s  route %s:%d", r->name, r->url, n->path, hits[i].route->line);
        if (hits[i].route->group_by)
            printf("  group %s (group_wait %s)", hits[i].group, wait);
        if (hits[i].route->repeat_s > 0) {
            char every[32];
            duration(hits[i].route->repeat_s, every, sizeof every);
            printf("  again every %s while open", every);
        }
        printf("  %s%s\n", when, r->quiet ? " (quiet hours)" : "");
    }
    printf("\nescalation ladders:\n");
    {
        size_t started = 0;
        for (size_t l = 0; l < n->nladders; l++) {
            const cw_notify_ladder *L = &n->ladders[l];
            int64_t after = 0;
            if (!cw_notify_match_finding(&L->m, &f, tr))
                continue;
            started++;
            printf("  %s (%s:%d)\n", L->name, n->path, L->line);
            for (size_t k = 0; k < L->nlevels; k++) {
                const cw_notify_level *lv = &L->levels[k];
                char d[32], total[32];
                after += lv->delay_s;
                duration(lv->delay_s, d, sizeof d);
                duration(after, total, sizeof total);
                printf("    level %zu: %s after the previous (%s after the start), if %s (%s now) ->", k + 1,
                       d, total, cw_notify_condition_name(lv->when),
                       cw_notify_condition_holds(lv->when, &f) ? "holds" : "does not hold");
                for (size_t r = 0; r < lv->nreceivers; r++)
                    printf(" %s", n->receivers[lv->receivers[r]].name);
                printf("\n");
            }
        }
        if (started == 0)
            printf("  none\n");
    }
    printf("\nbodies:\n");
    for (size_t i = 0; i < nh; i++) {
        const cw_notify_receiver *r = &n->receivers[hits[i].receiver];
        char key[192];
        snprintf(key, sizeof key, "%lld:%s:%s:0", (long long)f.id, cw_notify_transition_name(tr), r->name);
        print_body(n, r, &f, tr, key, hits[i].group, NULL, 0);
    }
    for (size_t l = 0; l < n->nladders; l++) {
        const cw_notify_ladder *L = &n->ladders[l];
        if (!cw_notify_match_finding(&L->m, &f, tr))
            continue;
        for (size_t k = 0; k < L->nlevels; k++)
            for (size_t r = 0; r < L->levels[k].nreceivers; r++) {
                const cw_notify_receiver *rc = &n->receivers[L->levels[k].receivers[r]];
                char key[192];
                snprintf(key, sizeof key, "%lld:escalated%zu:%s:%s", (long long)f.id, k + 1, rc->name,
                         L->name);
                print_body(n, rc, &f, CW_TR_ESCALATED, key, "", L->name, (int)k + 1);
            }
    }
    cw_notify_free(n);
    json_decref(j);
    return CW_EXIT_OK;
}

int cw_cmd_notify(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "rules", required_argument, NULL, 'r' }, { "finding", required_argument, NULL, 'f' },
        { "transition", required_argument, NULL, 't' }, { "now", required_argument, NULL, 'n' },
        { "tz", required_argument, NULL, 'z' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *dir = NULL, *finding = NULL, *tr = NULL, *now_s = NULL;
    int opt, tz = 8 * 60;
    cw_time now;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CW_EXIT_USAGE : CW_EXIT_OK;
    }
    if (strcmp(argv[1], "test") != 0)
        return cw_cli_usage_error("notify", "unknown sub-command '%s' (the one there is: test)", argv[1]);
    argc--;
    argv++;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': dir = optarg; break;
        case 'f': finding = optarg; break;
        case 't': tr = optarg; break;
        case 'n': now_s = optarg; break;
        case 'z':
            if (cw_tz_parse(optarg, &tz) < 0)
                return cw_cli_usage_error("notify test", "--tz '%s' is not an offset like +08:00", optarg);
            break;
        case 'h': fputs(help, stdout); return CW_EXIT_OK;
        default:
            return cw_cli_usage_error("notify test", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cw_cli_usage_error("notify test", "unexpected argument '%s'", argv[optind]);
    if (dir == NULL || finding == NULL)
        return cw_cli_usage_error("notify test", "%s is required", dir == NULL ? "--rules" : "--finding");
    if (cw_cli_now(now_s, &now) < 0)
        return cw_cli_usage_error("notify test", "--now '%s' is not an RFC 3339 time with offset", now_s);
    return run_test(dir, finding, tr, now, tz);
}
