/*
 * Findings out: resolving records into what inspectors read (state,
 * message), and writing them as JSON lines or a table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_int.h"
#include "base/timeutil.h"
#include "base/util.h"

static const char *const state_names[] = {
    [CW_ST_NONE] = "none", [CW_ST_WARNING] = "warning", [CW_ST_OVERDUE] = "overdue",
    [CW_ST_LATE] = "late", [CW_ST_VIOLATION] = "violation", [CW_ST_ANOMALY] = "anomaly",
    [CW_ST_CLEARED] = "cleared",
};

const char *cw_state_name(int state)
{
    if (state < 0 || (size_t)state >= sizeof state_names / sizeof *state_names)
        return "?";
    return state_names[state];
}

int cw_state_parse(const char *name)
{
    for (size_t i = 1; i < sizeof state_names / sizeof *state_names; i++)
        if (strcmp(state_names[i], name) == 0)
            return (int)i;
    return -1;
}

/* Messages are written for every finding read out, so these avoid
 * printf: digits and dates by hand into a growable buffer. */
static void put_num(cw_buf *b, long long v)
{
    char buf[24], *o = buf + sizeof buf;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    do
        *--o = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *--o = '-';
    cw_buf_put(b, o, (size_t)(buf + sizeof buf - o));
}

/* "2026-04-01", "2026-04-01 09:30" or "2026-04-01 09:30:00", local. */
static void put_time(cw_buf *b, cw_time t, int tz, int parts)
{
    char iso[40];

    cw_time_format(t, tz, iso, sizeof iso);
    cw_buf_put(b, iso, 10);
    if (parts > 0) {
        cw_buf_put(b, " ", 1);
        cw_buf_put(b, iso + 11, parts > 1 ? 8 : 5);
    }
}

/* "2026-04-01 23:59:59" in the deployment's offset. */
static void local_time(cw_time t, int tz, char *buf, size_t size)
{
    char iso[40];

    cw_time_format(t, tz, iso, sizeof iso);
    iso[10] = ' ';
    iso[19] = '\0';
    snprintf(buf, size, "%s", iso);
}

/* A span of time in words: days and hours, hours and minutes, ... */
static void span(cw_buf *b, int64_t s)
{
    if (s >= 86400) {
        put_num(b, s / 86400);
        cw_buf_puts(b, " 日");
        if (s % 86400 >= 3600) {
            cw_buf_put(b, " ", 1);
            put_num(b, s % 86400 / 3600);
            cw_buf_puts(b, " 小时");
        }
    } else if (s >= 3600) {
        put_num(b, s / 3600);
        cw_buf_puts(b, " 小时");
        if (s % 3600 >= 60) {
            cw_buf_put(b, " ", 1);
            put_num(b, s % 3600 / 60);
            cw_buf_puts(b, " 分钟");
        }
    } else if (s >= 60) {
        put_num(b, s / 60);
        cw_buf_puts(b, " 分钟");
    } else {
        put_num(b, s);
        cw_buf_puts(b, " 秒");
    }
}

/* How far past due `t` is: whole days when the period ends at the end of
 * a day (day periods), else the exact span (hour periods). */
static void overrun(cw_buf *b, cw_time due, cw_time t, int tz)
{
    if (cw_time_day(due + 1, tz) != cw_time_day(due, tz)) {
        put_num(b, (long long)(cw_time_day(t, tz) - cw_time_day(due, tz)));
        cw_buf_puts(b, " 日");
    } else {
        span(b, t - due);
    }
}

static const char *const unit_cn[] = {
    [CW_PU_DAYS] = "日", [CW_PU_HOURS] = "小时", [CW_PU_MONTHS] = "个月",
    [CW_PU_WORKDAYS] = "个工作日",
};

