/*
 * Building cw_value trees (plugin.h): the parameters a rule passes to its
 * model, from a Lua table or a YAML node. Nodes and strings live in an
 * arena freed in one go after the model has configured itself.
 */
#ifndef CW_VALUE_H
#define CW_VALUE_H

#include "casewarden/plugin.h"
#include "base/yamltree.h"

struct cw_buf;

typedef struct cw_varena cw_varena;

cw_varena *cw_varena_new(void);
void cw_varena_free(cw_varena *a);

/* n zeroed values (for lists and maps), a copy of a string. */
cw_value *cw_varena_values(cw_varena *a, size_t n);
const char *cw_varena_str(cw_varena *a, const char *s, size_t len);
const char **cw_varena_keys(cw_varena *a, size_t n);

/* A YAML node as a value: unquoted true/false -> BOOL, integers -> INT,
 * other numbers -> NUM, null -> NULL, other scalars -> STR. */
const cw_value *cw_value_from_yaml(cw_varena *a, const cw_ynode *n);

/* v as JSON text appended to b: maps as objects (keys in their order),
 * lists as arrays, NULL and non-finite numbers as null. */
void cw_value_json(struct cw_buf *b, const cw_value *v);

/* A short description of a value's kind for messages ("a string"). */
const char *cw_value_kind_name(const cw_value *v);

#endif
