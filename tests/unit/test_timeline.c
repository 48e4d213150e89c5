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
#include "event/record.h"

/* A world whose names table holds the real catalogue's names, and a
 * parser to turn JSON into the cw_pevent that records are encoded from. */
typedef struct fx {
    cw_world *w;
    cw_catalogue *cat;
    cw_evparser *p;
    cw_evbuf *b;            /* large: on the heap */
} fx;

#define AT_0930 1772415000LL    /* 2026-03-02T09:30:00+08:00 */

static int fx_open(fx *x)
{
    cw_err err;

    x->w = cw_world_new();
    if (cw_catalogue_load(&x->cat, CW_SRCDIR "/rules/catalogue.yaml", x->w->names, &err) < 0) {
        fprintf(stderr, "catalogue: %s\n", err.msg);
        return -1;
    }
    x->p = cw_evparser_new();
    /* the accessors' tests go back to 1969 */
    cw_evparser_set_now(x->p, CW_TIME_NONE);
    x->b = malloc(sizeof *x->b);
    return x->b ? 0 : -1;
}

static void fx_close(fx *x)
{
    free(x->b);
    cw_evparser_free(x->p);
    cw_catalogue_free(x->cat);
    cw_world_free(x->w);
}

static int group_setup(void **state)
{
    fx *x = calloc(1, sizeof *x);

    if (x == NULL || fx_open(x) < 0)
        return -1;
    *state = x;
    return 0;
}

static int group_teardown(void **state)
{
    fx_close(*state);
    free(*state);
    return 0;
}

static void parse_ok(fx *x, const char *json, cw_pevent *pe)
{
    cw_event_error e;
    int rc = cw_evparse(x->p, x->cat, json, strlen(json), pe, &e);

    if (rc != 0)
        fail_msg("rc %d for %s: field '%s' at %zu: %s", rc, json, e.field, e.offset, e.msg);
}

/* Parse json and append its record to *buf; returns the record's offset. */
static size_t append(fx *x, const char *json, uint64_t seq, uint8_t **buf, size_t *len,
                     size_t *cap)
{
    cw_pevent pe;
    size_t off = *len, size;

    parse_ok(x, json, &pe);
    size = cw_rec_encode(x->w, &pe, seq, buf, len, cap);
    if (size == 0)
        fail_msg("cannot encode %s", json);
    assert_int_equal(*len, off + size);
    assert_true(*cap >= *len);
    assert_int_equal(cw_rec_size(*buf + off), size);
    return off;
}

/* The body hash of json encoded alone with the given seq. */
static uint64_t hash_of(fx *x, const char *json, uint64_t seq, uint32_t case_id)
{
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    uint64_t h;

    append(x, json, seq, &buf, &len, &cap);
    h = cw_rec_body_hash(buf, case_id);
    free(buf);
    return h;
}

static const char *S(const fx *x, uint32_t id)
{
    return cw_strtab_str(x->w->strs, id);
}

static int fid_of(const fx *x, const char *name)
{
    uint32_t id = cw_strtab_find(x->w->names, name, strlen(name));

    if (id == UINT32_MAX)
        fail_msg("'%s' is not a known name", name);
    return (int)id;
}

/* The decoded field named name, which must be there with the kind. */
static const cw_fval *fv(const fx *x, const cw_evbuf *b, const char *name, int kind)
{
    const cw_fval *f = cw_event_field(&b->ev, fid_of(x, name));

    if (f == NULL)
        fail_msg("no field '%s'", name);
    if (f->kind != kind)
        fail_msg("field '%s' has kind %d, expected %d", name, f->kind, kind);
    return f;
}

static int type_id(const fx *x, const char *name)
{
    const cw_type_spec *t = cw_catalogue_find(x->cat, name, strlen(name));

    assert_non_null(t);
    return t->id;
}

