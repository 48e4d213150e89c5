/*
 * The service: the engine fed from MariaDB (casewarden serve).
 *
 * At start it judges the event log (events in gseq order, docs/SERVICE.md)
 * in rounds, writing only the findings that differ from those stored and
 * letting settled cases leave memory; then it polls for the events after
 * the last one read (woken at once when the HTTP layer has stored some),
 * processes each, and writes the changed findings together with the
 * checkpoint in one transaction. A case that left memory is read back
 * from the store when an event or another case's rule needs it. Timers
 * move deadlines to warning and overdue at their time; due times are
 * computed from the events, so a restart loses none.
 *
 * One thread runs the service (cw_service_run). The functions marked
 * "any thread" are for the HTTP layer.
 */
#ifndef CW_SERVICE_H
#define CW_SERVICE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "law/catalogue.h"
#include "service/config.h"
#include "service/notifier.h"
#include "base/err.h"
#include "casewarden/plugin.h"

typedef struct cw_service cw_service;

typedef struct cw_service_opts {
    cw_time fixed_now;       /* CW_TIME_NONE: the wall clock */
    bool clock_runs;         /* fixed_now is where the clock starts */
    FILE *progress;          /* startup progress; NULL = none */
} cw_service_opts;

/* A rule as /v1/rules shows it. */
typedef struct cw_rule_view {
    char id[65];
    char title[160];
    char severity[16];
    char model[32];
    char state[16];          /* active, quarantined */
    char last_error[320];
    char declared[320];
    char from[11], to[11];   /* effective period; "" = open */
    uint64_t evals, errors;
} cw_rule_view;

typedef struct cw_service_stats {
    uint64_t events_read;        /* events taken from the table */
    uint64_t events_rejected;    /* invalid ones, recorded in event_problems */
    uint64_t findings_written;   /* upserts */
    uint64_t findings_removed;
    uint64_t flushes, flush_errors;
    uint64_t replays;
    uint64_t checkpoint;         /* all events up to this seq are evaluated */
    uint64_t timers;             /* armed */
    uint64_t cases, memory;      /* in memory */
    uint64_t evicted, loaded;    /* cases that left memory, brought back */
    uint64_t reloads, reload_failures;
    uint64_t reloads_unchanged;  /* of reloads: the same rules, nothing judged again */
    uint64_t reload_kept, reload_judged;  /* rules, over every reload: their conclusions
                                             kept, or judged again over history */
    uint64_t reload_cases, reload_events; /* cases and events judged again by reloads */
    double reload_seconds;       /* the last reload that judged anything again */
    double rebuild_s;            /* the startup rebuild */
    uint64_t rebuild_events;
    char start[160];             /* "snapshot", or "rebuild: why" */
    double restore_s;            /* reading the snapshot back */
    uint64_t snapshots, snapshot_bytes;
    double snapshot_s;           /* the last one's time */
    bool ready;
    /* several engines (cluster:) */
    bool clustered;
    bool cross;                  /* this engine runs the cross-case rules (holds partition 0) */
    uint64_t partitions;         /* held */
    uint64_t lag;                /* events of its partitions not read yet */
    uint64_t claims, takeovers;  /* leases claimed; of those, expired ones of another engine */
    uint64_t releases, stepdowns;    /* given back to rebalance; lost (fencing) */
    double takeover_s;           /* the last change of partitions: rebuild time */
    uint64_t part_snapshots;     /* partition snapshots written */
    uint64_t parts_from_snapshot, parts_from_start;  /* partitions judged: from a snapshot, from the start */
    int64_t calendar_days_left;  /* days until the legal calendar ends (INT64_MIN: none) */
    uint64_t rules_digest;       /* of the rules in force (cw_ruleset's digest) */
} cw_service_stats;

/* Connect, load the rules, rebuild from the events table. */
int cw_service_open(cw_service **out, cw_config *cfg, const cw_service_opts *o, cw_err *err);
/* Run until *stop becomes non-zero (a signal handler sets it); *reload
 * non-zero asks for a rule reload (SIGHUP). Returns 0 on a clean stop. */
int cw_service_run(cw_service *s, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);
/* One round: new events, timers, a flush. Returns the number of events
 * taken, or a negative error. For tests and benches. */
int cw_service_step(cw_service *s, cw_err *err);
/* The end of cw_service_run, for a service driven by cw_service_step: the
 * questions waiting refused, a last flush, and with cluster: the
 * partition snapshots written and the leases given back. */
void cw_service_finish(cw_service *s);
void cw_service_close(cw_service *s);

/* Any thread: the current time of the service. */
cw_time cw_service_now(cw_service *s);
/* Any thread: wake the service (new events are in the table). */
void cw_service_notify(cw_service *s);
/* Any thread: make cw_service_run end as a signal to its stop flag does
 * (its last flush, the leases given back). */
void cw_service_stop(cw_service *s);
/* Any thread: whether case_id's partition is this engine's, as last
 * published (always true without cluster:). */
bool cw_service_owns(cw_service *s, const char *case_id);
/* Any thread: reload the rules now; waits for the result. Returns 0, or
 * an error with why the new rules were refused (the old ones still run). */
int cw_service_reload(cw_service *s, cw_err *err);
/* Any thread: a suggestion (智能量罚, rules/advise.h) from the rules in
 * force and the engine's state (the peers), answered by the service's
 * thread between rounds; waits for it. Returns 0 with the JSON answer in
 * *out (free with free()), CW_EINVAL for a query that cannot be answered,
 * or CW_EUNAVAIL when the service is stopping; err says why. */
int cw_service_advise(cw_service *s, const char *query, size_t len, char **out, cw_err *err);
/* Any thread: the reasoning behind the findings of case case_id
 * (casewarden explain; rule and subject may be NULL), from the running
 * engine: the service's thread judges the case again from its start,
 * recording the rules' steps, between rounds; waits for it. Returns 0
 * with the JSON in *out (free with free()), CW_ENOTFOUND for a case the
 * engine does not have, or CW_EUNAVAIL when the service is stopping. */
int cw_service_explain(cw_service *s, const char *case_id, const char *rule, const char *subject,
                       char **out, cw_err *err);
/* Any thread: the catalogue in force, to validate events with; hold it
 * between acquire and release (a reload waits). */
const cw_catalogue *cw_service_catalogue_acquire(cw_service *s);
void cw_service_catalogue_release(cw_service *s);
/* Any thread: a copy of the rules' states; *n receives the count. Free
 * with free(). */
cw_rule_view *cw_service_rules(cw_service *s, size_t *n);
void cw_service_stats_get(cw_service *s, cw_service_stats *out);
int cw_service_tz(cw_service *s);
/* Any thread: the notifier's counters (all zero before cw_service_run). */
void cw_service_notify_stats(cw_service *s, cw_notify_stats *out);

#endif
