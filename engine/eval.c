#include "eval.h"

#include <stdlib.h>
#include <string.h>

int cw_eval_store_new(const cw_ruleset *rs, cw_store **out, cw_err *err)
{
    return cw_store_new(out, rs->indexes, rs->nindexes, err);
}

const char *cw_case_kind(const cw_ruleset *rs, const cw_case *c)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (c->ev[i]->type == rs->t_accepted)
            return cw_event_str(c->ev[i], "kind");
    return NULL;
}

int cw_eval_case(const cw_ruleset *rs, const cw_store *st, const cw_case *c,
                 cw_time now, int (*emit)(void *ud, const cw_finding *f), void *ud)
{
    cw_evalctx ctx = {
        .rs = rs, .store = st, .c = c, .kind = cw_case_kind(rs, c),
        .now = now, .emit = emit, .ud = ud,
    };

    for (size_t i = 0; i < rs->nrules && ctx.rc == 0; i++)
        rs->rules[i]->model->eval_case(rs->rules[i], &ctx);
    return ctx.rc;
}

int cw_eval_all(const cw_ruleset *rs, cw_store *st, cw_time now,
                int (*emit)(void *ud, const cw_finding *f), void *ud)
{
    int rc = 0;

    cw_store_sort(st);
    for (size_t i = 0; i < cw_store_ncases(st) && rc == 0; i++)
        rc = cw_eval_case(rs, st, cw_store_case_at(st, i), now, emit, ud);
    return rc;
}

int cw_findings_emit(void *ud, const cw_finding *f)
{
    return cw_findings_add(ud, f);
}

/* Seen ids, to answer duplicates: id -> (line, hash of the line). */
typedef struct seen_slot {
    uint64_t hash;           /* of the id; 0 = empty */
    uint64_t body;
    size_t line;
    const char *id;          /* borrowed from the stored event */
} seen_slot;

typedef struct seen {
    seen_slot *s;
    size_t cap, n;
} seen;

static seen_slot *seen_find(seen *t, const char *id, uint64_t h)
{
    size_t j = h & (t->cap - 1);

    while (t->s[j].hash != 0) {
        if (t->s[j].hash == h && strcmp(t->s[j].id, id) == 0)
            return &t->s[j];
        j = (j + 1) & (t->cap - 1);
    }
    return &t->s[j];
}

static int seen_grow(seen *t)
{
    seen old = *t;

    t->cap = old.cap ? old.cap * 2 : 4096;
    t->s = calloc(t->cap, sizeof *t->s);
    if (t->s == NULL) {
        *t = old;
        return CW_ENOMEM;
    }
    for (size_t i = 0; i < old.cap; i++)
        if (old.s[i].hash != 0)
            *seen_find(t, old.s[i].id, old.s[i].hash) = old.s[i];
    free(old.s);
    return 0;
}

static void seen_free(seen *t)
{
    free(t->s);
}

int cw_eval_load_jsonl(const cw_ruleset *rs, cw_store *st, const char *path,
                       const cw_load_opts *opts, cw_load_stats *stats, cw_err *err)
{
    cw_event_parser *p = NULL;
    cw_jsonl *in = NULL;
    seen ids = { 0 };
    int rc;

    memset(stats, 0, sizeof *stats);
    if ((rc = cw_jsonl_open(&in, path, err)) < 0)
        return rc;
    if ((rc = cw_event_parser_new(&p, rs->cat)) < 0) {
        cw_jsonl_close(in);
        return cw_err_set(err, rc, "%s: out of memory", path);
    }
    for (;;) {
        const char *line;
        size_t len, lineno;
        cw_event_error e;
        cw_event *ev;
        seen_slot *s;
        uint64_t h;

        rc = cw_jsonl_next(in, &line, &len, &lineno, err);
        if (rc == 0)
            break;
        if (rc == CW_ELIMIT) {
            stats->lines++;
            stats->rejected++;
            if (opts->errors)
                fprintf(opts->errors, "%s:%zu: %s\n", path, lineno, err->msg);
            if (opts->strict)
                goto out;
            continue;
        }
        if (rc < 0)
            goto out;
        stats->lines++;
        rc = cw_event_parse(p, line, len, &ev, &e);
        if (rc < 0) {
            stats->rejected++;
            cw_err_set(err, rc, "%s:%zu: event %s: %s%s%s%s", path, lineno,
                       e.id[0] ? e.id : "(no id)", e.field[0] ? "field '" : "",
                       e.field, e.field[0] ? "': " : "", e.err.msg);
            if (opts->errors)
                fprintf(opts->errors, "%s\n", err->msg);
            if (opts->strict) {
                rc = CW_EEVENT;
                goto out;
            }
            continue;
        }
        if (opts->parse_only) {
            cw_event_free(ev);
            stats->accepted++;
            continue;
        }
        if ((ids.n + 1) * 2 > ids.cap && (rc = seen_grow(&ids)) < 0) {
            cw_event_free(ev);
            cw_err_set(err, rc, "%s: out of memory", path);
            goto out;
        }
        h = cw_hash(ev->id, strlen(ev->id));
        s = seen_find(&ids, ev->id, h);
        if (s->hash != 0) {
            if (s->body == cw_hash(line, len)) {
                stats->duplicates++;
            } else {
                stats->rejected++;
                cw_err_set(err, CW_ECONFLICT,
                           "%s:%zu: event %s: field 'id': conflicts with line %zu (same id, different body)",
                           path, lineno, ev->id, s->line);
                if (opts->errors)
                    fprintf(opts->errors, "%s\n", err->msg);
                if (opts->strict) {
                    cw_event_free(ev);
                    rc = CW_ECONFLICT;
                    goto out;
                }
            }
            cw_event_free(ev);
            continue;
        }
        /* The store keeps ev for longer than this table lives. */
        s->id = ev->id;
        s->hash = h;
        s->body = cw_hash(line, len);
        s->line = lineno;
        ids.n++;
        ev->seq = lineno;
        if ((rc = cw_store_add(st, ev, NULL, err)) < 0)
            goto out;
        stats->accepted++;
    }
    rc = 0;
out:
    seen_free(&ids);
    cw_event_parser_free(p);
    cw_jsonl_close(in);
    return rc;
}
