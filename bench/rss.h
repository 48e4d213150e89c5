/*
 * The resident set size of this process now, from /proc/self/statm, for
 * the bench programs that measure memory. 0 when unknown.
 */
#ifndef CW_BENCH_RSS_H
#define CW_BENCH_RSS_H

#include <stdio.h>
#include <unistd.h>

static size_t rss_now(void)
{
    unsigned long size, res;
    FILE *f = fopen("/proc/self/statm", "r");
    int n;

    if (f == NULL)
        return 0;
    n = fscanf(f, "%lu %lu", &size, &res);
    fclose(f);
    return n == 2 ? (size_t)res * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

#endif
