#include "base/timeutil.h"

#include <stdio.h>
#include <string.h>

#define SECS_PER_DAY 86400

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const unsigned char len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    if (m < 1 || m > 12)
        return 0;
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

int cw_days_in_month(int y, int m)
{
    return month_days(y, m);
}

/* Howard Hinnant's days_from_civil: eras of 400 years make the Gregorian
 * cycle exact, and shifting the year to start in March puts the leap day
 * last so that it needs no special case. 64-bit arithmetic keeps extreme
 * years from overflowing before the result is narrowed. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

cw_day cw_day_from_civil(int y, int m, int d)
{
    return (cw_day)days_from_civil(y, m, d);
}

void cw_day_to_civil(cw_day day, int *y, int *m, int *d)
{
    int64_t z = (int64_t)day + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int mm = (int)(mp < 10 ? mp + 3 : mp - 9);

    *y = (int)(yoe + era * 400 + (mm <= 2));
    *m = mm;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
}

int cw_day_weekday(cw_day day)
{
    /* 1970-01-01 was a Thursday (3). */
    return (int)((((int64_t)day % 7) + 7 + 3) % 7);
}

/* Split t into the local day and the second within it without forming
 * t + offset, which could overflow for times near the ends of the range. */
static void split_time(cw_time t, int off_min, int64_t *day, int64_t *sec)
{
    int64_t q = t / SECS_PER_DAY, r = t % SECS_PER_DAY;

    if (r < 0) {
        r += SECS_PER_DAY;
        q--;
    }
    r += (int64_t)off_min * 60;
    while (r < 0) {
        r += SECS_PER_DAY;
        q--;
    }
    while (r >= SECS_PER_DAY) {
        r -= SECS_PER_DAY;
        q++;
    }
    *day = q;
    *sec = r;
}

cw_day cw_time_day(cw_time t, int off_min)
{
    int64_t day, sec;

    split_time(t, off_min, &day, &sec);
    return (cw_day)day;
}

cw_time cw_day_start(cw_day day, int off_min)
{
    return (cw_time)day * SECS_PER_DAY - (cw_time)off_min * 60;
}

cw_time cw_day_end(cw_day day, int off_min)
{
    return cw_day_start(day, off_min) + SECS_PER_DAY - 1;
}

/* A cursor over a text that is not necessarily NUL-terminated: every read
 * checks the remaining length first. */
struct cursor {
    const char *s;
    size_t len, pos;
};

static bool digits(struct cursor *c, int n, int *out)
{
    int v = 0;

    if (c->len - c->pos < (size_t)n)
        return false;
    for (int i = 0; i < n; i++) {
        char ch = c->s[c->pos + i];
        if (ch < '0' || ch > '9')
            return false;
        v = v * 10 + (ch - '0');
    }
    c->pos += n;
    *out = v;
    return true;
}

static bool one_of(struct cursor *c, const char *set, char *got)
{
    if (c->pos >= c->len || c->s[c->pos] == '\0' || strchr(set, c->s[c->pos]) == NULL)
        return false;
    if (got != NULL)
        *got = c->s[c->pos];
    c->pos++;
    return true;
}

static bool date_part(struct cursor *c, int *y, int *m, int *d)
{
    return digits(c, 4, y) && one_of(c, "-", NULL) && digits(c, 2, m) &&
           one_of(c, "-", NULL) && digits(c, 2, d) &&
           *m >= 1 && *m <= 12 && *d >= 1 && *d <= month_days(*y, *m);
}

static bool offset_part(struct cursor *c, int *off_min)
{
    int h, m;
    char sign;

    if (one_of(c, "Zz", NULL)) {
        *off_min = 0;
        return true;
    }
    if (!one_of(c, "+-", &sign) || !digits(c, 2, &h) || !one_of(c, ":", NULL) ||
        !digits(c, 2, &m) || h > 23 || m > 59)
        return false;
    *off_min = (sign == '-' ? -1 : 1) * (h * 60 + m);
    return true;
}

static inline bool dig2(const char *p, int *v)
{
    unsigned a = (unsigned)(p[0] - '0'), b = (unsigned)(p[1] - '0');

    *v = (int)(a * 10 + b);
    return a < 10 && b < 10;
}

/* The shape nearly every event has, "2026-03-02T09:30:00+08:00" or
 * "...Z", read at fixed places; anything else takes the general path.
 * Returns whether it applied. */
