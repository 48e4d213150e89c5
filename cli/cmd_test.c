#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fixture.h"

static void test_usage(FILE *f)
{
    fprintf(f,
        "usage: casewarden test [--verbose] [DIR] [--only FILE.yaml]\n\n"
        "Run the fixture tests of the rules directory DIR (default: rules): every\n"
        "DIR/tests/*.yaml, each a list of small cases with a `now` and the findings\n"
        "expected (format: docs/RULES.md). Prints each failure with what was\n"
        "expected and what came, then `N passed, N failed`.\n\n"
        "  --only FILE    run one fixture file instead of DIR/tests\n"
        "  --verbose      also list the tests that pass\n\n"
        "Exit status: 0 when all pass, 1 when any fails, 2 when the rules do not load.\n");
}

int cw_cmd_test(int argc, char **argv)
{
    static const struct option opts[] = {
        { "only", required_argument, NULL, 'o' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "rules", *only = NULL;
    cw_fixture_stats stats = { 0 };
    cw_ruleset *rs = NULL;
    int c, verbose = 0;
    char *tests;
    cw_err err;

    optind = 1;
    while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
        switch (c) {
        case 'o': only = optarg; break;
        case 'v': verbose = 1; break;
        case 'h': test_usage(stdout); return 0;
        default: test_usage(stderr); return CW_EXIT_USAGE;
        }
    }
    if (optind < argc)
        dir = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "casewarden test: unexpected argument '%s'\n", argv[optind]);
        return CW_EXIT_USAGE;
    }
    if (cw_ruleset_load(&rs, dir, stderr, &err) < 0) {
        fprintf(stderr, "casewarden test: rules in %s not loaded\n", dir);
        return CW_EXIT_USAGE;
    }
    if (only != NULL) {
        cw_fixture_run_file(rs, only, stdout, verbose, &stats);
    } else {
        if ((tests = malloc(strlen(dir) + 7)) == NULL) {
            cw_ruleset_free(rs);
            return CW_EXIT_USAGE;
        }
        sprintf(tests, "%s/tests", dir);
        if (cw_fixture_run_dir(rs, tests, stdout, verbose, &stats, &err) < 0) {
            fprintf(stderr, "casewarden test: %s\n", err.msg);
            free(tests);
            cw_ruleset_free(rs);
            return CW_EXIT_USAGE;
        }
        free(tests);
    }
    printf("%d passed, %d failed\n", stats.passed, stats.failed);
    cw_ruleset_free(rs);
    return stats.failed ? 1 : 0;
}