#define PERSON_EVENT \
    "{\"id\":\"evt-000123\",\"type\":\"person.added\",\"case\":\"A370102202600017\"," \
    "\"unit\":\"370102\",\"at\":\"2026-03-02T09:30:00+08:00\",\"actor\":\"O1001\"," \
    "\"data\":{\"person\":\"P1\",\"role\":\"suspect\",\"birth_date\":\"1969-12-31\"," \
    "\"flags\":[\"blind\",\"nursing_infant\"],\"first_offence\":false,\"yes\":true," \
    "\"n\":-5000000000,\"raw\":{ \"a\" : [1, 2] },\"gone\":null,\"s\":\"\\u81ea\\u7531\"," \
    "\"tags\":[\"x\",\"y\",\"x\"],\"empty\":[],\"note\":\"\"}}"

#define ACCEPTED_EVENT \
    "{\"id\":\"e2\",\"type\":\"case.accepted\",\"case\":\"C\",\"unit\":\"37\"," \
    "\"at\":\"1969-12-31T23:59:59Z\",\"data\":{\"kind\":\"criminal\"," \
    "\"offence_at\":\"2026-03-01T21:00:00-05:00\",\"cause\":\"PSAL-51\"}}"

static void check_person_event(const fx *x, const cw_evbuf *b, uint64_t seq)
{
    const cw_event *ev = &b->ev;
    const cw_fval *f;

    assert_string_equal(ev->id, "evt-000123");
    assert_int_equal(ev->at, AT_0930);
    assert_true(ev->seq == seq);
    assert_int_equal(ev->type, type_id(x, "person.added"));
    assert_string_equal(cw_strtab_str(x->w->names, ev->type), "person.added");
    assert_string_equal(S(x, ev->unit), "370102");
    assert_string_equal(S(x, ev->actor), "O1001");
    assert_int_equal(ev->nf, 13);
    assert_ptr_equal(ev->f, b->f);

    /* Fields keep their order. */
    assert_int_equal(ev->f[0].fid, fid_of(x, "person"));
    assert_int_equal(ev->f[12].fid, fid_of(x, "note"));

    f = fv(x, b, "person", CW_V_STR);
    assert_string_equal(S(x, f->v.s), "P1");
    f = fv(x, b, "role", CW_V_STR);
    assert_string_equal(S(x, f->v.s), "suspect");
    /* A date before the epoch: the 32-bit day must come back signed. */
    f = fv(x, b, "birth_date", CW_V_DATE);
    assert_int_equal(f->v.i, -1);
    f = fv(x, b, "flags", CW_V_LIST);
    assert_int_equal(f->n, 2);
    assert_string_equal(S(x, f->v.list[0]), "blind");
    assert_string_equal(S(x, f->v.list[1]), "nursing_infant");
    f = fv(x, b, "first_offence", CW_V_BOOL);
    assert_int_equal(f->v.i, 0);
    f = fv(x, b, "yes", CW_V_BOOL);
    assert_int_equal(f->v.i, 1);
    /* Beyond 32 bits. */
    f = fv(x, b, "n", CW_V_INT);
    assert_true(f->v.i == -5000000000LL);
    f = fv(x, b, "raw", CW_V_RAW);
    assert_int_equal(f->n, strlen("{\"a\":[1,2]}"));
    assert_string_equal(f->v.raw, "{\"a\":[1,2]}");
    fv(x, b, "gone", CW_V_NULL);
    f = fv(x, b, "s", CW_V_STR);
    assert_string_equal(S(x, f->v.s), "\xe8\x87\xaa\xe7\x94\xb1");   /* 自由 */
    /* Repeated items are kept, each to the same string id. */
    f = fv(x, b, "tags", CW_V_LIST);
    assert_int_equal(f->n, 3);
    assert_string_equal(S(x, f->v.list[0]), "x");
    assert_string_equal(S(x, f->v.list[1]), "y");
    assert_int_equal(f->v.list[0], f->v.list[2]);
    /* Items of different lists do not overlap in the buffer. */
    assert_true(f->v.list >= fv(x, b, "flags", CW_V_LIST)->v.list + 2);
    f = fv(x, b, "empty", CW_V_LIST);
    assert_int_equal(f->n, 0);
    f = fv(x, b, "note", CW_V_STR);
    assert_int_equal(f->v.s, 0);
}

