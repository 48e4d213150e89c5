/*
 * The process log: one line per message on stderr (or a file), with a
 * level; quiet by default below CW_LOG_WARN for the command-line verbs.
 */
#ifndef CW_LOG_H
#define CW_LOG_H

#include <stdio.h>

#include "casewarden/plugin.h"

void cw_log_set(FILE *f, int level, int with_time);
void cw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
