/*
 * The legal calendar: statutory holidays and make-up working days per
 * year, and the period arithmetic of the procedural law.
 *
 * Loaded from YAML, one file per year:
 *
 *     year: 2026
 *     source: 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04)
 *     holidays:            # non-working even if a weekday
 *       - {from: 2026-01-01, to: 2026-01-03, name: 元旦}
 *       - {date: 2026-04-04, name: 清明节}
 *     workdays:            # make-up working days (调休上班), even if weekend
 *       - 2026-01-04
 *
 * A day is non-working when it is a holiday, or a Saturday/Sunday that is
 * not a make-up working day. Days in years the calendar does not cover are
 * judged by weekends alone, and the functions that compute a due time say
 * so through *uncovered so the finding can tell the reader.
 */
#ifndef CW_CALENDAR_H
#define CW_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/timeutil.h"

typedef struct cw_calendar cw_calendar;

/* An empty calendar (weekends only) with the given UTC offset in minutes;
 * an offset of a day or more is CW_EINVAL. */
int cw_calendar_new(cw_calendar **out, int off_min, cw_err *err);
/* Add the year described by the YAML file at path (years 1970-2200).
 * Errors (CW_EPARSE, CW_EIO) name path:line and the field; unknown keys, a
 * missing year, a year loaded twice, a malformed date, a date outside the
 * file's year, from > to, a day both holiday and workday, and a make-up
 * workday that is not a Saturday or Sunday are errors. Entries of both
 * lists are a date or a map {date | from, to; name}. On error the
 * calendar is unchanged. */
int cw_calendar_load_file(cw_calendar *cal, const char *path, cw_err *err);
/* The same from memory; name stands for the path in messages. */
int cw_calendar_load_buffer(cw_calendar *cal, const char *name, const char *buf,
                            size_t len, cw_err *err);
/* Load every *.yaml in dir (hidden files excepted), in byte order of the
 * names, stopping at the first error. A missing or unreadable directory
 * (CW_EIO) and one without *.yaml files (CW_ENOTFOUND) are errors. */
int cw_calendar_load_dir(cw_calendar *cal, const char *dir, cw_err *err);
void cw_calendar_free(cw_calendar *cal);

int cw_calendar_offset(const cw_calendar *cal);      /* minutes east of UTC */
bool cw_calendar_covers(const cw_calendar *cal, int year);
/* The last year covered, or 0 when none is. */
int cw_calendar_last_year(const cw_calendar *cal);

/* How many days after the day of `now` the calendar ends (31 December of
 * its last year: 0 on that day, negative past it); INT_MIN when it
 * covers no year. Within CW_CALENDAR_WARN_DAYS the next year's 国办 notice
 * is due: `check`, the service's log and /metrics say so, and
 * cw_calendar_end_warning writes the sentence they use ("" otherwise). */
#define CW_CALENDAR_WARN_DAYS 60
int cw_calendar_days_left(const cw_calendar *cal, cw_time now);
bool cw_calendar_end_warning(const cw_calendar *cal, cw_time now, char *buf, size_t size);
bool cw_calendar_is_workday(const cw_calendar *cal, cw_day day);
bool cw_calendar_is_holiday(const cw_calendar *cal, cw_day day); /* statutory */

/* The period functions all count from `start` (a moment) and return the
 * due moment: the last second that is still on time. `uncovered` (may be
 * NULL) is set to true when a day that decided the result lies in a year
 * the calendar does not cover, and left untouched otherwise. The days that
 * decide are the last day (with or without rollover), every day examined
 * while rolling over, and every day counted through by add_workdays. Days
 * are those of the calendar's offset. A start of CW_TIME_NONE gives
 * CW_TIME_NONE.
 *
 * Days: the starting day is not counted; the period ends at 23:59:59 of
 * day(start)+n. With rollover, a last day that is non-working moves to the
 * first working day after it; custody periods pass rollover=false. */
cw_time cw_calendar_add_days(const cw_calendar *cal, cw_time start, int n,
                             bool rollover, bool *uncovered);
/* Working days: the n-th working day after day(start), end of that day;
 * n <= 0 gives the end of day(start). */
cw_time cw_calendar_add_workdays(const cw_calendar *cal, cw_time start, int n,
                                 bool *uncovered);
/* Months: the same date n months later; a date that does not exist there,
 * or a start on the last day of its month, maps to the last day of the
 * target month; end of that day, then rollover as for days. extra_days
 * are added after the months (extensions), before rollover. */
cw_time cw_calendar_add_months(const cw_calendar *cal, cw_time start, int n,
                               int extra_days, bool rollover, bool *uncovered);
/* Hours run by the clock: start + n*3600. */
cw_time cw_calendar_add_hours(const cw_calendar *cal, cw_time start, int n);

#endif
