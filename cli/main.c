/*
 * casewarden: one binary, one verb per job.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct verb {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} verbs[] = {
    { "eval", cw_cmd_eval, "evaluate rules over a JSONL event file, no database" },
    { "test", cw_cmd_test, "run the rule fixture tests of a rules directory" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: casewarden VERB [OPTIONS]\n\n"
               "casewarden evaluates law-enforcement supervision rules over case events.\n\n"
               "verbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        fprintf(f, "  %-6s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\n`casewarden VERB --help` describes a verb.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CW_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc > 2)
            for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
                if (strcmp(argv[2], verbs[i].name) == 0) {
                    char *hargv[] = { argv[2], "--help", NULL };
                    return verbs[i].run(2, hargv);
                }
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("casewarden %s\n", PACKAGE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "casewarden: unknown verb '%s'\n\n", argv[1]);
    usage(stderr);
    return CW_EXIT_USAGE;
}
