#include "law/calendar.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/yamltree.h"

/* The years a calendar file may describe. The bound keeps the per-year
 * index a small fixed array, so a lookup is one subtraction. */
#define MIN_YEAR 1970
#define MAX_YEAR 2200
#define NYEARS (MAX_YEAR - MIN_YEAR + 1)

/* The kind of each day of a covered year, decided once at load time. */
enum {
    K_WORK,      /* an ordinary weekday */
    K_WEEKEND,   /* Saturday or Sunday */
    K_HOLIDAY,   /* statutory holiday, whatever the weekday */
    K_MAKEUP,    /* make-up working day (调休上班) on a weekend */
};

struct year_tab {
    int year;
    cw_day first;            /* day number of 1 Jan */
    char *path;              /* the file it came from, for messages */
    unsigned char kind[366];
};

struct cw_calendar {
    int off_min;
    struct year_tab *years[NYEARS];
};

static const char *const weekdays[7] = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
};

int cw_calendar_new(cw_calendar **out, int off_min, cw_err *err)
{
    cw_calendar *cal;

    *out = NULL;
    if (off_min <= -24 * 60 || off_min >= 24 * 60)
        return cw_err_set(err, CW_EINVAL, "calendar: UTC offset %d minutes is out of range",
                          off_min);
    cal = calloc(1, sizeof *cal);
    if (cal == NULL)
        return cw_err_set(err, CW_ENOMEM, "calendar: out of memory");
    cal->off_min = off_min;
    *out = cal;
    return 0;
}

static void year_free(struct year_tab *t)
{
    if (t == NULL)
        return;
    free(t->path);
    free(t);
}

void cw_calendar_free(cw_calendar *cal)
{
    if (cal == NULL)
        return;
    for (int i = 0; i < NYEARS; i++)
        year_free(cal->years[i]);
    free(cal);
}

int cw_calendar_offset(const cw_calendar *cal)
{
    return cal->off_min;
}

static const struct year_tab *year_get(const cw_calendar *cal, int year)
{
    if (year < MIN_YEAR || year > MAX_YEAR)
        return NULL;
    return cal->years[year - MIN_YEAR];
}

bool cw_calendar_covers(const cw_calendar *cal, int year)
{
    return year_get(cal, year) != NULL;
}

int cw_calendar_last_year(const cw_calendar *cal)
{
    for (int y = MAX_YEAR; y >= MIN_YEAR; y--)
        if (cal->years[y - MIN_YEAR] != NULL)
            return y;
    return 0;
}

int cw_calendar_days_left(const cw_calendar *cal, cw_time now)
{
    int last = cw_calendar_last_year(cal);

    if (last == 0)
        return INT_MIN;
    return (int)(cw_day_from_civil(last, 12, 31) - cw_time_day(now, cal->off_min));
}

bool cw_calendar_end_warning(const cw_calendar *cal, cw_time now, char *buf, size_t size)
{
    int left = cw_calendar_days_left(cal, now), last = cw_calendar_last_year(cal);

    buf[0] = '\0';
    if (left == INT_MIN || left > CW_CALENDAR_WARN_DAYS)
        return false;
    if (left >= 0)
        snprintf(buf, size, "法定节假日日历止于 %d-12-31, 还有 %d 日: 请按国务院办公厅 %d 年节假日安排"
                 "通知添加 calendar/%d.yaml, 否则其后的期限仅按周末计算", last, left, last + 1,
                 last + 1);
    else
        snprintf(buf, size, "法定节假日日历止于 %d-12-31, 已过 %d 日: 请按国务院办公厅节假日安排"
                 "通知添加 calendar/%d.yaml; 此后的期限仅按周末计算", last, -left, last + 1);
    return true;
}

/* The kind of a day; *covered tells whether the calendar knew the year or
 * the answer comes from the weekday alone. */
static int day_kind(const cw_calendar *cal, cw_day day, bool *covered)
{
    const struct year_tab *t;
    int y, m, d;

    cw_day_to_civil(day, &y, &m, &d);
    t = year_get(cal, y);
    *covered = t != NULL;
    if (t != NULL)
        return t->kind[day - t->first];
    return cw_day_weekday(day) >= 5 ? K_WEEKEND : K_WORK;
}

static bool kind_works(int k)
{
    return k == K_WORK || k == K_MAKEUP;
}

bool cw_calendar_is_workday(const cw_calendar *cal, cw_day day)
{
    bool covered;

    return kind_works(day_kind(cal, day, &covered));
}

bool cw_calendar_is_holiday(const cw_calendar *cal, cw_day day)
{
    bool covered;

    return day_kind(cal, day, &covered) == K_HOLIDAY;
}