static void check_accepted_event(const fx *x, const cw_evbuf *b, uint64_t seq)
{
    const cw_event *ev = &b->ev;
    const cw_fval *f;

    assert_string_equal(ev->id, "e2");
    assert_int_equal(ev->at, -1);
    assert_true(ev->seq == seq);
    assert_int_equal(ev->type, type_id(x, "case.accepted"));
    assert_string_equal(S(x, ev->unit), "37");
    assert_int_equal(ev->actor, 0);
    assert_int_equal(ev->nf, 3);
    f = fv(x, b, "kind", CW_V_STR);
    assert_string_equal(S(x, f->v.s), "criminal");
    f = fv(x, b, "offence_at", CW_V_TIME);
    assert_int_equal(f->v.i, 20514LL * 86400 + 7200);
    f = fv(x, b, "cause", CW_V_STR);
    assert_string_equal(S(x, f->v.s), "PSAL-51");
}

static void test_round_trip(void **state)
{
    fx *x = *state;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    const uint64_t seq = 0x0123456789abcdefULL;     /* every byte differs */

    append(x, PERSON_EVENT, seq, &buf, &len, &cap);
    memset(x->b, 0xa5, sizeof *x->b);
    cw_rec_decode(buf, x->b);
    check_person_event(x, x->b, seq);
    /* The id points into the record itself. */
    assert_ptr_equal(x->b->ev.id, (const char *)buf + 33);
    free(buf);
}

static void test_accessors(void **state)
{
    fx *x = *state;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;

    append(x, ACCEPTED_EVENT, UINT64_MAX, &buf, &len, &cap);
    assert_int_equal(cw_rec_size(buf), len);
    assert_int_equal(cw_rec_at(buf), -1);
    assert_true(cw_rec_seq(buf) == UINT64_MAX);
    assert_int_equal(cw_rec_type(buf), type_id(x, "case.accepted"));
    assert_string_equal(cw_rec_id(buf), "e2");
    free(buf);
}

/* Two records in one buffer, then many: each is found by walking sizes,
 * and growing the buffer keeps the earlier ones intact. */
static void test_append_and_walk(void **state)
{
    fx *x = *state;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, o1, o2, o;
    char json[256];

    o1 = append(x, PERSON_EVENT, 1, &buf, &len, &cap);
    o2 = append(x, ACCEPTED_EVENT, 2, &buf, &len, &cap);
    assert_int_equal(o1, 0);
    assert_int_equal(o2, cw_rec_size(buf));
    assert_int_equal(len, cw_rec_size(buf) + cw_rec_size(buf + o2));
    cw_rec_decode(buf + o1, x->b);
    check_person_event(x, x->b, 1);
    cw_rec_decode(buf + o2, x->b);
    check_accepted_event(x, x->b, 2);

    for (int i = 0; i < 2000; i++) {
        snprintf(json, sizeof json, "{\"id\":\"n%d\",\"type\":\"case.closed\",\"case\":\"C\","
                                    "\"unit\":\"37\",\"at\":\"2026-03-02T09:30:00+08:00\","
                                    "\"data\":{\"outcome\":\"o%d\",\"i\":%d}}", i, i % 7, i);
        append(x, json, 100 + (uint64_t)i, &buf, &len, &cap);
    }
    /* Walk: the two first records, then the 2000. */
    o = o2 + cw_rec_size(buf + o2);
    cw_rec_decode(buf, x->b);
    check_person_event(x, x->b, 1);
    for (int i = 0; i < 2000; i++) {
        char want[16];
        assert_true(o < len);
        cw_rec_decode(buf + o, x->b);
        snprintf(want, sizeof want, "n%d", i);
        assert_string_equal(x->b->ev.id, want);
        assert_true(x->b->ev.seq == 100 + (uint64_t)i);
        assert_int_equal(fv(x, x->b, "i", CW_V_INT)->v.i, i);
        snprintf(want, sizeof want, "o%d", i % 7);
        assert_string_equal(S(x, fv(x, x->b, "outcome", CW_V_STR)->v.s), want);
        o += cw_rec_size(buf + o);
    }
    assert_int_equal(o, len);
    free(buf);
}

