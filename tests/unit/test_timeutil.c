#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/timeutil.h"

/* Parse from a heap copy of exactly strlen(s) bytes with no NUL after it,
 * so that AddressSanitizer catches any read past len. */
static int parse_exact(const char *s, cw_time *t, int *off)
{
    size_t len = strlen(s);
    char *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, s, len);
    rc = cw_time_parse(copy, len, t, off);
    free(copy);
    return rc;
}

static cw_time T(const char *s)
{
    cw_time t;

    if (parse_exact(s, &t, NULL) < 0)
        fail_msg("cannot parse '%s'", s);
    return t;
}

static cw_day D(int y, int m, int d)
{
    return cw_day_from_civil(y, m, d);
}

static void test_parse_known_instants(void **state)
{
    cw_time t;
    int off = 12345;

    assert_int_equal(parse_exact("1970-01-01T00:00:00Z", &t, &off), 0);
    assert_int_equal(t, 0);
    assert_int_equal(off, 0);
    assert_int_equal(parse_exact("1970-01-01T08:00:00+08:00", &t, &off), 0);
    assert_int_equal(t, 0);
    assert_int_equal(off, 480);
    /* 2026-03-02T02:00:00Z = 20514 days + 2 h */
    assert_int_equal(T("2026-03-02T10:00:00+08:00"), 20514LL * 86400 + 7200);
    assert_int_equal(parse_exact("2026-03-01T21:00:00-05:00", &t, &off), 0);
    assert_int_equal(t, 20514LL * 86400 + 7200);
    assert_int_equal(off, -300);
    assert_int_equal(parse_exact("2026-03-02T07:30:00+05:30", &t, &off), 0);
    assert_int_equal(t, 20514LL * 86400 + 7200);
    assert_int_equal(off, 330);
    /* Before the epoch. */
    assert_int_equal(T("1969-12-31T23:59:59Z"), -1);
    assert_int_equal(T("1900-01-01T00:00:00Z"), -2208988800LL);
    /* Separators and zone letters in either case. */
    assert_int_equal(T("2026-03-02t10:00:00+08:00"), T("2026-03-02T10:00:00+08:00"));
    assert_int_equal(T("2026-03-02 10:00:00+08:00"), T("2026-03-02T10:00:00+08:00"));
    assert_int_equal(T("2026-03-02T02:00:00z"), T("2026-03-02T02:00:00Z"));
    assert_int_equal(T("2026-03-02T02:00:00-00:00"), T("2026-03-02T02:00:00Z"));
    /* off_min may be NULL. */
    assert_int_equal(cw_time_parse("2026-03-02T02:00:00Z", 20, &t, NULL), 0);
}

static void test_parse_fraction_and_leap_second(void **state)
{
    /* A fraction is dropped, never rounded up into the next second. */
    assert_int_equal(T("2026-03-02T23:59:59.999999+08:00"), T("2026-03-02T23:59:59+08:00"));
    assert_int_equal(T("2026-03-02T23:59:59.5Z"), T("2026-03-02T23:59:59Z"));
    /* A leap second stays in its minute and day. */
    assert_int_equal(T("2016-12-31T23:59:60Z"), T("2016-12-31T23:59:59Z"));
    assert_int_equal(T("2016-12-31T23:59:60.5Z"), T("2016-12-31T23:59:59Z"));
}

