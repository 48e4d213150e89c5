#include "event/evjson.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "base/util.h"

#define MAX_DEPTH 64

struct cw_evparser {
    char *scratch;          /* decoded strings and raw copies */
    size_t cap, used;
    cw_pfield *f;
    size_t fcap;
    uint32_t nf;
    cw_slice *items;
    size_t icap;
    uint32_t nitems;
    /* the years `at` may fall in, worked out once a day */
    cw_time now;            /* 0: the wall clock */
    cw_day window_day;
    int window_before, window_after;
    cw_time at_lo, at_hi;   /* [at_lo, at_hi) */
    int year_lo, year_hi;
};

typedef struct rd {
    const char *s, *end, *start;
    cw_evparser *p;
    cw_event_error *e;
} rd;

cw_evparser *cw_evparser_new(void)
{
    cw_evparser *p = cw_xcalloc(1, sizeof(cw_evparser));

    p->window_day = INT32_MIN;
    return p;
}

void cw_evparser_set_now(cw_evparser *p, cw_time now)
{
    p->now = now;
}

/* Whether `at` falls in the years the catalogue allows around now. */
static bool at_in_window(cw_evparser *p, const cw_catalogue *cat, cw_time at)
{
    cw_time now = p->now ? p->now : (cw_time)time(NULL);
    cw_day today;
    int before, after, y, m, d;

    if (p->now == CW_TIME_NONE)
        return true;
    today = cw_time_day(now, 0);

    cw_catalogue_years(cat, &before, &after);
    if (today != p->window_day || before != p->window_before || after != p->window_after) {
        cw_day_to_civil(today, &y, &m, &d);
        p->year_lo = y - before;
        p->year_hi = y + after;
        /* a day of slack each side: the offsets of the world */
        p->at_lo = cw_day_start(cw_day_from_civil(p->year_lo, 1, 1), 0) - 86400;
        p->at_hi = cw_day_start(cw_day_from_civil(p->year_hi + 1, 1, 1), 0) + 86400;
        p->window_day = today;
        p->window_before = before;
        p->window_after = after;
    }
    return at >= p->at_lo && at < p->at_hi;
}

void cw_evparser_free(cw_evparser *p)
{
    if (p == NULL)
        return;
    free(p->scratch);
    free(p->f);
    free(p->items);
    free(p);
}

static int syntax(rd *r, const char *msg)
{
    r->e->offset = (size_t)(r->s - r->start);
    r->e->field[0] = '\0';
    snprintf(r->e->msg, sizeof r->e->msg, "%s", msg);
    return CW_EPARSE;
}

static inline void ws(rd *r)
{
    while (r->s < r->end && (*r->s == ' ' || *r->s == '\n' || *r->s == '\r' || *r->s == '\t'))
        r->s++;
}