/* Every kind of field, in a record for each: sizes must add up exactly
 * (a payload size off by one would shift the next record). */
static void test_each_kind_alone(void **state)
{
    fx *x = *state;
    static const char *const data[] = {
        "{}", "{\"a\":true}", "{\"a\":-1}", "{\"a\":\"s\"}", "{\"a\":[\"p\",\"q\"]}",
        "{\"a\":1.5}", "{\"a\":null}", "{\"a\":{\"k\":[]}}",
    };
    /* Sizes from the layout in timeline.h: a 33-byte header (with the id
     * length), the id "kN" and its NUL, then fid u16 + kind u8 + payload. */
    static const size_t want_size[] = {
        36, 36 + 3 + 1, 36 + 3 + 8, 36 + 3 + 4, 36 + 3 + 2 + 2 * 4,
        36 + 3 + 4 + 3 + 1, 36 + 3, 36 + 3 + 4 + 8 + 1,
    };
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, o = 0;
    char json[256];
    size_t n = sizeof data / sizeof *data;

    for (size_t i = 0; i < n; i++) {
        snprintf(json, sizeof json, "{\"id\":\"k%zu\",\"type\":\"case.filed\",\"case\":\"C\","
                                    "\"unit\":\"37\",\"at\":\"2026-03-02T09:30:00+08:00\","
                                    "\"data\":%s}", i, data[i]);
        append(x, json, i, &buf, &len, &cap);
    }
    for (size_t i = 0; i < n; i++) {
        char want[8];
        cw_rec_decode(buf + o, x->b);
        snprintf(want, sizeof want, "k%zu", i);
        assert_string_equal(x->b->ev.id, want);
        assert_string_equal(cw_rec_id(buf + o), want);
        assert_true(cw_rec_seq(buf + o) == i);
        assert_int_equal(x->b->ev.nf, i == 0 ? 0 : 1);
        assert_int_equal(cw_rec_size(buf + o), want_size[i]);
        o += cw_rec_size(buf + o);
    }
    assert_int_equal(o, len);
    free(buf);
}

/* 255 fields and 1024 list items fit; one more of either is refused,
 * leaving the buffer as it was. */