static void test_parse_rejects_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "2026-03-02",                     /* no time */
        "2026-03-02T10:00:00",            /* no offset */
        "2026-03-02T10:00",               /* no seconds */
        "2026-3-2T10:00:00+08:00",        /* short month and day */
        "2026-03-2T10:00:00+08:00",
        "26-03-02T10:00:00+08:00",        /* short year */
        "2026-03-02T10:00:00+0800",       /* offset without colon */
        "2026-03-02T10:00:00+08",         /* offset without minutes */
        "2026-03-02T10:00:00+8:00",
        "2026-03-02T10:00:00 +08:00",     /* space before offset */
        "2026-03-02T10:00:00+08:00 ",     /* trailing space */
        "2026-03-02T10:00:00+08:00x",     /* trailing garbage */
        "2026-03-02T10:00:00ZZ",
        "2026-03-02T10:00:00UTC",
        "2026-03-02X10:00:00+08:00",      /* bad separator */
        "2026-03-02T10:00:00.+08:00",     /* empty fraction */
        "2026-03-02T10:00:00,5+08:00",    /* comma fraction */
        "2026-03-02T24:00:00+08:00",      /* hour 24 */
        "2026-03-02T10:60:00+08:00",
        "2026-03-02T10:00:61+08:00",
        "2026-13-02T10:00:00+08:00",      /* month 13 */
        "2026-00-02T10:00:00+08:00",
        "2026-03-00T10:00:00+08:00",      /* day 0 */
        "2026-04-31T10:00:00+08:00",      /* 31 April */
        "2026-02-29T10:00:00+08:00",      /* not a leap year */
        "1900-02-29T10:00:00+08:00",      /* century, not leap */
        "2026-03-02T10:00:00+24:00",      /* offset out of range */
        "2026-03-02T10:00:00+08:60",
        "+2026-03-02T10:00:00+08:00",
        "2026-03-02T1a:00:00+08:00",
        "2026/03/02T10:00:00+08:00",
    };
    cw_time t = 42;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_exact(bad[i], &t, NULL) != -1)
            fail_msg("'%s' was accepted", bad[i]);
    assert_int_equal(t, 42);   /* untouched on error */
    assert_int_equal(cw_time_parse(NULL, 0, &t, NULL), -1);
}

/* The common shape is read at fixed places; the same instant with a
 * fraction goes the general way: both must agree, offsets and month ends
 * included. */
static void test_parse_fast_and_general_agree(void **state)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL;

    (void)state;
    for (int i = 0; i < 20000; i++) {
        char a[40], b[40];
        cw_time ta, tb;
        int oa, ob, y, mo, d, h, mi, sec, oh, om;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        y = 1990 + (int)(x % 60);
        mo = 1 + (int)(x >> 8) % 12;
        d = 1 + (int)(x >> 16) % 31;
        h = (int)(x >> 24) % 24;
        mi = (int)(x >> 32) % 60;
        sec = (int)(x >> 40) % 61;
        oh = (int)(x >> 48) % 15;
        om = (x >> 52) % 4 == 0 ? 30 : 0;
        if ((x >> 56) % 5 == 0)
            snprintf(a, sizeof a, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, sec);
        else
            snprintf(a, sizeof a, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, mo, d, h, mi, sec,
                     (x >> 60) % 2 ? '-' : '+', oh, om);
        /* the same with ".0" after the seconds */
        memcpy(b, a, 19);
        memcpy(b + 19, ".0", 2);
        strcpy(b + 21, a + 19);
        oa = ob = 99;
        ta = tb = 0;
        assert_int_equal(parse_exact(a, &ta, &oa), parse_exact(b, &tb, &ob));
        assert_true(ta == tb);
        assert_int_equal(oa, ob);
    }
}

static void test_parse_respects_len(void **state)
{
    const char *s = "2026-03-02T10:00:00+08:00garbage";
    char embedded[] = "2026-03-02T10:00:00+08:00\0";
    cw_time t;

    /* Only len bytes are the text: the prefix is valid, a shorter len is not. */
    assert_int_equal(cw_time_parse(s, 25, &t, NULL), 0);
    assert_int_equal(t, T("2026-03-02T10:00:00+08:00"));
    assert_int_equal(cw_time_parse(s, 24, &t, NULL), -1);
    assert_int_equal(cw_time_parse(s, 19, &t, NULL), -1);
    assert_int_equal(cw_time_parse(s, 26, &t, NULL), -1);
    /* An embedded NUL is not the end of the text. */
    assert_int_equal(cw_time_parse(embedded, sizeof embedded - 1, &t, NULL), -1);
    /* Every truncation of a valid text fails without reading past it. */
    for (size_t n = 0; n < 25; n++)
        assert_int_equal(cw_time_parse(s, n, &t, NULL), -1);
}

