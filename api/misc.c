/*
 * Rules, reload, health, readiness and metrics.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "base/log.h"

typedef struct counted {
    json_t *by_rule;         /* rule -> {state: n} */
} counted;

static int count_row(void *ud, const char *rule, const char *state, uint64_t n)
{
    counted *c = ud;
    json_t *r;

    if ((r = json_object_get(c->by_rule, rule)) == NULL) {
        r = json_object();
        json_object_set_new(c->by_rule, rule, r);
    }
    json_object_set_new(r, state, json_integer((json_int_t)n));
    return 0;
}

/* s with every "DIR/" of the rules directory taken out: paths relative
 * to the rules directory, which is the server's business. */
static json_t *relative(const char *s, const char *dir)
{
    size_t dl = strlen(dir);
    cw_buf b = { 0 };
    json_t *j;

    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    for (const char *p = s; *p;) {
        if ((p == s || p[-1] == ' ' || p[-1] == '\'') && strncmp(p, dir, dl) == 0 && p[dl] == '/') {
            p += dl + 1;
            continue;
        }
        cw_buf_put(&b, p, 1);
        p++;
    }
    j = json_stringn(b.p ? b.p : "", b.n);
    cw_buf_free(&b);
    return j;
}

void cw_api_get_rules(req *r, const char *arg)
{
    (void)arg;
    counted c = { json_object() };
    cw_rule_view *v;
    json_t *arr;
    size_t n;
    cw_db *db;
    cw_err err;

    if ((db = cw_api_db(r)) == NULL) {
        json_decref(c.by_rule);
        return;
    }
    if (cw_store_count_findings(db, cw_api_scope(r),
                                true, count_row, &c, &err) < 0) {
        json_decref(c.by_rule);
        return cw_api_db_failed(r, &err);
    }
    v = cw_group_rules(r->a->g, &n);
    arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *counts = json_object_get(c.by_rule, v[i].id);
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:o,s:O}", "id", v[i].id,
                              "title", v[i].title, "severity", v[i].severity, "model", v[i].model,
                              "state", v[i].state, "evaluations", (json_int_t)v[i].evals,
                              "errors", (json_int_t)v[i].errors,
                              "declared", relative(v[i].declared, r->a->cfg->rules),
                              "findings", counts ? counts : json_object());
        if (counts == NULL)
            json_decref(json_object_get(o, "findings")), json_object_set_new(o, "findings", json_object());
        json_object_set_new(o, "last_error", v[i].last_error[0] ? relative(v[i].last_error, r->a->cfg->rules)
                                                                 : json_null());
        json_object_set_new(o, "effective", json_pack("{s:o,s:o}",
                            "from", v[i].from[0] ? json_string(v[i].from) : json_null(),
                            "to", v[i].to[0] ? json_string(v[i].to) : json_null()));
        json_array_append_new(arr, o);
    }
    free(v);
    json_decref(c.by_rule);
    cw_api_json(r, 200, json_pack("{s:o}", "rules", arr));
}

void cw_api_post_reload(req *r, const char *arg)
{
    (void)arg;
    cw_err err = { 0 };
    size_t n;
    cw_rule_view *v;

    if (cw_group_reload(r->a->g, &err) < 0) {
        /* passing: the database is away or the service stops */
        if (err.code == CW_EUNAVAIL || err.code == CW_EDB)
            return cw_api_error(r, 503, "unavailable", NULL, "the rules were not reloaded: %s", err.msg);
        return cw_api_error(r, 422, "rules_refused", NULL, "the new rules were refused, the rules in "
                            "force keep running: %s", err.msg);
    }
    v = cw_group_rules(r->a->g, &n);
    free(v);
    cw_log(CW_LOG_INFO, "rules reloaded by %s", r->who ? r->who->name : "?");
    cw_api_json(r, 200, json_pack("{s:s,s:I}", "result", "reloaded", "rules", (json_int_t)n));
}

