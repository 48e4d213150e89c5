#include "core/timers.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#define LEVELS 4
#define SLOTS 256
#define NIL UINT32_MAX

typedef struct entry {
    cw_time when;
    uint32_t payload;
    uint32_t next;
} entry;

struct cw_timers {
    cw_time cur;                        /* every timer <= cur has fired */
    uint32_t slot[LEVELS][SLOTS];       /* list heads */
    uint64_t used[LEVELS][SLOTS / 64];  /* which slots hold anything */
    uint32_t due;                       /* timers added in the past */
    entry *e;
    uint32_t ne, cap, free;
    size_t count;
};

cw_timers *cw_timers_new(cw_time now)
{
    cw_timers *t = cw_xcalloc(1, sizeof *t);

    t->cur = now;
    memset(t->slot, 0xff, sizeof t->slot);
    t->due = NIL;
    t->free = NIL;
    return t;
}

void cw_timers_free(cw_timers *t)
{
    if (t == NULL)
        return;
    free(t->e);
    free(t);
}

size_t cw_timers_count(const cw_timers *t)
{
    return t->count;
}

cw_time cw_timers_clock(const cw_timers *t)
{
    return t->cur;
}

static uint32_t alloc_entry(cw_timers *t)
{
    uint32_t i;

    if (t->free != NIL) {
        i = t->free;
        t->free = t->e[i].next;
        return i;
    }
    if (t->ne == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->e = cw_xrealloc(t->e, t->cap * sizeof *t->e);
    }
    return t->ne++;
}

/* Put entry i into the level and slot its time falls in, seen from cur. */
static void place(cw_timers *t, uint32_t i)
{
    cw_time when = t->e[i].when;
    uint64_t delta;
    int l;

    if (when <= t->cur) {
        t->e[i].next = t->due;
        t->due = i;
        return;
    }
    delta = (uint64_t)(when - t->cur);
    for (l = 0; l < LEVELS - 1; l++)
        if (delta < (1ULL << (8 * (l + 1))))
            break;
    /* Past the top level's reach (136 years) a timer waits in its last
     * slot and is placed again when that slot comes round. */
    {
        uint64_t at = delta >= (1ULL << 32) ? (uint64_t)t->cur + (1ULL << 32) - 1 : (uint64_t)when;
        unsigned s = (unsigned)(at >> (8 * l)) & (SLOTS - 1);
        t->e[i].next = t->slot[l][s];
        t->slot[l][s] = i;
        t->used[l][s / 64] |= 1ULL << (s % 64);
    }
}

void cw_timers_add(cw_timers *t, cw_time when, uint32_t payload)
{
    uint32_t i = alloc_entry(t);

    t->e[i].when = when;
    t->e[i].payload = payload;
    place(t, i);
    t->count++;
}

static uint32_t take(cw_timers *t, int l, unsigned s)
{
    uint32_t head = t->slot[l][s];

    t->slot[l][s] = NIL;
    t->used[l][s / 64] &= ~(1ULL << (s % 64));
    return head;
}

static size_t fire_list(cw_timers *t, uint32_t i, void (*fn)(void *, uint32_t), void *ud)
{
    size_t n = 0;

    while (i != NIL) {
        uint32_t next = t->e[i].next;
        uint32_t payload = t->e[i].payload;
        t->e[i].next = t->free;
        t->free = i;
        t->count--;
        n++;
        fn(ud, payload);
        i = next;
    }
    return n;
}

static bool level_empty(const cw_timers *t, int l)
{
    for (int k = 0; k < SLOTS / 64; k++)
        if (t->used[l][k])
            return false;
    return true;
}

size_t cw_timers_advance(cw_timers *t, cw_time now, void (*fn)(void *ud, uint32_t payload),
                         void *ud)
{
    size_t n = 0;

    if (t->due != NIL) {
        uint32_t d = t->due;
        t->due = NIL;
        n += fire_list(t, d, fn, ud);
    }
    while (t->cur < now) {
        unsigned s;
        /* Nothing at level 0: jump to the end of its turn at once. */
        if (level_empty(t, 0)) {
            cw_time end = t->cur | (SLOTS - 1);
            if (end >= now) {
                t->cur = now;
                break;
            }
            t->cur = end;
        }
        t->cur++;
        /* At the start of a turn, the slot of each higher level that has
         * come round moves down, the highest first, so that what it drops
         * into a lower level's current slot moves on down too. */
        {
            int top = 0;
            while (top + 1 < LEVELS && ((uint64_t)t->cur & ((1ULL << (8 * (top + 1))) - 1)) == 0)
                top++;
            for (int l = top; l >= 1; l--) {
                unsigned hs = (unsigned)((uint64_t)t->cur >> (8 * l)) & (SLOTS - 1);
                uint32_t i = take(t, l, hs);
                while (i != NIL) {
                    uint32_t next = t->e[i].next;
                    place(t, i);
                    i = next;
                }
            }
        }
        s = (unsigned)t->cur & (SLOTS - 1);
        if (t->slot[0][s] != NIL)
            n += fire_list(t, take(t, 0, s), fn, ud);
        if (t->due != NIL) {
            uint32_t d = t->due;
            t->due = NIL;
            n += fire_list(t, d, fn, ud);
        }
    }
    return n;
}
