/*
 * The event catalogue: which event types exist and which data fields
 * each one has, loaded from YAML (rules/catalogue.yaml) so a deployment
 * can extend it without code.
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
 * (YYYY-MM-DD), enum (string from `values`), list (array of strings, from
 * `values` when given). Type ids are dense, in file order, from 0.
 */
#ifndef CW_CATALOGUE_H
#define CW_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef enum {
    CW_FT_STRING, CW_FT_BOOL, CW_FT_INT, CW_FT_TIME, CW_FT_DATE,
    CW_FT_ENUM, CW_FT_LIST
} cw_fieldtype;

typedef struct cw_field_spec {
    const char *name;
    cw_fieldtype type;
    bool required;
    const char **values;     /* allowed values for enum/list; NULL = any */
    size_t nvalues;
    int line;                /* where it is declared, for messages */
} cw_field_spec;

typedef struct cw_type_spec {
    const char *name;        /* "case.accepted" */
    const char *title;       /* "受案", may be "" */
    int id;
    const cw_field_spec *fields;
    size_t nfields;
    int line;
} cw_type_spec;

typedef struct cw_catalogue cw_catalogue;

/* Load and validate the catalogue file. Errors name path:line and the
 * offending type or field (unknown field type, enum without values,
 * duplicate type). Caller frees with cw_catalogue_free. */
int cw_catalogue_load(cw_catalogue **out, const char *path, cw_err *err);
void cw_catalogue_free(cw_catalogue *cat);

size_t cw_catalogue_count(const cw_catalogue *cat);
/* Type id for a name, or -1. */
int cw_catalogue_type_id(const cw_catalogue *cat, const char *name);
/* Same for a name that is not NUL-terminated. */
int cw_catalogue_type_idn(const cw_catalogue *cat, const char *name, size_t len);
/* Borrowed; valid while cat lives. NULL for an id out of range. */
const cw_type_spec *cw_catalogue_type(const cw_catalogue *cat, int id);
const cw_field_spec *cw_type_field(const cw_type_spec *t, const char *name);
/* Whether `value` is one of the field's allowed values (true if any). */
bool cw_field_allows(const cw_field_spec *f, const char *value);

#endif
