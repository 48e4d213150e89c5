#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "law/catalogue.h"
#include "base/err.h"
#include "event/evjson.h"
#include "base/strtab.h"

/* The real catalogue and one parser, shared by the tests of the group
 * (sharing the parser also exercises its reuse between calls). */
typedef struct fx {
    cw_strtab *names;
    cw_catalogue *cat;
    cw_evparser *p;
} fx;

/* An envelope for case.accepted without the data member. */
#define ENV "\"id\":\"e1\",\"type\":\"case.accepted\",\"case\":\"A370102202600017\"," \
            "\"unit\":\"370102\",\"at\":\"2026-03-02T09:30:00+08:00\""
#define AT_0930 1772415000LL    /* 2026-03-02T09:30:00+08:00 */

static int group_setup(void **state)
{
    fx *x = calloc(1, sizeof *x);
    cw_err err;

    if (x == NULL)
        return -1;
    x->names = cw_strtab_new();
    if (cw_catalogue_load(&x->cat, CW_SRCDIR "/rules/catalogue.yaml", x->names, &err) < 0) {
        fprintf(stderr, "catalogue: %s\n", err.msg);
        return -1;
    }
    x->p = cw_evparser_new();
    *state = x;
    return 0;
}

static int group_teardown(void **state)
{
    fx *x = *state;

    cw_evparser_free(x->p);
    cw_catalogue_free(x->cat);
    cw_strtab_free(x->names);
    free(x);
    return 0;
}

/* Parse json[0..len) from a heap copy of exactly len bytes, freed before
 * returning: ASan then catches a read past len, and any part of the result
 * still pointing into the input (it must live in the parser's scratch). */
static int parse_n(fx *x, const char *json, size_t len, cw_pevent *ev, cw_event_error *e)
{
    char *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, json, len);
    rc = cw_evparse(x->p, x->cat, copy, len, ev, e);
    free(copy);
    return rc;
}

static int parse(fx *x, const char *json, cw_pevent *ev, cw_event_error *e)
{
    return parse_n(x, json, strlen(json), ev, e);
}

/* Parse json, which must be valid. */
static void parse_ok(fx *x, const char *json, cw_pevent *ev)
{
    cw_event_error e;
    int rc = parse(x, json, ev, &e);

    if (rc != 0)
        fail_msg("rc %d for %s: field '%s' at %zu: %s", rc, json, e.field, e.offset, e.msg);
}

/* json must be refused as an event (not a syntax error) naming field, with
 * e.id == id, and a message containing what (when not NULL). */
static void expect_event_error(fx *x, const char *json, const char *field, const char *id,
                               const char *what)
{
    cw_pevent ev;
    cw_event_error e;
    int rc = parse(x, json, &ev, &e);

    if (rc != CW_EEVENT)
        fail_msg("expected CW_EEVENT for %s, got rc %d (field '%s': %s)", json, rc, e.field,
                 e.msg);
    if (strcmp(e.field, field) != 0)
        fail_msg("expected field '%s' for %s, got '%s' (%s)", field, json, e.field, e.msg);
    if (strcmp(e.id, id) != 0)
        fail_msg("expected id '%s' for %s, got '%s'", id, json, e.id);
    if (e.msg[0] == '\0')
        fail_msg("no message for %s", json);
    if (what != NULL && strstr(e.msg, what) == NULL)
        fail_msg("message for %s lacks '%s': %s", json, what, e.msg);
}

/* json[0..len) must be malformed, with the offset in [lo, hi]. */
static void expect_syntax_n(fx *x, const char *json, size_t len, size_t lo, size_t hi)
{
    cw_pevent ev;
    cw_event_error e;
    int rc = parse_n(x, json, len, &ev, &e);

    if (rc != CW_EPARSE)
        fail_msg("expected CW_EPARSE for '%.*s', got rc %d (field '%s': %s)", (int)len, json,
                 rc, e.field, e.msg);
    if (e.offset < lo || e.offset > hi)
        fail_msg("offset %zu for '%.*s' not in [%zu, %zu] (%s)", e.offset, (int)len, json, lo,
                 hi, e.msg);
    assert_string_equal(e.field, "");
    assert_true(e.msg[0] != '\0');
}

static void expect_syntax(fx *x, const char *json, size_t lo, size_t hi)
{
    expect_syntax_n(x, json, strlen(json), lo, hi);
}

/* Byte offset of the first occurrence of needle in hay. */
static size_t pos(const char *hay, const char *needle)
{
    const char *p = strstr(hay, needle);

    if (p == NULL)
        fail_msg("'%s' not in '%s'", needle, hay);
    return (size_t)(p - hay);
}

/* The data field named key, or NULL. */
static const cw_pfield *field(const cw_pevent *ev, const char *key)
{
    for (uint32_t i = 0; i < ev->nf; i++)
        if (ev->f[i].key.len == strlen(key) && memcmp(ev->f[i].key.p, key, ev->f[i].key.len) == 0)
            return &ev->f[i];
    return NULL;
}

static const cw_pfield *must_field(const cw_pevent *ev, const char *key)
{
    const cw_pfield *f = field(ev, key);

    if (f == NULL)
        fail_msg("no data field '%s'", key);
    return f;
}

/* A slice must hold exactly s, and be NUL-terminated as promised. */
static void assert_slice(cw_slice sl, const char *s)
{
    size_t n = strlen(s);

    assert_non_null(sl.p);
    if (sl.len != n || memcmp(sl.p, s, n) != 0)
        fail_msg("slice '%.*s' (%u bytes) != '%s' (%zu bytes)", (int)sl.len, sl.p, sl.len, s, n);
    assert_int_equal(sl.p[sl.len], '\0');
}

static void assert_slice_bytes(cw_slice sl, const char *s, size_t n)
{
    assert_int_equal(sl.len, n);
    assert_memory_equal(sl.p, s, n);
    assert_int_equal(sl.p[n], '\0');
}

/* ---- valid events ----------------------------------------------------- */

static void test_valid_envelope(void **state)
{
    fx *x = *state;
    cw_pevent ev;

    parse_ok(x, "{" ENV ",\"actor\":\"O1001\",\"data\":{\"kind\":\"administrative\","
                "\"cause\":\"PSAL-51\"}}", &ev);
    assert_slice(ev.id, "e1");
    assert_non_null(ev.type);
    assert_ptr_equal(ev.type, cw_catalogue_find(x->cat, "case.accepted", 13));
    assert_string_equal(ev.type->name, "case.accepted");
    assert_slice(ev.case_id, "A370102202600017");
    assert_slice(ev.unit, "370102");
    assert_int_equal(ev.at, AT_0930);
    assert_slice(ev.actor, "O1001");
    assert_int_equal(ev.nf, 2);
    assert_slice(ev.f[0].key, "kind");
    assert_int_equal(ev.f[0].kind, CW_V_STR);
    assert_slice(ev.f[0].s, "administrative");
    assert_ptr_equal(ev.f[0].spec, cw_type_field(ev.type, "kind", 4));
    assert_slice(ev.f[1].key, "cause");
    assert_slice(ev.f[1].s, "PSAL-51");

    /* The same instant in another offset; actor absent; data-less type. */
    parse_ok(x, "{\"id\":\"e2\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                "\"at\":\"2026-03-02T01:30:00Z\"}", &ev);
    assert_int_equal(ev.at, AT_0930);
    assert_int_equal(ev.actor.len, 0);
    assert_int_equal(ev.nf, 0);
    assert_string_equal(ev.type->name, "case.filed");

    /* actor: null is the same as no actor; data: null as no data. */
    parse_ok(x, "{\"id\":\"e3\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                "\"at\":\"2026-03-02T01:30:00Z\",\"actor\":null,\"data\":null}", &ev);
    assert_int_equal(ev.actor.len, 0);
    assert_int_equal(ev.nf, 0);
}