/* Whether day is a working day, noting in *uncovered (if any) that the
 * answer rests on weekends alone. Only days that decide a result go
 * through here. */
static bool decides(const cw_calendar *cal, cw_day day, bool *uncovered)
{
    bool covered;
    int k = day_kind(cal, day, &covered);

    if (!covered && uncovered != NULL)
        *uncovered = true;
    return kind_works(k);
}

/* The due moment for a period whose last day is `last`. */
static cw_time finish(const cw_calendar *cal, cw_day last, bool rollover, bool *uncovered)
{
    bool works = decides(cal, last, uncovered);

    /* Every uncovered year has weekdays, so the loop ends. */
    while (rollover && !works)
        works = decides(cal, ++last, uncovered);
    return cw_day_end(last, cal->off_min);
}

cw_time cw_calendar_add_days(const cw_calendar *cal, cw_time start, int n,
                             bool rollover, bool *uncovered)
{
    if (start == CW_TIME_NONE)
        return CW_TIME_NONE;
    return finish(cal, cw_time_day(start, cal->off_min) + n, rollover, uncovered);
}

cw_time cw_calendar_add_workdays(const cw_calendar *cal, cw_time start, int n,
                                 bool *uncovered)
{
    cw_day day;

    if (start == CW_TIME_NONE)
        return CW_TIME_NONE;
    day = cw_time_day(start, cal->off_min);
    while (n > 0)
        if (decides(cal, ++day, uncovered))
            n--;
    return cw_day_end(day, cal->off_min);
}

cw_time cw_calendar_add_months(const cw_calendar *cal, cw_time start, int n,
                               int extra_days, bool rollover, bool *uncovered)
{
    int y, m, d, ty, tm, dim;
    int64_t months;
    cw_day day;

    if (start == CW_TIME_NONE)
        return CW_TIME_NONE;
    cw_day_to_civil(cw_time_day(start, cal->off_min), &y, &m, &d);
    /* Count months from year 0 so that negative n borrows years too. */
    months = (int64_t)y * 12 + (m - 1) + n;
    ty = (int)(months >= 0 ? months / 12 : -((-months + 11) / 12));
    tm = (int)(months - (int64_t)ty * 12) + 1;
    dim = cw_days_in_month(ty, tm);
    if (d > dim || d == cw_days_in_month(y, m))
        d = dim;
    day = cw_day_from_civil(ty, tm, d) + extra_days;
    return finish(cal, day, rollover, uncovered);
}

cw_time cw_calendar_add_hours(const cw_calendar *cal, cw_time start, int n)
{
    if (start == CW_TIME_NONE)
        return CW_TIME_NONE;
    return start + (cw_time)n * 3600;
}

/* ---- loading ---- */

/* What one load works with: the document for messages, and the table
 * being filled, which joins the calendar only when the whole file is good. */
struct loader {
    const cw_ydoc *doc;
    struct year_tab *tab;
    int hline[366];          /* line that made a day a holiday, or 0 */
};

static int check_keys(const struct loader *ld, const cw_ynode *map,
                      const char *const *keys, const char *what, cw_err *err)
{
    for (size_t i = 0; i < cw_ymap_size(map); i++) {
        const cw_ynode *k = cw_ymap_key(map, i);
        size_t j;

        for (j = 0; keys[j] != NULL; j++)
            if (strcmp(k->text, keys[j]) == 0)
                break;
        if (keys[j] == NULL)
            return cw_err_set(err, CW_EPARSE, "%s:%d: unknown key '%s' in %s",
                              ld->doc->path, k->line, k->text, what);
    }
    return 0;
}

/* A date of the file's year; field names the key for the message. */
static int read_date(const struct loader *ld, const cw_ynode *v, const char *field,
                     cw_day *out, cw_err *err)
{
    char buf[11];
    int y, m, d;

    if (v->type != CW_Y_SCALAR)
        return cw_err_set(err, CW_EPARSE, "%s:%d: field '%s': expected a date YYYY-MM-DD",
                          ld->doc->path, v->line, field);
    if (cw_day_parse(v->text, v->len, out) < 0)
        return cw_err_set(err, CW_EPARSE, "%s:%d: field '%s': expected a date YYYY-MM-DD, "
                          "got '%s'", ld->doc->path, v->line, field, v->text);
    cw_day_to_civil(*out, &y, &m, &d);
    if (y != ld->tab->year) {
        cw_day_format(*out, buf, sizeof buf);
        return cw_err_set(err, CW_EPARSE, "%s:%d: field '%s': %s is outside year %d",
                          ld->doc->path, v->line, field, buf, ld->tab->year);
    }
    return 0;
}

