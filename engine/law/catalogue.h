/*
 * The event catalogue: which event types exist and which data fields each
 * one has, loaded from YAML (rules/catalogue.yaml) so a deployment can
 * extend it without code.
 *
 *     version: 1
 *     types:
 *       case.accepted:
 *         title: 受案
 *         fields:
 *           kind: {type: enum, values: [administrative, criminal], required: true}
 *           cause: {type: string}
 *           offence_at: {type: time}
 *       person.added:
 *         fields:
 *           flags: {type: list, values: [blind, deaf, ...]}
 *
 * Field types: string, bool, int, time (RFC 3339 with offset), date
 * (YYYY-MM-DD), enum (a string from `values`), list (an array of strings,
 * from `values` when given).
 *
 * Ranges: an int field may have `min` and `max`; a string or list field
 * `max_bytes` (of the string, of each item), else the catalogue's
 * `limits: {string_bytes: N}`; a whole event at most `limits:
 * {event_bytes: N}`. An event's `at` must fall within the years the
 * rules' engine.yaml allows around now (events: {years_before: 30,
 * years_after: 1}, cw_catalogue_set_years).
 *
 * Type and field ids are ids in a names table shared by every catalogue a
 * process loads (see cw_world), so that events stored under one catalogue
 * stay readable after a reload. After loading, a catalogue is read-only
 * and may be used from any thread.
 */
#ifndef CW_CATALOGUE_H
#define CW_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/strtab.h"

typedef enum {
    CW_FT_STRING, CW_FT_BOOL, CW_FT_INT, CW_FT_TIME, CW_FT_DATE,
    CW_FT_ENUM, CW_FT_LIST
} cw_fieldtype;

typedef struct cw_field_spec {
    const char *name;
    int fid;                 /* id in the names table */
    cw_fieldtype type;
    bool required;
    const char **values;     /* allowed values (enum, list); NULL = any */
    size_t nvalues;
    bool has_min, has_max;   /* int: the range */
    int64_t min, max;
    size_t max_bytes;        /* string, list items: at most this many bytes */
    int line;                /* where it is declared */
} cw_field_spec;

typedef struct cw_type_spec {
    const char *name;        /* "case.accepted" */
    const char *title;       /* "受案"; the name when the file gives none */
    int id;                  /* id in the names table */
    cw_field_spec *fields;
    size_t nfields;
    int line;
} cw_type_spec;

typedef struct cw_catalogue cw_catalogue;

/* Load and validate the catalogue file, interning type and field names
 * into names. Errors name path:line and the offending type or field.
 * Caller frees with cw_catalogue_free. */
int cw_catalogue_load(cw_catalogue **out, const char *path, cw_strtab *names,
                      cw_err *err);
void cw_catalogue_free(cw_catalogue *cat);

const char *cw_catalogue_path(const cw_catalogue *cat);
/* The largest event, in bytes of JSON. */
size_t cw_catalogue_event_bytes(const cw_catalogue *cat);
/* The years around now an event's `at` may fall in (before loading is
 * done: the catalogue is read-only once in use). */
void cw_catalogue_set_years(cw_catalogue *cat, int before, int after);
void cw_catalogue_years(const cw_catalogue *cat, int *before, int *after);
size_t cw_catalogue_count(const cw_catalogue *cat);
/* Type i in file order (0 <= i < count). */
const cw_type_spec *cw_catalogue_at(const cw_catalogue *cat, size_t i);
/* The type named name[0..len), or NULL. */
const cw_type_spec *cw_catalogue_find(const cw_catalogue *cat, const char *name, size_t len);
/* The type with names id `id`, or NULL. */
const cw_type_spec *cw_catalogue_type(const cw_catalogue *cat, int id);
/* The field named name[0..len) of t, or NULL. */
const cw_field_spec *cw_type_field(const cw_type_spec *t, const char *name, size_t len);
const cw_field_spec *cw_type_field_id(const cw_type_spec *t, int fid);
/* Whether value[0..len) is one of the field's allowed values (true when
 * the field does not restrict its values). */
bool cw_field_allows(const cw_field_spec *f, const char *value, size_t len);
/* Whether any type declares the field name (for rule checks). */
bool cw_catalogue_knows_field(const cw_catalogue *cat, int fid);
const char *cw_fieldtype_name(cw_fieldtype t);

#endif
