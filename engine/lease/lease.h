/*
 * Partition leases: which engine owns which partition of the cases, the
 * arithmetic only. A lease is a row (owner, expiry, fencing token) per
 * partition; the store keeps the rows (engine/store/leases.c, whose
 * statements test exactly the conditions of the transitions below) and
 * this library decides, from the rows as read, what an engine claims,
 * renews, gives back and whether it may still write. No clock of its own
 * and no database: every function takes `now`, so tests drive it with a
 * test clock.
 *
 * The token grows at every change of owner (a claim). A write of a
 * partition's findings or checkpoint is allowed only under the token the
 * writer got with its claim and before its lease expires, so an engine
 * that was paused or cut off past its expiry cannot write over the
 * engine that took the partition over (it learns so and steps down).
 */
#ifndef CW_LEASE_H
#define CW_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CW_LEASE_OWNER_MAX 64

/* One partition's lease as stored. owner "" is a free lease. Times are
 * microseconds on the engines' common clock. */
typedef struct cw_lease {
    unsigned part;
    char owner[CW_LEASE_OWNER_MAX + 1];
    int64_t expires;
    uint64_t token;
} cw_lease;

/* Whether l is held by someone at now (owned and not expired). */
bool cw_lease_is_held(const cw_lease *l, int64_t now);
/* Whether l is held by me at now. */
bool cw_lease_is_mine(const cw_lease *l, const char *me, int64_t now);

/* ---- transitions: the conditions the store's statements test ---------------- */

/* Claim l for me until now + ttl: allowed when l is free or expired and
 * still carries the token the caller read (seen); the token grows by one.
 * Returns whether it was applied. */
bool cw_lease_claim(cw_lease *l, const char *me, uint64_t seen, int64_t now, int64_t ttl);
/* Extend my lease to now + ttl: allowed while it is mine under token and
 * not expired. */
bool cw_lease_renew(cw_lease *l, const char *me, uint64_t token, int64_t now, int64_t ttl);
/* Give l back (free, expired at once): allowed while it is mine under
 * token. The token stays; the next claim grows it. */
bool cw_lease_release(cw_lease *l, const char *me, uint64_t token);
/* Whether a write under token is allowed on l at now (fencing). */
bool cw_lease_fence_ok(const cw_lease *l, const char *me, uint64_t token, int64_t now);

/* ---- partitions ------------------------------------------------------------------- */

/* CRC-32 (IEEE 802.3, zlib's and MariaDB's CRC32()) of p[0..n). */
uint32_t cw_lease_crc32(const void *p, size_t n);
/* The partition of a case number among parts: CRC32 of its bytes modulo
 * parts, as the events' trigger computes it in the database. */
unsigned cw_lease_part(const char *case_id, size_t len, unsigned parts);

/* ---- planning ------------------------------------------------------------------- */

/* An engine's fair share of parts partitions among live engines: parts
 * divided by live, rounded up (so the shares cover every partition). */
unsigned cw_lease_share(unsigned parts, unsigned live);

/* What an engine does after reading the leases: claim some free or
 * expired partitions, or give back some of its own. Moves as few
 * partitions as it can: an engine under its share only claims, one over
 * it only gives back what is over, and one at its share does nothing.
 * Partition 0 (the holder evaluates the cross-case rules) is given back
 * last. */
typedef struct cw_lease_plan {
    unsigned share;          /* the fair share */
    unsigned held;           /* mine and not expired */
    unsigned *claim;         /* partitions to claim, in the order to try */
    size_t nclaim;
    unsigned *release;       /* partitions to give back */
    size_t nrelease;
} cw_lease_plan;

/* Plan for me from the n leases v (any order) and the number of live
 * engines, me included (at least 1). Claims start at a place in the
 * partitions that depends on me, so engines starting together seldom
 * race for the same rows. Free with cw_lease_plan_free. */
void cw_lease_plan_make(const cw_lease *v, size_t n, const char *me, unsigned live, int64_t now,
                        cw_lease_plan *p);
void cw_lease_plan_free(cw_lease_plan *p);

#endif