/* One list entry: a date, or a map {date | from, to; name}. */
static int read_entry(const struct loader *ld, const cw_ynode *e, const char *list,
                      cw_day *from, cw_day *to, cw_err *err)
{
    static const char *const keys[] = { "date", "from", "to", "name", NULL };
    const cw_ynode *date, *f, *t, *name;
    char what[32], b1[11], b2[11];
    const char *s;
    int rc;

    if (e->type == CW_Y_SCALAR) {
        if ((rc = read_date(ld, e, list, from, err)) < 0)
            return rc;
        *to = *from;
        return 0;
    }
    if (e->type != CW_Y_MAP)
        return cw_err_set(err, CW_EPARSE, "%s:%d: field '%s': expected a date or "
                          "{date: ...} or {from: ..., to: ...}", ld->doc->path, e->line, list);
    snprintf(what, sizeof what, "an entry of '%s'", list);
    if ((rc = check_keys(ld, e, keys, what, err)) < 0)
        return rc;
    date = cw_ymap_get(e, "date");
    f = cw_ymap_get(e, "from");
    t = cw_ymap_get(e, "to");
    name = cw_ymap_get(e, "name");
    if (name != NULL && (rc = cw_ynode_str(ld->doc, name, "name", &s, err)) < 0)
        return rc;
    if (date != NULL) {
        if (f != NULL || t != NULL)
            return cw_err_set(err, CW_EPARSE, "%s:%d: field '%s': an entry has either "
                              "'date' or 'from' and 'to', not both",
                              ld->doc->path, (f ? f : t)->line, f ? "from" : "to");
        if ((rc = read_date(ld, date, "date", from, err)) < 0)
            return rc;
        *to = *from;
        return 0;
    }
    if (f == NULL || t == NULL)
        return cw_err_set(err, CW_EPARSE, "%s:%d: field '%s': missing (an entry needs "
                          "'date', or 'from' and 'to')", ld->doc->path,
                          f ? f->line : t ? t->line : e->line, f ? "to" : t ? "from" : "date");
    if ((rc = read_date(ld, f, "from", from, err)) < 0 ||
        (rc = read_date(ld, t, "to", to, err)) < 0)
        return rc;
    if (*from > *to) {
        cw_day_format(*from, b1, sizeof b1);
        cw_day_format(*to, b2, sizeof b2);
        return cw_err_set(err, CW_EPARSE, "%s:%d: field 'from': %s is after 'to' %s",
                          ld->doc->path, f->line, b1, b2);
    }
    return 0;
}

/* Mark the days of one list. Holidays are read before workdays, so a
 * clash is reported at the workday entry and names the holiday's line. */
static int read_list(struct loader *ld, const char *list, bool holiday, cw_err *err)
{
    const cw_ynode *seq = cw_ymap_get(ld->doc->root, list);
    char buf[11];
    cw_day from, to;
    int rc;

    if (seq == NULL || cw_ynode_is_null(seq))
        return 0;
    if (seq->type != CW_Y_SEQ)
        return cw_err_set(err, CW_EPARSE, "%s:%d: field '%s': expected a list",
                          ld->doc->path, seq->line, list);
    for (size_t i = 0; i < seq->n; i++) {
        const cw_ynode *e = seq->kids[i];

        if ((rc = read_entry(ld, e, list, &from, &to, err)) < 0)
            return rc;
        for (cw_day day = from; day <= to; day++) {
            int doy = day - ld->tab->first;

            if (holiday) {
                /* Overlapping holiday entries (a festival inside the
                 * National Day block) are harmless and allowed. */
                ld->tab->kind[doy] = K_HOLIDAY;
                if (ld->hline[doy] == 0)
                    ld->hline[doy] = e->line;
                continue;
            }
            cw_day_format(day, buf, sizeof buf);
            if (ld->hline[doy] != 0)
                return cw_err_set(err, CW_EPARSE, "%s:%d: field '%s': %s is also a "
                                  "holiday (line %d)", ld->doc->path, e->line, list,
                                  buf, ld->hline[doy]);
            /* A make-up day on a weekday would change nothing; it is
             * almost certainly a mistyped date. */
            if (cw_day_weekday(day) < 5)
                return cw_err_set(err, CW_EPARSE, "%s:%d: field '%s': %s is a %s, "
                                  "a working day anyway", ld->doc->path, e->line, list,
                                  buf, weekdays[cw_day_weekday(day)]);
            ld->tab->kind[doy] = K_MAKEUP;
        }
    }
    return 0;
}

