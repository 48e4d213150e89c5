/*
 * Reading one event: a strict JSON parser specialised for the envelope of
 * DESIGN.md, validating against a catalogue.
 *
 * The parser only reads the catalogue and its own scratch space, so each
 * thread (HTTP workers, the engine) can own a parser and share one
 * catalogue. Its output, a cw_pevent, holds decoded strings as slices of
 * the parser's scratch, valid until the next call; turning those into
 * string ids is the engine's business (cw_timeline_encode).
 */
#ifndef CW_EVJSON_H
#define CW_EVJSON_H

#include <stddef.h>
#include <stdint.h>

#include "law/catalogue.h"
#include "casewarden/plugin.h"

#define CW_ID_MAX 64        /* id, case, actor: 1..64 */
#define CW_UNIT_MIN 2
#define CW_UNIT_MAX 12      /* unit: 2..12 digits */
#define CW_MAX_DATA_FIELDS 255

typedef struct cw_slice {
    const char *p;          /* NUL-terminated */
    uint32_t len;
} cw_slice;

/* A data field as read. */
typedef struct cw_pfield {
    cw_slice key;
    const cw_field_spec *spec;  /* NULL for a field the catalogue lacks */
    uint8_t kind;           /* enum cw_vkind */
    int64_t i;              /* BOOL, INT, TIME, DATE */
    cw_slice s;             /* STR: the text; RAW: compact JSON */
    uint32_t item0, nitems; /* LIST: items[item0 .. item0 + nitems) */
} cw_pfield;

typedef struct cw_pevent {
    cw_slice id;
    const cw_type_spec *type;
    cw_slice case_id;
    cw_slice unit;
    cw_slice actor;         /* len 0 when absent */
    cw_time at;
    cw_pfield *f;
    uint32_t nf;
    const cw_slice *items;  /* list items of every LIST field */
} cw_pevent;

/* What went wrong with one event, for a message that says where. */
typedef struct cw_event_error {
    char id[CW_ID_MAX + 1]; /* the event's id if it could be read, else "" */
    char field[96];         /* "at", "data.person"; "" for JSON syntax */
    size_t offset;          /* byte offset of a JSON syntax error */
    char msg[256];          /* what, without the id/line/field prefix */
} cw_event_error;

typedef struct cw_evparser cw_evparser;

cw_evparser *cw_evparser_new(void);
void cw_evparser_free(cw_evparser *p);
/* The now around which an event's `at` must fall (the catalogue's years);
 * 0, the default: the wall clock; CW_TIME_NONE: any time (events read
 * again, judged when they came). */
void cw_evparser_set_now(cw_evparser *p, cw_time now);

/*
 * Parse and validate one JSON object (surrounding whitespace allowed,
 * nothing else). Returns 0 with *out filled (borrowed from p until the
 * next call), CW_EPARSE for malformed JSON, or CW_EEVENT for an event that
 * breaks the envelope or the catalogue; e says which field and what.
 */
int cw_evparse(cw_evparser *p, const cw_catalogue *cat, const char *json,
               size_t len, cw_pevent *out, cw_event_error *e);

/* One line describing e: "event ID: field 'F': what" (parts omitted when
 * unknown; syntax errors say "at byte N"). */
void cw_event_error_format(const cw_event_error *e, char *buf, size_t size);

/* Check an event id / case number / unit code alone (for API paths and
 * fixture defaults). Return NULL when valid, else what is wrong. */
const char *cw_check_id(const char *s, size_t len);
const char *cw_check_case(const char *s, size_t len);
const char *cw_check_unit(const char *s, size_t len);

#endif