static void test_leap_years(void **state)
{
    cw_time t;
    cw_day d;

    assert_int_equal(cw_days_in_month(2024, 2), 29);
    assert_int_equal(cw_days_in_month(2026, 2), 28);
    assert_int_equal(cw_days_in_month(1900, 2), 28);
    assert_int_equal(cw_days_in_month(2000, 2), 29);
    assert_int_equal(cw_days_in_month(2100, 2), 28);
    assert_int_equal(cw_days_in_month(2026, 4), 30);
    assert_int_equal(cw_days_in_month(2026, 12), 31);
    assert_int_equal(cw_days_in_month(2026, 0), 0);
    assert_int_equal(cw_days_in_month(2026, 13), 0);
    assert_int_equal(parse_exact("2024-02-29T12:00:00+08:00", &t, NULL), 0);
    assert_int_equal(parse_exact("2000-02-29T12:00:00+08:00", &t, NULL), 0);
    assert_int_equal(parse_exact("2026-02-29T12:00:00+08:00", &t, NULL), -1);
    assert_int_equal(parse_exact("1900-02-29T12:00:00+08:00", &t, NULL), -1);
    assert_int_equal(cw_day_parse("2024-02-29", 10, &d), 0);
    assert_int_equal(d, D(2024, 3, 1) - 1);
    assert_int_equal(cw_day_parse("2026-02-29", 10, &d), -1);
    assert_int_equal(cw_day_parse("1900-02-29", 10, &d), -1);
    assert_int_equal(cw_day_parse("2000-02-29", 10, &d), 0);
    /* 2000 has 366 days, 1900 and 2100 have 365. */
    assert_int_equal(D(2001, 1, 1) - D(2000, 1, 1), 366);
    assert_int_equal(D(1901, 1, 1) - D(1900, 1, 1), 365);
    assert_int_equal(D(2101, 1, 1) - D(2100, 1, 1), 365);
}

static void test_civil_days(void **state)
{
    int y, m, d;

    assert_int_equal(D(1970, 1, 1), 0);
    assert_int_equal(D(1969, 12, 31), -1);
    assert_int_equal(D(2000, 3, 1), 11017);
    assert_int_equal(D(2026, 3, 2), 20514);
    assert_int_equal(D(0, 3, 1), -719468);
    cw_day_to_civil(-719469, &y, &m, &d);   /* the day before 0000-03-01 */
    assert_int_equal(y, 0);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);                /* year 0 is a leap year */
    cw_day_to_civil(D(-1, 12, 31), &y, &m, &d);
    assert_int_equal(y, -1);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
    /* Round trip, and consecutive days step through the calendar, over
     * 3000 years around year 0 and the epoch. */
    {
        int py, pm, pd;

        cw_day_to_civil(D(-1000, 1, 1) - 1, &py, &pm, &pd);
        for (cw_day day = D(-1000, 1, 1); day < D(2400, 1, 1); day++) {
            cw_day_to_civil(day, &y, &m, &d);
            if (cw_day_from_civil(y, m, d) != day)
                fail_msg("day %d -> %d-%d-%d does not round trip", day, y, m, d);
            if (d == 1) {
                if (!(pd == cw_days_in_month(py, pm) &&
                      (m == 1 ? (y == py + 1 && pm == 12) : (y == py && m == pm + 1))))
                    fail_msg("day %d: %d-%d-%d after %d-%d-%d", day, y, m, d, py, pm, pd);
            } else if (!(y == py && m == pm && d == pd + 1)) {
                fail_msg("day %d: %d-%d-%d after %d-%d-%d", day, y, m, d, py, pm, pd);
            }
            py = y, pm = m, pd = d;
        }
    }
}