static int load_doc(cw_calendar *cal, const cw_ydoc *doc, cw_err *err)
{
    static const char *const keys[] = { "year", "source", "holidays", "workdays", NULL };
    struct loader ld = { .doc = doc };
    const struct year_tab *old;
    const cw_ynode *v;
    const char *s;
    int64_t year;
    int rc, ndays;

    if (doc->root == NULL || doc->root->type != CW_Y_MAP)
        return cw_err_set(err, CW_EPARSE, "%s:%d: expected a map with 'year', 'source', "
                          "'holidays' and 'workdays'", doc->path,
                          doc->root ? doc->root->line : 1);
    if ((rc = check_keys(&ld, doc->root, keys, "a calendar", err)) < 0)
        goto out;
    if ((v = cw_ymap_get(doc->root, "year")) == NULL) {
        rc = cw_err_set(err, CW_EPARSE, "%s:%d: missing field 'year'", doc->path,
                        doc->root->line);
        goto out;
    }
    if ((rc = cw_ynode_int(doc, v, "year", &year, err)) < 0)
        goto out;
    if (year < MIN_YEAR || year > MAX_YEAR) {
        rc = cw_err_set(err, CW_EPARSE, "%s:%d: field 'year': %lld is outside %d-%d",
                        doc->path, v->line, (long long)year, MIN_YEAR, MAX_YEAR);
        goto out;
    }
    if ((old = year_get(cal, (int)year)) != NULL) {
        rc = cw_err_set(err, CW_EPARSE, "%s:%d: field 'year': %lld is already loaded from %s",
                        doc->path, v->line, (long long)year, old->path);
        goto out;
    }
    if ((v = cw_ymap_get(doc->root, "source")) != NULL &&
        (rc = cw_ynode_str(doc, v, "source", &s, err)) < 0)
        goto out;
    if ((ld.tab = calloc(1, sizeof *ld.tab)) == NULL ||
        (ld.tab->path = strdup(doc->path)) == NULL) {
        rc = cw_err_set(err, CW_ENOMEM, "%s: out of memory", doc->path);
        goto out;
    }
    ld.tab->year = (int)year;
    ld.tab->first = cw_day_from_civil((int)year, 1, 1);
    ndays = cw_day_from_civil((int)year + 1, 1, 1) - ld.tab->first;
    for (int i = 0; i < ndays; i++)
        ld.tab->kind[i] = cw_day_weekday(ld.tab->first + i) >= 5 ? K_WEEKEND : K_WORK;
    if ((rc = read_list(&ld, "holidays", true, err)) < 0 ||
        (rc = read_list(&ld, "workdays", false, err)) < 0)
        goto out;
    cal->years[year - MIN_YEAR] = ld.tab;
    ld.tab = NULL;
out:
    year_free(ld.tab);
    return rc;
}

int cw_calendar_load_buffer(cw_calendar *cal, const char *name, const char *buf,
                            size_t len, cw_err *err)
{
    cw_ydoc *doc;
    int rc;

    if ((rc = cw_ydoc_parse(&doc, name, buf, len, err)) < 0)
        return rc;
    rc = load_doc(cal, doc, err);
    cw_ydoc_free(doc);
    return rc;
}

int cw_calendar_load_file(cw_calendar *cal, const char *path, cw_err *err)
{
    cw_ydoc *doc;
    int rc;

    if ((rc = cw_ydoc_load(&doc, path, err)) < 0)
        return rc;
    rc = load_doc(cal, doc, err);
    cw_ydoc_free(doc);
    return rc;
}

static int yaml_name(const struct dirent *de)
{
    size_t len = strlen(de->d_name);

    /* Hidden files are editor and tool debris, as in a shell glob. */
    return de->d_name[0] != '.' && len > 5 && strcmp(de->d_name + len - 5, ".yaml") == 0;
}

/* Byte order, not the locale's collation: the load order must not depend
 * on the environment. */
static int name_order(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int cw_calendar_load_dir(cw_calendar *cal, const char *dir, cw_err *err)
{
    struct dirent **names;
    int n, rc = 0;

    n = scandir(dir, &names, yaml_name, name_order);
    if (n < 0)
        return cw_err_set(err, errno == ENOMEM ? CW_ENOMEM : CW_EIO,
                          "%s: cannot read calendar directory: %s", dir, strerror(errno));
    if (n == 0)
        rc = cw_err_set(err, CW_ENOTFOUND, "%s: no *.yaml files in calendar directory", dir);
    for (int i = 0; i < n; i++) {
        if (rc == 0) {
            size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
            char *path = malloc(len);

            if (path == NULL) {
                rc = cw_err_set(err, CW_ENOMEM, "%s: out of memory", dir);
            } else {
                snprintf(path, len, "%s/%s", dir, names[i]->d_name);
                rc = cw_calendar_load_file(cal, path, err);
                free(path);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}