/* Length of a valid UTF-8 sequence at s (first byte >= 0x80), or 0. */
static size_t utf8_seq(const unsigned char *s, const unsigned char *end)
{
    unsigned c = s[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if ((size_t)(end - s) < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* The high bit of every byte of w that is below 0x20, a '"', a '\\' or
 * 0x80 or above, and of no other (no carries cross bytes). */
static inline uint64_t special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80, low7 = ones * 0x7f;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t ctl = ~((w & low7) + ones * 0x60);
    uint64_t isq = ~(((q & low7) + low7) | q), isb = ~(((b & low7) + low7) | b);

    return (w | ctl | isq | isb) & high;
}

/*
 * A string at r->s (on the opening quote), decoded into scratch. When
 * `raw` is set the string is copied as written (quotes and escapes kept),
 * for compact copies of values the catalogue does not describe. string()
 * below takes the common case (plain ASCII, no escape) inline and comes
 * here for the rest.
 */
__attribute__((noinline)) static int string_any(rd *r, cw_slice *out, bool raw)
{
    cw_evparser *p = r->p;
    char *o = p->scratch + p->used, *o0 = o;
    const char *s = r->s + 1;

    if (raw)
        *o++ = '"';
    for (;;) {
        /* eight bytes at a time while none is a quote, a backslash, a
         * control character or the start of a multi-byte character; each
         * word is copied whole and the output moves on by its plain bytes
         * (the scratch has room: what is written never passes 1.5 times
         * the input read, plus 8) */
        while (r->end - s >= 8) {
            uint64_t w, m;
            memcpy(&w, s, 8);
            memcpy(o, &w, 8);
            if ((m = special(w)) != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                size_t n = (size_t)__builtin_ctzll(m) / 8;  /* the first special byte */
                s += n;
                o += n;
#endif
                break;
            }
            s += 8;
            o += 8;
        }
        while (s < r->end && (unsigned char)*s >= 0x20 && *s != '"' && *s != '\\' &&
               (unsigned char)*s < 0x80)
            *o++ = *s++;
        if (s >= r->end) {
            r->s = s;
            return syntax(r, "unterminated string");
        }
        if (*s == '"') {
            s++;
            break;
        }
        if ((unsigned char)*s < 0x20) {
            r->s = s;
            return syntax(r, "control character in string (escape it)");
        }
        if ((unsigned char)*s >= 0x80) {
            size_t n = utf8_seq((const unsigned char *)s, (const unsigned char *)r->end);
            if (n == 0) {
                r->s = s;
                return syntax(r, "invalid UTF-8 in string");
            }
            memcpy(o, s, n);
            o += n;
            s += n;
            continue;
        }
        /* a backslash */
        if (s + 1 >= r->end) {
            r->s = s;
            return syntax(r, "unterminated string");
        }
        if (raw) {
            const char *e0 = s;
            if (s[1] == 'u') {
                unsigned cp;
                if (r->end - s < 6 || hex4(s + 2, &cp) < 0) {
                    r->s = s;
                    return syntax(r, "bad \\u escape");
                }
                s += 6;
            } else if (strchr("\"\\/bfnrt", s[1]) != NULL && s[1] != '\0') {
                s += 2;
            } else {
                r->s = s;
                return syntax(r, "bad escape in string");
            }
            memcpy(o, e0, (size_t)(s - e0));
            o += s - e0;
            continue;
        }
        switch (s[1]) {
        case '"': *o++ = '"'; s += 2; break;
        case '\\': *o++ = '\\'; s += 2; break;
        case '/': *o++ = '/'; s += 2; break;
        case 'b': *o++ = '\b'; s += 2; break;
        case 'f': *o++ = '\f'; s += 2; break;
        case 'n': *o++ = '\n'; s += 2; break;
        case 'r': *o++ = '\r'; s += 2; break;
        case 't': *o++ = '\t'; s += 2; break;
        case 'u': {
            unsigned cp, lo;
            if (r->end - s < 6 || hex4(s + 2, &cp) < 0) {
                r->s = s;
                return syntax(r, "bad \\u escape");
            }
            s += 6;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (r->end - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) < 0 ||
                    lo < 0xdc00 || lo > 0xdfff) {
                    r->s = s;
                    return syntax(r, "unpaired surrogate in \\u escape");
                }
                s += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                r->s = s - 6;
                return syntax(r, "unpaired surrogate in \\u escape");
            } else if (cp == 0) {
                r->s = s - 6;
                return syntax(r, "NUL character in string");
            }
            o = put_utf8(o, cp);
            break;
        }
        default:
            r->s = s;
            return syntax(r, "bad escape in string");
        }
    }
    if (raw)
        *o++ = '"';
    *o = '\0';
    out->p = o0;
    out->len = (uint32_t)(o - o0);
    p->used += (size_t)(o - o0) + (raw ? 0 : 1);
    r->s = s;
    return 0;
}

/* A string as string_any decodes it; a string of plain ASCII bytes (no
 * escape, no control or multi-byte character) that ends at least 8 bytes
 * before the input does is copied here, a word at a time, without a call. */
