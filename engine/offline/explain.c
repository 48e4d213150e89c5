/*
 * casewarden explain: the reasoning behind one case's findings.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "base/util.h"
#include "base/value.h"
#include "core/engine_int.h"
#include "offline/explain.h"

/* ---- steps --------------------------------------------------------------- */

static void step(cw_xsteps *s, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void step(cw_xsteps *s, const char *kind, const char *fmt, ...)
{
    va_list ap;
    char *p;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    p = cw_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->v = cw_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    snprintf(s->v[s->n].kind, sizeof s->v[s->n].kind, "%s", kind);
    s->v[s->n].text = p;
    s->n++;
}

static void steps_free(cw_xsteps *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].text);
    free(s->v);
}

/* ---- the case's events ------------------------------------------------------ */

typedef struct xev {
    char *id;
    cw_time at;
    const char *title;
} xev;

typedef struct evlist {
    xev *v;
    size_t n, cap;
    const cw_ruleset *rs;
} evlist;

static int collect(void *ud, const cw_case *c, const cw_event *ev)
{
    evlist *l = ud;
    const cw_type_spec *t = cw_catalogue_type(l->rs->cat, ev->type);

    (void)c;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 32;
        l->v = cw_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n].id = cw_xstrdup(ev->id);
    l->v[l->n].at = ev->at;
    l->v[l->n].title = t ? t->title : "?";
    l->n++;
    return 0;
}

static const xev *find_ev(const evlist *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].id, id) == 0)
            return &l->v[i];
    return NULL;
}

/* ---- formatting -------------------------------------------------------------- */

typedef struct ctx {
    cw_engine *e;
    const cw_ruleset *rs;
    evlist ev;
    int tz;
    cw_time now;
} ctx;

static const char *tm(const ctx *x, cw_time t, char *buf, size_t size)
{
    char full[40];
    cw_day d;

    if (t == CW_TIME_NONE) {
        snprintf(buf, size, "-");
        return buf;
    }
    d = cw_time_day(t, x->tz);
    cw_day_format(d, full, sizeof full);
    /* "2026-03-02 09:30" in the deployment's offset */
    {
        cw_time local = t + (cw_time)x->tz * 60;
        long sec = (long)(local - (cw_time)d * 86400);
        snprintf(buf, size, "%s %02ld:%02ld", full, sec / 3600, sec / 60 % 60);
        if (sec % 60 != 0)
            snprintf(buf + strlen(buf), size - strlen(buf), ":%02ld", sec % 60);
    }
    return buf;
}

static const char *day_s(cw_day d, char *buf, size_t size)
{
    cw_day_format(d, buf, size);
    return buf;
}

static const char *const weekdays[] = { "星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日" };

static const char *weekday(cw_day d)
{
    int w = cw_day_weekday(d);     /* 0 Monday .. 6 Sunday */
    return w >= 0 && w <= 6 ? weekdays[w] : "";
}

static void ev_list(const ctx *x, const char *evids, cw_buf *b)
{
    char t[40];
    bool first = true;

    for (const char *p = evids; p && *p; p += strlen(p) + 1) {
        const xev *v = find_ev(&x->ev, p);
        if (!first)
            cw_buf_puts(b, "; ");
        first = false;
        if (v != NULL)
            cw_buf_printf(b, "%s (%s, %s)", p, v->title, tm(x, v->at, t, sizeof t));
        else
            cw_buf_printf(b, "%s (另案事件)", p);
    }
}

static void span_words(int64_t s, char *buf, size_t size)
{
    if (s % 86400 == 0)
        snprintf(buf, size, "%lld 日", (long long)(s / 86400));
    else if (s % 3600 == 0)
        snprintf(buf, size, "%lld 小时", (long long)(s / 3600));
    else
        snprintf(buf, size, "%lld 分钟", (long long)(s / 60));
}

/* ---- a deadline -------------------------------------------------------------- */

typedef struct xdead {
    uint32_t label;
    uint8_t unit, flags;
    int32_t n, ext;
    int64_t lead;
    cw_time start, due, met;
    const char *msg;
    const char *evids;
} xdead;

static const char *const unit_cn[] = { "", "日", "小时", "个月", "个工作日" };

