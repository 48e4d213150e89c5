/*
 * Time values and RFC 3339 text.
 *
 * cw_time is whole seconds since the Unix epoch (UTC). Fractions of a
 * second in input are dropped: legal periods end at 23:59:59 of a day, so
 * 23:59:59.5 is still inside it. A "day" is a civil date counted as days
 * since 1970-01-01 (cw_day), always in the deployment's fixed UTC offset:
 * China keeps one offset all year, so a fixed offset is exact.
 */
#ifndef CW_TIMEUTIL_H
#define CW_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t cw_time;   /* seconds since 1970-01-01T00:00:00Z */
typedef int32_t cw_day;    /* days since 1970-01-01 (civil, local) */

#define CW_TIME_NONE INT64_MIN   /* "no time" (no due, no event) */

/* Parse RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" (also 't'
 * and ' ' as separator, 'z'). The offset is required. Validates ranges
 * (month 1-12, day within month incl. leap years, hour 0-23, minute 0-59,
 * second 0-60; a leap second 60 is read as 59). Returns 0, or -1 on any
 * error. *off_min (may be NULL) receives the offset in minutes. */
int cw_time_parse(const char *s, size_t len, cw_time *out, int *off_min);

/* Format t at the given UTC offset (minutes) as "YYYY-MM-DDTHH:MM:SS+08:00";
 * offset 0 is written "+00:00", never "Z", so that every time has the same
 * shape. buf needs 26 bytes. Returns the length written (without the NUL;
 * less than the full length when size truncated it). */
size_t cw_time_format(cw_time t, int off_min, char *buf, size_t size);

/* Parse "+08:00", "-05:30", "Z" (or "z") into minutes; s is a C string
 * and must hold nothing else. Returns 0 or -1. */
int cw_tz_parse(const char *s, int *off_min);

/* Civil date <-> day number (proleptic Gregorian, any year including
 * negative ones). cw_day_from_civil does not validate its arguments. */
cw_day cw_day_from_civil(int y, int m, int d);
void cw_day_to_civil(cw_day day, int *y, int *m, int *d);
/* Parse "YYYY-MM-DD" strictly. Returns 0 or -1. */
int cw_day_parse(const char *s, size_t len, cw_day *out);
/* Format a day as "YYYY-MM-DD"; buf needs 11 bytes. */
size_t cw_day_format(cw_day day, char *buf, size_t size);
/* 0 = Monday ... 6 = Sunday (ISO). */
int cw_day_weekday(cw_day day);
int cw_days_in_month(int y, int m);   /* 0 when m is not 1-12 */

/* The local day that contains t, and the first/last second of a local day. */
cw_day cw_time_day(cw_time t, int off_min);
cw_time cw_day_start(cw_day day, int off_min);   /* 00:00:00 local */
cw_time cw_day_end(cw_day day, int off_min);     /* 23:59:59 local */


#endif
