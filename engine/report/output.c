/*
 * The quality report as JSON, CSV (UTF-8 with a BOM, so that a
 * spreadsheet reads the Chinese headers right) and an aligned table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"

size_t cw__display_width(const char *s)
{
    size_t w = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xc0) == 0x80)
            continue;
        /* a character of three bytes or more is CJK here: two cells */
        w += *p >= 0xe0 ? 2 : 1;
    }
    return w;
}

void cw__pad(cw_buf *b, const char *s, size_t width, bool right)
{
    size_t w = cw__display_width(s);

    if (right)
        for (; w < width; w++)
            cw_buf_puts(b, " ");
    cw_buf_puts(b, s);
    if (!right)
        for (; w < width; w++)
            cw_buf_puts(b, " ");
}

void cw__csv_field(cw_buf *b, const char *s, bool last)
{
    if (strpbrk(s, ",\"\r\n") != NULL) {
        cw_buf_puts(b, "\"");
        for (; *s; s++)
            cw_buf_put(b, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
        cw_buf_puts(b, "\"");
    } else {
        cw_buf_puts(b, s);
    }
    cw_buf_puts(b, last ? "\r\n" : ",");
}

void cw__percent(char *buf, size_t size, uint64_t num, uint64_t den)
{
    if (den == 0)
        snprintf(buf, size, "%s", "");
    else
        snprintf(buf, size, "%.1f%%", 100.0 * (double)num / (double)den);
}

void cw__json_ratio(cw_buf *b, uint64_t num, uint64_t den)
{
    if (den == 0)
        cw_buf_puts(b, "null");
    else
        cw_buf_printf(b, "%.4f", (double)num / (double)den);
}

static const char *const by_names[] = { "unit", "officer", "rule" };

static const char *by_name(cw_report_by by)
{
    return by_names[by];
}

int cw_report_by_parse(const char *s, cw_report_by *out)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, by_names[i]) == 0) {
            *out = (cw_report_by)i;
            return 0;
        }
    return CW_EINVAL;
}

/* Findings needing 销号: all but those met in time. */
static uint64_t to_close(const cw_rgroup *g)
{
    return g->n - g->st[5];
}

static void json_str(cw_buf *b, const char *s)
{
    cw_buf_json(b, s, strlen(s));
}

static void json_states(cw_buf *b, const uint64_t *st)
{
    cw_buf_puts(b, "{");
    for (int i = 0; i < CW_REPORT_NSTATES; i++)
        cw_buf_printf(b, "%s\"%s\":%llu", i ? "," : "", cw_report_states[i], (unsigned long long)st[i]);
    cw_buf_puts(b, "}");
}

static void json_group(cw_buf *b, const cw_rgroup *g, bool ranked)
{
    cw_buf_puts(b, "{\"key\":");
    json_str(b, g->key);
    if (ranked)
        cw_buf_printf(b, ",\"rank\":%u", g->rank);
    cw_buf_printf(b, ",\"score\":%.1f,\"deduction\":%.1f,\"findings\":%llu,\"states\":", g->score, g->deduction,
                  (unsigned long long)g->n);
    json_states(b, g->st);
    cw_buf_printf(b, ",\"deadline\":%llu,\"overdue_rate\":", (unsigned long long)g->deadline);
    cw__json_ratio(b, g->st[1], g->deadline);
    cw_buf_puts(b, ",\"late_rate\":");
    cw__json_ratio(b, g->st[2], g->deadline);
    cw_buf_printf(b, ",\"assigned\":%llu,\"rect_on_time\":%llu,\"rect_late\":%llu,\"rect_overdue\":%llu,"
                  "\"on_time_rate\":", (unsigned long long)g->assigned, (unsigned long long)g->on_time,
                  (unsigned long long)g->rect_late, (unsigned long long)g->rect_overdue);
    cw__json_ratio(b, g->on_time, g->assigned);
    cw_buf_printf(b, ",\"resolved\":%llu,\"dismissed\":%llu,\"reopened\":%llu,\"closure_rate\":",
                  (unsigned long long)g->resolved, (unsigned long long)g->dismissed,
                  (unsigned long long)g->reopened);
    cw__json_ratio(b, g->resolved, to_close(g));
    cw_buf_puts(b, ",\"median_hours_to_resolve\":");
    if (g->nh > 0)
        cw_buf_printf(b, "%.1f", g->median_h);
    else
        cw_buf_puts(b, "null");
    cw_buf_puts(b, ",\"rules\":{");
    for (size_t i = 0; i < g->nrules; i++) {
        if (i)
            cw_buf_puts(b, ",");
        json_str(b, g->rules[i].key);
        cw_buf_puts(b, ":");
        json_states(b, g->rules[i].st);
    }
    cw_buf_puts(b, "}}");
}

