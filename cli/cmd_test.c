/*
 * casewarden test: the fixture tests of a rules directory, and with
 * --coverage what they exercised.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "offline/fixture.h"
#include "rules/lua/lua.h"
#include "base/util.h"

static const char help[] =
    "usage: casewarden test [DIR] [OPTIONS]\n"
    "\n"
    "Run the fixture tests in DIR/tests/*.yaml (DIR defaults to ./rules) against\n"
    "the rules of DIR. Each test gives events, a `now` and the findings expected\n"
    "(docs/RULES.md, \"Fixture tests\"). A failure prints what was missing, what\n"
    "was unexpected and all that came. Ends with a line `N passed, N failed`.\n"
    "\n"
    "options:\n"
    "  --verbose         name every test, passed or not\n"
    "  --file FILE       run only this fixture file\n"
    "  --coverage        also report what the fixtures exercised: for each Lua\n"
    "                    rule file the lines that ran (and those that did not),\n"
    "                    for each rule the states its fixtures produced against\n"
    "                    those it can produce (docs/RULES.md, \"Coverage\")\n"
    "  --min N           with --coverage: exit 1 when the lines or the states\n"
    "                    covered are below N percent\n"
    "  --format F        text (default) or json (with --coverage: one object\n"
    "                    with the counts and the coverage; failures on stderr)\n"
    "  --plugins PATH    extra plugin directories (colon-separated)\n"
    "\n"
    "exit status: 0 all passed (and coverage at least --min), 1 a test failed or\n"
    "coverage below --min, 2 the rules do not load or usage.\n";

static const int state_order[] = { CW_ST_WARNING, CW_ST_OVERDUE, CW_ST_LATE, CW_ST_CLEARED,
                                   CW_ST_VIOLATION, CW_ST_ANOMALY };

static int popcount(uint32_t v)
{
    return __builtin_popcount(v);
}

static double pct(long a, long b)
{
    return b > 0 ? 100.0 * (double)a / (double)b : 100.0;
}

/* "12-14, 88" */
static void ranges(const uint8_t *can, const uint8_t *hit, int n, cw_buf *b)
{
    bool first = true;

    for (int l = 1; l < n; l++) {
        int e = l;
        if (!can[l] || hit[l])
            continue;
        while (e + 1 < n && (!can[e + 1] || !hit[e + 1]) && (can[e + 1] && !hit[e + 1]))
            e++;
        cw_buf_printf(b, first ? "%d" : ", %d", l);
        if (e > l)
            cw_buf_printf(b, "-%d", e);
        first = false;
        l = e;
    }
}

static void states_words(uint32_t s, cw_buf *b)
{
    bool first = true;

    for (size_t i = 0; i < sizeof state_order / sizeof *state_order; i++)
        if (s & (1u << state_order[i])) {
            cw_buf_printf(b, first ? "%s" : " %s", cw_state_name(state_order[i]));
            first = false;
        }
}

static void json_states(cw_buf *b, uint32_t s)
{
    bool first = true;

    cw_buf_puts(b, "[");
    for (size_t i = 0; i < sizeof state_order / sizeof *state_order; i++)
        if (s & (1u << state_order[i])) {
            cw_buf_printf(b, first ? "\"%s\"" : ",\"%s\"", cw_state_name(state_order[i]));
            first = false;
        }
    cw_buf_puts(b, "]");
}