static void test_valid_data_kinds(void **state)
{
    fx *x = *state;
    cw_pevent ev;
    const cw_pfield *f;

    parse_ok(x, "{\"id\":\"p1\",\"type\":\"person.added\",\"case\":\"C1\",\"unit\":\"370102\","
                "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{"
                "\"person\":\"P1\",\"role\":\"suspect\",\"birth_date\":\"2010-05-17\","
                "\"flags\":[\"blind\",\"deaf\"],\"first_offence\":true,"
                "\"note\":\"free text\",\"score\":1.5,\"meta\":{ \"a\" : [ 1 , 2 ] },"
                "\"count\":-42,\"off\":false,\"tags\":[],\"gone\":null}}", &ev);
    assert_int_equal(ev.nf, 12);

    f = must_field(&ev, "person");
    assert_int_equal(f->kind, CW_V_STR);
    assert_slice(f->s, "P1");
    assert_non_null(f->spec);
    assert_string_equal(f->spec->name, "person");

    f = must_field(&ev, "role");
    assert_int_equal(f->kind, CW_V_STR);
    assert_slice(f->s, "suspect");
    assert_int_equal(f->spec->type, CW_FT_ENUM);

    f = must_field(&ev, "birth_date");
    assert_int_equal(f->kind, CW_V_DATE);
    assert_int_equal(f->i, 14746);      /* days from 1970-01-01 to 2010-05-17 */

    f = must_field(&ev, "flags");
    assert_int_equal(f->kind, CW_V_LIST);
    assert_int_equal(f->nitems, 2);
    assert_slice(ev.items[f->item0], "blind");
    assert_slice(ev.items[f->item0 + 1], "deaf");

    f = must_field(&ev, "first_offence");
    assert_int_equal(f->kind, CW_V_BOOL);
    assert_int_equal(f->i, 1);

    /* Fields the catalogue lacks are kept, with no spec. */
    f = must_field(&ev, "note");
    assert_null(f->spec);
    assert_int_equal(f->kind, CW_V_STR);
    assert_slice(f->s, "free text");

    f = must_field(&ev, "score");
    assert_null(f->spec);
    assert_int_equal(f->kind, CW_V_RAW);
    assert_slice(f->s, "1.5");

    f = must_field(&ev, "meta");
    assert_int_equal(f->kind, CW_V_RAW);
    assert_slice(f->s, "{\"a\":[1,2]}");

    f = must_field(&ev, "count");
    assert_int_equal(f->kind, CW_V_INT);
    assert_int_equal(f->i, -42);

    f = must_field(&ev, "off");
    assert_int_equal(f->kind, CW_V_BOOL);
    assert_int_equal(f->i, 0);

    f = must_field(&ev, "tags");
    assert_int_equal(f->kind, CW_V_LIST);
    assert_int_equal(f->nitems, 0);

    f = must_field(&ev, "gone");
    assert_int_equal(f->kind, CW_V_NULL);
}

static void test_valid_time_and_int_fields(void **state)
{
    fx *x = *state;
    cw_pevent ev;
    const cw_pfield *f;

    parse_ok(x, "{" ENV ",\"data\":{\"kind\":\"criminal\","
                "\"offence_at\":\"2026-03-01T21:00:00-05:00\"}}", &ev);
    f = must_field(&ev, "offence_at");
    assert_int_equal(f->kind, CW_V_TIME);
    assert_int_equal(f->i, 20514LL * 86400 + 7200);

    parse_ok(x, "{\"id\":\"x1\",\"type\":\"case.extended\",\"case\":\"C\",\"unit\":\"37\","
                "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{\"limit\":\"handling\","
                "\"days\":30}}", &ev);
    f = must_field(&ev, "days");
    assert_int_equal(f->kind, CW_V_INT);
    assert_int_equal(f->i, 30);
    assert_int_equal(f->spec->type, CW_FT_INT);
}

static void test_null_known_field_is_absent(void **state)
{
    fx *x = *state;
    cw_pevent ev;
    const cw_pfield *f;

    /* An optional field given null is accepted and carries no value. */
    parse_ok(x, "{" ENV ",\"data\":{\"kind\":\"criminal\",\"cause\":null,"
                "\"offence_at\":null}}", &ev);
    f = field(&ev, "cause");
    if (f != NULL)
        assert_int_equal(f->kind, CW_V_NULL);
    /* null for a time field must not be read as a time. */
    f = field(&ev, "offence_at");
    if (f != NULL)
        assert_int_equal(f->kind, CW_V_NULL);
    /* A required field given null is missing. */
    expect_event_error(x, "{" ENV ",\"data\":{\"kind\":null}}", "data.kind", "e1", "missing");
}

static void test_integers_at_the_limits(void **state)
{
    fx *x = *state;
    cw_pevent ev;

    parse_ok(x, "{" ENV ",\"data\":{\"kind\":\"criminal\",\"max\":9223372036854775807,"
                "\"min\":-9223372036854775808,\"over\":9223372036854775808,"
                "\"under\":-9223372036854775809,\"negzero\":-0,\"exp\":1e2,"
                "\"zero\":0,\"neg\":-1.25E-3}}", &ev);
    assert_int_equal(must_field(&ev, "max")->kind, CW_V_INT);
    assert_true(must_field(&ev, "max")->i == INT64_MAX);
    assert_int_equal(must_field(&ev, "min")->kind, CW_V_INT);
    assert_true(must_field(&ev, "min")->i == INT64_MIN);
    /* Out of int64 range: kept as written. */
    assert_int_equal(must_field(&ev, "over")->kind, CW_V_RAW);
    assert_slice(must_field(&ev, "over")->s, "9223372036854775808");
    assert_int_equal(must_field(&ev, "under")->kind, CW_V_RAW);
    assert_slice(must_field(&ev, "under")->s, "-9223372036854775809");
    assert_int_equal(must_field(&ev, "negzero")->kind, CW_V_INT);
    assert_int_equal(must_field(&ev, "negzero")->i, 0);
    /* An exponent makes a number non-integer, whatever its value. */
    assert_int_equal(must_field(&ev, "exp")->kind, CW_V_RAW);
    assert_slice(must_field(&ev, "exp")->s, "1e2");
    assert_int_equal(must_field(&ev, "zero")->kind, CW_V_INT);
    assert_int_equal(must_field(&ev, "zero")->i, 0);
    assert_slice(must_field(&ev, "neg")->s, "-1.25E-3");

    /* An int field without a range takes the extremes but not a number
     * beyond them. */
    parse_ok(x, "{\"id\":\"x\",\"type\":\"case.returned\",\"case\":\"C\",\"unit\":\"37\","
                "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{\"round\":-9223372036854775808}}", &ev);
    assert_true(must_field(&ev, "round")->i == INT64_MIN);
    expect_event_error(x, "{\"id\":\"x\",\"type\":\"case.returned\",\"case\":\"C\",\"unit\":\"37\","
                          "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{\"round\":9223372036854775808}}",
                       "data.round", "x", NULL);
}

static void test_raw_values_compact(void **state)
{
    fx *x = *state;
    cw_pevent ev;

    parse_ok(x, "{" ENV ",\"data\":{\"kind\":\"criminal\","
                "\"o\":{\n\t\"k\" : \"v w\" , \"e\" : \"q\\\"\\u00e9\" ,\"n\":null,"
                "\"t\":true,\"f\":false,\"x\":{},\"y\":[ ] , \"z\" : [ {\"a\" : -1.5e+3} ]\r\n},"
                "\"mixed\":[\"a\", 1, \"b\"],\"nested\":[[\"a\"]]}}", &ev);
    /* Whitespace between tokens goes, whitespace and escapes inside strings
     * stay as written. */
    assert_slice(must_field(&ev, "o")->s,
                 "{\"k\":\"v w\",\"e\":\"q\\\"\\u00e9\",\"n\":null,\"t\":true,\"f\":false,"
                 "\"x\":{},\"y\":[],\"z\":[{\"a\":-1.5e+3}]}");
    /* A list that is not all strings is raw, and leaves no stray items. */
    assert_int_equal(must_field(&ev, "mixed")->kind, CW_V_RAW);
    assert_slice(must_field(&ev, "mixed")->s, "[\"a\",1,\"b\"]");
    assert_int_equal(must_field(&ev, "nested")->kind, CW_V_RAW);
    assert_slice(must_field(&ev, "nested")->s, "[[\"a\"]]");
}