static void explain_deadline(const ctx *x, const cw_xrule *xr, const xdead *d, uint32_t subject,
                             const cw_trace *t, cw_xsteps *s)
{
    const cw_calendar *cal = x->rs->cal;
    char a[40], b2[40], c3[40];
    cw_buf b = { 0 };
    const char *first = d->evids && *d->evids ? d->evids : NULL;
    const char *label = d->label ? cw_strtab_str(x->e->w->strs, d->label) : "起算事件";

    if (d->evids && *d->evids) {
        ev_list(x, d->evids, &b);
        step(s, "events", "所依据的事件: %s", b.p);
        b.n = 0;
    }
    if (d->unit == CW_PU_NONE || d->unit > CW_PU_WORKDAYS) {
        step(s, "start", "起算: %s (事件 %s)", d->msg ? d->msg : label, first ? first : "-");
    } else {
        step(s, "start", "起算: %s %s (事件 %s)", label, tm(x, d->start, a, sizeof a),
             first ? first : "-");
        if (d->unit == CW_PU_MONTHS)
            step(s, "period", "期限: %d %s%s", d->n, unit_cn[d->unit],
                 d->ext > 0 ? "" : ", 无延长");
        else
            step(s, "period", "期限: 基本 %d %s%s", d->n - d->ext, unit_cn[d->unit],
                 d->ext > 0 ? "" : ", 无延长");
    }
    /* what the model said of this subject: extensions added or refused,
     * the limit chosen, an exemption */
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].rule == xr->rule->index && t->v[i].subject == subject)
            step(s, t->v[i].kind, "%s", t->v[i].text);
    if (d->ext > 0 && d->unit == CW_PU_MONTHS)
        step(s, "period", "计入的延长共 %d 日, 期限为 %d 个月又 %d 日", d->ext, d->n, d->ext);
    else if (d->ext > 0)
        step(s, "period", "计入的延长共 %d 日, 期限合计 %d %s", d->ext, d->n, unit_cn[d->unit]);
    if (d->unit == CW_PU_HOURS) {
        step(s, "calendar", "按小时连续计算, 不受节假日影响, 也不顺延");
    } else if (d->unit != CW_PU_NONE && d->unit <= CW_PU_WORKDAYS && d->due != CW_TIME_NONE) {
        cw_day d0 = cw_time_day(d->start, x->tz), d1 = cw_time_day(d->due, x->tz), nominal;
        cw_buf hol = { 0 }, mk = { 0 };
        int nh = 0, nm = 0;
        for (cw_day k = d0 + 1; k <= d1 && k - d0 < 4000; k++) {
            int wd = cw_day_weekday(k);
            if (cw_calendar_is_holiday(cal, k)) {
                if (nh < 40)
                    cw_buf_printf(&hol, "%s%s", nh ? ", " : "", day_s(k, a, sizeof a));
                nh++;
            } else if (wd >= 5 && cw_calendar_is_workday(cal, k)) {
                cw_buf_printf(&mk, "%s%s (%s)", nm ? ", " : "", day_s(k, a, sizeof a), weekday(k));
                nm++;
            }
        }
        if (nh > 40)
            cw_buf_printf(&hol, " 等");
        step(s, "calendar", "自 %s 次日起算至 %s: 经过法定节假日 %d 日%s%s%s; 调休上班日 %d 日%s%s",
             day_s(d0, a, sizeof a), day_s(d1, b2, sizeof b2), nh, nh ? " (" : "",
             nh ? hol.p : "", nh ? ")" : "", nm, nm ? ": " : "", nm ? mk.p : "");
        cw_buf_free(&hol);
        cw_buf_free(&mk);
        if (d->unit == CW_PU_WORKDAYS) {
            step(s, "rollover", "按工作日计算: 自起算日次日起数第 %d 个工作日 (节假日不计, 调休上班日计入), "
                 "期满日 %s", d->n, day_s(d1, a, sizeof a));
        } else {
            if (d->unit == CW_PU_DAYS)
                nominal = d0 + d->n;
            else
                nominal = cw_time_day(cw_calendar_add_months(cal, d->start, d->n, d->ext, false, NULL),
                                      x->tz);
            if (nominal != d1)
                step(s, "rollover", "期间届满日 %s (%s) 不是工作日, 顺延至其后第一个工作日 %s (%s)",
                     day_s(nominal, a, sizeof a), weekday(nominal), day_s(d1, b2, sizeof b2),
                     weekday(d1));
            else if (!cw_calendar_is_workday(cal, nominal))
                step(s, "rollover", "期间届满日 %s (%s) 不是工作日, 但本期限不顺延 (羁押期限)",
                     day_s(nominal, a, sizeof a), weekday(nominal));
            else
                step(s, "rollover", "期间届满日 %s (%s) 是工作日, 不顺延", day_s(nominal, a, sizeof a),
                     weekday(nominal));
        }
        if (d->flags & CW_FF_UNCOVERED)
            step(s, "calendar", "到期日超出法定节假日日历覆盖的年份, 该年仅按周末计算");
    }
    if (d->lead > 0) {
        span_words(d->lead, c3, sizeof c3);
        step(s, "due", "到期: %s; 提前 %s 预警, 自 %s 起为 warning", tm(x, d->due, a, sizeof a), c3,
             tm(x, d->due - d->lead, b2, sizeof b2));
    } else {
        step(s, "due", "到期: %s; 本规则不设预警", tm(x, d->due, a, sizeof a));
    }
    if (d->met != CW_TIME_NONE) {
        const char *met_id = NULL;
        for (const char *p = d->evids; p && *p; p += strlen(p) + 1) {
            const xev *v = find_ev(&x->ev, p);
            if (p != first && (v == NULL || v->at == d->met))
                met_id = p;
        }
        if (met_id == NULL)
            for (const char *p = d->evids; p && *p; p += strlen(p) + 1)
                met_id = p;
        if (d->met > d->due)
            step(s, "met", "完成: 事件 %s 于 %s, 晚于到期时间 → late", met_id ? met_id : "-",
                 tm(x, d->met, a, sizeof a));
        else if (d->lead > 0 && d->met >= d->due - d->lead)
            step(s, "met", "完成: 事件 %s 于 %s, 在预警期内按期完成 → cleared", met_id ? met_id : "-",
                 tm(x, d->met, a, sizeof a));
        else
            step(s, "met", "完成: 事件 %s 于 %s, 按期完成 → 无发现", met_id ? met_id : "-",
                 tm(x, d->met, a, sizeof a));
    } else if (x->now > d->due) {
        step(s, "met", "截至 %s 尚无完成事件, 已过到期时间 → overdue", tm(x, x->now, a, sizeof a));
    } else if (d->lead > 0 && x->now >= d->due - d->lead) {
        step(s, "met", "截至 %s 尚无完成事件, 已进入预警期 → warning", tm(x, x->now, a, sizeof a));
    } else {
        step(s, "met", "截至 %s 尚无完成事件, 未到预警期 → 暂无发现", tm(x, x->now, a, sizeof a));
    }
    cw_buf_free(&b);
}