void cw_api_healthz(req *r, const char *arg)
{
    (void)arg;
    cw_api_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void cw_api_readyz(req *r, const char *arg)
{
    cw_service_stats st;
    uint64_t max = 0, lag;
    cw_db *db;
    cw_err err;

    cw_group_stats_get(r->a->g, &st);
    if (!st.ready)
        return cw_api_error(r, 503, "not_ready", NULL, "the engine is still starting");
    if ((db = cw_api_db(r)) == NULL)
        return;
    if (cw_store_max_gseq(db, &max, &err) < 0)
        return cw_api_db_failed(r, &err);
    lag = max > st.checkpoint ? max - st.checkpoint : 0;
    if (st.clustered)       /* of its own partitions */
        lag = st.lag;
    /* far behind the log: findings are not to be trusted as current */
    if (lag > r->a->cfg->max_lag)
        return cw_api_error(r, 503, "lagging", NULL, "the engine is %llu events behind the log "
                            "(more than engine.max_lag = %u)", (unsigned long long)lag,
                            r->a->cfg->max_lag);
    cw_api_json(r, 200, json_pack("{s:s,s:I,s:I,s:s}", "status", "ready", "checkpoint",
                                  (json_int_t)st.checkpoint, "lag", (json_int_t)lag,
                                  "start", st.start));
}

static int metric_row(void *ud, const char *rule, const char *state, uint64_t n)
{
    cw_buf *b = ud;

    (void)rule;
    cw_buf_printf(b, "casewarden_findings{state=\"%s\"} %llu\n", state, (unsigned long long)n);
    return 0;
}

static int notification_row(void *ud, const char *status, uint64_t n)
{
    cw_buf_printf(ud, "casewarden_notifications{status=\"%s\"} %llu\n", status, (unsigned long long)n);
    return 0;
}

static void counter(cw_buf *b, const char *name, const char *help, uint64_t v)
{
    cw_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
                  (unsigned long long)v);
}

/* The notifier's counters (docs/NOTIFY.md). */
static void notify_metrics(cw_api *a, cw_buf *b)
{
    cw_notify_stats ns;
    uint64_t cum = 0;

    cw_group_notify_stats(a->g, &ns);
    counter(b, "casewarden_notifications_queued_total", "Notifications queued: a finding's transition "
            "routed to a receiver, or an escalation level reached.", ns.queued);
    counter(b, "casewarden_notifications_sent_total", "Messages delivered (answered 2xx).", ns.sent);
    counter(b, "casewarden_notifications_failed_total", "Delivery attempts that failed (to be retried or "
            "dead-lettered).", ns.failed);
    counter(b, "casewarden_notifications_dead_total", "Messages dead-lettered after their last attempt.",
            ns.dead);
    counter(b, "casewarden_notifications_held_total", "Messages held by quiet hours.", ns.held);
    counter(b, "casewarden_notifications_escalations_total", "Escalation levels reached.", ns.escalations);
    cw_buf_printf(b, "# HELP casewarden_notifications_inflight Deliveries in flight.\n"
                     "# TYPE casewarden_notifications_inflight gauge\ncasewarden_notifications_inflight %u\n",
                  ns.inflight);
    cw_buf_puts(b, "# HELP casewarden_notification_delivery_seconds From the finding's change written to "
                   "its message delivered.\n# TYPE casewarden_notification_delivery_seconds histogram\n");
    for (int i = 0; i < CW_NOTIFY_BUCKETS; i++) {
        cum = ns.latency[i];
        if (i == CW_NOTIFY_BUCKETS - 1)
            cw_buf_printf(b, "casewarden_notification_delivery_seconds_bucket{le=\"+Inf\"} %llu\n",
                          (unsigned long long)cum);
        else
            cw_buf_printf(b, "casewarden_notification_delivery_seconds_bucket{le=\"%g\"} %llu\n",
                          cw_notify_bucket_s[i], (unsigned long long)cum);
    }
    cw_buf_printf(b, "casewarden_notification_delivery_seconds_sum %.6f\n"
                     "casewarden_notification_delivery_seconds_count %llu\n", ns.latency_sum,
                  (unsigned long long)ns.latency_count);
}

