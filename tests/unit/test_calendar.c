#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "law/calendar.h"

#define BEIJING (8 * 60)

static cw_time T(const char *s)
{
    cw_time t;

    if (cw_time_parse(s, strlen(s), &t, NULL) < 0)
        fail_msg("cannot parse '%s'", s);
    return t;
}

static cw_day D(int y, int m, int d)
{
    return cw_day_from_civil(y, m, d);
}

/* Compare due moments as text, so that a failure shows the dates. */
#define assert_due(got, want)                                          \
    do {                                                               \
        char buf_[40];                                                 \
        cw_time_format((got), BEIJING, buf_, sizeof buf_);             \
        assert_string_equal(buf_, (want));                             \
    } while (0)

static int setup(void **state)
{
    cw_calendar *cal;
    cw_err err;

    if (cw_calendar_new(&cal, BEIJING, &err) < 0 ||
        cw_calendar_load_dir(cal, CW_SRCDIR "/rules/calendar", &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    *state = cal;
    return 0;
}

static int teardown(void **state)
{
    cw_calendar_free(*state);
    return 0;
}

static void test_shipped_calendar_days(void **state)
{
    const cw_calendar *cal = *state;

    assert_int_equal(cw_calendar_offset(cal), BEIJING);
    assert_true(cw_calendar_covers(cal, 2025));
    assert_true(cw_calendar_covers(cal, 2026));
    assert_false(cw_calendar_covers(cal, 2024));
    assert_false(cw_calendar_covers(cal, 2027));
    assert_false(cw_calendar_covers(cal, 1969));
    assert_false(cw_calendar_covers(cal, 99999));
    /* An ordinary week: Mon-Fri work, Sat-Sun rest, neither a holiday. */
    assert_true(cw_calendar_is_workday(cal, D(2026, 3, 2)));
    assert_true(cw_calendar_is_workday(cal, D(2026, 3, 6)));
    assert_false(cw_calendar_is_workday(cal, D(2026, 3, 7)));
    assert_false(cw_calendar_is_workday(cal, D(2026, 3, 8)));
    assert_false(cw_calendar_is_holiday(cal, D(2026, 3, 7)));
    /* Holidays on weekdays and weekends. */
    assert_false(cw_calendar_is_workday(cal, D(2026, 1, 1)));
    assert_true(cw_calendar_is_holiday(cal, D(2026, 1, 1)));
    assert_true(cw_calendar_is_holiday(cal, D(2026, 1, 3)));    /* a Saturday */
    assert_true(cw_calendar_is_holiday(cal, D(2026, 2, 23)));   /* Monday, 春节 */
    assert_false(cw_calendar_is_workday(cal, D(2026, 2, 23)));
    assert_true(cw_calendar_is_workday(cal, D(2026, 2, 24)));
    assert_true(cw_calendar_is_holiday(cal, D(2026, 10, 7)));
    assert_true(cw_calendar_is_holiday(cal, D(2025, 10, 8)));
    assert_false(cw_calendar_is_holiday(cal, D(2025, 10, 9)));
    /* Make-up working days are working days, and not holidays. */
    assert_true(cw_calendar_is_workday(cal, D(2026, 1, 4)));    /* Sunday */
    assert_true(cw_calendar_is_workday(cal, D(2026, 2, 14)));
    assert_true(cw_calendar_is_workday(cal, D(2026, 2, 28)));
    assert_true(cw_calendar_is_workday(cal, D(2026, 5, 9)));
    assert_true(cw_calendar_is_workday(cal, D(2026, 9, 20)));
    assert_true(cw_calendar_is_workday(cal, D(2026, 10, 10)));
    assert_true(cw_calendar_is_workday(cal, D(2025, 1, 26)));
    assert_true(cw_calendar_is_workday(cal, D(2025, 2, 8)));
    assert_true(cw_calendar_is_workday(cal, D(2025, 4, 27)));
    assert_true(cw_calendar_is_workday(cal, D(2025, 9, 28)));
    assert_true(cw_calendar_is_workday(cal, D(2025, 10, 11)));
    assert_false(cw_calendar_is_holiday(cal, D(2026, 1, 4)));
    /* Uncovered years: weekends only, no holidays. */
    assert_true(cw_calendar_is_workday(cal, D(2027, 1, 1)));    /* Friday */
    assert_false(cw_calendar_is_holiday(cal, D(2027, 1, 1)));
    assert_false(cw_calendar_is_workday(cal, D(2027, 1, 2)));
    assert_true(cw_calendar_is_workday(cal, D(1900, 1, 1)));
    assert_true(cw_calendar_is_workday(cal, D(2500, 1, 1)));    /* Friday */
}

static void test_shipped_calendar_counts(void **state)
{
    const cw_calendar *cal = *state;
    int hol[2] = { 0, 0 }, rest[2] = { 0, 0 };

    /* The notices' totals: 2025 has 28 holidays (1+8+3+5+3+8) and 2026
     * has 33 (3+9+3+5+3+3+7); their numbers of rest days follow. */
    for (int y = 2025; y <= 2026; y++)
        for (cw_day d = D(y, 1, 1); d < D(y + 1, 1, 1); d++) {
            hol[y - 2025] += cw_calendar_is_holiday(cal, d);
            rest[y - 2025] += !cw_calendar_is_workday(cal, d);
        }
    assert_int_equal(hol[0], 28);
    assert_int_equal(hol[1], 33);
    /* 2025: 104 weekend days + 28 holidays - 10 holidays on weekends
     * - 5 make-up days = 117. 2026: 104 + 33 - 14 - 6 = 117. */
    assert_int_equal(rest[0], 117);
    assert_int_equal(rest[1], 117);
}

static void test_days_roll_over_weekend(void **state)
{
    const cw_calendar *cal = *state;
    bool unc = false;

    /* Mon 2026-03-02 + 5 = Sat 03-07 -> Mon 03-09. */
    assert_due(cw_calendar_add_days(cal, T("2026-03-02T10:00:00+08:00"), 5, true, &unc),
               "2026-03-09T23:59:59+08:00");
    /* + 4 = Fri 03-06, a working day. */
    assert_due(cw_calendar_add_days(cal, T("2026-03-02T10:00:00+08:00"), 4, true, &unc),
               "2026-03-06T23:59:59+08:00");
    /* The starting day is not counted even at its last second. */
    assert_due(cw_calendar_add_days(cal, T("2026-03-02T23:59:59+08:00"), 1, true, &unc),
               "2026-03-03T23:59:59+08:00");
    assert_due(cw_calendar_add_days(cal, T("2026-03-03T00:00:00+08:00"), 1, true, &unc),
               "2026-03-04T23:59:59+08:00");
    /* The start is placed in the calendar's day whatever its own offset:
     * 2026-03-02T16:30Z is already Tuesday 03-03 in Beijing. */
    assert_due(cw_calendar_add_days(cal, T("2026-03-02T16:30:00Z"), 1, true, &unc),
               "2026-03-04T23:59:59+08:00");
    /* n = 0 is the starting day itself. */
    assert_due(cw_calendar_add_days(cal, T("2026-03-02T10:00:00+08:00"), 0, true, &unc),
               "2026-03-02T23:59:59+08:00");
    assert_false(unc);
    assert_int_equal(cw_calendar_add_days(cal, CW_TIME_NONE, 3, true, &unc), CW_TIME_NONE);
}

static void test_days_qingming_2026(void **state)
{
    const cw_calendar *cal = *state;
    bool unc = false;

    /* Thu 03-05 + 30 = Sat 04-04 (清明); Sun 04-05 and Mon 04-06 are
     * holidays too: Tue 04-07. */
    assert_due(cw_calendar_add_days(cal, T("2026-03-05T09:00:00+08:00"), 30, true, &unc),
               "2026-04-07T23:59:59+08:00");
    /* Landing on the last holiday rolls one day. */
    assert_due(cw_calendar_add_days(cal, T("2026-03-05T09:00:00+08:00"), 32, true, &unc),
               "2026-04-07T23:59:59+08:00");
    /* Custody: no rollover, the period ends on the holiday. */
    assert_due(cw_calendar_add_days(cal, T("2026-03-05T09:00:00+08:00"), 30, false, &unc),
               "2026-04-04T23:59:59+08:00");
    assert_false(unc);
}

static void test_days_make_up_workday(void **state)
{
    const cw_calendar *cal = *state;
    bool unc = false;

    /* Wed 02-25 + 3 = Sat 02-28, a make-up working day: no roll. */
    assert_due(cw_calendar_add_days(cal, T("2026-02-25T10:00:00+08:00"), 3, true, &unc),
               "2026-02-28T23:59:59+08:00");
    /* Sun 2026-01-04 too (元旦 make-up). Wed 2025-12-31 + 4 = 01-04. */
    assert_due(cw_calendar_add_days(cal, T("2025-12-31T10:00:00+08:00"), 4, true, &unc),
               "2026-01-04T23:59:59+08:00");
    /* + 1 = Thu 01-01 (元旦 1-3): rolls to the make-up Sunday 01-04. */
    assert_due(cw_calendar_add_days(cal, T("2025-12-31T10:00:00+08:00"), 1, true, &unc),
               "2026-01-04T23:59:59+08:00");
    /* 2025: Sun 09-28 is a make-up day. Thu 09-25 + 3. */
    assert_due(cw_calendar_add_days(cal, T("2025-09-25T10:00:00+08:00"), 3, true, &unc),
               "2025-09-28T23:59:59+08:00");
    assert_false(unc);
}

static void test_days_spring_festival_2026(void **state)
{
    const cw_calendar *cal = *state;
    bool unc = false;

    /* Tue 02-10 + 5 = Sun 02-15: 春节 15-23 Feb -> Tue 02-24. */
    assert_due(cw_calendar_add_days(cal, T("2026-02-10T10:00:00+08:00"), 5, true, &unc),
               "2026-02-24T23:59:59+08:00");
    /* Fri 02-13 + 1 = Sat 02-14, a make-up working day before it. */
    assert_due(cw_calendar_add_days(cal, T("2026-02-13T10:00:00+08:00"), 1, true, &unc),
               "2026-02-14T23:59:59+08:00");
    /* Custody inside the block stays there. */
    assert_due(cw_calendar_add_days(cal, T("2026-02-10T10:00:00+08:00"), 10, false, &unc),
               "2026-02-20T23:59:59+08:00");
    /* 2025: Fri 01-24 + 4 = Tue 01-28 (春节 28 Jan-4 Feb) -> Wed 02-05. */
    assert_due(cw_calendar_add_days(cal, T("2025-01-24T10:00:00+08:00"), 4, true, &unc),
               "2025-02-05T23:59:59+08:00");
    assert_false(unc);
}

static void test_days_national_day_2025(void **state)
{
    const cw_calendar *cal = *state;
    bool unc = false;

    /* Wed 09-24 + 7 = Wed 10-01; 国庆节、中秋节 1-8 Oct -> Thu 10-09. */
    assert_due(cw_calendar_add_days(cal, T("2025-09-24T10:00:00+08:00"), 7, true, &unc),
               "2025-10-09T23:59:59+08:00");
    /* + 14 = Wed 10-08, the last day of the block: Thu 10-09. */
    assert_due(cw_calendar_add_days(cal, T("2025-09-24T10:00:00+08:00"), 14, true, &unc),
               "2025-10-09T23:59:59+08:00");
    /* Without the calendar Wed 10-08 would have been a working day. */
    assert_due(cw_calendar_add_days(cal, T("2025-09-24T10:00:00+08:00"), 14, false, &unc),
               "2025-10-08T23:59:59+08:00");
    /* 2026 National Day 1-7 Oct: Tue 09-01 + 30 = Thu 10-01 -> Thu 10-08. */
    assert_due(cw_calendar_add_days(cal, T("2026-09-01T10:00:00+08:00"), 30, true, &unc),
               "2026-10-08T23:59:59+08:00");
    assert_false(unc);
}

static void test_days_uncovered_year(void **state)
{
    const cw_calendar *cal = *state;
    bool unc = false;

    /* Wed 2026-12-30 + 3 = Sat 2027-01-02; 2027 is not covered: weekends
     * only (元旦 2027 is unknown) -> Mon 01-04, and the flag says so. */
    assert_due(cw_calendar_add_days(cal, T("2026-12-30T10:00:00+08:00"), 3, true, &unc),
               "2027-01-04T23:59:59+08:00");
    assert_true(unc);
    /* A working last day in an uncovered year still rests on weekends
     * alone. */
    unc = false;
    assert_due(cw_calendar_add_days(cal, T("2026-12-30T10:00:00+08:00"), 2, true, &unc),
               "2027-01-01T23:59:59+08:00");
    assert_true(unc);
    /* So does a custody last day. */
    unc = false;
    assert_due(cw_calendar_add_days(cal, T("2026-12-30T10:00:00+08:00"), 3, false, &unc),
               "2027-01-02T23:59:59+08:00");
    assert_true(unc);
    /* A start in an uncovered year with the due in a covered one is fine. */
    unc = false;
    assert_due(cw_calendar_add_days(cal, T("2024-12-30T10:00:00+08:00"), 2, true, &unc),
               "2025-01-02T23:59:59+08:00");
    assert_false(unc);
    /* The flag is only ever set, never cleared. */
    unc = true;
    cw_calendar_add_days(cal, T("2026-03-02T10:00:00+08:00"), 1, true, &unc);
    assert_true(unc);
    /* NULL is allowed. */
    assert_due(cw_calendar_add_days(cal, T("2026-12-30T10:00:00+08:00"), 3, true, NULL),
               "2027-01-04T23:59:59+08:00");
}

static void test_rolling_into_an_uncovered_year(void **state)
{
    static const char y2030[] =
        "year: 2030\n"
        "holidays:\n"
        "  - {date: 2030-12-31, name: test}\n";
    cw_calendar *cal;
    cw_err err;
    bool unc = false;

    assert_int_equal(cw_calendar_new(&cal, BEIJING, &err), 0);
    assert_int_equal(cw_calendar_load_buffer(cal, "2030.yaml", y2030, sizeof y2030 - 1, &err), 0);
    /* Mon 2030-12-30 + 1 = Tue 12-31, a holiday (covered): the roll reads
     * Wed 2031-01-01, which is uncovered. */
    assert_due(cw_calendar_add_days(cal, T("2030-12-30T10:00:00+08:00"), 1, true, &unc),
               "2031-01-01T23:59:59+08:00");
    assert_true(unc);
    /* Without rollover 2031 is never examined. */
    unc = false;
    assert_due(cw_calendar_add_days(cal, T("2030-12-30T10:00:00+08:00"), 1, false, &unc),
               "2030-12-31T23:59:59+08:00");
    assert_false(unc);
    cw_calendar_free(cal);
}

static void test_weekends_only_at_another_offset(void **state)
{
    cw_calendar *cal;
    cw_err err;
    bool unc = false;
    char buf[32];

    assert_int_equal(cw_calendar_new(&cal, -300, &err), 0);
    assert_int_equal(cw_calendar_offset(cal), -300);
    assert_false(cw_calendar_covers(cal, 2026));
    /* 2026-03-06T03:00Z is Thu 03-05 22:00 at -05:00: + 2 = Sat 03-07
     * -> Mon 03-09, end of day at -05:00. */
    cw_time_format(cw_calendar_add_days(cal, T("2026-03-06T03:00:00Z"), 2, true, &unc),
                   -300, buf, sizeof buf);
    assert_string_equal(buf, "2026-03-09T23:59:59-05:00");
    assert_true(unc);
    /* Holidays do not exist in an empty calendar. */
    assert_true(cw_calendar_is_workday(cal, D(2026, 10, 1)));
    cw_calendar_free(cal);
    assert_int_equal(cw_calendar_new(&cal, 24 * 60, &err), CW_EINVAL);
    assert_null(cal);
}

static void test_workdays(void **state)
{
    const cw_calendar *cal = *state;
    bool unc = false;

    /* Mon 03-02 + 5 working days = Mon 03-09. */
    assert_due(cw_calendar_add_workdays(cal, T("2026-03-02T10:00:00+08:00"), 5, &unc),
               "2026-03-09T23:59:59+08:00");
    /* Wed 09-30 + 3: 1-7 Oct holidays, Thu 10-08, Fri 10-09, make-up
     * Sat 10-10. */
    assert_due(cw_calendar_add_workdays(cal, T("2026-09-30T10:00:00+08:00"), 3, &unc),
               "2026-10-10T23:59:59+08:00");
    /* Thu 02-12 + 3: Fri 02-13, make-up Sat 02-14, then 春节 to Tue 02-24. */
    assert_due(cw_calendar_add_workdays(cal, T("2026-02-12T10:00:00+08:00"), 3, &unc),
               "2026-02-24T23:59:59+08:00");
    /* Starting on a holiday counts from the next working day. */
    assert_due(cw_calendar_add_workdays(cal, T("2025-10-01T10:00:00+08:00"), 1, &unc),
               "2025-10-09T23:59:59+08:00");
    /* n = 0 is the end of the starting day. */
    assert_due(cw_calendar_add_workdays(cal, T("2026-04-04T10:00:00+08:00"), 0, &unc),
               "2026-04-04T23:59:59+08:00");
    assert_false(unc);
    /* Counting into 2027 uses weekends only and says so. */
    assert_due(cw_calendar_add_workdays(cal, T("2026-12-30T10:00:00+08:00"), 3, &unc),
               "2027-01-04T23:59:59+08:00");
    assert_true(unc);
    assert_int_equal(cw_calendar_add_workdays(cal, CW_TIME_NONE, 3, &unc), CW_TIME_NONE);
}

static void test_months_month_end(void **state)
{
    const cw_calendar *cal = *state;
    bool unc = false;

    /* 31 Jan 2026 + 1 month: no 31 Feb -> Sat 02-28, a make-up working
     * day, so no roll either. */
    assert_due(cw_calendar_add_months(cal, T("2026-01-31T10:00:00+08:00"), 1, 0, true, &unc),
               "2026-02-28T23:59:59+08:00");
    /* 30 Jan and 29 Jan map to 28 Feb too. */
    assert_due(cw_calendar_add_months(cal, T("2026-01-29T10:00:00+08:00"), 1, 0, false, &unc),
               "2026-02-28T23:59:59+08:00");
    /* 28 Feb 2026, the last day of February -> the last day of March. */
    assert_due(cw_calendar_add_months(cal, T("2026-02-28T10:00:00+08:00"), 1, 0, true, &unc),
               "2026-03-31T23:59:59+08:00");
    /* 27 Feb is not a month end: same date. */
    assert_due(cw_calendar_add_months(cal, T("2026-02-27T10:00:00+08:00"), 1, 0, true, &unc),
               "2026-03-27T23:59:59+08:00");
    /* 30 Apr -> 31 May, a Sunday: rolls to Mon 06-01; custody stays. */
    assert_due(cw_calendar_add_months(cal, T("2026-04-30T10:00:00+08:00"), 1, 0, false, &unc),
               "2026-05-31T23:59:59+08:00");
    assert_due(cw_calendar_add_months(cal, T("2026-04-30T10:00:00+08:00"), 1, 0, true, &unc),
               "2026-06-01T23:59:59+08:00");
    /* 31 Mar -> 30 Apr (Thu). */
    assert_due(cw_calendar_add_months(cal, T("2026-03-31T10:00:00+08:00"), 1, 0, true, &unc),
               "2026-04-30T23:59:59+08:00");
    /* 31 Dec 2025 + 2 months crosses the year: 28 Feb 2026. */
    assert_due(cw_calendar_add_months(cal, T("2025-12-31T10:00:00+08:00"), 2, 0, false, &unc),
               "2026-02-28T23:59:59+08:00");
    /* Mon 03-02 + 2 months = Sat 05-02 (劳动节 1-5 May): custody stays,
     * otherwise Wed 05-06. */
    assert_due(cw_calendar_add_months(cal, T("2026-03-02T10:00:00+08:00"), 2, 0, false, &unc),
               "2026-05-02T23:59:59+08:00");
    assert_due(cw_calendar_add_months(cal, T("2026-03-02T10:00:00+08:00"), 2, 0, true, &unc),
               "2026-05-06T23:59:59+08:00");
    /* Fri 2025-01-31 + 12 = Sat 2026-01-31 -> Mon 02-02. */
    assert_due(cw_calendar_add_months(cal, T("2025-01-31T10:00:00+08:00"), 12, 0, true, &unc),
               "2026-02-02T23:59:59+08:00");
    assert_false(unc);
}

static void test_months_leap_day(void **state)
{
    const cw_calendar *cal = *state;
    bool unc = false;

    /* 29 Feb 2024 + 12 months: the last day of February 2025, Fri. 2024
     * is uncovered but only the due day decides. */
    assert_due(cw_calendar_add_months(cal, T("2024-02-29T10:00:00+08:00"), 12, 0, true, &unc),
               "2025-02-28T23:59:59+08:00");
    assert_false(unc);
    /* 28 Feb 2025 (last day) + 12 -> 28 Feb 2026, the make-up Saturday. */
    assert_due(cw_calendar_add_months(cal, T("2025-02-28T10:00:00+08:00"), 12, 0, true, &unc),
               "2026-02-28T23:59:59+08:00");
    assert_false(unc);
    /* 31 Jan 2028 + 1 -> Tue 29 Feb 2028, uncovered. */
    assert_due(cw_calendar_add_months(cal, T("2028-01-31T10:00:00+08:00"), 1, 0, true, &unc),
               "2028-02-29T23:59:59+08:00");
    assert_true(unc);
    /* Sun 28 Feb 2027, the last day of February -> 29 Feb 2028. */
    assert_due(cw_calendar_add_months(cal, T("2027-02-28T10:00:00+08:00"), 12, 0, true, NULL),
               "2028-02-29T23:59:59+08:00");
    /* 28 Feb 2028 is not the last day: 28 Feb 2029 (Wed). */
    assert_due(cw_calendar_add_months(cal, T("2028-02-28T10:00:00+08:00"), 12, 0, true, NULL),
               "2029-02-28T23:59:59+08:00");
    /* Negative months borrow years: 31 Mar 2026 - 13 = 28 Feb 2025. */
    assert_due(cw_calendar_add_months(cal, T("2026-03-31T10:00:00+08:00"), -13, 0, false, NULL),
               "2025-02-28T23:59:59+08:00");
}

static void test_months_extra_days(void **state)
{
    const cw_calendar *cal = *state;
    bool unc = false;

    /* Sat 01-31 + 2 months = Tue 03-31, + 30 days = Thu 04-30 (months
     * first: days first would give a different date). */
    assert_due(cw_calendar_add_months(cal, T("2026-01-31T10:00:00+08:00"), 2, 30, false, &unc),
               "2026-04-30T23:59:59+08:00");
    /* 2025-12-31 + 2 months = 02-28, + 1 = Sun 03-01: custody stays,
     * otherwise Mon 03-02. */
    assert_due(cw_calendar_add_months(cal, T("2025-12-31T10:00:00+08:00"), 2, 1, false, &unc),
               "2026-03-01T23:59:59+08:00");
    assert_due(cw_calendar_add_months(cal, T("2025-12-31T10:00:00+08:00"), 2, 1, true, &unc),
               "2026-03-02T23:59:59+08:00");
    /* The extension is added before rollover: 03-02 + 2 months = 05-02,
     * + 2 = Mon 05-04 (劳动节) -> Wed 05-06. */
    assert_due(cw_calendar_add_months(cal, T("2026-03-02T10:00:00+08:00"), 2, 2, true, &unc),
               "2026-05-06T23:59:59+08:00");
    /* n = 0: only the days; Mon 03-02 + 5 = Sat 03-07 -> Mon 03-09. */
    assert_due(cw_calendar_add_months(cal, T("2026-03-02T10:00:00+08:00"), 0, 5, true, &unc),
               "2026-03-09T23:59:59+08:00");
    assert_due(cw_calendar_add_months(cal, T("2026-03-02T10:00:00+08:00"), 0, 0, true, &unc),
               "2026-03-02T23:59:59+08:00");
    assert_false(unc);
    assert_int_equal(cw_calendar_add_months(cal, CW_TIME_NONE, 1, 0, true, &unc), CW_TIME_NONE);
}

static void test_hours(void **state)
{
    const cw_calendar *cal = *state;

    assert_due(cw_calendar_add_hours(cal, T("2026-03-02T22:00:00+08:00"), 3),
               "2026-03-03T01:00:00+08:00");
    assert_due(cw_calendar_add_hours(cal, T("2026-03-02T22:30:15+08:00"), 24),
               "2026-03-03T22:30:15+08:00");
    /* Hours ignore holidays and weekends. */
    assert_due(cw_calendar_add_hours(cal, T("2026-09-30T20:00:00+08:00"), 24),
               "2026-10-01T20:00:00+08:00");
    assert_due(cw_calendar_add_hours(cal, T("2026-12-31T23:00:00+08:00"), 1),
               "2027-01-01T00:00:00+08:00");
    assert_int_equal(cw_calendar_add_hours(cal, T("2026-03-02T22:00:00+08:00"), 0),
                     T("2026-03-02T22:00:00+08:00"));
    assert_int_equal(cw_calendar_add_hours(cal, CW_TIME_NONE, 1), CW_TIME_NONE);
}

/* Load text as a file named name into a fresh calendar (with the shipped
 * 2026 loaded first when with2026) and expect an error containing needle. */
static void expect_load_error(const char *text, bool with2026, int code, const char *needle)
{
    cw_calendar *cal;
    cw_err err;

    assert_int_equal(cw_calendar_new(&cal, BEIJING, &err), 0);
    if (with2026)
        assert_int_equal(cw_calendar_load_file(cal, CW_SRCDIR "/rules/calendar/2026.yaml",
                                               &err), 0);
    cw_err_clear(&err);
    assert_int_equal(cw_calendar_load_buffer(cal, "cal.yaml", text, strlen(text), &err), code);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("'%s' not in '%s'", needle, err.msg);
    cw_calendar_free(cal);
}

static void test_load_errors_name_file_line_and_field(void **state)
{
    expect_load_error("year: 2026\nsource: x\nholiday: []\n", false, CW_EPARSE,
                      "cal.yaml:3: unknown key 'holiday'");
    expect_load_error("source: x\nholidays: []\n", false, CW_EPARSE,
                      "cal.yaml:1: missing field 'year'");
    expect_load_error("\n\nyear: twenty\n", false, CW_EPARSE,
                      "cal.yaml:3: field 'year': expected an integer");
    expect_load_error("year: '2026'\n", false, CW_EPARSE,
                      "cal.yaml:1: field 'year': expected an integer");
    expect_load_error("year: 1900\n", false, CW_EPARSE,
                      "cal.yaml:1: field 'year': 1900 is outside 1970-2200");
    expect_load_error("# again\nyear: 2026\n", true, CW_EPARSE,
                      "cal.yaml:2: field 'year': 2026 is already loaded from "
                      CW_SRCDIR "/rules/calendar/2026.yaml");
    expect_load_error("year: 2026\nholidays:\n  - {date: 2026-01-01}\n"
                      "  - {from: 2025-12-31, to: 2026-01-02}\n", false, CW_EPARSE,
                      "cal.yaml:4: field 'from': 2025-12-31 is outside year 2026");
    expect_load_error("year: 2026\nholidays:\n  - {from: 2026-12-31,\n     to: 2027-01-01}\n",
                      false, CW_EPARSE, "cal.yaml:4: field 'to': 2027-01-01 is outside year 2026");
    expect_load_error("year: 2026\nworkdays:\n  - 2025-12-28\n", false, CW_EPARSE,
                      "cal.yaml:3: field 'workdays': 2025-12-28 is outside year 2026");
    expect_load_error("year: 2026\nholidays:\n  - {from: 2026-01-01, to: 2026-01-03}\n"
                      "workdays:\n  - 2026-01-04\n  - 2026-01-03\n", false, CW_EPARSE,
                      "cal.yaml:6: field 'workdays': 2026-01-03 is also a holiday (line 3)");
    /* The clash is found whichever list comes first in the file. */
    expect_load_error("year: 2026\nworkdays: [2026-01-03]\n"
                      "holidays:\n  - {from: 2026-01-01, to: 2026-01-03}\n", false, CW_EPARSE,
                      "cal.yaml:2: field 'workdays': 2026-01-03 is also a holiday (line 4)");
    expect_load_error("year: 2026\nholidays:\n  - {from: 2026-01-03, to: 2026-01-01}\n",
                      false, CW_EPARSE,
                      "cal.yaml:3: field 'from': 2026-01-03 is after 'to' 2026-01-01");
    expect_load_error("year: 2026\nholidays:\n  - {date: 2026-1-01}\n", false, CW_EPARSE,
                      "cal.yaml:3: field 'date': expected a date YYYY-MM-DD, got '2026-1-01'");
    expect_load_error("year: 2026\nholidays:\n  - {date: 2026-02-29}\n", false, CW_EPARSE,
                      "cal.yaml:3: field 'date': expected a date YYYY-MM-DD, got '2026-02-29'");
    expect_load_error("year: 2026\nworkdays:\n  - 2026-01-04\n  - 04.01.2026\n", false,
                      CW_EPARSE, "cal.yaml:4: field 'workdays': expected a date YYYY-MM-DD");
    expect_load_error("year: 2026\nholidays:\n  - {from: 2026-01-01, to: [x]}\n", false,
                      CW_EPARSE, "cal.yaml:3: field 'to': expected a date YYYY-MM-DD");
    expect_load_error("year: 2026\nholidays:\n  - {date: 2026-01-01, nmae: x}\n", false,
                      CW_EPARSE, "cal.yaml:3: unknown key 'nmae' in an entry of 'holidays'");
    expect_load_error("year: 2026\nholidays:\n  - {from: 2026-01-01, name: x}\n", false,
                      CW_EPARSE, "cal.yaml:3: field 'to': missing");
    expect_load_error("year: 2026\nholidays:\n  - {name: x}\n", false,
                      CW_EPARSE, "cal.yaml:3: field 'date': missing");
    expect_load_error("year: 2026\nholidays:\n  - {date: 2026-01-01, to: 2026-01-02}\n", false,
                      CW_EPARSE, "cal.yaml:3: field 'to': an entry has either");
    expect_load_error("year: 2026\nholidays:\n  - {date: 2026-01-01, name: [x]}\n", false,
                      CW_EPARSE, "cal.yaml:3: field 'name': expected a string");
    expect_load_error("year: 2026\nholidays: 2026-01-01\n", false, CW_EPARSE,
                      "cal.yaml:2: field 'holidays': expected a list");
    expect_load_error("year: 2026\nholidays:\n  - [2026-01-01]\n", false, CW_EPARSE,
                      "cal.yaml:3: field 'holidays': expected a date or");
    expect_load_error("year: 2026\nsource: {a: b}\n", false, CW_EPARSE,
                      "cal.yaml:2: field 'source': expected a string");
    /* A make-up day must be a weekend day: 2026-01-05 is a Monday. */
    expect_load_error("year: 2026\nworkdays:\n  - 2026-01-05\n", false, CW_EPARSE,
                      "cal.yaml:3: field 'workdays': 2026-01-05 is a Monday");
    expect_load_error("- 2026\n", false, CW_EPARSE, "cal.yaml:1: expected a map");
    expect_load_error("", false, CW_EPARSE, "cal.yaml:1: expected a map");
    expect_load_error("year: 2026\nholidays: [2026-01-01\n", false, CW_EPARSE, "cal.yaml:");
}

static void test_load_accepts_variants_and_failure_changes_nothing(void **state)
{
    static const char ok[] =
        "year: 2030\n"
        "holidays:\n"
        "  - 2030-01-01\n"
        "  - {date: 2030-01-02}\n"
        "  - {from: 2030-01-02, to: 2030-01-03, name: overlap is fine}\n"
        "workdays:\n"
        "  - {date: 2030-01-05, name: make-up}\n"
        "  - 2030-01-05\n";
    static const char bad[] =
        "year: 2031\n"
        "holidays: [2031-01-01]\n"
        "workdays: [2031-01-01]\n";
    static const char leap[] = "year: 2032\nholidays: [2032-12-31]\nworkdays: []\n";
    static const char nulls[] = "year: 2033\nholidays:\n";
    cw_calendar *cal;
    cw_err err;

    assert_int_equal(cw_calendar_new(&cal, BEIJING, &err), 0);
    assert_int_equal(cw_calendar_load_buffer(cal, "ok.yaml", ok, sizeof ok - 1, &err), 0);
    assert_true(cw_calendar_is_holiday(cal, D(2030, 1, 1)));
    assert_true(cw_calendar_is_holiday(cal, D(2030, 1, 2)));
    assert_true(cw_calendar_is_holiday(cal, D(2030, 1, 3)));
    assert_false(cw_calendar_is_holiday(cal, D(2030, 1, 4)));
    assert_true(cw_calendar_is_workday(cal, D(2030, 1, 5)));    /* Saturday */
    assert_false(cw_calendar_is_workday(cal, D(2030, 1, 6)));
    assert_true(cw_calendar_is_workday(cal, D(2030, 12, 31)));  /* Tuesday */
    /* A failed load leaves the year uncovered. */
    assert_int_equal(cw_calendar_load_buffer(cal, "bad.yaml", bad, sizeof bad - 1, &err),
                     CW_EPARSE);
    assert_false(cw_calendar_covers(cal, 2031));
    assert_true(cw_calendar_is_workday(cal, D(2031, 1, 1)));
    /* A leap year's 366th day (a Friday) is in its table. */
    assert_int_equal(cw_calendar_load_buffer(cal, "l.yaml", leap, sizeof leap - 1, &err), 0);
    assert_true(cw_calendar_is_holiday(cal, D(2032, 12, 31)));
    assert_true(cw_calendar_is_workday(cal, D(2032, 12, 30)));
    /* Empty and absent lists are allowed. */
    assert_int_equal(cw_calendar_load_buffer(cal, "n.yaml", nulls, sizeof nulls - 1, &err), 0);
    assert_true(cw_calendar_covers(cal, 2033));
    assert_false(cw_calendar_is_workday(cal, D(2033, 1, 1)));   /* Saturday */
    cw_calendar_free(cal);
}

static char *write_temp(const char *dir, const char *name, const char *text)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    FILE *f;

    assert_non_null(path);
    snprintf(path, len, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_load_file_and_dir_errors(void **state)
{
    char dir[] = "/tmp/cwcalXXXXXX", tmpl[] = "/tmp/cwcalfileXXXXXX";
    static const char text[] = "year: 2040\nworkdays:\n  - 2040-01-02\n";
    char *a, *b, *c, *hidden, needle[128];
    cw_calendar *cal;
    cw_err err;
    int fd;

    assert_int_equal(cw_calendar_new(&cal, BEIJING, &err), 0);
    /* A file: its path and line. */
    fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof text - 1), sizeof text - 1);
    close(fd);
    assert_int_equal(cw_calendar_load_file(cal, tmpl, &err), CW_EPARSE);
    snprintf(needle, sizeof needle, "%s:3: field 'workdays': 2040-01-02 is a Monday", tmpl);
    assert_string_equal(strstr(err.msg, tmpl), err.msg);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("'%s' not in '%s'", needle, err.msg);
    unlink(tmpl);
    assert_int_equal(cw_calendar_load_file(cal, tmpl, &err), CW_EIO);
    assert_non_null(strstr(err.msg, tmpl));

    /* A missing directory, then an empty one. */
    assert_int_equal(cw_calendar_load_dir(cal, "/nonexistent/calendar", &err), CW_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/calendar: "));
    assert_non_null(mkdtemp(dir));
    assert_int_equal(cw_calendar_load_dir(cal, dir, &err), CW_ENOTFOUND);
    assert_non_null(strstr(err.msg, dir));
    /* Files that are not *.yaml, and hidden ones, do not count. */
    c = write_temp(dir, "notes.txt", "not yaml: [\n");
    hidden = write_temp(dir, ".2041.yaml", "year: [\n");
    assert_int_equal(cw_calendar_load_dir(cal, dir, &err), CW_ENOTFOUND);
    /* Name order: a.yaml loads, b.yaml then names a.yaml as the first. */
    a = write_temp(dir, "a.yaml", "year: 2041\n");
    b = write_temp(dir, "b.yaml", "\nyear: 2041\n");
    assert_int_equal(cw_calendar_load_dir(cal, dir, &err), CW_EPARSE);
    snprintf(needle, sizeof needle, "%s/b.yaml:2: field 'year': 2041 is already loaded from "
             "%s/a.yaml", dir, dir);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("'%s' not in '%s'", needle, err.msg);
    assert_true(cw_calendar_covers(cal, 2041));
    unlink(a);
    unlink(b);
    unlink(c);
    unlink(hidden);
    rmdir(dir);
    free(a);
    free(b);
    free(c);
    free(hidden);
    cw_calendar_free(cal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_calendar_days),
        cmocka_unit_test(test_shipped_calendar_counts),
        cmocka_unit_test(test_days_roll_over_weekend),
        cmocka_unit_test(test_days_qingming_2026),
        cmocka_unit_test(test_days_make_up_workday),
        cmocka_unit_test(test_days_spring_festival_2026),
        cmocka_unit_test(test_days_national_day_2025),
        cmocka_unit_test(test_days_uncovered_year),
        cmocka_unit_test(test_rolling_into_an_uncovered_year),
        cmocka_unit_test(test_weekends_only_at_another_offset),
        cmocka_unit_test(test_workdays),
        cmocka_unit_test(test_months_month_end),
        cmocka_unit_test(test_months_leap_day),
        cmocka_unit_test(test_months_extra_days),
        cmocka_unit_test(test_hours),
        cmocka_unit_test(test_load_errors_name_file_line_and_field),
        cmocka_unit_test(test_load_accepts_variants_and_failure_changes_nothing),
        cmocka_unit_test(test_load_file_and_dir_errors),
    };

    return cmocka_run_group_tests_name("calendar", tests, setup, teardown);
}
