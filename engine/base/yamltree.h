/*
 * A small YAML document tree over libyaml, with line numbers, for the
 * data files (catalogue, calendar, rules, fixtures, configuration).
 *
 * Scalars keep their text and whether they were quoted, so "370102" stays
 * a string while 370102 may be read as a number; the reader decides.
 * Anchors and aliases are refused: data files are plain.
 */
#ifndef CW_YAMLTREE_H
#define CW_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

typedef enum { CW_Y_SCALAR, CW_Y_SEQ, CW_Y_MAP } cw_ytype;

typedef struct cw_ynode cw_ynode;
struct cw_ynode {
    cw_ytype type;
    int line;            /* 1-based line of the node's start */
    bool quoted;         /* scalar written with ' or " */
    char *text;          /* scalar text (NUL-terminated); NULL otherwise */
    size_t len;          /* scalar length */
    size_t n;            /* children: seq items, or 2*pairs for maps */
    cw_ynode **kids;     /* map: kids[2i] key, kids[2i+1] value */
};

typedef struct cw_ydoc {
    char *path;          /* as given to cw_ydoc_load, for messages */
    cw_ynode *root;      /* NULL for an empty document */
} cw_ydoc;

/* Parse the file at path. Returns 0, or CW_EIO/CW_EPARSE with
 * "path:line: ..." in err. Caller frees with cw_ydoc_free. */
int cw_ydoc_load(cw_ydoc **out, const char *path, cw_err *err);
/* The same from memory; name is used in messages. */
int cw_ydoc_parse(cw_ydoc **out, const char *name, const char *buf,
                  size_t len, cw_err *err);
void cw_ydoc_free(cw_ydoc *doc);

/* The value for key in a map, or NULL (also when m is not a map). */
const cw_ynode *cw_ymap_get(const cw_ynode *m, const char *key);
/* Map pairs: number, and key/value i. */
static inline size_t cw_ymap_size(const cw_ynode *m) { return m && m->type == CW_Y_MAP ? m->n / 2 : 0; }
static inline const cw_ynode *cw_ymap_key(const cw_ynode *m, size_t i) { return m->kids[2 * i]; }
static inline const cw_ynode *cw_ymap_val(const cw_ynode *m, size_t i) { return m->kids[2 * i + 1]; }

/* Typed scalar readers: return 0 or CW_EPARSE with "path:line: field
 * 'name': expected ..." in err. name is the field name for the message. */
int cw_ynode_str(const cw_ydoc *d, const cw_ynode *v, const char *name,
                 const char **out, cw_err *err);
int cw_ynode_int(const cw_ydoc *d, const cw_ynode *v, const char *name,
                 int64_t *out, cw_err *err);
int cw_ynode_bool(const cw_ydoc *d, const cw_ynode *v, const char *name,
                  bool *out, cw_err *err);
/* True when a plain (unquoted) scalar is null: "", "~", "null". */
bool cw_ynode_is_null(const cw_ynode *v);

#endif