static char *deadline_message(cw_engine *e, const cw_rule *rule, const cw_frec *r, int state,
                              cw_time now, int tz)
{
    cw_buf b = { 0 };

    cw_buf_puts(&b, rule->info.title);
    cw_buf_puts(&b, ": ");
    if (r->punit != CW_PU_NONE && r->punit <= CW_PU_WORKDAYS) {
        cw_buf_puts(&b, cw_strtab_str(e->w->strs, r->plabel));
        cw_buf_put(&b, " ", 1);
        put_time(&b, r->pstart, tz, r->punit == CW_PU_HOURS);
        cw_buf_puts(&b, ", 期限 ");
        put_num(&b, r->pn);
        cw_buf_put(&b, " ", 1);
        cw_buf_puts(&b, unit_cn[r->punit]);
        if (r->pext > 0) {
            cw_buf_puts(&b, " (含延长 ");
            put_num(&b, r->pext);
            cw_buf_puts(&b, " 日)");
        }
        cw_buf_puts(&b, ", ");
    } else if (r->msg && r->msg[0]) {
        cw_buf_puts(&b, r->msg);
        cw_buf_puts(&b, ", ");
    }
    switch (state) {
    case CW_ST_WARNING:
        cw_buf_puts(&b, "将于 ");
        put_time(&b, r->due, tz, 2);
        cw_buf_puts(&b, " 到期");
        break;
    case CW_ST_OVERDUE:
        cw_buf_puts(&b, "已超期 ");
        overrun(&b, r->due, now, tz);
        break;
    case CW_ST_LATE:
        cw_buf_puts(&b, "于 ");
        put_time(&b, r->met, tz, 2);
        cw_buf_puts(&b, " 完成, 超期 ");
        overrun(&b, r->due, r->met, tz);
        break;
    default:
        cw_buf_puts(&b, "于 ");
        put_time(&b, r->met, tz, 2);
        cw_buf_puts(&b, " 完成, 未超期");
        break;
    }
    if (r->flags & CW_FF_UNCOVERED)
        cw_buf_puts(&b, " (到期日超出法定节假日日历覆盖的年份, 仅按周末计算)");
    return b.p;
}

int cw_engine_resolve(cw_engine *e, const cw_case *c, const cw_frec *r, cw_time now,
                      cw_finding *f)
{
    const cw_rule *rule = r->rule < e->rs->nrules ? e->rs->rules[r->rule] : NULL;
    cw_time raised;
    int state = cw_frec_state(r, now, &raised);
    const char *p;

    if (state == CW_ST_NONE || rule == NULL)
        return CW_ST_NONE;
    memset(f, 0, sizeof *f);
    f->rule = rule;
    f->case_id = cw_strtab_str(e->w->strs, c->id);
    f->subject = cw_strtab_str(e->w->strs, r->subject);
    f->unit = cw_strtab_str(e->w->strs, r->unit ? r->unit : c->unit);
    f->state = state;
    f->due = r->due;
    f->raised = raised;
    f->lead = r->mode == CW_FM_DEADLINE ? r->lead : 0;
    f->review = "open";
    if (r->mode == CW_FM_DEADLINE)
        f->message = deadline_message(e, rule, r, state, now, e->rs->tz);
    else
        f->message = cw_xstrdup(r->msg ? r->msg : rule->info.title);
    for (p = r->evids; p && *p; p += strlen(p) + 1)
        f->nevents++;
    f->events = cw_xmalloc((f->nevents + 1) * sizeof *f->events);
    f->nevents = 0;
    for (p = r->evids; p && *p; p += strlen(p) + 1)
        f->events[f->nevents++] = p;
    return state;
}

void cw_finding_clear(cw_finding *f)
{
    free(f->message);
    free(f->events);
    f->message = NULL;
    f->events = NULL;
    f->nevents = 0;
}

void cw_findings_free(cw_findings *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        cw_finding_clear(&fs->v[i]);
    free(fs->v);
    memset(fs, 0, sizeof *fs);
}

static void json_str(cw_buf *b, const char *s)
{
    cw_buf_json(b, s, strlen(s));
}

static void json_time(cw_buf *b, cw_time t, int tz)
{
    char buf[40];
    size_t n;

    if (t == CW_TIME_NONE) {
        cw_buf_put(b, "null", 4);
        return;
    }
    buf[0] = '"';
    n = cw_time_format(t, tz, buf + 1, sizeof buf - 2);
    buf[n + 1] = '"';
    cw_buf_put(b, buf, n + 2);
}

