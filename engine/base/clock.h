/*
 * The one monotonic clock of the program, for measuring how long things
 * take (never for what rules judge: their clock is event time).
 */
#ifndef CW_CLOCK_H
#define CW_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t cw_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Seconds, for progress lines and reports. */
static inline double cw_mono_s(void)
{
    return (double)cw_mono_ns() / 1e9;
}

#endif
