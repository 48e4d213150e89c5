/*
 * Events: the envelope of DESIGN.md, parsed and validated against the
 * catalogue, and the JSONL reader.
 *
 * An event is one heap block (struct, fields and strings together), so
 * cw_event_free is one free() and a million events cost a million
 * allocations, not ten million.
 */
#ifndef CW_EVENT_H
#define CW_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "catalogue.h"
#include "err.h"
#include "timeutil.h"

#define CW_ID_MAX 64        /* id and case: 1..64 */
#define CW_UNIT_MAX 12      /* unit: 2..12 digits */

typedef enum {
    CW_F_STR,    /* string or enum: v.s */
    CW_F_BOOL,   /* v.b */
    CW_F_INT,    /* v.i */
    CW_F_TIME,   /* v.i = cw_time; v.s = the text as given */
    CW_F_DATE,   /* v.i = cw_day;  v.s = the text as given */
    CW_F_LIST,   /* v.list[0..n) strings */
    CW_F_RAW     /* any other JSON (unknown fields): v.s = compact JSON text */
} cw_fkind;

typedef struct cw_field {
    const char *key;         /* data field name */
    uint8_t kind;            /* cw_fkind */
    uint32_t n;              /* list length */
    struct {
        const char *s;
        int64_t i;
        bool b;
        const char **list;
    } v;
} cw_field;

typedef struct cw_event {
    const char *id;
    const char *case_id;
    const char *unit;
    const char *actor;       /* NULL when absent */
    int type;                /* catalogue type id */
    int16_t off;             /* UTC offset of `at` as written, minutes */
    cw_time at;
    uint64_t seq;            /* arrival order (line number, DB seq) */
    uint32_t nfields;
    const cw_field *fields;  /* data, in input order */
} cw_event;

/* What went wrong with one event, for a message that says where. */
typedef struct cw_event_error {
    char id[CW_ID_MAX + 1];  /* the event's id if it could be read, else "" */
    char field[64];          /* "at", "data.person"; "" for JSON syntax */
    size_t offset;           /* byte offset of a JSON syntax error */
    cw_err err;              /* CW_EPARSE (not JSON) or CW_EEVENT; msg
                                says what, without id/line prefix */
} cw_event_error;

typedef struct cw_event_parser cw_event_parser;

/* A parser with reusable scratch space; one per thread. cat is borrowed
 * and must outlive the parser. */
int cw_event_parser_new(cw_event_parser **out, const cw_catalogue *cat);
void cw_event_parser_free(cw_event_parser *p);

/* Parse and validate one JSON object (no trailing garbage but
 * whitespace). On success *out is a new event owned by the caller (free
 * with cw_event_free) with seq = 0. On failure returns CW_EPARSE or
 * CW_EEVENT, fills *e, and stores nothing. */
int cw_event_parse(cw_event_parser *p, const char *json, size_t len,
                   cw_event **out, cw_event_error *e);
void cw_event_free(cw_event *ev);

/* Write the event as one compact JSON object (no newline), data fields
 * in input order, unknown fields as they came. */
int cw_event_write_json(const cw_event *ev, const cw_catalogue *cat, FILE *f);

/* Data field accessors; all tolerate a missing field. */
const cw_field *cw_event_field(const cw_event *ev, const char *key);
/* String or enum value, else NULL. */
const char *cw_event_str(const cw_event *ev, const char *key);
/* True only when present and true. */
bool cw_event_bool(const cw_event *ev, const char *key);
int64_t cw_event_int(const cw_event *ev, const char *key, int64_t dflt);
/* A time field, or CW_TIME_NONE. */
cw_time cw_event_time(const cw_event *ev, const char *key);
/* A date field; returns false when absent. */
bool cw_event_date(const cw_event *ev, const char *key, cw_day *out);
/* Whether list field key contains item. */
bool cw_event_has(const cw_event *ev, const char *key, const char *item);

/* A JSONL reader: one line at a time with its number; blank lines are
 * skipped; "-" reads stdin. Lines longer than 1 MiB are an error for
 * that line (reported, then skipped). */
typedef struct cw_jsonl cw_jsonl;
int cw_jsonl_open(cw_jsonl **out, const char *path, cw_err *err);
/* Returns 1 with *line (borrowed until the next call), *len, *lineno;
 * 0 at end of file; CW_EIO on a read error; CW_ELIMIT for an overlong
 * line (with *lineno set; call again to go on). */
int cw_jsonl_next(cw_jsonl *r, const char **line, size_t *len, size_t *lineno,
                  cw_err *err);
void cw_jsonl_close(cw_jsonl *r);

#endif
