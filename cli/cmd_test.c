/*
 * casewarden test: the fixture tests of a rules directory.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "offline/fixture.h"

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
    "  --plugins PATH    extra plugin directories (colon-separated)\n"
    "\n"
    "exit status: 0 all passed, 1 a test failed, 2 the rules do not load.\n";

int cw_cmd_test(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "verbose", no_argument, NULL, 'v' }, { "file", required_argument, NULL, 'f' },
        { "plugins", required_argument, NULL, 'P' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "rules", *plugins = NULL, *file = NULL;
    cw_fixture_stats st = { 0 };
    int verbose = 0, opt;
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
        case 'h': fputs(help, stdout); return CW_EXIT_OK;
        default:
            return cw_cli_usage_error("test", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        dir = argv[optind++];
    if (optind < argc)
        return cw_cli_usage_error("test", "unexpected argument '%s'", argv[optind]);
    if (cw_cli_load_rules("test", dir, plugins, &w, &rs) < 0)
        return CW_EXIT_USAGE;
    if (file != NULL) {
        cw_fixture_run_file(rs, file, stdout, verbose, &st);
    } else if (cw_fixture_run_dir(rs, dir, stdout, verbose, &st, &err) < 0) {
        fprintf(stderr, "casewarden test: %s\n", err.msg);
        cw_ruleset_free(rs);
        cw_world_free(w);
        return CW_EXIT_USAGE;
    }
    printf("%d passed, %d failed\n", st.passed, st.failed);
    cw_ruleset_free(rs);
    cw_world_free(w);
    return st.failed > 0 ? CW_EXIT_FAIL : CW_EXIT_OK;
}