void cw_report_json(const cw_report *r, cw_buf *b)
{
    char from[12], to[12], day[12];

    cw_day_format(r->o.from, from, sizeof from);
    cw_day_format(r->o.to, to, sizeof to);
    cw_buf_printf(b, "{\"period\":{\"from\":\"%s\",\"to\":\"%s\"},\"by\":\"%s\",", from, to, by_name(r->o.by));
    if (r->o.by == CW_REPORT_BY_UNIT)
        cw_buf_printf(b, "\"level\":%u,", r->o.level);
    cw_buf_puts(b, "\"scope\":");
    json_str(b, r->scope);
    cw_buf_printf(b, ",\"scoring\":{\"base\":%.1f,\"floor\":%.1f},\"groups\":[", r->base, r->floor);
    for (size_t i = 0; i < r->ng; i++) {
        if (i)
            cw_buf_puts(b, ",");
        json_group(b, &r->g[i], true);
    }
    cw_buf_puts(b, "],\"total\":");
    json_group(b, &r->total, false);
    cw_buf_printf(b, ",\"series\":{\"bucket\":\"%s\",\"starts\":[", r->weekly ? "week" : "day");
    for (size_t i = 0; i < r->nbuckets; i++) {
        cw_day_format(r->first + (cw_day)(i * (r->weekly ? 7 : 1)), day, sizeof day);
        cw_buf_printf(b, "%s\"%s\"", i ? "," : "", day);
    }
    cw_buf_puts(b, "],\"rules\":{");
    for (size_t i = 0; i < r->nseries; i++) {
        cw_buf_puts(b, i ? "," : "");
        json_str(b, r->series[i].rule);
        cw_buf_puts(b, ":[");
        for (size_t k = 0; k < r->nbuckets; k++)
            cw_buf_printf(b, "%s%llu", k ? "," : "", (unsigned long long)r->series[i].c[k]);
        cw_buf_puts(b, "]");
    }
    cw_buf_puts(b, "}}}");
}

/* ---- CSV and the table: the same columns ----------------------------------------------- */

#define NCOLS 22

static const char *key_header(cw_report_by by)
{
    return by == CW_REPORT_BY_UNIT ? "单位" : by == CW_REPORT_BY_OFFICER ? "整改责任民警" : "规则";
}

static const char *key_label(const cw_report *r, const cw_rgroup *g, bool total)
{
    if (total)
        return "合计";
    if (g->key[0] == '\0')
        return r->o.by == CW_REPORT_BY_OFFICER ? "(未指派民警)" : "(无)";
    return g->key;
}