static void test_weekdays(void **state)
{
    assert_int_equal(cw_day_weekday(D(1970, 1, 1)), 3);   /* Thursday */
    assert_int_equal(cw_day_weekday(D(1969, 12, 31)), 2); /* Wednesday */
    assert_int_equal(cw_day_weekday(D(1969, 12, 28)), 6); /* Sunday */
    assert_int_equal(cw_day_weekday(D(2000, 1, 1)), 5);   /* Saturday */
    assert_int_equal(cw_day_weekday(D(2026, 3, 2)), 0);   /* Monday */
    assert_int_equal(cw_day_weekday(D(2026, 4, 5)), 6);   /* Sunday */
    assert_int_equal(cw_day_weekday(D(2025, 10, 1)), 2);  /* Wednesday */
    assert_int_equal(cw_day_weekday(D(1900, 1, 1)), 0);   /* Monday */
    assert_int_equal(cw_day_weekday(D(1582, 10, 15)), 4); /* Friday */
}

static void test_day_parse_and_format(void **state)
{
    static const char *const bad[] = {
        "2026-3-02", "2026-03-2", "2026-03-02T", "2026/03/02", "20260302",
        "2026-03-32", "2026-00-01", " 2026-03-02", "2026-03-02 ", "",
    };
    char buf[11], small[5];
    cw_day d;

    assert_int_equal(cw_day_parse("2026-03-02", 10, &d), 0);
    assert_int_equal(d, 20514);
    assert_int_equal(cw_day_parse("2026-03-02xyz", 10, &d), 0);   /* len bounds it */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cw_day_parse(bad[i], strlen(bad[i]), &d) != -1)
            fail_msg("'%s' was accepted", bad[i]);
    assert_int_equal(cw_day_format(D(2026, 3, 2), buf, sizeof buf), 10);
    assert_string_equal(buf, "2026-03-02");
    assert_int_equal(cw_day_format(D(1969, 12, 31), buf, sizeof buf), 10);
    assert_string_equal(buf, "1969-12-31");
    assert_int_equal(cw_day_format(D(2026, 3, 2), small, sizeof small), 4);
    assert_string_equal(small, "2026");
}

static void test_format_round_trip(void **state)
{
    static const struct {
        const char *in;
        int off;
        const char *out;
    } cases[] = {
        { "2026-03-02T10:00:00+08:00", 480, "2026-03-02T10:00:00+08:00" },
        { "2026-03-02T02:00:00Z", 480, "2026-03-02T10:00:00+08:00" },
        { "2026-03-02T02:00:00Z", 0, "2026-03-02T02:00:00+00:00" },
        { "2026-03-02T02:00:00Z", -300, "2026-03-01T21:00:00-05:00" },
        { "2026-03-02T02:00:00Z", 330, "2026-03-02T07:30:00+05:30" },
        { "2026-03-02T02:00:00Z", -570, "2026-03-01T16:30:00-09:30" },
        { "2026-12-31T23:59:59+08:00", 480, "2026-12-31T23:59:59+08:00" },
        { "2026-12-31T23:59:59+08:00", 0, "2026-12-31T15:59:59+00:00" },
        { "2027-01-01T00:00:00+08:00", -60, "2026-12-31T15:00:00-01:00" },
        { "1969-12-31T23:59:59Z", 480, "1970-01-01T07:59:59+08:00" },
        { "1969-12-31T23:59:59Z", -480, "1969-12-31T15:59:59-08:00" },
        { "2024-02-29T23:59:59+08:00", 480, "2024-02-29T23:59:59+08:00" },
        { "0001-01-01T00:00:00Z", 0, "0001-01-01T00:00:00+00:00" },
        { "9999-12-31T23:59:59Z", 0, "9999-12-31T23:59:59+00:00" },
    };
    char buf[26];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cw_time t = T(cases[i].in), back;
        int off;

        assert_int_equal(cw_time_format(t, cases[i].off, buf, sizeof buf), 25);
        assert_string_equal(buf, cases[i].out);
        assert_int_equal(parse_exact(buf, &back, &off), 0);
        assert_int_equal(back, t);
        assert_int_equal(off, cases[i].off);
    }
}

