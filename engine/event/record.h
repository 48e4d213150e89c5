/*
 * Events at rest: the compact binary record a case timeline stores, and
 * the world whose string tables give records their meaning.
 *
 * A record is one self-describing block (all integers little-endian
 * host order, read with memcpy):
 *
 *     u32 size      whole record, bytes
 *     i64 at
 *     u64 seq
 *     u16 type      names id
 *     u16 nf        data fields
 *     u32 unit      string id
 *     u32 actor     string id (0 = none)
 *     u8  idlen     then the id and a NUL
 *     fields:       u16 fid, u8 kind, payload by kind:
 *                   BOOL u8 | INT, TIME i64 | DATE i32 | STR u32 |
 *                   LIST u16 n, n x u32 | RAW u32 len, bytes, NUL
 *
 * Strings are interned, so a typical event takes 50-70 bytes.
 */
#ifndef CW_TIMELINE_H
#define CW_TIMELINE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "casewarden/plugin.h"
#include "event/evjson.h"
#include "base/strtab.h"

#define CW_MAX_FIELDS 255
#define CW_MAX_ITEMS 1024    /* list items in one event, all lists */

/* The process-wide string tables: event type and field names (small
 * ids, stable across rule reloads) and every other string. */
typedef struct cw_world {
    cw_strtab *names;
    cw_strtab *strs;
} cw_world;

cw_world *cw_world_new(void);
void cw_world_free(cw_world *w);

/* A decoded record: the event plus room for its fields and list items. */
typedef struct cw_evbuf {
    cw_event ev;
    cw_fval f[CW_MAX_FIELDS];
    uint32_t items[CW_MAX_ITEMS];
} cw_evbuf;

/* Encode pe (interning its strings into w) as a record at the end of
 * *buf, growing it. Returns the record's size. Fails (returns 0) when the
 * event exceeds the field or item limits, or names a data field no event
 * had before when the names table is full (65535 names). */
size_t cw_rec_encode(cw_world *w, const cw_pevent *pe, uint64_t seq,
                     uint8_t **buf, size_t *len, size_t *cap);

/* Decode the record at rec into b (b->ev points into b and rec). */
void cw_rec_decode(const uint8_t *rec, cw_evbuf *b);

static inline uint32_t cw_rec_size(const uint8_t *rec)
{
    uint32_t v;
    memcpy(&v, rec, 4);
    return v;
}

static inline cw_time cw_rec_at(const uint8_t *rec)
{
    cw_time v;
    memcpy(&v, rec + 4, 8);
    return v;
}

static inline uint64_t cw_rec_seq(const uint8_t *rec)
{
    uint64_t v;
    memcpy(&v, rec + 12, 8);
    return v;
}

static inline uint16_t cw_rec_type(const uint8_t *rec)
{
    uint16_t v;
    memcpy(&v, rec + 20, 2);
    return v;
}

static inline const char *cw_rec_id(const uint8_t *rec)
{
    return (const char *)rec + 33;
}

/* The order of events in time: by at, then by arrival (seq). The one
 * comparison of the program: timelines, indexes and replays use it. */
static inline int cw_atseq_cmp(cw_time a_at, uint64_t a_seq, cw_time b_at, uint64_t b_seq)
{
    if (a_at != b_at)
        return a_at < b_at ? -1 : 1;
    return a_seq < b_seq ? -1 : a_seq > b_seq;
}

/* Rewrite in place every names id (type, field names) of rec with
 * name(ud, id) and every string id (unit, actor, string and list values)
 * with str(ud, id): records made portable between processes, and back. */
void cw_rec_map_ids(uint8_t *rec, uint32_t (*name)(void *ud, uint32_t id),
                    uint32_t (*str)(void *ud, uint32_t id), void *ud);

/* A hash of the event's content (the record without its seq, and the
 * case it belongs to): equal for the same event sent twice, whatever the
 * spacing, string escapes and order of the envelope and data keys. Values
 * the catalogue does not describe (objects, arrays, fractions) are kept as
 * written, so inside them escapes and key order do count. */
uint64_t cw_rec_body_hash(const uint8_t *rec, uint32_t case_id);

#endif