/* ---- the whole case ---------------------------------------------------------- */

static cw_xfind *add_find(cw_xrule *xr, const char *subject)
{
    cw_xfind *f;

    for (size_t i = 0; i < xr->nf; i++)
        if (strcmp(xr->f[i].subject, subject) == 0)
            return &xr->f[i];
    xr->f = cw_xrealloc(xr->f, (xr->nf + 1) * sizeof *xr->f);
    f = &xr->f[xr->nf++];
    memset(f, 0, sizeof *f);
    f->subject = cw_xstrdup(subject);
    f->state = "none";
    f->due = CW_TIME_NONE;
    return f;
}

static bool sub_ok(const char *want, const char *s)
{
    return want == NULL || strcmp(want, s) == 0;
}

/* The override that disables rule r for unit, when the most specific
 * one for the unit does. */
static const cw_override *disabled_here(const cw_ruleset *rs, const cw_rule *r, const char *unit)
{
    const cw_override *best = NULL;

    if (r->override != NULL)
        return NULL;
    for (size_t i = 0; i < rs->novr; i++) {
        const cw_override *o = &rs->ovr[i];
        if (strcmp(o->rule, r->info.id) == 0 && strncmp(unit, o->unit, strlen(o->unit)) == 0 &&
            (best == NULL || strlen(o->unit) > strlen(best->unit)))
            best = o;
    }
    return best && best->disabled ? best : NULL;
}