static inline int string(rd *r, cw_slice *out, bool raw)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    cw_evparser *p = r->p;
    char *o = p->scratch + p->used, *o0 = o;
    const char *s = r->s + 1;

    if (raw)
        return string_any(r, out, raw);
    while (r->end - s >= 8) {
        uint64_t w, m;
        size_t n;
        memcpy(&w, s, 8);
        memcpy(o, &w, 8);
        if ((m = special(w)) == 0) {
            s += 8;
            o += 8;
            continue;
        }
        n = (size_t)__builtin_ctzll(m) / 8;
        if (s[n] != '"')
            break;
        o += n;
        *o = '\0';
        out->p = o0;
        out->len = (uint32_t)(o - o0);
        p->used += (size_t)(o - o0) + 1;
        r->s = s + n + 1;
        return 0;
    }
#endif
    return string_any(r, out, raw);
}

/* A number; *is_int when it is an integer that fits int64. */
static int number(rd *r, bool *is_int, int64_t *iv, cw_slice *text)
{
    const char *s = r->s, *b = s;
    bool neg = false, frac = false, ovf = false;
    uint64_t v = 0;

    if (*s == '-') {
        neg = true;
        s++;
    }
    if (s >= r->end || *s < '0' || *s > '9') {
        r->s = s;
        return syntax(r, "bad number");
    }
    if (*s == '0') {
        s++;
        if (s < r->end && *s >= '0' && *s <= '9') {
            r->s = s;
            return syntax(r, "leading zero in number");
        }
    } else {
        while (s < r->end && *s >= '0' && *s <= '9') {
            unsigned d = (unsigned)(*s - '0');
            if (v > (UINT64_MAX - d) / 10)
                ovf = true;
            else
                v = v * 10 + d;
            s++;
        }
    }
    if (s < r->end && *s == '.') {
        frac = true;
        s++;
        if (s >= r->end || *s < '0' || *s > '9') {
            r->s = s;
            return syntax(r, "bad number");
        }
        while (s < r->end && *s >= '0' && *s <= '9')
            s++;
    }
    if (s < r->end && (*s == 'e' || *s == 'E')) {
        frac = true;
        s++;
        if (s < r->end && (*s == '+' || *s == '-'))
            s++;
        if (s >= r->end || *s < '0' || *s > '9') {
            r->s = s;
            return syntax(r, "bad number");
        }
        while (s < r->end && *s >= '0' && *s <= '9')
            s++;
    }
    *is_int = !frac && !ovf && (neg ? v <= (uint64_t)INT64_MAX + 1 : v <= (uint64_t)INT64_MAX);
    if (*is_int)
        *iv = neg ? (int64_t)(0 - v) : (int64_t)v;
    text->p = b;
    text->len = (uint32_t)(s - b);
    r->s = s;
    return 0;
}

static int literal(rd *r, const char *word, size_t n)
{
    if ((size_t)(r->end - r->s) < n || memcmp(r->s, word, n) != 0)
        return syntax(r, "invalid literal (expected a JSON value)");
    r->s += n;
    return 0;
}

