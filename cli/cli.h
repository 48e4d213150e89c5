#ifndef CW_CLI_H
#define CW_CLI_H

#include <stdio.h>

/* Each verb: argc/argv start at the verb itself. Exit codes: 0 success,
 * 1 findings of failing tests or rejected input under --strict, 2 usage
 * or configuration errors. */
int cw_cmd_eval(int argc, char **argv);
int cw_cmd_test(int argc, char **argv);

#define CW_EXIT_USAGE 2

#endif