static void test_key_order_and_whitespace(void **state)
{
    fx *x = *state;
    cw_pevent ev;

    parse_ok(x, " \t\r\n{ \"data\" : { \"kind\" : \"criminal\" } ,\n\"at\":\"2026-03-02T09:30:00+08:00\","
                "\"unit\" :\"370102\", \"case\":\"C9\" , \"type\"\t:\t\"case.accepted\", "
                "\"actor\":\"O1\", \"id\" : \"late-id\" }\n\r\t ", &ev);
    assert_slice(ev.id, "late-id");
    assert_string_equal(ev.type->name, "case.accepted");
    assert_slice(ev.case_id, "C9");
    assert_slice(ev.unit, "370102");
    assert_slice(ev.actor, "O1");
    assert_int_equal(ev.at, AT_0930);
    assert_int_equal(ev.nf, 1);
    /* The data field was validated against the type read after it. */
    assert_non_null(ev.f[0].spec);
    assert_slice(ev.f[0].s, "criminal");

    /* An enum checked against a type that comes later still fails. */
    expect_event_error(x, "{\"data\":{\"kind\":\"civil\"},\"id\":\"e5\",\"type\":\"case.accepted\","
                          "\"case\":\"C\",\"unit\":\"37\",\"at\":\"2026-03-02T09:30:00+08:00\"}",
                       "data.kind", "e5", "civil");
}

/* Members outside the envelope are skipped; a key that is a prefix or an
 * extension of an envelope name is not that name. */
static void test_other_top_level_keys(void **state)
{
    fx *x = *state;
    cw_pevent ev;

    parse_ok(x, "{\"i\":\"not-id\",\"ids\":1,\"typ\":\"x\",\"types\":[\"a\"],\"\":null,"
                "\"dat\":{\"kind\":\"civil\"},\"data2\":[1,{}],\"actors\":5,"
                "\"id\":\"e1\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                "\"at\":\"2026-03-02T09:30:00+08:00\"}", &ev);
    assert_slice(ev.id, "e1");
    assert_string_equal(ev.type->name, "case.filed");
    assert_int_equal(ev.actor.len, 0);
    assert_int_equal(ev.nf, 0);
}

/* The first problem reported must not depend on the order of the keys. */
static void test_error_order_fixed(void **state)
{
    fx *x = *state;

    expect_event_error(x, "{\"id\":\"e\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"3\","
                          "\"at\":\"bad\"}", "unit", "e", NULL);
    expect_event_error(x, "{\"at\":\"bad\",\"unit\":\"3\",\"case\":\"C\",\"type\":\"case.filed\","
                          "\"id\":\"e\"}", "unit", "e", NULL);
    expect_event_error(x, "{\"data\":{\"kind\":\"civil\"},\"type\":\"nope\",\"id\":\"e\"}",
                       "type", "e", "nope");
}

/* ---- strings and escapes ---------------------------------------------- */

static void test_escapes(void **state)
{
    fx *x = *state;
    cw_pevent ev;

    parse_ok(x, "{" ENV ",\"data\":{\"kind\":\"criminal\","
                "\"cause\":\"a\\nb\\\"c\\\\d\\/e\\tf\\r\\b\\f\\u00e9\\u00C9\\u4e2d\","
                "\"emoji\":\"\\ud83d\\ude00!\",\"utf8\":\"\xe5\x8f\x97\xf0\x9f\x98\x80\","
                "\"k\\u0065y\":\"keyed\"}}", &ev);
    assert_slice(must_field(&ev, "cause")->s,
                 "a\nb\"c\\d/e\tf\r\b\f\xc3\xa9\xc3\x89\xe4\xb8\xad");
    assert_slice_bytes(must_field(&ev, "emoji")->s, "\xf0\x9f\x98\x80!", 5);
    /* Raw UTF-8 passes through untouched. */
    assert_slice(must_field(&ev, "utf8")->s, "\xe5\x8f\x97\xf0\x9f\x98\x80");
    /* Keys are decoded too. */
    assert_slice(must_field(&ev, "key")->s, "keyed");

    /* An escaped envelope key and value are the same as plain ones. */
    parse_ok(x, "{\"\\u0069d\":\"\\u0065\\u0031\",\"type\":\"case.\\u0066iled\",\"case\":\"C\","
                "\"unit\":\"\\u0033\\u0037\",\"at\":\"2026-03-02T09:30:00+08:00\"}", &ev);
    assert_slice(ev.id, "e1");
    assert_string_equal(ev.type->name, "case.filed");
    assert_slice(ev.unit, "37");
}

/* Strings are scanned eight bytes at a time: a special byte (escape,
 * quote, multi-byte character, control character) at every place of a
 * block, and at the block ends, must be found exactly there. */
static void test_string_block_positions(void **state)
{
    static const struct {
        const char *in, *out;
    } sp[] = {
        { "\\\"", "\"" }, { "\\\\", "\\" }, { "\xc3\xa9", "\xc3\xa9" },
        { "\\u4e2d", "\xe4\xb8\xad" }, { " ", " " }, { "~", "~" }, { "\x7f", "\x7f" },
    };
    fx *x = *state;

    for (size_t k = 0; k < sizeof sp / sizeof *sp; k++)
        for (int before = 0; before < 20; before++)
            for (int after = 0; after < 10; after += 3) {
                char json[256], want[64], bad[256];
                int n = 0, w = 0;
                cw_pevent ev;
                n += snprintf(json + n, sizeof json - (size_t)n,
                              "{" ENV ",\"data\":{\"kind\":\"criminal\",\"cause\":\"");
                for (int i = 0; i < before; i++)
                    json[n++] = 'a', want[w++] = 'a';
                n += snprintf(json + n, sizeof json - (size_t)n, "%s", sp[k].in);
                w += snprintf(want + w, sizeof want - (size_t)w, "%s", sp[k].out);
                for (int i = 0; i < after; i++)
                    json[n++] = 'b', want[w++] = 'b';
                want[w] = '\0';
                snprintf(json + n, sizeof json - (size_t)n, "\"}}");
                parse_ok(x, json, &ev);
                assert_slice(must_field(&ev, "cause")->s, want);
                /* a raw control character there is refused at its place */
                memcpy(bad, json, sizeof bad);
                bad[n - after - (int)strlen(sp[k].in)] = '\x01';
                expect_syntax(x, bad, (size_t)(n - after - (int)strlen(sp[k].in)),
                              (size_t)(n - after - (int)strlen(sp[k].in)));
            }
}