/* The cells of a row, into cells[NCOLS] (each of 48 bytes). */
static void cells_of(const cw_report *r, const cw_rgroup *g, bool total, char cells[NCOLS][48])
{
    int c = 0;

    if (total)
        snprintf(cells[c++], 48, "%s", "");
    else
        snprintf(cells[c++], 48, "%u", g->rank);
    snprintf(cells[c++], 48, "%s", key_label(r, g, total));
    snprintf(cells[c++], 48, "%.1f", g->score);
    snprintf(cells[c++], 48, "%.1f", g->deduction);
    snprintf(cells[c++], 48, "%llu", (unsigned long long)g->n);
    for (int i = 0; i < CW_REPORT_NSTATES; i++)
        snprintf(cells[c++], 48, "%llu", (unsigned long long)g->st[i]);
    cw__percent(cells[c++], 48, g->st[1], g->deadline);
    cw__percent(cells[c++], 48, g->st[2], g->deadline);
    snprintf(cells[c++], 48, "%llu", (unsigned long long)g->assigned);
    snprintf(cells[c++], 48, "%llu", (unsigned long long)g->on_time);
    snprintf(cells[c++], 48, "%llu", (unsigned long long)g->rect_late);
    snprintf(cells[c++], 48, "%llu", (unsigned long long)g->rect_overdue);
    cw__percent(cells[c++], 48, g->on_time, g->assigned);
    snprintf(cells[c++], 48, "%llu", (unsigned long long)g->resolved);
    snprintf(cells[c++], 48, "%llu", (unsigned long long)g->dismissed);
    cw__percent(cells[c++], 48, g->resolved, to_close(g));
    if (g->nh > 0)
        snprintf(cells[c++], 48, "%.1f", g->median_h);
    else
        snprintf(cells[c++], 48, "%s", "");
}

static void headers(const cw_report *r, const char *h[NCOLS])
{
    static const char *const rest[NCOLS] = {
        "排名", NULL, "得分", "扣分", "问题数", "预警", "超期", "逾期完成", "违规", "异常", "按期完成",
        "超期率", "逾期完成率", "已指派整改", "按期整改", "逾期整改", "整改超期未销号", "按期整改率",
        "已销号", "已排除", "销号率", "销号用时中位数(小时)"
    };

    for (int i = 0; i < NCOLS; i++)
        h[i] = rest[i];
    h[1] = key_header(r->o.by);
}

void cw_report_csv(const cw_report *r, cw_buf *b)
{
    const char *h[NCOLS];
    char cells[NCOLS][48];

    cw_buf_puts(b, "\xef\xbb\xbf");
    headers(r, h);
    for (int i = 0; i < NCOLS; i++)
        cw__csv_field(b, h[i], i == NCOLS - 1);
    for (size_t k = 0; k <= r->ng; k++) {
        const cw_rgroup *g = k < r->ng ? &r->g[k] : &r->total;
        cells_of(r, g, k == r->ng, cells);
        for (int i = 0; i < NCOLS; i++)
            cw__csv_field(b, cells[i], i == NCOLS - 1);
    }
}

void cw_report_table(const cw_report *r, cw_buf *b)
{
    const char *h[NCOLS];
    char (*cells)[NCOLS][48] = cw_xcalloc(r->ng + 1, sizeof *cells);
    size_t w[NCOLS];
    char from[12], to[12];

    headers(r, h);
    for (int i = 0; i < NCOLS; i++)
        w[i] = cw__display_width(h[i]);
    for (size_t k = 0; k <= r->ng; k++) {
        cells_of(r, k < r->ng ? &r->g[k] : &r->total, k == r->ng, cells[k]);
        for (int i = 0; i < NCOLS; i++)
            if (cw__display_width(cells[k][i]) > w[i])
                w[i] = cw__display_width(cells[k][i]);
    }
    cw_day_format(r->o.from, from, sizeof from);
    cw_day_format(r->o.to, to, sizeof to);
    cw_buf_printf(b, "执法质量考评 %s 至 %s%s%s\n", from, to, r->scope[0] ? ", 单位 " : "",
                  r->scope[0] ? r->scope : "");
    for (int i = 0; i < NCOLS; i++) {
        cw__pad(b, h[i], w[i], i != 1);
        cw_buf_puts(b, i == NCOLS - 1 ? "\n" : "  ");
    }
    for (size_t k = 0; k <= r->ng; k++)
        for (int i = 0; i < NCOLS; i++) {
            cw__pad(b, cells[k][i], w[i], i != 1);
            cw_buf_puts(b, i == NCOLS - 1 ? "\n" : "  ");
        }
    free(cells);
}