static bool time_fast(const char *s, size_t len, cw_time *out, int *off_min)
{
    int y1, y2, mo, d, h, mi, sec, oh = 0, om = 0, off;

    if ((len != 25 && len != 20) || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
        s[13] != ':' || s[16] != ':')
        return false;
    if (!dig2(s, &y1) || !dig2(s + 2, &y2) || !dig2(s + 5, &mo) || !dig2(s + 8, &d) ||
        !dig2(s + 11, &h) || !dig2(s + 14, &mi) || !dig2(s + 17, &sec))
        return false;
    if (len == 20) {
        if (s[19] != 'Z')
            return false;
    } else if ((s[19] != '+' && s[19] != '-') || s[22] != ':' || !dig2(s + 20, &oh) ||
               !dig2(s + 23, &om)) {
        return false;
    }
    y1 = y1 * 100 + y2;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y1, mo) || h > 23 || mi > 59 || sec > 60 ||
        oh > 23 || om > 59)
        return false;
    off = (s[19] == '-' ? -1 : 1) * (oh * 60 + om);
    if (sec == 60)
        sec = 59;
    *out = (cw_time)days_from_civil(y1, mo, d) * SECS_PER_DAY + h * 3600 + mi * 60 + sec -
           (cw_time)off * 60;
    if (off_min != NULL)
        *off_min = off;
    return true;
}

int cw_time_parse(const char *s, size_t len, cw_time *out, int *off_min)
{
    struct cursor c = { s, len, 0 };
    int y, mo, d, h, mi, sec, off;

    if (s != NULL && time_fast(s, len, out, off_min))
        return 0;
    if (s == NULL || !date_part(&c, &y, &mo, &d) || !one_of(&c, "Tt ", NULL) ||
        !digits(&c, 2, &h) || !one_of(&c, ":", NULL) || !digits(&c, 2, &mi) ||
        !one_of(&c, ":", NULL) || !digits(&c, 2, &sec) ||
        h > 23 || mi > 59 || sec > 60)
        return -1;
    if (one_of(&c, ".", NULL)) {
        size_t first = c.pos;
        /* The fraction is dropped: a due at 23:59:59 still covers .999. */
        while (c.pos < c.len && c.s[c.pos] >= '0' && c.s[c.pos] <= '9')
            c.pos++;
        if (c.pos == first)
            return -1;
    }
    if (!offset_part(&c, &off) || c.pos != c.len)
        return -1;
    if (sec == 60)
        sec = 59;   /* cw_time has no leap seconds; keep it in its minute */
    *out = (cw_time)days_from_civil(y, mo, d) * SECS_PER_DAY +
           h * 3600 + mi * 60 + sec - (cw_time)off * 60;
    if (off_min != NULL)
        *off_min = off;
    return 0;
}

int cw_tz_parse(const char *s, int *off_min)
{
    struct cursor c = { s, s ? strlen(s) : 0, 0 };
    int off;

    if (s == NULL || !offset_part(&c, &off) || c.pos != c.len)
        return -1;
    *off_min = off;
    return 0;
}

int cw_day_parse(const char *s, size_t len, cw_day *out)
{
    struct cursor c = { s, len, 0 };
    int y, m, d;

    if (s == NULL || !date_part(&c, &y, &m, &d) || c.pos != c.len)
        return -1;
    *out = cw_day_from_civil(y, m, d);
    return 0;
}

/* Digits by hand: these run for every finding written and every
 * deadline message, where snprintf's generality costs far more than the
 * work. */
static char *two(char *o, int v)
{
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
    return o + 2;
}

/* "YYYY-MM-DD" into o (11 bytes with the NUL); years outside 0-9999
 * fall back to snprintf. Returns the end. */
static char *put_date(char *o, cw_day day)
{
    int y, m, d;

    cw_day_to_civil(day, &y, &m, &d);
    if (y < 0 || y > 9999) {
        int n = snprintf(o, 16, "%04d-%02d-%02d", y, m, d);
        return o + (n > 15 ? 15 : n);
    }
    o = two(o, y / 100);
    o = two(o, y % 100);
    *o++ = '-';
    o = two(o, m);
    *o++ = '-';
    return two(o, d);
}

/* Copy tmp[0..n) into buf of size bytes, NUL-terminated, truncating. */
static size_t out(char *buf, size_t size, const char *tmp, size_t n)
{
    if (size == 0)
        return 0;
    if (n >= size)
        n = size - 1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return n;
}

size_t cw_day_format(cw_day day, char *buf, size_t size)
{
    char tmp[24];

    return out(buf, size, tmp, (size_t)(put_date(tmp, day) - tmp));
}

size_t cw_time_format(cw_time t, int off_min, char *buf, size_t size)
{
    int64_t day, sec;
    int off = off_min < 0 ? -off_min : off_min;
    char tmp[40], *o;

    split_time(t, off_min, &day, &sec);
    o = put_date(tmp, (cw_day)day);
    *o++ = 'T';
    o = two(o, (int)(sec / 3600));
    *o++ = ':';
    o = two(o, (int)(sec / 60 % 60));
    *o++ = ':';
    o = two(o, (int)(sec % 60));
    *o++ = off_min < 0 ? '-' : '+';
    o = two(o, off / 60 % 100);
    *o++ = ':';
    o = two(o, off % 60);
    return out(buf, size, tmp, (size_t)(o - tmp));
}