static void test_limits(void **state)
{
    fx *x = *state;
    size_t cap0 = 64 * 1024, n;
    char *json = malloc(cap0);
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    cw_pevent pe;

    assert_non_null(json);
    for (int nf = 255; nf <= 256; nf++) {
        n = (size_t)snprintf(json, cap0, "{\"id\":\"f\",\"type\":\"case.filed\",\"case\":\"C\","
                                          "\"unit\":\"37\",\"at\":\"2026-03-02T09:30:00+08:00\","
                                          "\"data\":{");
        for (int i = 0; i < nf; i++)
            n += (size_t)snprintf(json + n, cap0 - n, "%s\"f%d\":%d", i ? "," : "", i, i);
        snprintf(json + n, cap0 - n, "}}");
        if (nf == 255) {
            parse_ok(x, json, &pe);
            assert_int_equal(pe.nf, nf);
            assert_true(cw_rec_encode(x->w, &pe, 1, &buf, &len, &cap) > 0);
            cw_rec_decode(buf, x->b);
            assert_int_equal(x->b->ev.nf, 255);
            assert_int_equal(fv(x, x->b, "f254", CW_V_INT)->v.i, 254);
        } else {
            /* one more is refused by the parser already, naming "data" */
            cw_event_error e;
            assert_int_equal(cw_evparse(x->p, x->cat, json, strlen(json), &pe, &e), CW_EEVENT);
            assert_string_equal(e.field, "data");
            assert_non_null(strstr(e.msg, "more than 255"));
        }
    }
    free(buf);
    buf = NULL;
    len = cap = 0;

    /* Items count over all lists: 1000 + 24 fit, 1000 + 25 do not. */
    for (int extra = 24; extra <= 25; extra++) {
        n = (size_t)snprintf(json, cap0, "{\"id\":\"l\",\"type\":\"case.filed\",\"case\":\"C\","
                                          "\"unit\":\"37\",\"at\":\"2026-03-02T09:30:00+08:00\","
                                          "\"data\":{\"a\":[");
        for (int i = 0; i < 1000; i++)
            n += (size_t)snprintf(json + n, cap0 - n, "%s\"a%d\"", i ? "," : "", i);
        n += (size_t)snprintf(json + n, cap0 - n, "],\"b\":[");
        for (int i = 0; i < extra; i++)
            n += (size_t)snprintf(json + n, cap0 - n, "%s\"b%d\"", i ? "," : "", i);
        snprintf(json + n, cap0 - n, "]}}");
        parse_ok(x, json, &pe);
        if (extra == 24) {
            assert_true(cw_rec_encode(x->w, &pe, 1, &buf, &len, &cap) > 0);
            cw_rec_decode(buf, x->b);
            assert_int_equal(fv(x, x->b, "a", CW_V_LIST)->n, 1000);
            assert_string_equal(S(x, fv(x, x->b, "a", CW_V_LIST)->v.list[999]), "a999");
            assert_int_equal(fv(x, x->b, "b", CW_V_LIST)->n, 24);
            assert_string_equal(S(x, fv(x, x->b, "b", CW_V_LIST)->v.list[23]), "b23");
        } else {
            size_t len0 = len;
            assert_int_equal(cw_rec_encode(x->w, &pe, 2, &buf, &len, &cap), 0);
            assert_int_equal(len, len0);
        }
    }
    free(buf);
    free(json);
}

/* ---- body hash -------------------------------------------------------- */

#define H_ENV "\"id\":\"h1\",\"type\":\"person.added\",\"case\":\"C1\",\"unit\":\"370102\"," \
              "\"at\":\"2026-03-02T09:30:00+08:00\",\"actor\":\"O1\""
#define H_DATA(person, role, birth, flags, first, n, raw, s) \
    "\"data\":{\"person\":" person ",\"role\":" role ",\"birth_date\":" birth \
    ",\"flags\":" flags ",\"first_offence\":" first ",\"n\":" n ",\"raw\":" raw ",\"s\":" s "}"
#define H_BASE_DATA H_DATA("\"P1\"", "\"victim\"", "\"2010-05-17\"", "[\"blind\",\"deaf\"]", \
                           "true", "7", "{\"a\":[1,2]}", "\"caf\xc3\xa9\"")

static void test_body_hash_same_event(void **state)
{
    fx *x = *state;
    uint64_t h = hash_of(x, "{" H_ENV "," H_BASE_DATA "}", 1, 5);

    /* Same seq, same everything: same hash (the function is pure). */
    assert_true(hash_of(x, "{" H_ENV "," H_BASE_DATA "}", 1, 5) == h);
    /* Another seq. */
    assert_true(hash_of(x, "{" H_ENV "," H_BASE_DATA "}", 999999, 5) == h);
    /* Data keys in another order, envelope keys in another order, other
     * spacing, and escapes in a string value and in keys. */
    assert_true(hash_of(x, "\n{ \"data\" : { \"s\" : \"caf\\u00e9\", \"raw\" : { \"a\" : [ 1 , 2 ] } ,"
                           "\"n\":7, \"first_offence\" : true,\"fl\\u0061gs\":[ \"blind\" , \"deaf\" ],"
                           "\"birth_date\":\"2010-05-17\",\"role\":\"vict\\u0069m\","
                           "\"person\":\"P1\"},\"actor\":\"O1\",\"at\":\"2026-03-02T09:30:00+08:00\","
                           "\"unit\":\"370102\",\"case\":\"C1\",\"type\":\"person.added\","
                           "\"id\":\"h1\" }\t", 42, 5) == h);
    /* The same instant written in another offset is the same time. */
    assert_true(hash_of(x, "{\"id\":\"h1\",\"type\":\"person.added\",\"case\":\"C1\","
                           "\"unit\":\"370102\",\"at\":\"2026-03-02T01:30:00Z\",\"actor\":\"O1\","
                           H_BASE_DATA "}", 3, 5) == h);
}