static void test_bad_strings(void **state)
{
    fx *x = *state;
    const char *s;

    /* A lone high surrogate, a lone low one, a high one followed by a
     * non-surrogate escape. */
    s = "{\"id\":\"a\\ud83d\"}";
    expect_syntax(x, s, pos(s, "\\u"), pos(s, "\\u") + 6);
    s = "{\"id\":\"a\\ude00b\"}";
    expect_syntax(x, s, pos(s, "\\u"), pos(s, "\\u"));
    s = "{\"id\":\"\\ud83d\\u0041\"}";
    expect_syntax(x, s, pos(s, "\\u"), pos(s, "\\u0041"));
    s = "{\"id\":\"\\ud83d\\ud83d\"}";
    expect_syntax(x, s, pos(s, "\\u"), pos(s, "\\ud83d\"") + 6);
    /* NUL, even escaped, cannot be in a C string. */
    s = "{\"id\":\"a\\u0000b\"}";
    expect_syntax(x, s, pos(s, "\\u"), pos(s, "\\u"));
    /* Bad escapes. */
    s = "{\"id\":\"a\\xb\"}";
    expect_syntax(x, s, pos(s, "\\x"), pos(s, "\\x") + 1);
    s = "{\"id\":\"a\\u12g4\"}";
    expect_syntax(x, s, pos(s, "\\u"), pos(s, "\\u") + 2);
    s = "{\"id\":\"a\\u12";     /* \u cut short by the end of input */
    expect_syntax(x, s, pos(s, "\\u"), strlen(s));
    s = "{\"id\":\"a\\";
    expect_syntax(x, s, pos(s, "\\"), strlen(s));
    /* Invalid UTF-8: a stray continuation byte, an invalid lead byte, an
     * overlong encoding, a UTF-16 surrogate in UTF-8, past U+10FFFF, and a
     * sequence cut by the closing quote. */
    const char *bad_utf8[] = {
        "{\"id\":\"a\x80\"}", "{\"id\":\"a\xff\"}", "{\"id\":\"a\xc0\xaf\"}",
        "{\"id\":\"a\xe0\x80\xaf\"}", "{\"id\":\"a\xed\xa0\x80\"}",
        "{\"id\":\"a\xf4\x90\x80\x80\"}", "{\"id\":\"a\xe2\x82\"}", "{\"id\":\"a\xf0\x9f\x98\"}",
    };
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof *bad_utf8; i++)
        expect_syntax(x, bad_utf8[i], 8, 8);
    /* A UTF-8 sequence cut by the end of input. */
    expect_syntax(x, "{\"id\":\"a\xe2\x82", 8, 8);
    /* Raw control characters, including a literal newline and tab. */
    expect_syntax(x, "{\"id\":\"a\x01\"}", 8, 8);
    expect_syntax(x, "{\"id\":\"a\nb\"}", 8, 8);
    expect_syntax(x, "{\"id\":\"a\tb\"}", 8, 8);
    expect_syntax(x, "{\"id\":\"a\x1f\"}", 8, 8);
    /* 0x7f is not a control character for JSON. */
    expect_event_error(x, "{\"id\":\"a\x7f\"}", "id", "", "printable");
    /* The same rules inside a data string, a key, a list item and a raw
     * string. */
    s = "{\"data\":{\"k\":\"\\ud800\"}}";
    expect_syntax(x, s, pos(s, "\\u"), pos(s, "\\u") + 6);
    s = "{\"data\":{\"k\\u0000\":1}}";
    expect_syntax(x, s, pos(s, "\\u"), pos(s, "\\u"));
    s = "{\"data\":{\"k\":[\"a\",\"b\x01\"]}}";
    expect_syntax(x, s, pos(s, "\x01"), pos(s, "\x01"));
    s = "{\"data\":{\"k\":{\"a\":\"b\xff\"}}}";
    expect_syntax(x, s, pos(s, "\xff"), pos(s, "\xff"));
    s = "{\"data\":{\"k\":{\"a\":\"b\\q\"}}}";
    expect_syntax(x, s, pos(s, "\\q"), pos(s, "\\q") + 1);
}

/* ---- envelope errors -------------------------------------------------- */

static void test_missing_envelope_fields(void **state)
{
    fx *x = *state;

    expect_event_error(x, "{\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                          "\"at\":\"2026-03-02T09:30:00+08:00\"}", "id", "", "missing");
    expect_event_error(x, "{\"id\":\"e1\",\"case\":\"C\",\"unit\":\"37\","
                          "\"at\":\"2026-03-02T09:30:00+08:00\"}", "type", "e1", "missing");
    expect_event_error(x, "{\"id\":\"e1\",\"type\":\"case.filed\",\"unit\":\"37\","
                          "\"at\":\"2026-03-02T09:30:00+08:00\"}", "case", "e1", "missing");
    expect_event_error(x, "{\"id\":\"e1\",\"type\":\"case.filed\",\"case\":\"C\","
                          "\"at\":\"2026-03-02T09:30:00+08:00\"}", "unit", "e1", "missing");
    expect_event_error(x, "{\"id\":\"e1\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\"}",
                       "at", "e1", "missing");
    expect_event_error(x, "{}", "id", "", "missing");
    /* null is not a value for a required envelope field. */
    expect_event_error(x, "{\"id\":\"e1\",\"type\":null,\"case\":\"C\",\"unit\":\"37\","
                          "\"at\":\"2026-03-02T09:30:00+08:00\"}", "type", "e1", NULL);
    expect_event_error(x, "{\"id\":null,\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                          "\"at\":\"2026-03-02T09:30:00+08:00\"}", "id", "", NULL);
}

/* An envelope for case.filed with id and the rest given. */
static void env_with(char *buf, size_t size, const char *id, const char *type,
                     const char *case_, const char *unit, const char *at, const char *extra)
{
    snprintf(buf, size, "{\"id\":%s,\"type\":%s,\"case\":%s,\"unit\":%s,\"at\":%s%s}", id, type,
             case_, unit, at, extra);
}

#define OK_ID "\"e1\""
#define OK_TYPE "\"case.filed\""
#define OK_CASE "\"C\""
#define OK_UNIT "\"370102\""
#define OK_AT "\"2026-03-02T09:30:00+08:00\""

static void test_id_rules(void **state)
{
    fx *x = *state;
    char id64[65], id65[66], q[80], buf[512];
    cw_pevent ev;
    cw_event_error e;

    memset(id64, 'a', 64);
    id64[64] = '\0';
    memset(id65, 'b', 65);
    id65[65] = '\0';

    snprintf(q, sizeof q, "\"%s\"", id64);
    env_with(buf, sizeof buf, q, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, "");
    parse_ok(x, buf, &ev);
    assert_slice(ev.id, id64);
    /* A 64-character id fits e.id in full when a later field is bad. */
    env_with(buf, sizeof buf, q, "\"nope\"", OK_CASE, OK_UNIT, OK_AT, "");
    assert_int_equal(parse(x, buf, &ev, &e), CW_EEVENT);
    assert_string_equal(e.id, id64);
    assert_string_equal(e.field, "type");

    /* 65 characters: refused, and not echoed as the event's id. */
    snprintf(q, sizeof q, "\"%s\"", id65);
    env_with(buf, sizeof buf, q, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, "");
    expect_event_error(x, buf, "id", "", "64");

    env_with(buf, sizeof buf, "\"\"", OK_TYPE, OK_CASE, OK_UNIT, OK_AT, "");
    expect_event_error(x, buf, "id", "", "empty");
    env_with(buf, sizeof buf, "\"a\\u0001\"", OK_TYPE, OK_CASE, OK_UNIT, OK_AT, "");
    expect_event_error(x, buf, "id", "", "printable");
    env_with(buf, sizeof buf, "\"a\\nb\"", OK_TYPE, OK_CASE, OK_UNIT, OK_AT, "");
    expect_event_error(x, buf, "id", "", "printable");
    env_with(buf, sizeof buf, "\"\\u00e9\"", OK_TYPE, OK_CASE, OK_UNIT, OK_AT, "");
    expect_event_error(x, buf, "id", "", "printable");
    env_with(buf, sizeof buf, "12", OK_TYPE, OK_CASE, OK_UNIT, OK_AT, "");
    expect_event_error(x, buf, "id", "", "string");
    /* Space and '~' are the ends of printable ASCII. */
    env_with(buf, sizeof buf, "\" ~\"", OK_TYPE, OK_CASE, OK_UNIT, OK_AT, "");
    parse_ok(x, buf, &ev);
    assert_slice(ev.id, " ~");
}

