/*
 * Error codes and the caller-owned error buffer.
 *
 * Functions return int: 0 on success, a negative CW_E* code on failure.
 * Context goes into a caller-owned cw_err filled by cw_err_set(), which
 * returns the code so that `return cw_err_set(err, CW_EPARSE, ...)` reads
 * naturally. A NULL err is allowed everywhere and simply drops the text.
 */
#ifndef CW_ERR_H
#define CW_ERR_H

#include <stdarg.h>

#define CW_ERRNO_MAP(X)                                   \
    X(ENOMEM,    -1, "out of memory")                     \
    X(EINVAL,    -2, "invalid argument")                  \
    X(EIO,       -3, "input/output error")                \
    X(EPARSE,    -4, "parse error")                       \
    X(EEVENT,    -5, "invalid event")                     \
    X(ECONFIG,   -6, "configuration error")               \
    X(ERULE,     -7, "rule error")                        \
    X(EDB,       -8, "database error")                    \
    X(ENOTFOUND, -9, "not found")                         \
    X(ELIMIT,   -10, "limit exceeded")                    \
    X(ECONFLICT,-11, "conflict")                          \
    X(EABI,     -12, "plugin ABI mismatch")               \
    X(EUNAVAIL, -13, "not available now")                \
    X(ELEASE,   -14, "partition lease lost")

enum {
    CW_OK = 0,
#define X(name, val, text) CW_##name = (val),
    CW_ERRNO_MAP(X)
#undef X
};

typedef struct cw_err {
    int code;
    char msg[512];
} cw_err;

/* A short text for a CW_E* code; never NULL. */
const char *cw_strerror(int code);

/* Format a message into err (if not NULL) and return code. */
int cw_err_set(cw_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix err->msg with "prefix: " (for adding file:line context). */
int cw_err_prefix(cw_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void cw_err_clear(cw_err *err);

#endif