static void test_body_hash_differs(void **state)
{
    fx *x = *state;
    const char *base = "{" H_ENV "," H_BASE_DATA "}";
    uint64_t h = hash_of(x, base, 1, 5);
    /* Each differs from the base in one thing. */
    static const char *const other[] = {
        "{" H_ENV "," H_DATA("\"P2\"", "\"victim\"", "\"2010-05-17\"", "[\"blind\",\"deaf\"]",
                             "true", "7", "{\"a\":[1,2]}", "\"caf\xc3\xa9\"") "}",
        "{" H_ENV "," H_DATA("\"P1\"", "\"witness\"", "\"2010-05-17\"", "[\"blind\",\"deaf\"]",
                             "true", "7", "{\"a\":[1,2]}", "\"caf\xc3\xa9\"") "}",
        "{" H_ENV "," H_DATA("\"P1\"", "\"victim\"", "\"2010-05-18\"", "[\"blind\",\"deaf\"]",
                             "true", "7", "{\"a\":[1,2]}", "\"caf\xc3\xa9\"") "}",
        "{" H_ENV "," H_DATA("\"P1\"", "\"victim\"", "\"2010-05-17\"", "[\"blind\",\"mute\"]",
                             "true", "7", "{\"a\":[1,2]}", "\"caf\xc3\xa9\"") "}",
        "{" H_ENV "," H_DATA("\"P1\"", "\"victim\"", "\"2010-05-17\"", "[\"deaf\",\"blind\"]",
                             "true", "7", "{\"a\":[1,2]}", "\"caf\xc3\xa9\"") "}",
        "{" H_ENV "," H_DATA("\"P1\"", "\"victim\"", "\"2010-05-17\"", "[\"blind\"]",
                             "true", "7", "{\"a\":[1,2]}", "\"caf\xc3\xa9\"") "}",
        "{" H_ENV "," H_DATA("\"P1\"", "\"victim\"", "\"2010-05-17\"", "[\"blind\",\"deaf\"]",
                             "false", "7", "{\"a\":[1,2]}", "\"caf\xc3\xa9\"") "}",
        "{" H_ENV "," H_DATA("\"P1\"", "\"victim\"", "\"2010-05-17\"", "[\"blind\",\"deaf\"]",
                             "true", "8", "{\"a\":[1,2]}", "\"caf\xc3\xa9\"") "}",
        /* The same digits as a string are another value. */
        "{" H_ENV "," H_DATA("\"P1\"", "\"victim\"", "\"2010-05-17\"", "[\"blind\",\"deaf\"]",
                             "true", "\"7\"", "{\"a\":[1,2]}", "\"caf\xc3\xa9\"") "}",
        "{" H_ENV "," H_DATA("\"P1\"", "\"victim\"", "\"2010-05-17\"", "[\"blind\",\"deaf\"]",
                             "true", "7", "{\"a\":[1,3]}", "\"caf\xc3\xa9\"") "}",
        "{" H_ENV "," H_DATA("\"P1\"", "\"victim\"", "\"2010-05-17\"", "[\"blind\",\"deaf\"]",
                             "true", "7", "{\"a\":[1,2]}", "\"cafe\"") "}",
        /* A field more, and a field fewer. */
        "{" H_ENV ",\"data\":{\"person\":\"P1\",\"role\":\"victim\",\"birth_date\":\"2010-05-17\","
        "\"flags\":[\"blind\",\"deaf\"],\"first_offence\":true,\"n\":7,\"raw\":{\"a\":[1,2]},"
        "\"s\":\"caf\xc3\xa9\",\"x\":0}}",
        "{" H_ENV ",\"data\":{\"person\":\"P1\",\"role\":\"victim\",\"birth_date\":\"2010-05-17\","
        "\"flags\":[\"blind\",\"deaf\"],\"n\":7,\"raw\":{\"a\":[1,2]},\"s\":\"caf\xc3\xa9\"}}",
        /* The envelope: id, unit, actor, no actor, at. */
        "{\"id\":\"h2\",\"type\":\"person.added\",\"case\":\"C1\",\"unit\":\"370102\","
        "\"at\":\"2026-03-02T09:30:00+08:00\",\"actor\":\"O1\"," H_BASE_DATA "}",
        "{\"id\":\"h1\",\"type\":\"person.added\",\"case\":\"C1\",\"unit\":\"370103\","
        "\"at\":\"2026-03-02T09:30:00+08:00\",\"actor\":\"O1\"," H_BASE_DATA "}",
        "{\"id\":\"h1\",\"type\":\"person.added\",\"case\":\"C1\",\"unit\":\"370102\","
        "\"at\":\"2026-03-02T09:30:00+08:00\",\"actor\":\"O2\"," H_BASE_DATA "}",
        "{\"id\":\"h1\",\"type\":\"person.added\",\"case\":\"C1\",\"unit\":\"370102\","
        "\"at\":\"2026-03-02T09:30:00+08:00\"," H_BASE_DATA "}",
        "{\"id\":\"h1\",\"type\":\"person.added\",\"case\":\"C1\",\"unit\":\"370102\","
        "\"at\":\"2026-03-02T09:30:01+08:00\",\"actor\":\"O1\"," H_BASE_DATA "}",
    };
    size_t n = sizeof other / sizeof *other;
    uint64_t *hs = calloc(n, sizeof *hs);

    assert_non_null(hs);
    for (size_t i = 0; i < n; i++) {
        hs[i] = hash_of(x, other[i], 1, 5);
        if (hs[i] == h)
            fail_msg("same hash as the base for %s", other[i]);
        /* ...and from each other. */
        for (size_t j = 0; j < i; j++)
            if (hs[i] == hs[j])
                fail_msg("same hash for %s and %s", other[i], other[j]);
    }
    free(hs);
}