static void test_type_case_unit_at_actor_data_rules(void **state)
{
    fx *x = *state;
    char buf[512];

    env_with(buf, sizeof buf, OK_ID, "\"case.nope\"", OK_CASE, OK_UNIT, OK_AT, "");
    expect_event_error(x, buf, "type", "e1", "case.nope");
    /* A prefix of a known type is not that type. */
    env_with(buf, sizeof buf, OK_ID, "\"case.file\"", OK_CASE, OK_UNIT, OK_AT, "");
    expect_event_error(x, buf, "type", "e1", NULL);
    env_with(buf, sizeof buf, OK_ID, "1", OK_CASE, OK_UNIT, OK_AT, "");
    expect_event_error(x, buf, "type", "e1", "string");

    env_with(buf, sizeof buf, OK_ID, OK_TYPE, "\"\"", OK_UNIT, OK_AT, "");
    expect_event_error(x, buf, "case", "e1", "empty");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, "7", OK_UNIT, OK_AT, "");
    expect_event_error(x, buf, "case", "e1", "string");

    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, "\"3701a\"", OK_AT, "");
    expect_event_error(x, buf, "unit", "e1", "3701a");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, "\"3\"", OK_AT, "");
    expect_event_error(x, buf, "unit", "e1", "digits");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, "\"1234567890123\"", OK_AT, "");
    expect_event_error(x, buf, "unit", "e1", "digits");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, "370102", OK_AT, "");
    expect_event_error(x, buf, "unit", "e1", "string");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, "\"\"", OK_AT, "");
    expect_event_error(x, buf, "unit", "e1", NULL);

    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, "\"2026-03-02T09:30:00\"", "");
    expect_event_error(x, buf, "at", "e1", "2026-03-02T09:30:00");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, "\"2026-02-30T00:00:00+08:00\"", "");
    expect_event_error(x, buf, "at", "e1", NULL);
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, "\"2026-03-02\"", "");
    expect_event_error(x, buf, "at", "e1", NULL);
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, "1772415000", "");
    expect_event_error(x, buf, "at", "e1", "string");

    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, ",\"actor\":1001");
    expect_event_error(x, buf, "actor", "e1", "string");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, ",\"actor\":\"\"");
    expect_event_error(x, buf, "actor", "e1", NULL);
    {
        char actor[80] = ",\"actor\":\"";
        size_t n = strlen(actor);
        memset(actor + n, 'A', 65);
        memcpy(actor + n + 65, "\"", 2);
        env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, actor);
        expect_event_error(x, buf, "actor", "e1", "64");
        /* 64 is fine. */
        memcpy(actor + n + 64, "\"", 2);
        env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, actor);
        cw_pevent ev;
        parse_ok(x, buf, &ev);
        assert_int_equal(ev.actor.len, 64);
    }

    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, ",\"data\":[]");
    expect_event_error(x, buf, "data", "e1", "object");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, ",\"data\":[\"a\"]");
    expect_event_error(x, buf, "data", "e1", "object");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, ",\"data\":\"x\"");
    expect_event_error(x, buf, "data", "e1", "object");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, ",\"data\":0");
    expect_event_error(x, buf, "data", "e1", "object");
}

static void test_unit_boundaries(void **state)
{
    fx *x = *state;
    char buf[512];
    cw_pevent ev;

    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, "\"37\"", OK_AT, "");
    parse_ok(x, buf, &ev);
    assert_slice(ev.unit, "37");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, "\"123456789012\"", OK_AT, "");
    parse_ok(x, buf, &ev);
    assert_slice(ev.unit, "123456789012");
    /* Leading zeros are kept: a unit code is text, not a number. */
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, "\"0037\"", OK_AT, "");
    parse_ok(x, buf, &ev);
    assert_slice(ev.unit, "0037");
}

/*
 * "data" must be an object, also when the value is one the parser keeps
 * as raw text (a number with a fraction, an array not all strings).
 */
static void test_data_not_object_raw(void **state)
{
    fx *x = *state;
    char buf[512];

    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, ",\"data\":1.5");
    expect_event_error(x, buf, "data", "e1", "object");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, ",\"data\":[1,2]");
    expect_event_error(x, buf, "data", "e1", "object");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, ",\"data\":[{\"a\":1}]");
    expect_event_error(x, buf, "data", "e1", "object");
}

/* ---- data errors ------------------------------------------------------ */

#define PERSON_ENV "\"id\":\"p1\",\"type\":\"person.added\",\"case\":\"C\",\"unit\":\"37\"," \
                   "\"at\":\"2026-03-02T09:30:00+08:00\""
#define EXT_ENV "\"id\":\"x1\",\"type\":\"case.extended\",\"case\":\"C\",\"unit\":\"37\"," \
                "\"at\":\"2026-03-02T09:30:00+08:00\""

static void test_data_errors(void **state)
{
    fx *x = *state;

    expect_event_error(x, "{" ENV ",\"data\":{\"kind\":\"civil\"}}", "data.kind", "e1", "civil");
    /* Enum values are compared whole. */
    expect_event_error(x, "{" ENV ",\"data\":{\"kind\":\"criminalx\"}}", "data.kind", "e1", NULL);
    expect_event_error(x, "{" ENV ",\"data\":{\"kind\":\"crimina\"}}", "data.kind", "e1", NULL);
    expect_event_error(x, "{" ENV ",\"data\":{\"kind\":\"Criminal\"}}", "data.kind", "e1", NULL);
    expect_event_error(x, "{" ENV ",\"data\":{\"kind\":1}}", "data.kind", "e1", "string");
    expect_event_error(x, "{" ENV ",\"data\":{\"kind\":\"criminal\",\"cause\":5}}",
                       "data.cause", "e1", "string");

    expect_event_error(x, "{" PERSON_ENV ",\"data\":{\"person\":\"P\",\"role\":\"victim\","
                          "\"flags\":[\"blind\",\"tall\"]}}", "data.flags", "p1", "tall");
    expect_event_error(x, "{" PERSON_ENV ",\"data\":{\"person\":\"P\",\"role\":\"victim\","
                          "\"flags\":\"blind\"}}", "data.flags", "p1", "list");
    expect_event_error(x, "{" PERSON_ENV ",\"data\":{\"person\":\"P\",\"role\":\"victim\","
                          "\"flags\":[\"blind\",1]}}", "data.flags", "p1", "list");
    expect_event_error(x, "{" PERSON_ENV ",\"data\":{\"person\":\"P\",\"role\":\"victim\","
                          "\"first_offence\":\"true\"}}", "data.first_offence", "p1", "string");
    expect_event_error(x, "{" PERSON_ENV ",\"data\":{\"person\":\"P\",\"role\":\"victim\","
                          "\"first_offence\":1}}", "data.first_offence", "p1", NULL);
    expect_event_error(x, "{" PERSON_ENV ",\"data\":{\"person\":\"P\",\"role\":\"victim\","
                          "\"birth_date\":\"2010-02-30\"}}", "data.birth_date", "p1", NULL);
    expect_event_error(x, "{" PERSON_ENV ",\"data\":{\"person\":\"P\",\"role\":\"victim\","
                          "\"birth_date\":\"2010-05-17T00:00:00+08:00\"}}",
                       "data.birth_date", "p1", NULL);
    expect_event_error(x, "{" PERSON_ENV ",\"data\":{\"person\":\"P\"}}", "data.role", "p1",
                       "missing");
    /* A long list of allowed values is cut to fit, still naming the bad
     * item first. */
    expect_event_error(x, "{\"id\":\"d1\",\"type\":\"penalty.decided\",\"case\":\"C\",\"unit\":\"37\","
                          "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{\"person\":\"P\","
                          "\"cause\":\"c\",\"circumstance\":\"normal\",\"factors\":[\"repeated\","
                          "\"bogus_factor\"]}}", "data.factors", "d1", "'bogus_factor' is not one of");

    expect_event_error(x, "{" EXT_ENV ",\"data\":{\"limit\":\"h\",\"days\":1.5}}", "data.days",
                       "x1", "integer");
    expect_event_error(x, "{" EXT_ENV ",\"data\":{\"limit\":\"h\",\"days\":\"3\"}}", "data.days",
                       "x1", "integer");
    expect_event_error(x, "{" EXT_ENV ",\"data\":{\"limit\":\"h\",\"days\":3e0}}", "data.days",
                       "x1", "integer");

    expect_event_error(x, "{" ENV ",\"data\":{\"kind\":\"criminal\",\"offence_at\":\"2026-03-02\"}}",
                       "data.offence_at", "e1", NULL);
    expect_event_error(x, "{" ENV ",\"data\":{\"kind\":\"criminal\",\"offence_at\":1772415000}}",
                       "data.offence_at", "e1", NULL);

    /* Required fields: absent, no data at all, data null. */
    expect_event_error(x, "{" ENV ",\"data\":{\"cause\":\"x\"}}", "data.kind", "e1", "missing");
    expect_event_error(x, "{" ENV "}", "data.kind", "e1", "missing");
    expect_event_error(x, "{" ENV ",\"data\":null}", "data.kind", "e1", "missing");
    expect_event_error(x, "{" ENV ",\"data\":{}}", "data.kind", "e1", "missing");
    /* A required list: absent is missing, empty is present. */
    expect_event_error(x, "{\"id\":\"i1\",\"type\":\"interrogation.started\",\"case\":\"C\","
                          "\"unit\":\"37\",\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":"
                          "{\"person\":\"P\",\"session\":\"S\"}}", "data.officers", "i1", "missing");
    {
        cw_pevent ev;
        parse_ok(x, "{\"id\":\"i1\",\"type\":\"interrogation.started\",\"case\":\"C\","
                    "\"unit\":\"37\",\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":"
                    "{\"person\":\"P\",\"session\":\"S\",\"officers\":[]}}", &ev);
        assert_int_equal(must_field(&ev, "officers")->kind, CW_V_LIST);
        assert_int_equal(must_field(&ev, "officers")->nitems, 0);
    }
}

