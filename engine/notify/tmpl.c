/*
 * Body templates: JSON text with {{name}} placeholders and one section,
 * {{#findings}}...{{/findings}}, repeated for each finding of a message
 * with commas between. A placeholder inside a JSON string is replaced by
 * the value's JSON-escaped characters; outside a string, by a JSON value
 * (a quoted string, a number or null). Which of the two applies is known
 * when the template is compiled, so a value can never break out of its
 * string; the compiled template is then rendered with sample findings and
 * parsed, so a template that would not give JSON is refused at load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/util.h"
#include "notify/notify_int.h"

/* The names a template may use. The finding's fields, outside the
 * section, are those of the message's first finding. */
enum {
    V_KEY, V_RECEIVER, V_GROUP, V_LEVEL, V_LADDER, V_COUNT, V_CONSOLE,
    V_ID, V_TRANSITION, V_RULE, V_CASE, V_SUBJECT, V_UNIT, V_SEVERITY, V_STATE, V_REVIEW,
    V_DUE, V_RAISED, V_MESSAGE, V_BASIS, V_LINK, V_N
};
static const char *const vnames[V_N] = {
    "key", "receiver", "group", "level", "ladder", "count", "console",
    "id", "transition", "rule", "case", "subject", "unit", "severity", "state", "review",
    "due", "raised", "message", "basis", "link",
};

enum { T_LIT, T_VAR, T_BEGIN, T_END };

typedef struct tok {
    int kind, var;
    bool in_string;
    char *text;
    size_t len;
} tok;

struct cw_tmpl {
    tok *t;
    size_t n, cap;
};

static void add(cw_tmpl *t, int kind, int var, bool in_string, const char *text, size_t len)
{
    tok *k;

    CW_GROW(t->t, t->cap, t->n + 1);
    k = &t->t[t->n++];
    k->kind = kind;
    k->var = var;
    k->in_string = in_string;
    k->text = text ? cw_xstrndup(text, len) : NULL;
    k->len = len;
}

static int line_of(const char *text, const char *p)
{
    int line = 1;

    for (const char *q = text; q < p; q++)
        line += *q == '\n';
    return line;
}

int cw__tmpl_compile(cw_tmpl **out, const char *text, int *line, cw_err *err)
{
    cw_tmpl *t = cw_xcalloc(1, sizeof *t);
    const char *p = text, *lit = text;
    bool in_string = false, in_section = false;
    int string_no = 0, section_string = 0;   /* which string literal, 0: none */

    *out = NULL;
    *line = 0;
    while (*p) {
        if (p[0] == '{' && p[1] == '{') {
            const char *end = strstr(p + 2, "}}");
            char name[64];
            size_t len;
            int kind = T_VAR, v = -1;
            if (end == NULL) {
                cw__tmpl_free(t);
                return *line = line_of(text, p), cw_err_set(err, CW_EPARSE, "'{{' without '}}'");
            }
            add(t, T_LIT, 0, in_string, lit, (size_t)(p - lit));
            len = (size_t)(end - p - 2);
            snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), p + 2);
            if (name[0] == '#' || name[0] == '/') {
                kind = name[0] == '#' ? T_BEGIN : T_END;
                if (strcmp(name + 1, "findings") != 0) {
                    cw__tmpl_free(t);
                    *line = line_of(text, p);
                    return cw_err_set(err, CW_EPARSE, "the only section is "
                                      "{{#findings}}...{{/findings}}, not {{%s}}", name);
                }
                /* a section repeats whole values, or text inside one string */
                if ((kind == T_BEGIN) == in_section || (kind == T_END &&
                                                      (in_string ? string_no : 0) != section_string)) {
                    cw__tmpl_free(t);
                    return *line = line_of(text, p), cw_err_set(err, CW_EPARSE, "{{%s}} %s", name,
                                      kind == T_BEGIN ? "inside the section"
                                      : !in_section ? "without {{#findings}}"
                                      : "ends in another JSON string than the section began in");
                }
                in_section = kind == T_BEGIN;
                section_string = in_string ? string_no : 0;
            } else {
                for (v = 0; v < V_N && strcmp(vnames[v], name) != 0; v++)
                    ;
                if (v == V_N) {
                    char list[400] = "";
                    for (int i = 0; i < V_N; i++)
                        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                                 vnames[i]);
                    cw__tmpl_free(t);
                    *line = line_of(text, p);
                    return cw_err_set(err, CW_EPARSE, "unknown name {{%s}} (known: %s)", name, list);
                }
            }
            add(t, kind, v, in_string, NULL, 0);
            p = lit = end + 2;
            continue;
        }
        if (in_string && *p == '\\' && p[1]) {
            p += 2;
            continue;
        }
        if (*p == '"') {
            in_string = !in_string;
            string_no += in_string;
        }
        p++;
    }
    add(t, T_LIT, 0, in_string, lit, (size_t)(p - lit));
    if (in_section) {
        cw__tmpl_free(t);
        return cw_err_set(err, CW_EPARSE, "{{#findings}} without {{/findings}}");
    }
    *out = t;
    return 0;
}

