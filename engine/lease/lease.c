#include "lease/lease.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cw_lease_is_held(const cw_lease *l, int64_t now)
{
    return l->owner[0] != '\0' && l->expires > now;
}

bool cw_lease_is_mine(const cw_lease *l, const char *me, int64_t now)
{
    return cw_lease_is_held(l, now) && strcmp(l->owner, me) == 0;
}

bool cw_lease_claim(cw_lease *l, const char *me, uint64_t seen, int64_t now, int64_t ttl)
{
    if (cw_lease_is_held(l, now) || l->token != seen)
        return false;
    snprintf(l->owner, sizeof l->owner, "%s", me);
    l->expires = now + ttl;
    l->token++;
    return true;
}

bool cw_lease_renew(cw_lease *l, const char *me, uint64_t token, int64_t now, int64_t ttl)
{
    if (!cw_lease_fence_ok(l, me, token, now))
        return false;
    l->expires = now + ttl;
    return true;
}

bool cw_lease_release(cw_lease *l, const char *me, uint64_t token)
{
    if (strcmp(l->owner, me) != 0 || l->token != token)
        return false;
    l->owner[0] = '\0';
    l->expires = 0;
    return true;
}

bool cw_lease_fence_ok(const cw_lease *l, const char *me, uint64_t token, int64_t now)
{
    return cw_lease_is_mine(l, me, now) && l->token == token;
}

uint32_t cw_lease_crc32(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint32_t c = 0xFFFFFFFFu;

    for (size_t i = 0; i < n; i++) {
        c ^= b[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

unsigned cw_lease_part(const char *case_id, size_t len, unsigned parts)
{
    return parts ? cw_lease_crc32(case_id, len) % parts : 0;
}

unsigned cw_lease_share(unsigned parts, unsigned live)
{
    if (live == 0)
        live = 1;
    return (parts + live - 1) / live;
}

/* FNV-1a: where in the partitions an engine starts looking */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int part_cmp(const void *pa, const void *pb)
{
    const cw_lease *a = *(const cw_lease *const *)pa, *b = *(const cw_lease *const *)pb;

    return a->part < b->part ? -1 : a->part > b->part;
}

void cw_lease_plan_make(const cw_lease *v, size_t n, const char *me, unsigned live, int64_t now,
                        cw_lease_plan *p)
{
    const cw_lease **sorted = malloc((n + 1) * sizeof *sorted);
    size_t start;

    memset(p, 0, sizeof *p);
    p->claim = malloc((n + 1) * sizeof *p->claim);
    p->release = malloc((n + 1) * sizeof *p->release);
    if (sorted == NULL || p->claim == NULL || p->release == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        sorted[i] = &v[i];
    qsort(sorted, n, sizeof *sorted, part_cmp);
    p->share = cw_lease_share((unsigned)n, live);
    for (size_t i = 0; i < n; i++)
        if (cw_lease_is_mine(sorted[i], me, now))
            p->held++;
    if (p->held > p->share) {
        /* over: give back the highest partitions, so partition 0 stays */
        unsigned over = p->held - p->share;
        for (size_t i = n; i-- > 0 && p->nrelease < over;)
            if (cw_lease_is_mine(sorted[i], me, now))
                p->release[p->nrelease++] = sorted[i]->part;
    } else if (p->held < p->share && n > 0) {
        /* under: free and expired leases, from a place of my own; a
         * partition that was mine and expired comes first (a takeover of
         * my own partition moves nothing) */
        unsigned want = p->share - p->held;
        start = name_hash(me) % n;
        for (size_t i = 0; i < n && p->nclaim < want; i++) {
            const cw_lease *l = sorted[i];
            if (!cw_lease_is_held(l, now) && strcmp(l->owner, me) == 0)
                p->claim[p->nclaim++] = l->part;
        }
        for (size_t k = 0; k < n && p->nclaim < want; k++) {
            const cw_lease *l = sorted[(start + k) % n];
            if (!cw_lease_is_held(l, now) && strcmp(l->owner, me) != 0)
                p->claim[p->nclaim++] = l->part;
        }
    }
    free(sorted);
}

void cw_lease_plan_free(cw_lease_plan *p)
{
    free(p->claim);
    free(p->release);
    p->claim = p->release = NULL;
    p->nclaim = p->nrelease = 0;
}