static void test_duplicate_keys(void **state)
{
    fx *x = *state;
    char buf[512];

    expect_event_error(x, "{\"id\":\"e1\",\"id\":\"e2\",\"type\":\"case.filed\",\"case\":\"C\","
                          "\"unit\":\"37\",\"at\":\"2026-03-02T09:30:00+08:00\"}", "id", "e1",
                       "duplicate");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, ",\"unit\":\"38\"");
    expect_event_error(x, buf, "unit", "e1", "duplicate");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, ",\"actor\":null,\"actor\":\"O\"");
    expect_event_error(x, buf, "actor", "e1", "duplicate");
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, ",\"data\":{},\"data\":{}");
    expect_event_error(x, buf, "data", "e1", "duplicate");
    /* Escapes do not hide a duplicate. */
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, ",\"\\u0061t\":\"x\"");
    expect_event_error(x, buf, "at", "e1", "duplicate");

    expect_event_error(x, "{" ENV ",\"data\":{\"kind\":\"criminal\",\"kind\":\"criminal\"}}",
                       "data", "e1", "kind");
    expect_event_error(x, "{" ENV ",\"data\":{\"kind\":\"criminal\",\"x\":1,\"\\u0078\":1}}",
                       "data", "e1", "duplicate");
    /* Keys that share a prefix are not duplicates. */
    {
        cw_pevent ev;
        parse_ok(x, "{" ENV ",\"data\":{\"kind\":\"criminal\",\"x\":1,\"xx\":2,\"\":3}}", &ev);
        assert_int_equal(ev.nf, 4);
        assert_int_equal(must_field(&ev, "xx")->i, 2);
        assert_int_equal(must_field(&ev, "")->i, 3);
    }
}

/* ---- malformed JSON --------------------------------------------------- */

static void test_malformed(void **state)
{
    fx *x = *state;
    char buf[512];
    const char *s;
    size_t n;

    env_with(buf, sizeof buf, OK_ID, OK_TYPE, OK_CASE, OK_UNIT, OK_AT, "");
    n = strlen(buf);
    /* Trailing garbage: offset at its first byte, after the whitespace. */
    strcat(buf, "  x");
    expect_syntax(x, buf, n + 2, n + 2);
    buf[n] = '\0';
    strcat(buf, "{}");
    expect_syntax(x, buf, n, n);
    buf[n] = '\0';
    strcat(buf, ",");
    expect_syntax(x, buf, n, n);
    /* A NUL byte inside the given length is garbage too. */
    buf[n] = '\0';
    expect_syntax_n(x, buf, n + 1, n, n);
    /* Missing closing brace: the problem is at the end. */
    buf[n - 1] = '\0';
    expect_syntax(x, buf, n - 1, n - 1);
    expect_syntax(x, "{", 1, 1);
    expect_syntax(x, "{\"id\":\"e1\",", 11, 11);
    expect_syntax(x, "{\"id\":\"e1\"", 10, 10);
    expect_syntax(x, "{\"id\":", 6, 6);
    expect_syntax(x, "{\"id\"", 5, 5);
    expect_syntax(x, "{\"id", 4, 4);
    /* Numbers. */
    s = "{\"data\":{\"n\":01}}";
    expect_syntax(x, s, pos(s, "01"), pos(s, "01") + 1);
    {
        cw_pevent ev;
        cw_event_error e;
        assert_int_equal(parse(x, s, &ev, &e), CW_EPARSE);
        assert_non_null(strstr(e.msg, "leading zero"));
    }
    s = "{\"data\":{\"n\":-01}}";
    expect_syntax(x, s, pos(s, "-01"), pos(s, "-01") + 2);
    s = "{\"data\":{\"n\":1.}}";
    expect_syntax(x, s, pos(s, "1."), pos(s, "1.") + 2);
    s = "{\"data\":{\"n\":.5}}";
    expect_syntax(x, s, pos(s, ".5"), pos(s, ".5"));
    s = "{\"data\":{\"n\":1e}}";
    expect_syntax(x, s, pos(s, "1e"), pos(s, "1e") + 2);
    s = "{\"data\":{\"n\":-}}";
    expect_syntax(x, s, pos(s, "-"), pos(s, "-") + 1);
    s = "{\"data\":{\"n\":+1}}";
    expect_syntax(x, s, pos(s, "+1"), pos(s, "+1"));
    s = "{\"data\":{\"n\":{\"a\":01}}}";
    expect_syntax(x, s, pos(s, "01"), pos(s, "01") + 1);
    /* Bare words and mangled literals. */
    s = "{\"id\":abc}";
    expect_syntax(x, s, pos(s, "abc"), pos(s, "abc"));
    s = "{\"data\":{\"n\":nul}}";
    expect_syntax(x, s, pos(s, "nul"), pos(s, "nul") + 3);
    s = "{\"data\":{\"n\":truex}}";
    expect_syntax(x, s, pos(s, "truex"), pos(s, "x"));
    s = "{\"data\":{\"n\":True}}";
    expect_syntax(x, s, pos(s, "True"), pos(s, "True"));
    s = "{\"data\":{\"n\":[tru]}}";
    expect_syntax(x, s, pos(s, "tru"), pos(s, "tru") + 3);
    s = "{id:\"e1\"}";
    expect_syntax(x, s, 1, 1);
    s = "{'id':\"e1\"}";
    expect_syntax(x, s, 1, 1);
    /* Structure. */
    s = "{\"id\" \"e1\"}";
    expect_syntax(x, s, pos(s, " \"e1"), pos(s, "\"e1"));
    s = "{\"id\":\"e1\",}";
    expect_syntax(x, s, pos(s, "}"), pos(s, "}"));
    s = "{\"id\":\"e1\" \"type\":\"x\"}";
    expect_syntax(x, s, pos(s, "\"type"), pos(s, "\"type"));
    s = "{\"data\":{\"a\":1,}}";
    expect_syntax(x, s, pos(s, ",}") + 1, pos(s, ",}") + 1);
    s = "{\"data\":{\"a\":[1,]}}";
    expect_syntax(x, s, pos(s, ",]") + 1, pos(s, ",]") + 1);
    s = "{\"data\":{\"a\":[\"x\",]}}";
    expect_syntax(x, s, pos(s, ",]") + 1, pos(s, ",]") + 1);
    s = "{\"data\":{\"a\":[\"x\" \"y\"]}}";
    expect_syntax(x, s, pos(s, "\"y"), pos(s, "\"y"));
    s = "{\"data\":{\"a\":{\"b\"}}}";
    expect_syntax(x, s, pos(s, "}}}"), pos(s, "}}}"));
    s = "{\"data\":{\"a\":[1}}";
    expect_syntax(x, s, pos(s, "}"), pos(s, "}"));
    s = "{\"data\":{1:2}}";
    expect_syntax(x, s, pos(s, "1:"), pos(s, "1:"));
    /* Empty and non-object input. */
    expect_syntax(x, "", 0, 0);
    expect_syntax(x, " \n\t", 3, 3);
    expect_syntax(x, "[{\"id\":\"e1\"}]", 0, 0);
    expect_syntax(x, "  [1]", 2, 2);
    expect_syntax(x, "\"x\"", 0, 0);
    expect_syntax(x, "null", 0, 0);
    expect_syntax(x, "}", 0, 0);
}