static void test_format_truncates_safely(void **state)
{
    char buf[11];

    memset(buf, 'x', sizeof buf);
    assert_int_equal(cw_time_format(T("2026-03-02T10:00:00+08:00"), 480, buf, sizeof buf), 10);
    assert_string_equal(buf, "2026-03-02");
    assert_int_equal(cw_time_format(0, 0, buf, 0), 0);
}

static void test_tz_parse(void **state)
{
    static const char *const bad[] = {
        "", "+0800", "+08", "08:00", "+8:00", "+24:00", "+08:60", "UTC", "Z ",
        " +08:00", "+08:00x", "zz",
    };
    int off = 7;

    assert_int_equal(cw_tz_parse("+08:00", &off), 0);
    assert_int_equal(off, 480);
    assert_int_equal(cw_tz_parse("-05:30", &off), 0);
    assert_int_equal(off, -330);
    assert_int_equal(cw_tz_parse("Z", &off), 0);
    assert_int_equal(off, 0);
    assert_int_equal(cw_tz_parse("z", &off), 0);
    assert_int_equal(off, 0);
    assert_int_equal(cw_tz_parse("+23:59", &off), 0);
    assert_int_equal(off, 1439);
    off = 7;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cw_tz_parse(bad[i], &off) != -1)
            fail_msg("'%s' was accepted", bad[i]);
    assert_int_equal(off, 7);
    assert_int_equal(cw_tz_parse(NULL, &off), -1);
}

static void test_local_days(void **state)
{
    cw_day day = D(2026, 3, 2);

    /* 2026-03-01T16:00Z is midnight in Beijing. */
    assert_int_equal(cw_time_day(T("2026-03-01T15:59:59Z"), 480), day - 1);
    assert_int_equal(cw_time_day(T("2026-03-01T16:00:00Z"), 480), day);
    assert_int_equal(cw_time_day(T("2026-03-01T16:00:00Z"), 0), day - 1);
    assert_int_equal(cw_time_day(T("2026-03-02T04:59:59Z"), -300), day - 1);
    assert_int_equal(cw_time_day(T("2026-03-02T05:00:00Z"), -300), day);
    /* Before the epoch the day still rounds down. */
    assert_int_equal(cw_time_day(-1, 0), -1);
    assert_int_equal(cw_time_day(-86400, 0), -1);
    assert_int_equal(cw_time_day(-86401, 0), -2);
    assert_int_equal(cw_time_day(-1, 480), 0);
    assert_int_equal(cw_time_day(0, -480), -1);
    /* Start and end of a local day. */
    assert_int_equal(cw_day_start(day, 480), T("2026-03-02T00:00:00+08:00"));
    assert_int_equal(cw_day_end(day, 480), T("2026-03-02T23:59:59+08:00"));
    assert_int_equal(cw_day_start(day, -300), T("2026-03-02T00:00:00-05:00"));
    assert_int_equal(cw_day_end(day, -300), T("2026-03-02T23:59:59-05:00"));
    assert_int_equal(cw_day_end(-1, 0), -1);
    assert_int_equal(cw_time_day(cw_day_end(day, 480), 480), day);
    assert_int_equal(cw_time_day(cw_day_end(day, 480) + 1, 480), day + 1);
    /* The extremes of cw_time do not overflow (UBSan would stop here);
     * the day number itself is out of range and not checked. */
    (void)cw_time_day(INT64_MAX, 480);
    (void)cw_time_day(INT64_MIN, -480);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_known_instants),
        cmocka_unit_test(test_parse_fraction_and_leap_second),
        cmocka_unit_test(test_parse_rejects_malformed),
        cmocka_unit_test(test_parse_fast_and_general_agree),
        cmocka_unit_test(test_parse_respects_len),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_civil_days),
        cmocka_unit_test(test_weekdays),
        cmocka_unit_test(test_day_parse_and_format),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_format_truncates_safely),
        cmocka_unit_test(test_tz_parse),
        cmocka_unit_test(test_local_days),
    };

    return cmocka_run_group_tests_name("timeutil", tests, NULL, NULL);
}
