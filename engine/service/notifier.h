/*
 * The notifier: the service's thread that turns the outbox into
 * notifications and delivers them (docs/NOTIFY.md). It routes each change
 * the outbox holds through notify.yaml, gathers groups, starts and climbs
 * escalation ladders on the service's clock, holds what quiet hours hold,
 * and posts webhooks with bounded concurrency, retrying with backoff and
 * jitter until max_attempts, then dead-letters. Everything it decides is
 * written to the store before it acts on it, so a restart neither loses
 * nor repeats a notification or a level; a delivery cut short by a crash
 * is sent again under the same idempotency key.
 */
#ifndef CW_NOTIFIER_H
#define CW_NOTIFIER_H

#include <stdint.h>

#include "notify/notify.h"
#include "store/store.h"

typedef struct cw_notifier cw_notifier;

/* Counters for /metrics. */
#define CW_NOTIFY_BUCKETS 12
extern const double cw_notify_bucket_s[CW_NOTIFY_BUCKETS];   /* upper bounds; the last is +Inf */
typedef struct cw_notify_stats {
    bool configured;             /* a notify.yaml is loaded */
    uint64_t queued;             /* items routed to a receiver */
    uint64_t messages;           /* messages made ready */
    uint64_t sent, failed, dead; /* deliveries; failed attempts; dead-lettered */
    uint64_t held;               /* messages held by quiet hours */
    uint64_t escalations;        /* levels reached */
    uint64_t errors;             /* database errors of the notifier */
    uint64_t latency[CW_NOTIFY_BUCKETS];   /* change written -> delivered, cumulative */
    double latency_sum;
    uint64_t latency_count;
    unsigned inflight;
} cw_notify_stats;

/* The service's clock, for ladders and quiet hours. */
typedef cw_time (*cw_notifier_clock)(void *ud);

/* Start the thread on a connection of its own; n (may be NULL: changes
 * are consumed, nothing is sent) is taken, even on error. With gate (the
 * engine's name, several engines), it routes and delivers only while
 * cw_notifier_gate says this engine holds partition 0's lease, every
 * write fenced by that lease; without, always. */
int cw_notifier_start(cw_notifier **out, const cw_db_params *db, cw_notify *n, const char *gate,
                      cw_notifier_clock clock, void *clock_ud, cw_err *err);
/* Any thread: the token of partition 0's lease this engine holds, 0 for
 * none (nothing with no gate). */
void cw_notifier_gate(cw_notifier *nt, uint64_t token);
/* Any thread: use n from now on (takes it; NULL: none). */
void cw_notifier_set(cw_notifier *nt, cw_notify *n);
/* Any thread: look at the outbox now. */
void cw_notifier_wake(cw_notifier *nt);
void cw_notifier_stats(cw_notifier *nt, cw_notify_stats *out);
/* Stop the thread (deliveries in flight stay queued) and free. */
void cw_notifier_stop(cw_notifier *nt);

#endif
