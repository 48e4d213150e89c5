#include "service/group.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/util.h"
#include "lease/lease.h"
#include "store/store.h"

/* One thread's service. */
typedef struct member {
    unsigned k;              /* 0-based */
    cw_config *cfg;          /* the group's, or a copy under this thread's name */
    cw_service *s;
    const cw_service_opts *o;
    pthread_t tid;
    bool started;
    bool once;               /* stepped, not run (serve --once) */
    /* cw_service_run's flags: never set (cw_service_stop ends it) */
    volatile sig_atomic_t no_stop, no_reload;
    int opened;              /* atomic: 0 opening, 1 open, < 0 the error */
    int halt;                /* atomic: --once: stop stepping */
    int rc;                  /* atomic: 1 until the thread ends, then its result */
    cw_err err;              /* why the open failed */
} member;

struct cw_group {
    unsigned n;
    member *m;               /* [n] */
    pthread_mutex_t reload_mu;   /* one reload of all at a time */
};

unsigned cw_group_size(const cw_group *g)
{
    return g->n;
}

cw_service *cw_group_service(cw_group *g, unsigned i)
{
    return i < g->n ? g->m[i].s : NULL;
}

/* ---- the threads ------------------------------------------------------------ */

/* Thread k's configuration: the group's under the name NAME/tK+1. A
 * shallow copy: everything but the name is the group's (freed by
 * free_copy, not cw_config_free). */
static cw_config *config_copy(const cw_config *cfg, unsigned k)
{
    cw_config *c = cw_xmalloc(sizeof *c);

    *c = *cfg;
    c->engine_name = cw_xasprintf("%s/t%u", cfg->engine_name, k + 1);
    return c;
}

static void free_copy(member *m)
{
    if (m->cfg != NULL && m->k > 0) {
        free(m->cfg->engine_name);
        free(m->cfg);
    }
    m->cfg = NULL;
}

