/*
 * String interning: every distinct string gets a small integer id, so
 * events store 4-byte ids instead of text, and comparing two strings is
 * comparing two integers. Id 0 is always the empty string.
 *
 * Not thread-safe: a table belongs to one thread (the engine's).
 */
#ifndef CW_STRTAB_H
#define CW_STRTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct cw_strtab cw_strtab;

cw_strtab *cw_strtab_new(void);
void cw_strtab_free(cw_strtab *t);

/* The id of s[0..len), added when new. */
uint32_t cw_strtab_intern(cw_strtab *t, const char *s, size_t len);
/* The id of s[0..len) if present, else UINT32_MAX. */
uint32_t cw_strtab_find(const cw_strtab *t, const char *s, size_t len);
/* The string of an id (NUL-terminated, valid while t lives); "" for an
 * unknown id. */
const char *cw_strtab_str(const cw_strtab *t, uint32_t id);
size_t cw_strtab_len(const cw_strtab *t, uint32_t id);
/* Number of ids handed out (including 0). */
uint32_t cw_strtab_count(const cw_strtab *t);
/* Bytes held, for memory accounting. */
size_t cw_strtab_bytes(const cw_strtab *t);

#endif