static void explain_rule(ctx *x, const cw_case *c, const cw_trace *t, cw_rule *r,
                         const char *subject, bool asked, cw_explain *out)
{
    cw_xrule xr = { 0 };
    const char *strs_unit = c ? cw_strtab_str(x->e->w->strs, c->unit) : "";

    xr.rule = r;
    xr.calls = r->index < t->nrules ? t->calls[r->index] : 0;
    /* the finding records */
    for (uint32_t i = 0; c && i < c->nfr; i++) {
        const cw_frec *fr = &c->fr[i];
        const char *sj;
        cw_finding f;
        cw_xfind *xf;
        char a[40];
        int st;
        if (fr->rule != r->index)
            continue;
        sj = cw_strtab_str(x->e->w->strs, fr->subject);
        if (!sub_ok(subject, sj))
            continue;
        xf = add_find(&xr, sj);
        st = cw_engine_resolve(x->e, c, fr, x->now, &f);
        if (st != CW_ST_NONE) {
            xf->state = cw_state_name(st);
            xf->message = cw_xstrdup(f.message);
            xf->due = f.due;
            cw_finding_clear(&f);
        }
        if (fr->mode == CW_FM_DEADLINE) {
            xdead d = { fr->plabel, fr->punit, fr->flags, fr->pn, fr->pext, fr->lead,
                        fr->pstart, fr->due, fr->met, fr->msg, fr->evids };
            explain_deadline(x, &xr, &d, fr->subject, t, &xf->steps);
        } else {
            cw_buf b = { 0 };
            if (fr->evids && *fr->evids) {
                ev_list(x, fr->evids, &b);
                step(&xf->steps, "events", "所依据的事件: %s", b.p);
            }
            cw_buf_free(&b);
            for (size_t k = 0; k < t->n; k++)
                if (t->v[k].rule == r->index && t->v[k].subject == fr->subject)
                    step(&xf->steps, t->v[k].kind, "%s", t->v[k].text);
            if (fr->raised != CW_TIME_NONE && x->now != CW_TIME_NONE && x->now < fr->raised)
                step(&xf->steps, "state", "自 %s 起成立, 截至 %s 尚未成立", tm(x, fr->raised, a, sizeof a),
                     tm(x, x->now, a, sizeof a));
            else
                step(&xf->steps, "state", "结论: %s, 自 %s 起", cw_state_name(fr->fstate),
                     tm(x, fr->raised, a, sizeof a));
        }
    }
    /* deadlines the rule stated that left no record: met on time */
    for (size_t i = 0; i < t->nd; i++) {
        const cw_tdead *td = &t->d[i];
        const char *sj = cw_strtab_str(x->e->w->strs, td->subject);
        bool have = false;
        if (td->rule != r->index || !sub_ok(subject, sj))
            continue;
        for (size_t k = 0; k < xr.nf; k++)
            have |= strcmp(xr.f[k].subject, sj) == 0;
        if (!have) {
            xdead d = { td->label, td->unit, td->flags, td->n, td->ext, td->lead,
                        td->start, td->due, td->met, td->msg, td->evids };
            cw_xfind *xf = add_find(&xr, sj);
            explain_deadline(x, &xr, &d, td->subject, t, &xf->steps);
        }
    }
    /* the steps not tied to one subject, in the order recorded; steps of a
     * subject without a finding go there too */
    for (size_t k = 0; k < t->n; k++) {
        const cw_tstep *ts = &t->v[k];
        const char *sj = cw_strtab_str(x->e->w->strs, ts->subject);
        bool placed = false;
        if (ts->rule != r->index)
            continue;
        for (size_t i = 0; i < xr.nf; i++)
            placed |= strcmp(xr.f[i].subject, sj) == 0;
        if (placed || (ts->subject != 0 && !sub_ok(subject, sj)))
            continue;
        step(&xr.steps, ts->kind, "%s", ts->text);
    }
    if (xr.nf == 0) {
        cw_buf b = { 0 };
        if (c == NULL) {
            xr.absent = cw_xstrdup("本案没有事件");
        } else if (disabled_here(x->rs, r, strs_unit) != NULL) {
            const cw_override *o = disabled_here(x->rs, r, strs_unit);
            cw_buf_printf(&b, "本案单位 %s 按覆盖参数 (%s:%d, 单位 %s) 停用本规则", strs_unit, o->file,
                          o->line, o->unit);
            xr.absent = b.p;
            b.p = NULL;
        } else if (!cw_rule_in_scope(r, x->rs, c->kind, strs_unit, CW_TIME_NONE)) {
            cw_buf_printf(&b, "本案 (类别 %s, 单位 %s) 不在规则的适用范围内",
                          c->kind ? cw_strtab_str(x->e->w->strs, c->kind) : "未知", strs_unit);
            xr.absent = b.p;
            b.p = NULL;
        } else if (xr.calls == 0) {
            xr.absent = cw_xstrdup("本案没有规则所需或所监听的事件, 规则未作判断");
        } else {
            cw_buf_printf(&b, "规则对本案判断 %llu 次, 未发现问题", (unsigned long long)xr.calls);
            xr.absent = b.p;
            b.p = NULL;
        }
        cw_buf_free(&b);
        if (!asked && xr.steps.n == 0) {
            free(xr.absent);
            steps_free(&xr.steps);
            out->silent++;
            return;
        }
    }
    out->r = cw_xrealloc(out->r, (out->nr + 1) * sizeof *out->r);
    out->r[out->nr++] = xr;
}