/* serve --threads N (N > 1): each engine thread's own figures, labelled
 * thread="1" ... (the unlabelled series are their sums). */
static const struct {
    const char *name, *type, *help;
    size_t off;                 /* a uint64_t of cw_service_stats */
} per_thread[] = {
    { "casewarden_thread_events_read_total", "counter", "Events each engine thread took from the events "
      "table (the holder of partition 0 reads every partition's).", offsetof(cw_service_stats, events_read) },
    { "casewarden_thread_findings_written_total", "counter", "Findings each engine thread wrote.",
      offsetof(cw_service_stats, findings_written) },
    { "casewarden_thread_partitions", "gauge", "Partitions whose lease each engine thread holds.",
      offsetof(cw_service_stats, partitions) },
    { "casewarden_thread_lag", "gauge", "Events of each engine thread's partitions not read yet.",
      offsetof(cw_service_stats, lag) },
    { "casewarden_thread_cases", "gauge", "Cases each engine thread holds in memory.",
      offsetof(cw_service_stats, cases) },
};

static void thread_metrics(cw_api *a, cw_buf *b)
{
    unsigned n = cw_group_size(a->g);
    cw_service_stats *st;

    if (n < 2)
        return;
    st = cw_xcalloc(n, sizeof *st);
    for (unsigned k = 0; k < n; k++)
        cw_service_stats_get(cw_group_service(a->g, k), &st[k]);
    for (size_t i = 0; i < sizeof per_thread / sizeof *per_thread; i++) {
        cw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", per_thread[i].name, per_thread[i].help,
                      per_thread[i].name, per_thread[i].type);
        for (unsigned k = 0; k < n; k++) {
            uint64_t v;
            memcpy(&v, (const char *)&st[k] + per_thread[i].off, sizeof v);
            cw_buf_printf(b, "%s{thread=\"%u\"} %llu\n", per_thread[i].name, k + 1, (unsigned long long)v);
        }
    }
    cw_buf_puts(b, "# HELP casewarden_thread_ready 1 when the engine thread has judged its partitions.\n"
                   "# TYPE casewarden_thread_ready gauge\n");
    for (unsigned k = 0; k < n; k++)
        cw_buf_printf(b, "casewarden_thread_ready{thread=\"%u\"} %d\n", k + 1, st[k].ready ? 1 : 0);
    cw_buf_puts(b, "# HELP casewarden_thread_cross_case 1 while the engine thread runs the cross-case rules.\n"
                   "# TYPE casewarden_thread_cross_case gauge\n");
    for (unsigned k = 0; k < n; k++)
        cw_buf_printf(b, "casewarden_thread_cross_case{thread=\"%u\"} %d\n", k + 1, st[k].cross ? 1 : 0);
    free(st);
}