/* The report; returns the lowest of the two percentages. */
static double report(const cw_ruleset *rs, const uint32_t *produced, bool js,
                     const cw_fixture_stats *st, FILE *out)
{
    long lines = 0, ran = 0, states = 0, got = 0;
    cw_buf b = { 0 };
    double lo;

    if (js)
        cw_buf_printf(&b, "{\"passed\":%d,\"failed\":%d,\"files\":[", st->passed, st->failed);
    else
        cw_buf_puts(&b, "coverage: lines run by the fixtures, per Lua rule file\n");
    for (size_t i = 0; i < rs->nfiles; i++) {
        const uint8_t *can, *hit;
        int n, fl = 0, fr = 0;
        if (!cw_lua_coverage(rs->files[i], &can, &hit, &n))
            continue;
        for (int l = 1; l < n; l++) {
            fl += can[l];
            fr += can[l] && hit[l];
        }
        lines += fl;
        ran += fr;
        if (js) {
            cw_buf_puts(&b, i ? ",{\"file\":" : "{\"file\":");
            cw_buf_json(&b, cw_lua_path(rs->files[i]), strlen(cw_lua_path(rs->files[i])));
            cw_buf_printf(&b, ",\"lines\":%d,\"run\":%d,\"percent\":%.1f,\"not_run\":[", fl, fr,
                          pct(fr, fl));
            for (int l = 1, k = 0; l < n; l++)
                if (can[l] && !hit[l])
                    cw_buf_printf(&b, k++ ? ",%d" : "%d", l);
            cw_buf_puts(&b, "]}");
        } else {
            cw_buf_printf(&b, "  %-40s %4d/%-4d %5.1f%%", cw_lua_path(rs->files[i]), fr, fl,
                          pct(fr, fl));
            if (fr < fl) {
                cw_buf_puts(&b, "  not run: ");
                ranges(can, hit, n, &b);
            }
            cw_buf_puts(&b, "\n");
        }
    }
    if (js)
        cw_buf_puts(&b, "],\"rules\":[");
    else
        cw_buf_puts(&b, "coverage: states the fixtures produced, per rule\n");
    for (size_t i = 0; i < rs->nrules; i++) {
        const cw_rule *r = rs->rules[i];
        uint32_t can = cw_rule_states(r), have = produced[i] & can;
        states += popcount(can);
        got += popcount(have);
        if (js) {
            cw_buf_puts(&b, i ? ",{\"rule\":" : "{\"rule\":");
            cw_buf_json(&b, r->info.id, strlen(r->info.id));
            cw_buf_puts(&b, ",\"file\":");
            cw_buf_json(&b, r->info.file, strlen(r->info.file));
            cw_buf_printf(&b, ",\"line\":%d,\"can\":", r->info.line);
            json_states(&b, can);
            cw_buf_puts(&b, ",\"produced\":");
            json_states(&b, have);
            cw_buf_puts(&b, ",\"missing\":");
            json_states(&b, can & ~have);
            cw_buf_printf(&b, ",\"percent\":%.1f}", pct(popcount(have), popcount(can)));
        } else {
            cw_buf_printf(&b, "  %-22s %d/%d  ", r->info.id, popcount(have), popcount(can));
            states_words(have, &b);
            if (can & ~have) {
                cw_buf_puts(&b, "  missing: ");
                states_words(can & ~have, &b);
            }
            cw_buf_printf(&b, "  (%s:%d)\n", r->info.file, r->info.line);
        }
    }
    lo = pct(ran, lines) < pct(got, states) ? pct(ran, lines) : pct(got, states);
    if (js)
        cw_buf_printf(&b, "],\"lines\":{\"total\":%ld,\"run\":%ld,\"percent\":%.1f},"
                      "\"states\":{\"total\":%ld,\"produced\":%ld,\"percent\":%.1f}}\n",
                      lines, ran, pct(ran, lines), states, got, pct(got, states));
    else
        cw_buf_printf(&b, "coverage: lines %ld/%ld %.1f%%, states %ld/%ld %.1f%%\n", ran, lines,
                      pct(ran, lines), got, states, pct(got, states));
    fwrite(b.p, 1, b.n, out);
    cw_buf_free(&b);
    return lo;
}

int cw_cmd_test(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "verbose", no_argument, NULL, 'v' }, { "file", required_argument, NULL, 'f' },
        { "plugins", required_argument, NULL, 'P' }, { "coverage", no_argument, NULL, 'c' },
        { "min", required_argument, NULL, 'm' }, { "format", required_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *dir = "rules", *plugins = NULL, *file = NULL, *format = "text";
    cw_fixture_stats st = { 0 };
    int verbose = 0, opt, rc;
    bool coverage = false, js;
    double min = -1;
    cw_world *w;
    cw_ruleset *rs;
    cw_err err;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "hv", longopts, NULL)) != -1) {
        switch (opt) {
        case 'v': verbose = 1; break;
        case 'f': file = optarg; break;
        case 'P': plugins = optarg; break;
        case 'c': coverage = true; break;
        case 'F': format = optarg; break;
        case 'm': {
            char *end;
            min = strtod(optarg, &end);
            if (*optarg == '\0' || *end != '\0' || min < 0 || min > 100)
                return cw_cli_usage_error("test", "--min must be a percentage 0-100, not '%s'", optarg);
            break;
        }
        case 'h': fputs(help, stdout); return CW_EXIT_OK;
        default:
            return cw_cli_usage_error("test", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        dir = argv[optind++];
    if (optind < argc)
        return cw_cli_usage_error("test", "unexpected argument '%s'", argv[optind]);
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
        return cw_cli_usage_error("test", "--format must be text or json, not '%s'", format);
    js = strcmp(format, "json") == 0;
    if (min >= 0 && !coverage)
        return cw_cli_usage_error("test", "--min needs --coverage");
    if (js && !coverage)
        return cw_cli_usage_error("test", "--format json needs --coverage");
    cw_lua_set_coverage(coverage);
    rc = cw_cli_load_rules("test", dir, plugins, &w, &rs);
    cw_lua_set_coverage(false);
    if (rc < 0)
        return CW_EXIT_USAGE;
    if (coverage)
        st.produced = cw_xcalloc(rs->nrules + 1, sizeof *st.produced);
    if (file != NULL) {
        cw_fixture_run_file(rs, file, js ? stderr : stdout, verbose, &st);
    } else if (cw_fixture_run_dir(rs, dir, js ? stderr : stdout, verbose, &st, &err) < 0) {
        fprintf(stderr, "casewarden test: %s\n", err.msg);
        free(st.produced);
        cw_ruleset_free(rs);
        cw_world_free(w);
        return CW_EXIT_USAGE;
    }
    rc = st.failed > 0 ? CW_EXIT_FAIL : CW_EXIT_OK;
    if (coverage) {
        double lo = report(rs, st.produced, js, &st, stdout);
        if (min >= 0 && lo < min) {
            fprintf(stderr, "casewarden test: coverage %.1f%% is below --min %g%%\n", lo, min);
            rc = CW_EXIT_FAIL;
        }
    }
    fprintf(js ? stderr : stdout, "%d passed, %d failed\n", st.passed, st.failed);
    free(st.produced);
    cw_ruleset_free(rs);
    cw_world_free(w);
    return rc;
}