/* Copy any value compactly into scratch (for fields kept as raw JSON). */
static int raw_value(rd *r, int depth)
{
    cw_evparser *p = r->p;
    cw_slice sl;
    int rc;

    if (depth > MAX_DEPTH)
        return syntax(r, "nesting too deep");
    ws(r);
    if (r->s >= r->end)
        return syntax(r, "unexpected end of input");
    switch (*r->s) {
    case '"':
        return string(r, &sl, true);
    case '{':
    case '[': {
        char close = *r->s == '{' ? '}' : ']';
        bool obj = close == '}';
        p->scratch[p->used++] = *r->s++;
        ws(r);
        if (r->s < r->end && *r->s == close) {
            p->scratch[p->used++] = *r->s++;
            return 0;
        }
        for (;;) {
            ws(r);
            if (obj) {
                if (r->s >= r->end || *r->s != '"')
                    return syntax(r, "expected a string key");
                if ((rc = string(r, &sl, true)) < 0)
                    return rc;
                ws(r);
                if (r->s >= r->end || *r->s != ':')
                    return syntax(r, "expected ':'");
                p->scratch[p->used++] = *r->s++;
            }
            if ((rc = raw_value(r, depth + 1)) < 0)
                return rc;
            ws(r);
            if (r->s < r->end && *r->s == ',') {
                p->scratch[p->used++] = *r->s++;
                continue;
            }
            if (r->s < r->end && *r->s == close) {
                p->scratch[p->used++] = *r->s++;
                return 0;
            }
            return syntax(r, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    case 't':
    case 'f':
    case 'n': {
        const char *word = *r->s == 't' ? "true" : *r->s == 'f' ? "false" : "null";
        size_t n = strlen(word);
        if ((rc = literal(r, word, n)) < 0)
            return rc;
        memcpy(p->scratch + p->used, word, n);
        p->used += n;
        return 0;
    }
    default: {
        bool is_int;
        int64_t iv;
        if ((rc = number(r, &is_int, &iv, &sl)) < 0)
            return rc;
        memcpy(p->scratch + p->used, sl.p, sl.len);
        p->used += sl.len;
        return 0;
    }
    }
}

/*
 * One value into f: strings, booleans, null and int64 integers as such, an
 * array of strings as a list, anything else as compact raw JSON.
 */
static int value(rd *r, cw_pfield *f)
{
    cw_evparser *p = r->p;
    const char *at;
    int rc;

    ws(r);
    if (r->s >= r->end)
        return syntax(r, "unexpected end of input");
    f->spec = NULL;
    switch (*r->s) {
    case '"':
        f->kind = CW_V_STR;
        return string(r, &f->s, false);
    case 't':
        f->kind = CW_V_BOOL;
        f->i = 1;
        return literal(r, "true", 4);
    case 'f':
        f->kind = CW_V_BOOL;
        f->i = 0;
        return literal(r, "false", 5);
    case 'n':
        f->kind = CW_V_NULL;
        return literal(r, "null", 4);
    case '[': {
        /* Try a list of strings; on anything else start over as raw. */
        const char *start = r->s;
        size_t used0 = p->used;
        uint32_t n0 = p->nitems;
        r->s++;
        ws(r);
        f->kind = CW_V_LIST;
        f->item0 = p->nitems;
        f->nitems = 0;
        if (r->s < r->end && *r->s == ']') {
            r->s++;
            return 0;
        }
        for (;;) {
            cw_slice sl;
            ws(r);
            if (r->s >= r->end || *r->s != '"')
                break;
            if ((rc = string(r, &sl, false)) < 0)
                return rc;
            CW_GROW(p->items, p->icap, (size_t)p->nitems + 1);
            p->items[p->nitems++] = sl;
            f->nitems++;
            ws(r);
            if (r->s < r->end && *r->s == ',') {
                r->s++;
                continue;
            }
            if (r->s < r->end && *r->s == ']') {
                r->s++;
                return 0;
            }
            return syntax(r, "expected ',' or ']'");
        }
        r->s = start;
        p->used = used0;
        p->nitems = n0;
        at = p->scratch + p->used;
        if ((rc = raw_value(r, 1)) < 0)
            return rc;
        f->kind = CW_V_RAW;
        f->s.p = at;
        f->s.len = (uint32_t)(p->scratch + p->used - at);
        p->scratch[p->used++] = '\0';
        return 0;
    }
    case '{':
        at = p->scratch + p->used;
        if ((rc = raw_value(r, 1)) < 0)
            return rc;
        f->kind = CW_V_RAW;
        f->s.p = at;
        f->s.len = (uint32_t)(p->scratch + p->used - at);
        p->scratch[p->used++] = '\0';
        return 0;
    default: {
        bool is_int;
        cw_slice sl;
        if ((rc = number(r, &is_int, &f->i, &sl)) < 0)
            return rc;
        if (is_int) {
            f->kind = CW_V_INT;
            return 0;
        }
        f->kind = CW_V_RAW;
        f->s.p = p->scratch + p->used;
        f->s.len = sl.len;
        memcpy(p->scratch + p->used, sl.p, sl.len);
        p->used += sl.len;
        p->scratch[p->used++] = '\0';
        return 0;
    }
    }
}

/* ---- validation ------------------------------------------------------- */

static int fail(cw_event_error *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(cw_event_error *e, const char *field, const char *fmt, ...)
{
    va_list ap;

    snprintf(e->field, sizeof e->field, "%s", field);
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return CW_EEVENT;
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case CW_V_NULL: return "null";
    case CW_V_BOOL: return "a boolean";
    case CW_V_INT: return "an integer";
    case CW_V_STR: return "a string";
    case CW_V_LIST: return "a list";
    default: return "another JSON value";
    }
}

const char *cw_check_id(const char *s, size_t len)
{
    if (len == 0)
        return "must not be empty";
    if (len > CW_ID_MAX)
        return "longer than 64 characters";
    /* eight bytes at a time: b - 0x20 borrows for a byte below 0x20 and
     * b + 1 carries into the high bit from 0x7f up, so a high bit in any
     * of w, w - 0x20.., w + 0x01.. means a byte out of 0x20..0x7e (or a
     * borrow or carry from one); the bytes then say which */
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (((w | (w - ones * 0x20) | (w + ones)) & high) != 0)
            break;
    }
    for (; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return "must be printable ASCII";
    return NULL;
}

const char *cw_check_case(const char *s, size_t len)
{
    size_t chars = 0;

    if (len == 0)
        return "must not be empty";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return "must not contain control characters";
        if ((c & 0xc0) != 0x80)
            chars++;
    }
    return chars > CW_ID_MAX ? "longer than 64 characters" : NULL;
}

const char *cw_check_unit(const char *s, size_t len)
{
    if (len < CW_UNIT_MIN || len > CW_UNIT_MAX)
        return "must be 2-12 digits";
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return "must be 2-12 digits";
    return NULL;
}

/* "'x' is not one of a, b, c" for a value the field does not allow. */
static int not_allowed(cw_event_error *e, const char *name, const cw_field_spec *spec,
                       const char *v, size_t len)
{
    char list[160];
    size_t o = 0;

    list[0] = '\0';
    for (size_t j = 0; j < spec->nvalues && o < sizeof list; j++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", j ? ", " : "", spec->values[j]);
    return fail(e, name, "'%.*s' is not one of %s", (int)len, v, list);
}

/* The field's name in messages ("data.person"), made only when needed. */
static const char *field_name(const cw_field_spec *spec, char *buf, size_t size)
{
    snprintf(buf, size, "data.%s", spec->name);
    return buf;
}

static int check_data_field(cw_evparser *p, const cw_type_spec *t, cw_pfield *f,
                            cw_event_error *e)
{
    const cw_field_spec *spec = cw_type_field(t, f->key.p, f->key.len);
    char namebuf[96];

    f->spec = spec;
    if (spec == NULL || f->kind == CW_V_NULL)
        return 0;
    switch (spec->type) {
    case CW_FT_STRING:
        if (f->kind != CW_V_STR)
            return fail(e, field_name(spec, namebuf, sizeof namebuf), "expected a string, got %s", kind_name(f->kind));
        if (spec->max_bytes > 0 && f->s.len > spec->max_bytes)
            return fail(e, field_name(spec, namebuf, sizeof namebuf), "%u bytes, more than the %zu the "
                        "catalogue allows", f->s.len, spec->max_bytes);
        return 0;
    case CW_FT_BOOL:
        if (f->kind != CW_V_BOOL)
            return fail(e, field_name(spec, namebuf, sizeof namebuf), "expected true or false, got %s", kind_name(f->kind));
        return 0;
    case CW_FT_INT:
        if (f->kind != CW_V_INT)
            return fail(e, field_name(spec, namebuf, sizeof namebuf), "expected an integer, got %s", kind_name(f->kind));
        if ((spec->has_min && f->i < spec->min) || (spec->has_max && f->i > spec->max)) {
            if (spec->has_min && spec->has_max)
                return fail(e, field_name(spec, namebuf, sizeof namebuf), "%lld is outside %lld-%lld",
                            (long long)f->i, (long long)spec->min, (long long)spec->max);
            return fail(e, field_name(spec, namebuf, sizeof namebuf), "%lld is %s %lld", (long long)f->i,
                        spec->has_min ? "below the least allowed," : "above the most allowed,",
                        (long long)(spec->has_min ? spec->min : spec->max));
        }
        return 0;
    case CW_FT_TIME: {
        cw_time t0;
        if (f->kind != CW_V_STR || cw_time_parse(f->s.p, f->s.len, &t0, NULL) < 0)
            return fail(e, field_name(spec, namebuf, sizeof namebuf), "expected an RFC 3339 time with offset "
                        "(2026-03-02T09:30:00+08:00)");
        f->kind = CW_V_TIME;
        f->i = t0;
        return 0;
    }
    case CW_FT_DATE: {
        cw_day d;
        if (f->kind != CW_V_STR || cw_day_parse(f->s.p, f->s.len, &d) < 0)
            return fail(e, field_name(spec, namebuf, sizeof namebuf), "expected a date YYYY-MM-DD");
        f->kind = CW_V_DATE;
        f->i = d;
        return 0;
    }
    case CW_FT_ENUM:
        if (f->kind != CW_V_STR)
            return fail(e, field_name(spec, namebuf, sizeof namebuf), "expected a string, got %s", kind_name(f->kind));
        if (!cw_field_allows(spec, f->s.p, f->s.len))
            return not_allowed(e, field_name(spec, namebuf, sizeof namebuf), spec, f->s.p, f->s.len);
        return 0;
    case CW_FT_LIST:
        if (f->kind != CW_V_LIST)
            return fail(e, field_name(spec, namebuf, sizeof namebuf), "expected a list of strings");
        for (uint32_t i = 0; i < f->nitems; i++) {
            const cw_slice *it = &p->items[f->item0 + i];
            if (!cw_field_allows(spec, it->p, it->len))
                return not_allowed(e, field_name(spec, namebuf, sizeof namebuf), spec, it->p, it->len);
            if (spec->max_bytes > 0 && it->len > spec->max_bytes)
                return fail(e, field_name(spec, namebuf, sizeof namebuf), "item %u: %u bytes, more than "
                            "the %zu the catalogue allows", i + 1, it->len, spec->max_bytes);
        }
        return 0;
    }
    return 0;
}

enum { K_ID, K_TYPE, K_CASE, K_UNIT, K_AT, K_ACTOR, K_DATA, K_N };
static const char *const envelope[K_N] = { "id", "type", "case", "unit", "at", "actor", "data" };

static int key_of(const cw_slice *k)
{
    const char *p = k->p;

    switch (k->len) {
    case 2:
        return p[0] == 'i' && p[1] == 'd' ? K_ID : p[0] == 'a' && p[1] == 't' ? K_AT : -1;
    case 4:
        if (memcmp(p, "type", 4) == 0)
            return K_TYPE;
        if (memcmp(p, "case", 4) == 0)
            return K_CASE;
        if (memcmp(p, "unit", 4) == 0)
            return K_UNIT;
        return memcmp(p, "data", 4) == 0 ? K_DATA : -1;
    case 5:
        return memcmp(p, "actor", 5) == 0 ? K_ACTOR : -1;
    default:
        return -1;
    }
}

/* The members of the data object into p->f. */
static int data_object(rd *r)
{
    cw_evparser *p = r->p;
    int rc;

    r->s++;
    ws(r);
    if (r->s < r->end && *r->s == '}') {
        r->s++;
        return 0;
    }
    for (;;) {
        cw_pfield *f;
        cw_slice key;
        ws(r);
        if (r->s >= r->end || *r->s != '"')
            return syntax(r, "expected a string key in 'data'");
        if ((rc = string(r, &key, false)) < 0)
            return rc;
        if (p->nf >= CW_MAX_DATA_FIELDS)
            return fail(r->e, "data", "more than %d fields", CW_MAX_DATA_FIELDS);
        for (uint32_t i = 0; i < p->nf; i++)
            if (p->f[i].key.len == key.len && memcmp(p->f[i].key.p, key.p, key.len) == 0) {
                r->e->field[0] = '\0';
                return fail(r->e, "data", "duplicate key '%s'", key.p);
            }
        ws(r);
        if (r->s >= r->end || *r->s != ':')
            return syntax(r, "expected ':'");
        r->s++;
        CW_GROW(p->f, p->fcap, (size_t)p->nf + 1);
        f = &p->f[p->nf];
        memset(f, 0, sizeof *f);
        f->key = key;
        if ((rc = value(r, f)) < 0)
            return rc;
        p->nf++;
        ws(r);
        if (r->s < r->end && *r->s == ',') {
            r->s++;
            continue;
        }
        if (r->s < r->end && *r->s == '}') {
            r->s++;
            return 0;
        }
        return syntax(r, "expected ',' or '}' in 'data'");
    }
}

static int env_string(const cw_pfield *v, const char *name, cw_event_error *e)
{
    if (v->kind == CW_V_NULL && v->key.p == NULL)
        return fail(e, name, "missing");
    if (v->kind != CW_V_STR)
        return fail(e, name, "expected a string, got %s", kind_name(v->kind));
    return 0;
}

int cw_evparse(cw_evparser *p, const cw_catalogue *cat, const char *json, size_t len,
               cw_pevent *out, cw_event_error *e)
{
    cw_pfield env[K_N];
    bool seen[K_N] = { false }, data_object_seen = false;
    const char *why, *id_why = NULL;   /* id_why: the id's check as it was read */
    bool id_checked = false;
    rd r = { json, json + len, json, p, e };
    int rc;

    /* the error's strings empty (not the whole struct: most events have none) */
    e->id[0] = e->field[0] = e->msg[0] = '\0';
    e->offset = 0;
    memset(env, 0, sizeof env);
    memset(out, 0, sizeof *out);
    /* Decoded text never exceeds the input, plus one NUL per string. */
    if (p->cap < 2 * len + 64) {
        free(p->scratch);
        p->cap = 2 * len + 64;
        p->scratch = cw_xmalloc(p->cap);
    }
    p->used = 0;
    p->nf = 0;
    p->nitems = 0;

    ws(&r);
    if (r.s >= r.end)
        return syntax(&r, "empty input (expected a JSON object)");
    if (*r.s != '{')
        return syntax(&r, "expected a JSON object");
    r.s++;
    ws(&r);
    if (r.s < r.end && *r.s == '}') {
        r.s++;
    } else {
        for (;;) {
            cw_slice key;
            int k;
            ws(&r);
            if (r.s >= r.end || *r.s != '"')
                return syntax(&r, "expected a string key");
            if ((rc = string(&r, &key, false)) < 0)
                return rc;
            ws(&r);
            if (r.s >= r.end || *r.s != ':')
                return syntax(&r, "expected ':'");
            r.s++;
            ws(&r);
            k = key_of(&key);
            if (k >= 0 && seen[k])
                return fail(e, envelope[k], "duplicate key");
            if (k == K_DATA && r.s < r.end && *r.s == '{') {
                if ((rc = data_object(&r)) < 0)
                    return rc;
                data_object_seen = true;
                env[k].key = key;
            } else if (k >= 0) {
                if ((rc = value(&r, &env[k])) < 0)
                    return rc;
                env[k].key = key;
                if (k == K_ID && env[k].kind == CW_V_STR) {
                    id_checked = true;
                    if ((id_why = cw_check_id(env[k].s.p, env[k].s.len)) == NULL)
                        memcpy(e->id, env[k].s.p, env[k].s.len + 1);
                }
            } else {
                cw_pfield skip;
                if ((rc = value(&r, &skip)) < 0)
                    return rc;
            }
            if (k >= 0)
                seen[k] = true;
            ws(&r);
            if (r.s < r.end && *r.s == ',') {
                r.s++;
                continue;
            }
            if (r.s < r.end && *r.s == '}') {
                r.s++;
                break;
            }
            return syntax(&r, "expected ',' or '}'");
        }
    }
    ws(&r);
    if (r.s != r.end)
        return syntax(&r, "unexpected text after the object");

    /* The envelope, field by field, in a fixed order so the first
     * problem reported does not depend on key order. */
    if ((rc = env_string(&env[K_ID], "id", e)) < 0)
        return rc;
    why = id_checked ? id_why : cw_check_id(env[K_ID].s.p, env[K_ID].s.len);
    if (why != NULL)
        return fail(e, "id", "%s", why);
    out->id = env[K_ID].s;
    if ((rc = env_string(&env[K_TYPE], "type", e)) < 0)
        return rc;
    out->type = cw_catalogue_find(cat, env[K_TYPE].s.p, env[K_TYPE].s.len);
    if (out->type == NULL)
        return fail(e, "type", "unknown event type '%.64s' (not in the catalogue)",
                    env[K_TYPE].s.p);
    if ((rc = env_string(&env[K_CASE], "case", e)) < 0)
        return rc;
    if ((why = cw_check_case(env[K_CASE].s.p, env[K_CASE].s.len)) != NULL)
        return fail(e, "case", "%s", why);
    out->case_id = env[K_CASE].s;
    if ((rc = env_string(&env[K_UNIT], "unit", e)) < 0)
        return rc;
    if ((why = cw_check_unit(env[K_UNIT].s.p, env[K_UNIT].s.len)) != NULL)
        return fail(e, "unit", "'%.16s' %s", env[K_UNIT].s.p, why);
    out->unit = env[K_UNIT].s;
    if ((rc = env_string(&env[K_AT], "at", e)) < 0)
        return rc;
    if (cw_time_parse(env[K_AT].s.p, env[K_AT].s.len, &out->at, NULL) < 0)
        return fail(e, "at", "'%.40s' is not an RFC 3339 time with offset "
                    "(2026-03-02T09:30:00+08:00)", env[K_AT].s.p);
    if (!at_in_window(p, cat, out->at))
        return fail(e, "at", "'%.40s' is outside the years %d-%d the rules accept (engine.yaml: events)",
                    env[K_AT].s.p, p->year_lo, p->year_hi);
    if (len > cw_catalogue_event_bytes(cat))
        return fail(e, "event", "%zu bytes, more than the %zu the catalogue allows", len,
                    cw_catalogue_event_bytes(cat));
    if (seen[K_ACTOR] && env[K_ACTOR].kind != CW_V_NULL) {
        if (env[K_ACTOR].kind != CW_V_STR)
            return fail(e, "actor", "expected a string, got %s", kind_name(env[K_ACTOR].kind));
        if ((why = cw_check_id(env[K_ACTOR].s.p, env[K_ACTOR].s.len)) != NULL)
            return fail(e, "actor", "%s", why);
        out->actor = env[K_ACTOR].s;
    }
    if (seen[K_DATA] && !data_object_seen && env[K_DATA].kind != CW_V_NULL)
        return fail(e, "data", "expected an object, got %s", kind_name(env[K_DATA].kind));
    for (uint32_t i = 0; i < p->nf; i++)
        if ((rc = check_data_field(p, out->type, &p->f[i], e)) < 0)
            return rc;
    for (size_t j = 0; j < out->type->nfields; j++) {
        const cw_field_spec *fs = &out->type->fields[j];
        uint32_t i;
        if (!fs->required)
            continue;
        for (i = 0; i < p->nf; i++)
            if (p->f[i].spec == fs && p->f[i].kind != CW_V_NULL)
                break;
        if (i == p->nf) {
            char name[96];
            snprintf(name, sizeof name, "data.%s", fs->name);
            return fail(e, name, "missing (required for %s)", out->type->name);
        }
    }
    out->f = p->f;
    out->nf = p->nf;
    out->items = p->items;
    return 0;
}

void cw_event_error_format(const cw_event_error *e, char *buf, size_t size)
{
    size_t o = 0;

    if (e->id[0])
        o += (size_t)snprintf(buf + o, size - o, "event %s: ", e->id);
    if (o < size && e->field[0])
        o += (size_t)snprintf(buf + o, size - o, "field '%s': ", e->field);
    else if (o < size && e->msg[0] && !e->field[0])
        o += (size_t)snprintf(buf + o, size - o, "malformed JSON at byte %zu: ", e->offset);
    if (o < size)
        snprintf(buf + o, size - o, "%s", e->msg);
}