static void test_nesting_limit(void **state)
{
    fx *x = *state;
    enum { DEEP = 5000 };
    size_t cap = 64 + 2 * DEEP, n;
    char *buf = malloc(cap);
    cw_pevent ev;

    assert_non_null(buf);
    /* 60 levels are fine... */
    n = (size_t)snprintf(buf, cap, "{" ENV ",\"data\":{\"kind\":\"criminal\",\"d\":");
    for (int i = 0; i < 60; i++)
        buf[n++] = '[';
    for (int i = 0; i < 60; i++)
        buf[n++] = ']';
    memcpy(buf + n, "}}", 3);
    parse_ok(x, buf, &ev);
    assert_int_equal(must_field(&ev, "d")->kind, CW_V_RAW);
    assert_int_equal(must_field(&ev, "d")->s.len, 120);
    /* ...thousands are refused, without exhausting the stack. */
    n = (size_t)snprintf(buf, cap, "{\"data\":{\"d\":");
    for (int i = 0; i < DEEP; i++)
        buf[n++] = '[';
    buf[n] = '\0';
    {
        cw_event_error e;
        assert_int_equal(parse(x, buf, &ev, &e), CW_EPARSE);
        assert_non_null(strstr(e.msg, "deep"));
    }
    free(buf);
}

/* ---- messages --------------------------------------------------------- */

static void test_error_format(void **state)
{
    fx *x = *state;
    cw_pevent ev;
    cw_event_error e;
    char buf[512], want[512];

    assert_int_equal(parse(x, "{\"id\":\"e7\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"3\","
                              "\"at\":\"2026-03-02T09:30:00+08:00\"}", &ev, &e), CW_EEVENT);
    cw_event_error_format(&e, buf, sizeof buf);
    snprintf(want, sizeof want, "event e7: field 'unit': %s", e.msg);
    assert_string_equal(buf, want);
    assert_non_null(strstr(buf, "'3'"));

    /* No id: the field alone. */
    assert_int_equal(parse(x, "{\"type\":\"case.filed\"}", &ev, &e), CW_EEVENT);
    cw_event_error_format(&e, buf, sizeof buf);
    assert_string_equal(buf, "field 'id': missing");

    /* Syntax error, id not yet read. */
    assert_int_equal(parse(x, "{\"a\":1,}", &ev, &e), CW_EPARSE);
    assert_int_equal(e.offset, 7);
    cw_event_error_format(&e, buf, sizeof buf);
    snprintf(want, sizeof want, "malformed JSON at byte 7: %s", e.msg);
    assert_string_equal(buf, want);

    /* Syntax error after the id was read: both. */
    assert_int_equal(parse(x, "{\"id\":\"e8\", x}", &ev, &e), CW_EPARSE);
    cw_event_error_format(&e, buf, sizeof buf);
    snprintf(want, sizeof want, "event e8: malformed JSON at byte 12: %s", e.msg);
    assert_string_equal(buf, want);

    /* A small buffer is filled and terminated, never overrun (heap buffer
     * of the exact size, for ASan). */
    for (size_t size = 1; size < 40; size++) {
        char *small = malloc(size);
        assert_non_null(small);
        cw_event_error_format(&e, small, size);
        assert_int_equal(strlen(small), size - 1 < strlen(want) ? size - 1 : strlen(want));
        assert_memory_equal(small, want, strlen(small));
        free(small);
    }
}

/* ---- stand-alone checks ----------------------------------------------- */

static void test_check_id(void **state)
{
    char s[70];

    memset(s, 'x', sizeof s);
    assert_null(cw_check_id("e1", 2));
    assert_null(cw_check_id(s, 1));
    assert_null(cw_check_id(s, 64));
    assert_non_null(cw_check_id(s, 65));
    assert_non_null(cw_check_id("", 0));
    assert_null(cw_check_id(" ~", 2));
    assert_non_null(cw_check_id("a\x1f", 2));
    assert_non_null(cw_check_id("a\x7f", 2));
    assert_non_null(cw_check_id("\xc3\xa9", 2));
    assert_non_null(cw_check_id("a\0b", 3));
    /* Only len bytes are looked at. */
    assert_null(cw_check_id("ab\x01", 2));
}

static void test_check_case(void **state)
{
    /* 中 is 3 bytes: 64 of them are 192 bytes but 64 characters. */
    char s[4 * 70];
    size_t n = 0;

    for (int i = 0; i < 65; i++) {
        memcpy(s + n, "\xe4\xb8\xad", 3);
        n += 3;
    }
    assert_null(cw_check_case(s, 64 * 3));
    assert_non_null(cw_check_case(s, 65 * 3));
    /* 63 Chinese characters and one 4-byte one: still 64. */
    memcpy(s + 63 * 3, "\xf0\x9f\x98\x80", 4);
    assert_null(cw_check_case(s, 63 * 3 + 4));
    memset(s, 'A', 65);
    assert_null(cw_check_case(s, 64));
    assert_non_null(cw_check_case(s, 65));
    assert_non_null(cw_check_case("", 0));
    assert_non_null(cw_check_case("A\x01", 2));
    assert_non_null(cw_check_case("A\x7f", 2));
    assert_non_null(cw_check_case("A\nB", 3));
    assert_null(cw_check_case("A 1/2-\xe5\x8f\x97", 9));
    assert_null(cw_check_case("AB\x01", 2));
}

static void test_check_unit(void **state)
{
    assert_null(cw_check_unit("37", 2));
    assert_null(cw_check_unit("370102", 6));
    assert_null(cw_check_unit("123456789012", 12));
    assert_non_null(cw_check_unit("3", 1));
    assert_non_null(cw_check_unit("", 0));
    assert_non_null(cw_check_unit("1234567890123", 13));
    assert_non_null(cw_check_unit("3701a", 5));
    assert_non_null(cw_check_unit("a3701", 5));
    assert_non_null(cw_check_unit(" 3701", 5));
    assert_non_null(cw_check_unit("-370", 4));
    assert_non_null(cw_check_unit("37/1", 4));
    assert_non_null(cw_check_unit("37:1", 4));
    assert_null(cw_check_unit("370x", 3));
}

/* ---- the case number through the parser ------------------------------- */

static void test_case_characters(void **state)
{
    fx *x = *state;
    char buf[1024], q[400];
    size_t n = 0;
    cw_pevent ev;

    q[n++] = '"';
    for (int i = 0; i < 64; i++) {
        memcpy(q + n, "\xe4\xb8\xad", 3);
        n += 3;
    }
    q[n++] = '"';
    q[n] = '\0';
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, q, OK_UNIT, OK_AT, "");
    parse_ok(x, buf, &ev);
    assert_int_equal(ev.case_id.len, 192);
    /* The same via \u escapes counts the same. */
    memcpy(q + n - 1, "\\u4e2d\"", 8);
    env_with(buf, sizeof buf, OK_ID, OK_TYPE, q, OK_UNIT, OK_AT, "");
    expect_event_error(x, buf, "case", "e1", "64");
}

/* ---- reuse ------------------------------------------------------------ */