void cw_api_metrics(req *r, const char *arg)
{
    (void)arg;
    cw_api *a = r->a;
    cw_service_stats st;
    cw_rule_view *v;
    cw_buf b = { 0 };
    uint64_t max = 0;
    size_t n;
    uint64_t cum = 0;
    cw_db *db;
    cw_err err;

    cw_group_stats_get(a->g, &st);
    cw_buf_puts(&b, "# HELP casewarden_events_ingested_total Events stored through POST /v1/events.\n"
                    "# TYPE casewarden_events_ingested_total counter\n");
    cw_buf_printf(&b, "casewarden_events_ingested_total %llu\n", (unsigned long long)a->stored);
    cw_buf_puts(&b, "# HELP casewarden_events_read_total Events the engine took from the events table.\n"
                    "# TYPE casewarden_events_read_total counter\n");
    cw_buf_printf(&b, "casewarden_events_read_total %llu\n", (unsigned long long)st.events_read);
    cw_buf_puts(&b, "# HELP casewarden_case_replays_total Cases evaluated again from their start "
                    "because an event arrived behind what they had seen.\n"
                    "# TYPE casewarden_case_replays_total counter\n");
    cw_buf_printf(&b, "casewarden_case_replays_total %llu\n", (unsigned long long)st.replays);
    cw_buf_puts(&b, "# HELP casewarden_reloads_total Rule reloads, by result.\n"
                    "# TYPE casewarden_reloads_total counter\n");
    cw_buf_printf(&b, "casewarden_reloads_total{result=\"judged\"} %llu\n"
                      "casewarden_reloads_total{result=\"unchanged\"} %llu\n"
                      "casewarden_reloads_total{result=\"refused\"} %llu\n",
                  (unsigned long long)(st.reloads - st.reloads_unchanged),
                  (unsigned long long)st.reloads_unchanged, (unsigned long long)st.reload_failures);
    cw_buf_puts(&b, "# HELP casewarden_reload_rules_total Rules of reloads that judged again: "
                    "judged again over history (their version changed) or kept (their conclusions stand).\n"
                    "# TYPE casewarden_reload_rules_total counter\n");
    cw_buf_printf(&b, "casewarden_reload_rules_total{result=\"judged\"} %llu\n"
                      "casewarden_reload_rules_total{result=\"kept\"} %llu\n",
                  (unsigned long long)st.reload_judged, (unsigned long long)st.reload_kept);
    cw_buf_puts(&b, "# HELP casewarden_reload_cases_total Cases judged again by reloads.\n"
                    "# TYPE casewarden_reload_cases_total counter\n");
    cw_buf_printf(&b, "casewarden_reload_cases_total %llu\n", (unsigned long long)st.reload_cases);
    cw_buf_puts(&b, "# HELP casewarden_reload_events_total Events seen again by reloads.\n"
                    "# TYPE casewarden_reload_events_total counter\n");
    cw_buf_printf(&b, "casewarden_reload_events_total %llu\n", (unsigned long long)st.reload_events);
    cw_buf_puts(&b, "# HELP casewarden_reload_seconds Time the last reload that judged again took.\n"
                    "# TYPE casewarden_reload_seconds gauge\n");
    cw_buf_printf(&b, "casewarden_reload_seconds %.3f\n", st.reload_seconds);
    cw_buf_puts(&b, "# HELP casewarden_events_rejected_total Events not applied, by reason.\n"
                    "# TYPE casewarden_events_rejected_total counter\n");
    cw_buf_printf(&b, "casewarden_events_rejected_total{reason=\"invalid\"} %llu\n",
                  (unsigned long long)(a->invalid + st.events_rejected));
    cw_buf_printf(&b, "casewarden_events_rejected_total{reason=\"conflict\"} %llu\n",
                  (unsigned long long)a->conflicts);
    cw_buf_printf(&b, "casewarden_events_rejected_total{reason=\"duplicate\"} %llu\n",
                  (unsigned long long)a->duplicates);
    v = cw_group_rules(a->g, &n);
    /* versions of a rule (the same id for other periods) are one series */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n;)
            if (strcmp(v[i].id, v[j].id) == 0) {
                v[i].evals += v[j].evals;
                v[i].errors += v[j].errors;
                if (strcmp(v[j].state, "active") != 0)
                    snprintf(v[i].state, sizeof v[i].state, "%s", v[j].state);
                v[j] = v[--n];
            } else {
                j++;
            }
    cw_buf_puts(&b, "# HELP casewarden_rule_evaluations_total Calls into each rule.\n"
                    "# TYPE casewarden_rule_evaluations_total counter\n");
    for (size_t i = 0; i < n; i++)
        cw_buf_printf(&b, "casewarden_rule_evaluations_total{rule=\"%s\"} %llu\n", v[i].id,
                      (unsigned long long)v[i].evals);
    cw_buf_puts(&b, "# HELP casewarden_rule_errors_total Errors of each rule.\n"
                    "# TYPE casewarden_rule_errors_total counter\n");
    for (size_t i = 0; i < n; i++)
        cw_buf_printf(&b, "casewarden_rule_errors_total{rule=\"%s\"} %llu\n", v[i].id,
                      (unsigned long long)v[i].errors);
    cw_buf_puts(&b, "# HELP casewarden_rule_quarantined Whether a rule is quarantined.\n"
                    "# TYPE casewarden_rule_quarantined gauge\n");
    for (size_t i = 0; i < n; i++)
        cw_buf_printf(&b, "casewarden_rule_quarantined{rule=\"%s\"} %d\n", v[i].id,
                      strcmp(v[i].state, "active") != 0);
    free(v);
    cw_buf_puts(&b, "# HELP casewarden_http_request_duration_seconds Time to answer a request.\n"
                    "# TYPE casewarden_http_request_duration_seconds histogram\n");
    for (int i = 0; i < LATENCY_BUCKETS; i++) {
        cum += a->latency[i];
        cw_buf_printf(&b, "casewarden_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                      cw_api_buckets[i], (unsigned long long)cum);
    }
    cum += a->latency[LATENCY_BUCKETS];
    cw_buf_printf(&b, "casewarden_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                      "casewarden_http_request_duration_seconds_sum %.6f\n"
                      "casewarden_http_request_duration_seconds_count %llu\n",
                  (unsigned long long)cum, (double)a->latency_us_sum / 1e6, (unsigned long long)cum);
    cw_buf_puts(&b, "# HELP casewarden_http_responses_total Answers by status class.\n"
                    "# TYPE casewarden_http_responses_total counter\n");
    for (int i = 1; i < 6; i++)
        cw_buf_printf(&b, "casewarden_http_responses_total{class=\"%dxx\"} %llu\n", i,
                      (unsigned long long)a->status[i]);
    cw_buf_printf(&b, "# HELP casewarden_http_refused_total Requests refused before their handler "
                      "(bad bytes, lengths, codings, sizes).\n"
                      "# TYPE casewarden_http_refused_total counter\ncasewarden_http_refused_total %llu\n"
                      "# HELP casewarden_http_header_timeouts_total Connections closed for not sending "
                      "their headers within api.header_timeout_s.\n"
                      "# TYPE casewarden_http_header_timeouts_total counter\n"
                      "casewarden_http_header_timeouts_total %llu\n",
                  (unsigned long long)a->screened, (unsigned long long)a->header_timeouts);
    cw_buf_printf(&b, "# HELP casewarden_checkpoint_seq Every event up to this seq is evaluated.\n"
                      "# TYPE casewarden_checkpoint_seq gauge\ncasewarden_checkpoint_seq %llu\n",
                  (unsigned long long)st.checkpoint);
    cw_buf_printf(&b, "# HELP casewarden_timers Deadline timers armed.\n"
                      "# TYPE casewarden_timers gauge\ncasewarden_timers %llu\n",
                  (unsigned long long)st.timers);
    cw_buf_printf(&b, "# HELP casewarden_cases Cases held in memory.\n"
                      "# TYPE casewarden_cases gauge\ncasewarden_cases %llu\n",
                  (unsigned long long)st.cases);
    cw_buf_printf(&b, "# HELP casewarden_engine_memory_bytes Memory of cases, timelines, findings.\n"
                      "# TYPE casewarden_engine_memory_bytes gauge\ncasewarden_engine_memory_bytes %llu\n",
                  (unsigned long long)st.memory);
    if (st.calendar_days_left != INT64_MIN)
        cw_buf_printf(&b, "# HELP casewarden_calendar_days_left Days until the legal calendar ends "
                          "(warned within 60).\n# TYPE casewarden_calendar_days_left gauge\n"
                          "casewarden_calendar_days_left %lld\n", (long long)st.calendar_days_left);
    notify_metrics(a, &b);
    if ((db = cw_api_db(r)) == NULL) {
        cw_buf_free(&b);
        return;
    }
    if (cw_store_max_gseq(db, &max, &err) < 0) {
        cw_buf_free(&b);
        return cw_api_db_failed(r, &err);
    }
    cw_buf_printf(&b, "# HELP casewarden_queue_depth Events stored but not yet evaluated.\n"
                      "# TYPE casewarden_queue_depth gauge\ncasewarden_queue_depth %lld\n",
                  (long long)(st.clustered ? st.lag : max > st.checkpoint ? max - st.checkpoint : 0));
    if (st.clustered)
        cw_buf_printf(&b, "# HELP casewarden_partitions Partitions whose lease this engine holds.\n"
                          "# TYPE casewarden_partitions gauge\ncasewarden_partitions %llu\n"
                          "# HELP casewarden_cross_case 1 while this engine runs the cross-case rules.\n"
                          "# TYPE casewarden_cross_case gauge\ncasewarden_cross_case %d\n"
                          "# HELP casewarden_lease_claims_total Partition leases claimed.\n"
                          "# TYPE casewarden_lease_claims_total counter\ncasewarden_lease_claims_total %llu\n"
                          "# HELP casewarden_lease_takeovers_total Expired leases of another engine taken over.\n"
                          "# TYPE casewarden_lease_takeovers_total counter\n"
                          "casewarden_lease_takeovers_total %llu\n"
                          "# HELP casewarden_lease_releases_total Leases given back to rebalance.\n"
                          "# TYPE casewarden_lease_releases_total counter\n"
                          "casewarden_lease_releases_total %llu\n"
                          "# HELP casewarden_stepdowns_total Times this engine lost a lease and stepped down.\n"
                          "# TYPE casewarden_stepdowns_total counter\ncasewarden_stepdowns_total %llu\n"
                          "# HELP casewarden_partitions_judge_seconds The last judgement of the partitions held.\n"
                          "# TYPE casewarden_partitions_judge_seconds gauge\n"
                          "casewarden_partitions_judge_seconds %.3f\n"
                          "# HELP casewarden_partitions_judged_total Partitions judged when taken, from "
                          "their snapshot or from their first event.\n"
                          "# TYPE casewarden_partitions_judged_total counter\n"
                          "casewarden_partitions_judged_total{from=\"snapshot\"} %llu\n"
                          "casewarden_partitions_judged_total{from=\"start\"} %llu\n"
                          "# HELP casewarden_partition_snapshots_total Partition snapshots written.\n"
                          "# TYPE casewarden_partition_snapshots_total counter\n"
                          "casewarden_partition_snapshots_total %llu\n",
                      (unsigned long long)st.partitions, st.cross ? 1 : 0,
                      (unsigned long long)st.claims, (unsigned long long)st.takeovers,
                      (unsigned long long)st.releases, (unsigned long long)st.stepdowns, st.takeover_s,
                      (unsigned long long)st.parts_from_snapshot, (unsigned long long)st.parts_from_start,
                      (unsigned long long)st.part_snapshots);
    thread_metrics(a, &b);
    cw_buf_puts(&b, "# HELP casewarden_findings Findings stored, by state.\n"
                    "# TYPE casewarden_findings gauge\n");
    if (cw_store_count_findings(db, NULL, false, metric_row, &b, &err) < 0) {
        cw_buf_free(&b);
        return cw_api_db_failed(r, &err);
    }
    cw_buf_puts(&b, "# HELP casewarden_notifications Notification messages stored, by status.\n"
                    "# TYPE casewarden_notifications gauge\n");
    if (cw_store_notification_counts(db, notification_row, &b, &err) < 0) {
        cw_buf_free(&b);
        return cw_api_db_failed(r, &err);
    }
    cw_api_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.n);
}

/* Who the token is: the console shows the role and scope it logged in
 * with, and counts its dates from the service's clock and zone. */
void cw_api_get_whoami(req *r, const char *arg)
{
    (void)arg;
    cw_api_json(r, 200, json_pack("{s:s,s:s,s:s,s:i,s:o}", "name", cw_api_who(r), "role",
                                  r->who ? cw_role_name(r->who->role) : "admin", "unit",
                                  cw_api_scope(r) ? cw_api_scope(r) : "", "tz", cw_group_tz(r->a->g),
                                  "now", cw_api_time(r, cw_group_now(r->a->g))));
}