void cw_finding_json(const cw_finding *f, int tz, cw_buf *b)
{
    cw_buf_put(b, "{", 1);
    if (f->id != 0)
        cw_buf_printf(b, "\"id\":%lld,", (long long)f->id);
    cw_buf_puts(b, "\"rule\":");
    json_str(b, f->rule->info.id);
    cw_buf_puts(b, ",\"case\":");
    json_str(b, f->case_id);
    cw_buf_puts(b, ",\"subject\":");
    json_str(b, f->subject);
    cw_buf_puts(b, ",\"unit\":");
    json_str(b, f->unit);
    cw_buf_puts(b, ",\"severity\":");
    json_str(b, f->rule->info.severity);
    cw_buf_puts(b, ",\"state\":\"");
    cw_buf_puts(b, cw_state_name(f->state));
    cw_buf_puts(b, "\",\"due\":");
    json_time(b, f->due, tz);
    cw_buf_puts(b, ",\"raised\":");
    json_time(b, f->raised, tz);
    cw_buf_puts(b, ",\"message\":");
    json_str(b, f->message);
    cw_buf_puts(b, ",\"basis\":");
    json_str(b, f->rule->info.basis);
    cw_buf_puts(b, ",\"events\":[");
    for (unsigned i = 0; i < f->nevents; i++) {
        if (i)
            cw_buf_put(b, ",", 1);
        json_str(b, f->events[i]);
    }
    cw_buf_puts(b, "],\"review\":");
    json_str(b, f->review ? f->review : "open");
    if (f->rule->version[0] != '\0') {
        cw_buf_puts(b, ",\"rule_version\":\"");
        cw_buf_puts(b, f->rule->version);
        cw_buf_puts(b, "\",\"program\":");
        json_str(b, cw_program_version());
    }
    if (f->rule->override != NULL) {
        cw_buf_puts(b, ",\"override\":{\"unit\":");
        json_str(b, f->rule->override_unit);
        cw_buf_puts(b, ",\"at\":");
        json_str(b, f->rule->override);
        cw_buf_puts(b, "}");
    }
    cw_buf_put(b, "}", 1);
}

void cw_finding_write_json(const cw_finding *f, int tz, FILE *out)
{
    cw_buf b = { 0 };

    cw_finding_json(f, tz, &b);
    cw_buf_put(&b, "\n", 1);
    fwrite(b.p, 1, b.n, out);
    cw_buf_free(&b);
}

/* Display width of UTF-8 text: CJK and other wide characters take two
 * terminal columns. */
static size_t width(const char *s)
{
    size_t w = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xc0) != 0x80)
            w += *p >= 0xe1 ? 2 : 1;
    return w;
}

static void pad(FILE *out, const char *s, size_t w)
{
    size_t n = width(s);

    fputs(s, out);
    while (n++ < w)
        putc(' ', out);
}

void cw_findings_write_table(const cw_findings *fs, int tz, FILE *out)
{
    static const char *const head[] = { "RULE", "CASE", "SUBJECT", "STATE", "DUE" };
    size_t w[5];
    char due[40];

    for (int k = 0; k < 5; k++)
        w[k] = strlen(head[k]);
    for (size_t i = 0; i < fs->n; i++) {
        const cw_finding *f = &fs->v[i];
        const char *cols[4] = { f->rule->info.id, f->case_id, f->subject, cw_state_name(f->state) };
        for (int k = 0; k < 4; k++)
            if (width(cols[k]) > w[k])
                w[k] = width(cols[k]);
    }
    w[4] = 19;
    for (int k = 0; k < 5; k++) {
        pad(out, head[k], w[k]);
        fputs("  ", out);
    }
    fputs("MESSAGE\n", out);
    for (size_t i = 0; i < fs->n; i++) {
        const cw_finding *f = &fs->v[i];
        if (f->due == CW_TIME_NONE)
            snprintf(due, sizeof due, "-");
        else
            local_time(f->due, tz, due, sizeof due);
        const char *cols[5] = { f->rule->info.id, f->case_id, f->subject[0] ? f->subject : "-",
                                cw_state_name(f->state), due };
        for (int k = 0; k < 5; k++) {
            pad(out, cols[k], w[k]);
            fputs("  ", out);
        }
        fputs(f->message, out);
        putc('\n', out);
    }
    fprintf(out, "%zu finding%s\n", fs->n, fs->n == 1 ? "" : "s");
}
