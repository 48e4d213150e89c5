/*
 * The services of one `casewarden serve --threads N`: N engines in one
 * process, each a cw_service in a thread of its own with its own
 * database connections, dividing the partitions through the leases of
 * cluster: (docs/SCALING.md) as N processes would, each under a name of
 * its own (the configured engine.name, then NAME/t2 ... NAME/tN). The
 * HTTP API asks the group, which sends a question to the engine that can
 * answer it (explain: the owner of the case's partition, or the holder of
 * partition 0 for the cross-case rules it runs; a suggestion: that holder,
 * which sees every case) or asks every one
 * and combines the answers (reload, readiness, statistics).
 *
 * With N = 1 the group is one service, run on the calling thread, and
 * every function is that of the service (service.h).
 */
#ifndef CW_GROUP_H
#define CW_GROUP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "service/service.h"

#define CW_GROUP_MAX 64          /* threads */
/* The lease of the threads when the configuration has no cluster:
 * section: cluster:'s defaults (docs/SERVICE.md). */
#define CW_GROUP_LEASE_MS 3000

typedef struct cw_group cw_group;

/* Open n (1 to CW_GROUP_MAX) services over cfg. With n = 1, on the
 * calling thread, as cw_service_open. With n > 1 each in a thread of its
 * own, which connects, loads the rules, claims and judges its partitions
 * and then goes on running its service (or, with once, stepping it), so
 * that it keeps its leases while the others judge; returns when every
 * one is open and no partition is left free (or after four lease
 * rounds). Without a cluster: section, cfg->lease_ms is set to
 * CW_GROUP_LEASE_MS (said in the log). cfg must outlive the group.
 * Returns 0, or the first error of a thread ("thread K (engine NAME):
 * ..."); nothing stays open on error. */
int cw_group_open(cw_group **out, cw_config *cfg, unsigned n, bool once, const cw_service_opts *o,
                  cw_err *err);
/* Run until *stop becomes non-zero; *reload non-zero asks for a reload of
 * all (SIGHUP). With n = 1 the service runs on the calling thread; with
 * n > 1 the calling thread reloads, gives the rules again to a thread
 * that could not take them, and at the end stops every thread (its last
 * flush, its leases given back) and waits for it. Returns 0 when every
 * service stopped cleanly. */
int cw_group_run(cw_group *g, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);
/* serve --once (a group opened with once): n = 1, one round
 * (cw_service_step); n > 1, the threads, which took the events as they
 * opened, finish as cw_group_run's stop does. Returns 0 or the first
 * error. */
int cw_group_once(cw_group *g, cw_err *err);
void cw_group_close(cw_group *g);

unsigned cw_group_size(const cw_group *g);
/* The service of thread i (0-based), borrowed. */
cw_service *cw_group_service(cw_group *g, unsigned i);

/* Any thread: as the functions of service.h. */
cw_time cw_group_now(cw_group *g);
int cw_group_tz(cw_group *g);
/* Wake every service. */
void cw_group_notify(cw_group *g);
/* Reload every service, the first one first: when it refuses the new
 * rules nothing changed anywhere (the error is its). Then the others;
 * if the files changed between two loads, all are loaded again until
 * they agree (the digests of their rules). A service that cannot reload
 * now (the database away) gets the rules again from cw_group_run's
 * thread until it has them. */
int cw_group_reload(cw_group *g, cw_err *err);
/* To the holder of partition 0 (which reads every case). */
int cw_group_advise(cw_group *g, const char *query, size_t len, char **out, cw_err *err);
/* To the owner of case_id's partition, or for a cross-case rule
 * (cluster.cross_case) to the holder of partition 0, which writes its
 * findings; CW_EUNAVAIL while none does (a handover). */
int cw_group_explain(cw_group *g, const char *case_id, const char *rule, const char *subject,
                     char **out, cw_err *err);
/* The first service's catalogue (all load the same rules). */
const cw_catalogue *cw_group_catalogue_acquire(cw_group *g);
void cw_group_catalogue_release(cw_group *g);
/* The rules of the first service, their evaluations and errors summed
 * over every service, quarantined when one has it so. Free with free(). */
cw_rule_view *cw_group_rules(cw_group *g, size_t *n);
/* Combined: counters summed, ready when every one is, the checkpoint the
 * lowest, the lag and durations the largest; the reloads and the rules
 * they kept or judged again (the same in every thread) of the first,
 * the cases and events they judged again summed. */
void cw_group_stats_get(cw_group *g, cw_service_stats *out);
void cw_group_notify_stats(cw_group *g, cw_notify_stats *out);

#endif