void cw_explain_build(cw_engine *e, const char *case_id, const char *rule_id,
                      const char *subject, cw_time now, cw_explain *out)
{
    const cw_trace *t = cw_engine_trace_of(e);
    cw_case *c = cw_engine_case(e, case_id);
    ctx x = { e, e->rs, { NULL, 0, 0, e->rs }, e->rs->tz, now };
    static const cw_trace none = { 0 };

    memset(out, 0, sizeof *out);
    out->case_id = cw_xstrdup(case_id);
    out->now = now;
    out->tz = e->rs->tz;
    out->found = c != NULL && c->nev > 0;
    if (t == NULL)
        t = &none;
    if (c != NULL)
        cw__case_events(e, c, NULL, 0, collect, &x.ev);
    for (size_t i = 0; i < e->rs->nrules; i++) {
        cw_rule *r = e->rs->rules[i];
        if (rule_id != NULL && strcmp(r->info.id, rule_id) != 0)
            continue;
        /* of a rule and the rules its overrides made, the one for the
         * case's unit; the others are not its rule */
        if (out->found && (r->override != NULL || r->nxunits > 0) &&
            !cw_rule_in_scope(r, e->rs, c->kind, cw_strtab_str(e->w->strs, c->unit), CW_TIME_NONE) &&
            disabled_here(e->rs, r, cw_strtab_str(e->w->strs, c->unit)) == NULL)
            continue;
        explain_rule(&x, out->found ? c : NULL, t, r, subject, rule_id != NULL, out);
    }
    for (size_t i = 0; i < x.ev.n; i++)
        free(x.ev.v[i].id);
    free(x.ev.v);
}

void cw_explain_free(cw_explain *x)
{
    for (size_t i = 0; i < x->nr; i++) {
        cw_xrule *r = &x->r[i];
        for (size_t k = 0; k < r->nf; k++) {
            free(r->f[k].subject);
            free(r->f[k].message);
            steps_free(&r->f[k].steps);
        }
        free(r->f);
        free(r->absent);
        steps_free(&r->steps);
    }
    free(x->r);
    free(x->case_id);
    memset(x, 0, sizeof *x);
}

/* ---- output ------------------------------------------------------------------ */

static void text_steps(const cw_xsteps *s, const char *indent, int *num, FILE *out)
{
    for (size_t i = 0; i < s->n; i++)
        fprintf(out, "%s%d. %s\n", indent, ++*num, s->v[i].text);
}