void cw__tmpl_free(cw_tmpl *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->t[i].text);
    free(t->t);
    free(t);
}

/* ---- rendering ------------------------------------------------------------------------ */

/* A string value: escaped inside a string, quoted outside. */
static void put_str(cw_buf *b, bool in_string, const char *s)
{
    size_t start;

    if (s == NULL) {
        if (!in_string)
            cw_buf_puts(b, "null");
        return;
    }
    if (!in_string) {
        cw_buf_json(b, s, strlen(s));
        return;
    }
    start = b->n;
    cw_buf_json(b, s, strlen(s));
    /* drop the quotes cw_buf_json put around it */
    memmove(b->p + start, b->p + start + 1, b->n - start - 2);
    b->n -= 2;
    b->p[b->n] = '\0';
}

static void put_int(cw_buf *b, bool in_string, int64_t v)
{
    (void)in_string;
    cw_buf_printf(b, "%lld", (long long)v);
}

static void put_time(cw_buf *b, bool in_string, cw_time t, int tz)
{
    char s[40];

    if (t == CW_TIME_NONE) {
        put_str(b, in_string, NULL);
        return;
    }
    cw_time_format(t, tz, s, sizeof s);
    put_str(b, in_string, s);
}

static void put_var(cw_buf *b, const tok *k, const cw_notify *n, const cw_notify_msg *m,
                    const cw_notify_item *it, bool inside)
{
    const cw_notify_finding *f = it ? &it->f : NULL;
    bool s = k->in_string;
    char link[512];

    if (f == NULL && k->var >= V_ID) {
        put_str(b, s, NULL);
        return;
    }
    switch (k->var) {
    case V_KEY: put_str(b, s, inside ? it->key : m->key); break;
    case V_RECEIVER: put_str(b, s, m->receiver); break;
    case V_GROUP: put_str(b, s, m->group); break;
    case V_LEVEL: put_int(b, s, m->level); break;
    case V_LADDER: put_str(b, s, m->ladder); break;
    case V_COUNT: put_int(b, s, (int64_t)m->nitems); break;
    case V_CONSOLE: put_str(b, s, n->console); break;
    case V_ID: put_int(b, s, f->id); break;
    case V_TRANSITION: put_str(b, s, cw_notify_transition_name(it->transition)); break;
    case V_RULE: put_str(b, s, f->rule); break;
    case V_CASE: put_str(b, s, f->case_id); break;
    case V_SUBJECT: put_str(b, s, f->subject); break;
    case V_UNIT: put_str(b, s, f->unit); break;
    case V_SEVERITY: put_str(b, s, f->severity); break;
    case V_STATE: put_str(b, s, f->state); break;
    case V_REVIEW: put_str(b, s, f->review); break;
    case V_DUE: put_time(b, s, f->due, n->tz); break;
    case V_RAISED: put_time(b, s, f->raised, n->tz); break;
    case V_MESSAGE: put_str(b, s, f->message); break;
    case V_BASIS: put_str(b, s, f->basis); break;
    case V_LINK:
        /* the console's page of the case, the finding selected */
        if (n->console && n->console[0]) {
            size_t l = strlen(n->console), w;
            w = (size_t)snprintf(link, sizeof link, "%s%s#/case/", n->console, n->console[l - 1] == '/' ? "" : "/");
            for (const unsigned char *c = (const unsigned char *)f->case_id; *c && w + 4 < sizeof link; c++) {
                if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                    strchr("-._~", *c))
                    link[w++] = (char)*c;
                else
                    w += (size_t)snprintf(link + w, sizeof link - w, "%%%02X", *c);
            }
            snprintf(link + (w < sizeof link ? w : sizeof link - 1), sizeof link - (w < sizeof link ? w : sizeof link - 1),
                     "?finding=%lld", (long long)f->id);
            put_str(b, s, link);
        } else {
            put_str(b, s, NULL);
        }
        break;
    }
}