static void test_parser_reuse(void **state)
{
    fx *x = *state;
    cw_evparser *p = cw_evparser_new();
    cw_pevent ev;
    cw_event_error e;
    char *big;
    size_t cap = 200000, n;
    const char *small = "{\"id\":\"s\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                        "\"at\":\"2026-03-02T09:30:00+08:00\"}";
    fx y = *x;

    y.p = p;
    big = malloc(cap);
    assert_non_null(big);

    /* Short first, then one that outgrows the scratch, then short again. */
    parse_ok(&y, small, &ev);
    n = (size_t)snprintf(big, cap, "{\"id\":\"long-event\",\"type\":\"person.added\","
                                   "\"case\":\"CASE-LONG\",\"unit\":\"370102\",\"actor\":\"O1\","
                                   "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{"
                                   "\"person\":\"P1\",\"role\":\"witness\","
                                   "\"flags\":[\"blind\",\"deaf\",\"mute\"],\"note\":\"");
    for (int i = 0; i < 50000; i++)
        big[n++] = (char)('a' + i % 26);
    n += (size_t)snprintf(big + n, cap - n, "\",\"list\":[\"x\",\"y\"]}}");
    parse_ok(&y, big, &ev);
    assert_slice(ev.id, "long-event");
    assert_int_equal(ev.nf, 5);
    assert_int_equal(must_field(&ev, "note")->s.len, 50000);
    assert_int_equal(must_field(&ev, "note")->s.p[49999], 'a' + 49999 % 26);
    assert_int_equal(must_field(&ev, "list")->nitems, 2);
    assert_slice(ev.items[must_field(&ev, "list")->item0 + 1], "y");
    assert_slice(ev.items[must_field(&ev, "flags")->item0 + 2], "mute");

    parse_ok(&y, small, &ev);
    assert_slice(ev.id, "s");
    assert_string_equal(ev.type->name, "case.filed");
    assert_slice(ev.case_id, "C");
    assert_slice(ev.unit, "37");
    assert_int_equal(ev.actor.len, 0);
    assert_int_equal(ev.nf, 0);

    /* One data field after five: only that one. */
    parse_ok(&y, "{" ENV ",\"data\":{\"kind\":\"criminal\"}}", &ev);
    assert_int_equal(ev.nf, 1);
    assert_null(field(&ev, "note"));

    /* An error leaves nothing behind for the next event, and a failed
     * event's id is not reported for the next one. */
    assert_int_equal(parse(&y, "{\"id\":\"bad\",\"type\":\"nope\"}", &ev, &e), CW_EEVENT);
    assert_string_equal(e.id, "bad");
    assert_int_equal(parse(&y, "[", &ev, &e), CW_EPARSE);
    assert_string_equal(e.id, "");
    assert_string_equal(e.field, "");
    assert_int_equal(parse(&y, "{\"id\":\"e\"}", &ev, &e), CW_EEVENT);
    assert_string_equal(e.field, "type");
    assert_int_equal(e.offset, 0);
    /* A failure half way through the data must not leave fields. */
    assert_int_equal(parse(&y, "{" ENV ",\"data\":{\"kind\":\"criminal\",\"a\":1,\"b\":[\"q\"],"
                               "\"c\":01}}", &ev, &e), CW_EPARSE);
    parse_ok(&y, small, &ev);
    assert_int_equal(ev.nf, 0);
    parse_ok(&y, "{" PERSON_ENV ",\"data\":{\"person\":\"P\",\"role\":\"victim\","
                 "\"flags\":[\"pregnant\"]}}", &ev);
    assert_int_equal(must_field(&ev, "flags")->nitems, 1);
    assert_slice(ev.items[must_field(&ev, "flags")->item0], "pregnant");

    free(big);
    cw_evparser_free(p);
    cw_evparser_free(NULL);
}

/* The catalogue's ranges: days of an extension 1-365, fines >= 0, `at`
 * within the years around now (30 before, 1 after by default), strings
 * and whole events within their bytes. */
static void test_ranges(void **state)
{
    fx *x = *state;
    cw_pevent ev;
    char *big;
    size_t n;

    cw_evparser_set_now(x->p, AT_0930);
    parse_ok(x, "{" EXT_ENV ",\"data\":{\"limit\":\"h\",\"days\":1}}", &ev);
    parse_ok(x, "{" EXT_ENV ",\"data\":{\"limit\":\"h\",\"days\":365}}", &ev);
    expect_event_error(x, "{" EXT_ENV ",\"data\":{\"limit\":\"h\",\"days\":0}}", "data.days", "x1",
                       "0 is outside 1-365");
    expect_event_error(x, "{" EXT_ENV ",\"data\":{\"limit\":\"h\",\"days\":-3}}", "data.days", "x1",
                       "outside 1-365");
    expect_event_error(x, "{" EXT_ENV ",\"data\":{\"limit\":\"h\",\"days\":100000}}", "data.days", "x1",
                       "100000 is outside 1-365");
    expect_event_error(x, "{\"id\":\"p1\",\"type\":\"penalty.decided\",\"case\":\"C\",\"unit\":\"37\","
                          "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{\"person\":\"P\",\"cause\":\"c\","
                          "\"circumstance\":\"normal\",\"fine\":-500}}", "data.fine", "p1", "below the least allowed");
    parse_ok(x, "{\"id\":\"p1\",\"type\":\"penalty.decided\",\"case\":\"C\",\"unit\":\"37\","
                "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{\"person\":\"P\",\"cause\":\"c\","
                "\"circumstance\":\"normal\",\"fine\":0}}", &ev);
    expect_event_error(x, "{\"id\":\"y1\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                          "\"at\":\"0001-01-01T00:00:00+08:00\"}", "at", "y1", "outside the years 1996-2027");
    expect_event_error(x, "{\"id\":\"y2\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                          "\"at\":\"9999-12-31T00:00:00+08:00\"}", "at", "y2", "outside the years");
    parse_ok(x, "{\"id\":\"y3\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                "\"at\":\"1996-01-01T00:00:00+08:00\"}", &ev);
    parse_ok(x, "{\"id\":\"y4\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                "\"at\":\"2027-12-31T23:59:59+08:00\"}", &ev);
    /* a string field past limits.string_bytes (4096), an event past
     * limits.event_bytes (65536), with the data field undeclared */
    big = malloc(70000);
    assert_non_null(big);
    n = (size_t)snprintf(big, 70000, "{" EXT_ENV ",\"data\":{\"limit\":\"h\",\"days\":3,\"approved_by\":\"");
    memset(big + n, 'a', 4097);
    strcpy(big + n + 4097, "\"}}");
    expect_event_error(x, big, "data.approved_by", "x1", "4097 bytes, more than the 4096");
    n = (size_t)snprintf(big, 70000, "{" EXT_ENV ",\"data\":{\"limit\":\"h\",\"days\":3,\"note\":\"");
    memset(big + n, 'a', 66000);
    strcpy(big + n + 66000, "\"}}");
    expect_event_error(x, big, "event", "x1", "more than the 65536");
    free(big);
    cw_evparser_set_now(x->p, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_envelope),
        cmocka_unit_test(test_valid_data_kinds),
        cmocka_unit_test(test_valid_time_and_int_fields),
        cmocka_unit_test(test_null_known_field_is_absent),
        cmocka_unit_test(test_integers_at_the_limits),
        cmocka_unit_test(test_raw_values_compact),
        cmocka_unit_test(test_key_order_and_whitespace),
        cmocka_unit_test(test_other_top_level_keys),
        cmocka_unit_test(test_error_order_fixed),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_string_block_positions),
        cmocka_unit_test(test_bad_strings),
        cmocka_unit_test(test_missing_envelope_fields),
        cmocka_unit_test(test_id_rules),
        cmocka_unit_test(test_type_case_unit_at_actor_data_rules),
        cmocka_unit_test(test_unit_boundaries),
        cmocka_unit_test(test_data_not_object_raw),
        cmocka_unit_test(test_data_errors),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_error_format),
        cmocka_unit_test(test_check_id),
        cmocka_unit_test(test_check_case),
        cmocka_unit_test(test_check_unit),
        cmocka_unit_test(test_case_characters),
        cmocka_unit_test(test_parser_reuse),
        cmocka_unit_test(test_ranges),
    };
    return cmocka_run_group_tests_name("evjson", tests, group_setup, group_teardown);
}