void cw_explain_text(const cw_explain *x, FILE *out)
{
    char now[40];

    cw_time_format(x->now, x->tz, now, sizeof now);
    fprintf(out, "案件 %s, 截至 %s\n", x->case_id, now);
    if (!x->found)
        fprintf(out, "  (事件中没有这个案件)\n");
    for (size_t i = 0; i < x->nr; i++) {
        const cw_xrule *r = &x->r[i];
        int num = 0;
        fprintf(out, "\n规则 %s «%s» (%s:%d)\n", r->rule->info.id, r->rule->info.title,
                r->rule->info.file, r->rule->info.line);
        if (r->rule->override != NULL) {
            cw_buf b = { 0 };
            cw_value_json(&b, r->rule->override_set);
            fprintf(out, "  按单位 %s 的覆盖参数 (%s) 执行: %s\n", r->rule->override_unit,
                    r->rule->override, b.p);
            cw_buf_free(&b);
        }
        text_steps(&r->steps, "  ", &num, out);
        if (r->absent != NULL)
            fprintf(out, "  无发现: %s\n", r->absent);
        for (size_t k = 0; k < r->nf; k++) {
            const cw_xfind *f = &r->f[k];
            num = 0;
            if (f->message != NULL)
                fprintf(out, "  发现 [%s] 对象 %s: %s\n", f->state, f->subject[0] ? f->subject : "(本案)",
                        f->message);
            else
                fprintf(out, "  无发现 对象 %s:\n", f->subject[0] ? f->subject : "(本案)");
            text_steps(&f->steps, "    ", &num, out);
        }
    }
    if (x->silent > 0)
        fprintf(out, "\n其余 %zu 条规则未判断本案 (不适用, 或本案没有它们所需的事件); "
                "--rule 可逐条查看\n", x->silent);
}

static void json_steps(const cw_xsteps *s, cw_buf *b)
{
    cw_buf_puts(b, "[");
    for (size_t i = 0; i < s->n; i++) {
        cw_buf_puts(b, i ? ",{\"kind\":" : "{\"kind\":");
        cw_buf_json(b, s->v[i].kind, strlen(s->v[i].kind));
        cw_buf_puts(b, ",\"text\":");
        cw_buf_json(b, s->v[i].text, strlen(s->v[i].text));
        cw_buf_puts(b, "}");
    }
    cw_buf_puts(b, "]");
}

static void json_s(cw_buf *b, const char *s)
{
    cw_buf_json(b, s, strlen(s));
}

void cw_explain_json(const cw_explain *x, cw_buf *b)
{
    char t[40];

    cw_buf_puts(b, "{\"case\":");
    json_s(b, x->case_id);
    cw_time_format(x->now, x->tz, t, sizeof t);
    cw_buf_puts(b, ",\"now\":");
    json_s(b, t);
    cw_buf_printf(b, ",\"found\":%s,\"silent_rules\":%zu,\"rules\":[", x->found ? "true" : "false",
                  x->silent);
    for (size_t i = 0; i < x->nr; i++) {
        const cw_xrule *r = &x->r[i];
        cw_buf_puts(b, i ? ",{\"rule\":" : "{\"rule\":");
        json_s(b, r->rule->info.id);
        cw_buf_puts(b, ",\"title\":");
        json_s(b, r->rule->info.title);
        cw_buf_puts(b, ",\"file\":");
        json_s(b, r->rule->info.file);
        cw_buf_printf(b, ",\"line\":%d,\"calls\":%llu", r->rule->info.line,
                      (unsigned long long)r->calls);
        if (r->rule->override != NULL) {
            cw_buf_puts(b, ",\"override\":{\"unit\":");
            json_s(b, r->rule->override_unit);
            cw_buf_puts(b, ",\"at\":");
            json_s(b, r->rule->override);
            cw_buf_puts(b, ",\"set\":");
            cw_value_json(b, r->rule->override_set);
            cw_buf_puts(b, "}");
        }
        if (r->absent) {
            cw_buf_puts(b, ",\"absent\":");
            json_s(b, r->absent);
        }
        cw_buf_puts(b, ",\"steps\":");
        json_steps(&r->steps, b);
        cw_buf_puts(b, ",\"findings\":[");
        for (size_t k = 0; k < r->nf; k++) {
            const cw_xfind *f = &r->f[k];
            cw_buf_puts(b, k ? ",{\"subject\":" : "{\"subject\":");
            json_s(b, f->subject);
            cw_buf_puts(b, ",\"state\":");
            json_s(b, f->state);
            if (f->message) {
                cw_buf_puts(b, ",\"message\":");
                json_s(b, f->message);
            }
            if (f->due != CW_TIME_NONE) {
                cw_time_format(f->due, x->tz, t, sizeof t);
                cw_buf_puts(b, ",\"due\":");
                json_s(b, t);
            }
            cw_buf_puts(b, ",\"steps\":");
            json_steps(&f->steps, b);
            cw_buf_puts(b, "}");
        }
        cw_buf_puts(b, "]}");
    }
    cw_buf_puts(b, "]}");
}