static void render(cw_buf *b, const cw_tmpl *t, const cw_notify *n, const cw_notify_msg *m)
{
    const cw_notify_item *first = m->nitems ? &m->items[0] : NULL;

    for (size_t i = 0; i < t->n; i++) {
        const tok *k = &t->t[i];
        if (k->kind == T_LIT) {
            cw_buf_put(b, k->text, k->len);
        } else if (k->kind == T_VAR) {
            put_var(b, k, n, m, first, false);
        } else if (k->kind == T_BEGIN) {
            size_t end = i + 1;
            while (t->t[end].kind != T_END)
                end++;
            for (size_t it = 0; it < m->nitems; it++) {
                if (it > 0)
                    cw_buf_puts(b, k->in_string ? "; " : ",");
                for (size_t j = i + 1; j < end; j++) {
                    if (t->t[j].kind == T_LIT)
                        cw_buf_put(b, t->t[j].text, t->t[j].len);
                    else
                        put_var(b, &t->t[j], n, m, &m->items[it], true);
                }
            }
            i = end;
        }
    }
}

char *cw_notify_render(const cw_notify *n, const cw_notify_receiver *r, const cw_notify_msg *m,
                       size_t *len)
{
    cw_buf b = { 0 };

    render(&b, r->body, n, m);
    cw_buf_put(&b, "", 0);
    if (len)
        *len = b.n;
    if (b.p == NULL)
        return cw_xstrdup("");
    return b.p;
}

int cw__tmpl_check(const cw_notify *n, const cw_notify_receiver *r, cw_err *err)
{
    /* values with every character that needs escaping */
    static const char nasty[] = "引号\" 反斜杠\\ 换行\n 制表\t 控制\x01 </script>";
    cw_notify_item items[2];
    cw_notify_msg m = { "receiver\"x", "370102/RULE\\", "key\n1", NULL, 1, items, 2 };
    json_error_t je;
    json_t *j;
    char *body;

    for (int i = 0; i < 2; i++) {
        memset(&items[i], 0, sizeof items[i]);
        items[i].f = (cw_notify_finding){ 7 + i, "ADM-HANDLING", nasty, nasty, "370102", "high",
                                          "overdue", "open", nasty, nasty, 1780000000, 1780000000, false };
        items[i].transition = i ? CW_TR_OVERDUE : CW_TR_RAISED;
        items[i].key = nasty;
    }
    for (int pass = 0; pass < 3; pass++) {
        /* two findings, one, and none of the due times */
        m.nitems = pass == 0 ? 2 : 1;
        if (pass == 2)
            items[0].f.due = CW_TIME_NONE, m.ladder = "ladder";
        body = cw_notify_render(n, r, &m, NULL);
        j = json_loads(body, JSON_REJECT_DUPLICATES, &je);
        if (j == NULL) {
            cw_err_set(err, CW_EPARSE, "the template does not give JSON (with %zu finding%s: line %d, "
                       "column %d of the body: %s)", m.nitems, m.nitems == 1 ? "" : "s", je.line,
                       je.column, je.text);
            free(body);
            return CW_EPARSE;
        }
        json_decref(j);
        free(body);
    }
    return 0;
}