static void test_body_hash_swapped_values(void **state)
{
    fx *x = *state;
    /* The same two values under swapped keys are another event. */
    uint64_t a = hash_of(x, "{\"id\":\"s\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                            "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{\"p\":\"x\",\"q\":\"y\"}}",
                         1, 0);
    uint64_t b = hash_of(x, "{\"id\":\"s\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                            "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{\"p\":\"y\",\"q\":\"x\"}}",
                         1, 0);
    uint64_t c = hash_of(x, "{\"id\":\"s\",\"type\":\"case.closed\",\"case\":\"C\",\"unit\":\"37\","
                            "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{\"p\":\"x\",\"q\":\"y\"}}",
                         1, 0);
    /* A key renamed with the same value. */
    uint64_t d = hash_of(x, "{\"id\":\"s\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                            "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{\"p\":\"x\",\"r\":\"y\"}}",
                         1, 0);

    assert_true(a != b);
    assert_true(a != c);    /* only the type differs */
    assert_true(a != d);
}

static void test_body_hash_case(void **state)
{
    fx *x = *state;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, o2;
    uint64_t h1, h2, h0;

    append(x, ACCEPTED_EVENT, 1, &buf, &len, &cap);
    h1 = cw_rec_body_hash(buf, 1);
    h2 = cw_rec_body_hash(buf, 2);
    h0 = cw_rec_body_hash(buf, 0);
    assert_true(h1 != h2);
    assert_true(h1 != h0);
    assert_true(h2 != h0);
    assert_true(cw_rec_body_hash(buf, UINT32_MAX) != h1);
    /* The record's place in a buffer does not matter, nor its neighbours. */
    o2 = append(x, ACCEPTED_EVENT, 2, &buf, &len, &cap);
    assert_true(cw_rec_body_hash(buf + o2, 1) == cw_rec_body_hash(buf, 1));
    assert_true(cw_rec_body_hash(buf, 1) == h1);
    free(buf);
}

/*
 * A data value the catalogue does not describe is kept as raw JSON text,
 * escapes and inner key order as written (timeline.h says so): the same
 * event re-sent with such a value written differently is another body.
 */
static void test_body_hash_raw_escapes(void **state)
{
    fx *x = *state;
    uint64_t a = hash_of(x, "{\"id\":\"r\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                            "\"at\":\"2026-03-02T09:30:00+08:00\","
                            "\"data\":{\"extra\":{\"name\":\"caf\xc3\xa9\"}}}", 1, 0);
    uint64_t b = hash_of(x, "{\"id\":\"r\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                            "\"at\":\"2026-03-02T09:30:00+08:00\","
                            "\"data\":{\"extra\":{\"name\":\"caf\\u00e9\"}}}", 1, 0);

    assert_true(a != b);
}

/* As above: the inner key order of a raw object counts. */
static void test_body_hash_raw_key_order(void **state)
{
    fx *x = *state;
    uint64_t a = hash_of(x, "{\"id\":\"r\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                            "\"at\":\"2026-03-02T09:30:00+08:00\","
                            "\"data\":{\"extra\":{\"a\":1,\"b\":2}}}", 1, 0);
    uint64_t b = hash_of(x, "{\"id\":\"r\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                            "\"at\":\"2026-03-02T09:30:00+08:00\","
                            "\"data\":{\"extra\":{\"b\":2,\"a\":1}}}", 1, 0);

    assert_true(a != b);
}

/*
 * Field ids are 16 bits in a record, but a data key the catalogue lacks is
 * interned into the shared names table, which only grows. Once it holds
 * more than 65536 names, a new key's id must not be silently truncated
 * onto another field's id (here: a key "evil" read back as "person").
 * Refusing the event (size 0) would be acceptable; aliasing is not.
 */
/* A world of its own, for a test that fills its names table. */
static int fresh_setup(void **state)
{
    fx *y = calloc(1, sizeof *y);

    if (y == NULL || fx_open(y) < 0)
        return -1;
    *state = y;
    return 0;
}

static int fresh_teardown(void **state)
{
    fx_close(*state);
    free(*state);
    return 0;
}

static void test_unknown_key_fid_overflow(void **state)
{
    fx *y = *state;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, size;
    cw_pevent pe;
    int person;
    char name[32];
    const char *got = "evil";

    person = fid_of(y, "person");
    /* Names from earlier events' unknown keys (a long-running engine sees
     * many), up to the point where the next id is 65536 + person. */
    for (uint32_t i = 0; cw_strtab_count(y->w->names) < 65536u + (uint32_t)person; i++) {
        snprintf(name, sizeof name, "seen_key_%u", i);
        cw_strtab_intern(y->w->names, name, strlen(name));
    }
    parse_ok(y, "{\"id\":\"o\",\"type\":\"case.filed\",\"case\":\"C\",\"unit\":\"37\","
                "\"at\":\"2026-03-02T09:30:00+08:00\",\"data\":{\"evil\":\"x\"}}", &pe);
    size = cw_rec_encode(y->w, &pe, 1, &buf, &len, &cap);
    if (size != 0) {
        cw_rec_decode(buf, y->b);
        got = cw_strtab_str(y->w->names, y->b->ev.f[0].fid);
    }
    free(buf);
    if (strcmp(got, "evil") != 0)
        fail_msg("key 'evil' read back as field '%s' (names id %d)", got,
                 (int)cw_strtab_find(y->w->names, got, strlen(got)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_append_and_walk),
        cmocka_unit_test(test_each_kind_alone),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_body_hash_same_event),
        cmocka_unit_test(test_body_hash_differs),
        cmocka_unit_test(test_body_hash_swapped_values),
        cmocka_unit_test(test_body_hash_case),
        cmocka_unit_test(test_body_hash_raw_escapes),
        cmocka_unit_test(test_body_hash_raw_key_order),
        cmocka_unit_test_setup_teardown(test_unknown_key_fid_overflow, fresh_setup,
                                        fresh_teardown),
    };
    return cmocka_run_group_tests_name("timeline", tests, group_setup, group_teardown);
}