static int64_t wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int load_int(const int *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_int(int *p, int v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/*
 * A thread's life: open its service (which claims and judges its
 * partitions), then run it at once, so that it renews its leases while
 * the other threads are still judging theirs, until it is stopped. With
 * --once it is stepped instead (no notifier: nothing is sent, nothing
 * consumed) and finished as a stop does.
 */
static void *live_fn(void *ud)
{
    member *m = ud;
    const struct timespec tick = { 0, 20 * 1000000L };
    cw_err err = { 0 };
    cw_service *s = NULL;
    sigset_t set;
    int rc;

    /* the signals are the calling thread's to see (cw_group_run) */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    rc = cw_service_open(&s, m->cfg, m->o, &err);
    m->s = s;
    m->err = err;
    store_int(&m->opened, rc < 0 ? rc : 1);
    if (rc < 0)
        return NULL;
    if (!m->once) {
        store_int(&m->rc, cw_service_run(s, &m->no_stop, &m->no_reload));
        return NULL;
    }
    while (!load_int(&m->halt)) {
        if (cw_service_step(s, &err) < 0)
            cw_log(CW_LOG_ERROR, "engine %s: %s", m->cfg->engine_name, err.msg);
        nanosleep(&tick, NULL);
    }
    cw_service_finish(s);
    store_int(&m->rc, 0);
    return NULL;
}

/* Stop the threads started and wait for them: a service still opening
 * is stopped once open (its run then ends at once, its stepping does not
 * begin). Returns 0, or the first error a thread ended with. */
static int stop_all(cw_group *g)
{
    const struct timespec tick = { 0, 10 * 1000000L };
    int rc = 0;

    for (unsigned k = 0; k < g->n; k++)
        if (g->m[k].started)
            store_int(&g->m[k].halt, 1);
    for (unsigned k = 0; k < g->n; k++) {
        if (!g->m[k].started)
            continue;
        while (load_int(&g->m[k].opened) == 0)
            nanosleep(&tick, NULL);
        if (load_int(&g->m[k].opened) > 0 && !g->m[k].once)
            cw_service_stop(g->m[k].s);
    }
    for (unsigned k = 0; k < g->n; k++) {
        if (!g->m[k].started)
            continue;
        pthread_join(g->m[k].tid, NULL);
        g->m[k].started = false;
        if (g->m[k].rc < 0 && rc == 0)
            rc = g->m[k].rc;
    }
    return rc;
}

/* ---- opening ---------------------------------------------------------------- */

/* Every thread's heartbeat before any claims: the first lease round of
 * each then counts all of them and claims its share, instead of the first
 * one claiming everything and giving half back a round later. This
 * connection is also the process's first (the client library's global
 * set-up is not for threads racing). */
static int announce(cw_group *g, cw_db *db, cw_err *err)
{
    int64_t until = wall_us() + (int64_t)g->m[0].cfg->lease_ms * 1000;
    int rc = 0;

    for (unsigned k = 0; k < g->n && rc == 0; k++)
        rc = cw_store_member_beat(db, g->m[k].cfg->engine_name, until, err);
    return rc;
}

/* The leases as stored: how many are free, how many thread k holds. */
static int count_leases(cw_group *g, cw_db *db, cw_lease *v, unsigned parts, unsigned k, unsigned *free_parts,
                        unsigned *mine, cw_err *err)
{
    int64_t now = wall_us();
    int rc;

    *free_parts = *mine = 0;
    if ((rc = cw_store_leases(db, v, parts, err)) < 0)
        return rc;
    for (unsigned p = 0; p < parts; p++) {
        *free_parts += !cw_lease_is_held(&v[p], now);
        *mine += cw_lease_is_mine(&v[p], g->m[k].cfg->engine_name, now);
    }
    return 0;
}

/*
 * Start the threads one after another, each once the one before has made
 * its claims (it holds its share, or nothing is free, or it is open, or a
 * lease's time has passed): they judge side by side, but claim one at a
 * time, so no claim loses its row to another thread's. (Claiming
 * together, the walks of the lease plan from each name's place overlap:
 * the loser is short of its share until its next round, and the holder
 * of partition 0 judges everything again when it gets more.) Then wait
 * until every thread is open and, unless engines of other processes hold
 * some, no partition is free (a thread short of its share claims at its
 * next lease round): ready then means every partition judged.
 */
static int start_all(cw_group *g, cw_db *db, unsigned parts, cw_err *err)
{
    const struct timespec tick = { 0, 10 * 1000000L };
    cw_lease *v = cw_xcalloc(parts + 1, sizeof *v);
    unsigned live = g->n, free_parts = 0, mine;
    double until;
    cw_err scratch;          /* a failed look at the leases only ends a wait */
    int rc = 0;

    if (cw_store_members_live(db, wall_us(), &live, &scratch) < 0 || live < g->n)
        live = g->n;
    for (unsigned k = 0; k < g->n && rc == 0; k++) {
        until = cw_mono_s() + g->m[k].cfg->lease_ms / 1000.0;
        if (pthread_create(&g->m[k].tid, NULL, live_fn, &g->m[k]) != 0) {
            rc = cw_err_set(err, CW_ENOMEM, "thread %u could not be started", k + 1);
            break;
        }
        g->m[k].started = true;
        while (k + 1 < g->n && load_int(&g->m[k].opened) == 0 && cw_mono_s() < until &&
               count_leases(g, db, v, parts, k, &free_parts, &mine, &scratch) == 0 &&
               free_parts > 0 && mine < cw_lease_share(parts, live))
            nanosleep(&tick, NULL);
    }
    for (unsigned k = 0; k < g->n && rc == 0; k++) {
        while (load_int(&g->m[k].opened) == 0)
            nanosleep(&tick, NULL);
        if (load_int(&g->m[k].opened) < 0)
            rc = cw_err_set(err, g->m[k].err.code, "thread %u (engine %s): %s", k + 1,
                            g->m[k].cfg->engine_name, g->m[k].err.msg);
    }
    until = cw_mono_s() + 4 * g->m[0].cfg->renew_ms / 1000.0;
    while (rc == 0 && (rc = count_leases(g, db, v, parts, 0, &free_parts, &mine, err)) == 0 && free_parts > 0 &&
           cw_mono_s() < until)
        nanosleep(&tick, NULL);
    if (rc == 0 && free_parts > 0)
        cw_log(CW_LOG_WARN, "%u of %u partitions are held by no engine after the start of the %u threads",
               free_parts, parts, g->n);
    free(v);
    return rc;
}

int cw_group_open(cw_group **out, cw_config *cfg, unsigned n, bool once, const cw_service_opts *o, cw_err *err)
{
    cw_group *g;
    cw_db *db = NULL;
    unsigned parts = 0;
    int rc = 0;

    *out = NULL;
    if (n < 1 || n > CW_GROUP_MAX)
        return cw_err_set(err, CW_EINVAL, "threads: %u is not 1 to %d", n, CW_GROUP_MAX);
    if (n > 1 && strlen(cfg->engine_name) + 4 > CW_LEASE_OWNER_MAX)
        return cw_err_set(err, CW_ECONFIG, "%s: engine.name '%s' is too long for --threads %u: the threads "
                          "are named NAME/t2 ... and a lease's owner has at most %d characters",
                          cfg->path ? cfg->path : "the configuration", cfg->engine_name, n,
                          CW_LEASE_OWNER_MAX);
    if (n > 1 && cfg->lease_ms == 0) {
        cfg->lease_ms = CW_GROUP_LEASE_MS;
        cw_log(CW_LOG_INFO, "--threads %u without a cluster: section in %s: the threads divide the "
               "partitions by leases of %u ms renewed every %u ms (docs/SCALING.md)", n,
               cfg->path ? cfg->path : "the configuration", cfg->lease_ms, cfg->renew_ms);
    }
    g = cw_xcalloc(1, sizeof *g);
    g->n = n;
    g->m = cw_xcalloc(n, sizeof *g->m);
    pthread_mutex_init(&g->reload_mu, NULL);
    for (unsigned k = 0; k < n; k++) {
        g->m[k].k = k;
        g->m[k].cfg = k == 0 ? cfg : config_copy(cfg, k);
        g->m[k].o = o;
        g->m[k].once = once;
        g->m[k].rc = 1;     /* not ended */
    }
    if (n == 1) {
        /* one service, opened and run on the calling thread */
        rc = cw_service_open(&g->m[0].s, cfg, o, err);
    } else if ((rc = cw_db_connect(&db, &cfg->db, false, err)) == 0 &&
               (rc = cw_store_check_schema(db, cfg->db.name, err)) == 0 &&
               (rc = cw_store_partitions(db, &parts, err)) == 0 && (rc = announce(g, db, err)) == 0) {
        rc = start_all(g, db, parts, err);
    }
    cw_db_close(db);
    if (rc < 0) {
        cw_group_close(g);
        return rc;
    }
    *out = g;
    return 0;
}

void cw_group_close(cw_group *g)
{
    if (g == NULL)
        return;
    stop_all(g);
    for (unsigned k = 0; k < g->n; k++) {
        cw_service_close(g->m[k].s);
        free_copy(&g->m[k]);
    }
    pthread_mutex_destroy(&g->reload_mu);
    free(g->m);
    free(g);
}

/* ---- running ---------------------------------------------------------------- */

/* The services whose rules are not those of the first (a reload they
 * could not take) are given them again. */
static void align_rules(cw_group *g)
{
    cw_service_stats first, st;
    cw_err err;

    if (pthread_mutex_trylock(&g->reload_mu) != 0)
        return;             /* a reload of all is under way */
    cw_service_stats_get(g->m[0].s, &first);
    for (unsigned k = 1; k < g->n; k++) {
        cw_service_stats_get(g->m[k].s, &st);
        if (st.rules_digest == first.rules_digest)
            continue;
        if (cw_service_reload(g->m[k].s, &err) < 0)
            cw_log(CW_LOG_WARN, "thread %u (engine %s) still runs the rules before the last reload: %s",
                   k + 1, g->m[k].cfg->engine_name, err.msg);
    }
    pthread_mutex_unlock(&g->reload_mu);
}

int cw_group_run(cw_group *g, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    struct timespec tick = { 0, 50 * 1000000L };
    unsigned rounds = 0;
    int rc = 0;

    if (g->n == 1)
        return cw_service_run(g->m[0].s, stop, reload);
    cw_log(CW_LOG_INFO, "%u engine threads: %s ... %s", g->n, g->m[0].cfg->engine_name,
           g->m[g->n - 1].cfg->engine_name);
    while (rc == 0 && !*stop) {
        cw_err err;
        if (*reload) {
            *reload = 0;
            if (cw_group_reload(g, &err) < 0)
                cw_log(CW_LOG_ERROR, "reload of the %u threads: %s", g->n, err.msg);
        }
        nanosleep(&tick, NULL);
        if (++rounds % 100 == 0)     /* every 5 s */
            align_rules(g);
        /* a thread that ended by itself (its notifier did not start)
         * stops the others: one process, one fate */
        for (unsigned k = 0; k < g->n && rc == 0; k++)
            if (load_int(&g->m[k].rc) <= 0) {
                cw_log(CW_LOG_ERROR, "thread %u (engine %s) ended: the others stop", k + 1,
                       g->m[k].cfg->engine_name);
                rc = -1;
            }
    }
    if (stop_all(g) < 0)
        rc = -1;
    return rc;
}

int cw_group_once(cw_group *g, cw_err *err)
{
    int rc;

    if (g->n == 1) {
        rc = cw_service_step(g->m[0].s, err);
        return rc < 0 ? rc : 0;
    }
    /* the threads took the events as they opened and stepped since */
    if ((rc = stop_all(g)) < 0)
        return cw_err_set(err, rc, "a thread of %u ended with an error: %s", g->n, cw_strerror(rc));
    return 0;
}

/* ---- questions ---------------------------------------------------------------- */

cw_time cw_group_now(cw_group *g)
{
    return cw_service_now(g->m[0].s);
}

int cw_group_tz(cw_group *g)
{
    return cw_service_tz(g->m[0].s);
}

void cw_group_notify(cw_group *g)
{
    for (unsigned k = 0; k < g->n; k++)
        cw_service_notify(g->m[k].s);
}

const cw_catalogue *cw_group_catalogue_acquire(cw_group *g)
{
    return cw_service_catalogue_acquire(g->m[0].s);
}

void cw_group_catalogue_release(cw_group *g)
{
    cw_service_catalogue_release(g->m[0].s);
}

/* The services 1.. take the rules the first took; they agree when their
 * digests are its. */
static int reload_rest(cw_group *g, cw_err *err)
{
    cw_service_stats first, st;
    bool agree = true;

    for (unsigned k = 1; k < g->n; k++) {
        cw_err e;
        if (cw_service_reload(g->m[k].s, &e) < 0)
            return cw_err_set(err, CW_EUNAVAIL, "thread 1 took the new rules, thread %u (engine %s) refused them: %s; "
                              "it is given them again until it has them", k + 1, g->m[k].cfg->engine_name,
                              e.msg);
    }
    cw_service_stats_get(g->m[0].s, &first);
    for (unsigned k = 1; k < g->n && agree; k++) {
        cw_service_stats_get(g->m[k].s, &st);
        agree = st.rules_digest == first.rules_digest;
    }
    return agree ? 0 : 1;
}

int cw_group_reload(cw_group *g, cw_err *err)
{
    int rc;

    if (g->n == 1)
        return cw_service_reload(g->m[0].s, err);
    pthread_mutex_lock(&g->reload_mu);
    /* the first is the check: a refusal there changes nothing anywhere;
     * then the others, again while the files changed between two loads */
    for (int attempt = 0;; attempt++) {
        if ((rc = cw_service_reload(g->m[0].s, err)) < 0 || (rc = reload_rest(g, err)) <= 0)
            break;
        if (attempt == 2) {
            rc = cw_err_set(err, CW_EUNAVAIL, "the rules changed on disk during three reloads in a row: "
                            "the threads may run different rules; ask again");
            break;
        }
        cw_log(CW_LOG_WARN, "the rules changed on disk during the reload: loaded again by every thread");
    }
    pthread_mutex_unlock(&g->reload_mu);
    return rc;
}

/* The thread that holds partition 0 and runs the cross-case rules over
 * every partition, or NULL during a handover. */
static cw_service *cross_holder(cw_group *g)
{
    cw_service_stats st;

    for (unsigned k = 0; k < g->n; k++) {
        cw_service_stats_get(g->m[k].s, &st);
        if (g->n == 1 || st.cross)
            return g->m[k].s;
    }
    return NULL;
}

static bool rule_is_cross(const cw_group *g, const char *rule)
{
    const cw_config *cfg = g->m[0].cfg;

    for (size_t i = 0; rule != NULL && i < cfg->ncross; i++)
        if (strcmp(cfg->cross[i], rule) == 0)
            return true;
    return false;
}

int cw_group_advise(cw_group *g, const char *query, size_t len, char **out, cw_err *err)
{
    cw_service *s = cross_holder(g);

    if (s == NULL)
        return cw_err_set(err, CW_EUNAVAIL, "no thread holds partition 0 at the moment (a handover): ask again");
    return cw_service_advise(s, query, len, out, err);
}

int cw_group_explain(cw_group *g, const char *case_id, const char *rule, const char *subject,
                     char **out, cw_err *err)
{
    cw_service *s = NULL;

    /* a cross-case rule's findings are its holder's, whoever owns the case */
    if (rule_is_cross(g, rule)) {
        if ((s = cross_holder(g)) == NULL)
            return cw_err_set(err, CW_EUNAVAIL, "no thread runs the cross-case rules at the moment (a "
                              "handover): ask again");
        return cw_service_explain(s, case_id, rule, subject, out, err);
    }
    for (unsigned k = 0; k < g->n; k++)
        if (cw_service_owns(g->m[k].s, case_id))
            return cw_service_explain(g->m[k].s, case_id, rule, subject, out, err);
    return cw_err_set(err, CW_EUNAVAIL, "no thread holds the partition of case %s at the moment (a "
                      "handover): ask again", case_id);
}

cw_rule_view *cw_group_rules(cw_group *g, size_t *n)
{
    cw_rule_view *v = cw_service_rules(g->m[0].s, n);

    for (unsigned k = 1; k < g->n; k++) {
        size_t nk;
        cw_rule_view *o = cw_service_rules(g->m[k].s, &nk);
        /* the same rules in the same order, unless a reload is under way */
        for (size_t i = 0; i < *n && nk == *n; i++)
            if (strcmp(v[i].id, o[i].id) == 0) {
                v[i].evals += o[i].evals;
                v[i].errors += o[i].errors;
                if (strcmp(o[i].state, "active") != 0)
                    memcpy(v[i].state, o[i].state, sizeof v[i].state);
            }
        free(o);
    }
    return v;
}

static double dmax(double a, double b)
{
    return a > b ? a : b;
}

void cw_group_stats_get(cw_group *g, cw_service_stats *out)
{
    cw_service_stats st;

    cw_service_stats_get(g->m[0].s, out);
    for (unsigned k = 1; k < g->n; k++) {
        cw_service_stats_get(g->m[k].s, &st);
#define SUM(f) out->f += st.f
        SUM(events_read); SUM(events_rejected); SUM(findings_written); SUM(findings_removed);
        SUM(flushes); SUM(flush_errors); SUM(replays); SUM(timers); SUM(cases); SUM(memory);
        SUM(evicted); SUM(loaded); SUM(rebuild_events); SUM(snapshots); SUM(snapshot_bytes);
        SUM(partitions); SUM(claims); SUM(takeovers); SUM(releases); SUM(stepdowns);
        SUM(part_snapshots); SUM(parts_from_snapshot); SUM(parts_from_start);
        SUM(reload_cases); SUM(reload_events);
#undef SUM
        out->ready = out->ready && st.ready;
        out->cross = out->cross || st.cross;
        out->clustered = out->clustered || st.clustered;
        if (st.checkpoint < out->checkpoint)
            out->checkpoint = st.checkpoint;
        if (st.lag > out->lag)
            out->lag = st.lag;
        out->rebuild_s = dmax(out->rebuild_s, st.rebuild_s);
        out->restore_s = dmax(out->restore_s, st.restore_s);
        out->snapshot_s = dmax(out->snapshot_s, st.snapshot_s);
        out->takeover_s = dmax(out->takeover_s, st.takeover_s);
        out->reload_seconds = dmax(out->reload_seconds, st.reload_seconds);
    }
}

void cw_group_notify_stats(cw_group *g, cw_notify_stats *out)
{
    cw_notify_stats ns;

    cw_service_notify_stats(g->m[0].s, out);
    for (unsigned k = 1; k < g->n; k++) {
        cw_service_notify_stats(g->m[k].s, &ns);
        out->configured = out->configured || ns.configured;
        out->queued += ns.queued;
        out->messages += ns.messages;
        out->sent += ns.sent;
        out->failed += ns.failed;
        out->dead += ns.dead;
        out->held += ns.held;
        out->escalations += ns.escalations;
        out->errors += ns.errors;
        for (int i = 0; i < CW_NOTIFY_BUCKETS; i++)
            out->latency[i] += ns.latency[i];
        out->latency_sum += ns.latency_sum;
        out->latency_count += ns.latency_count;
        out->inflight += ns.inflight;
    }
}
