/*
 * The store: MariaDB, the single source of truth, and the one module that
 * knows its schema. The service and the HTTP API call these functions;
 * nobody else writes SQL. docs/SERVICE.md has the schema in full:
 *
 *   events            append-only; seq (identity), gseq (the log order the
 *                     engine reads in: gapless, commit-ordered), the JSON
 *                     body as received, id, case and type derived from
 *                     the body; id unique
 *   event_log         the counter gseq is taken from
 *   event_problems    events the engine could not accept, and why
 *   event_conflicts   bodies refused because their id was taken
 *   findings          one row per (rule, case, subject), upserted; a
 *                     finding the rules no longer give stays, withdrawn
 *   finding_reviews   append-only audit of the review lifecycle and of
 *                     exemptions
 *   finding_exemptions exemptions (豁免) recorded and lifted
 *   finding_changes   every change of a finding's state, review or
 *                     assignment, written by triggers whoever wrote the
 *                     finding: the feed of GET /v1/stream (and of any
 *                     outbox)
 *   engine_checkpoint the last gseq evaluated, per engine
 *   case_state        the image of each case out of the engine's memory
 *   cw_schema         applied migrations
 * Triggers refuse UPDATE and DELETE on the append-only tables.
 *
 * A cw_db is one connection, for one thread.
 */
#ifndef CW_STORE_H
#define CW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "casewarden/plugin.h"
#include "lease/lease.h"

typedef struct cw_db cw_db;

/* One server of the database: a Unix socket, or host:port. */
typedef struct cw_db_node {
    char *socket;            /* NULL for host:port */
    char *host;
    unsigned port;
} cw_db_node;

/* Where the database is (the service configuration's `database:`). */
typedef struct cw_db_params {
    char *socket;            /* a Unix socket, or NULL for host:port */
    char *host;
    unsigned port;
    /* database.nodes: several servers of one cluster (Galera), tried in
     * turn; when there are any, socket/host/port are not used */
    cw_db_node *nodes;
    size_t nnodes;
    char *user, *password;   /* password may be NULL */
    char *name;
} cw_db_params;

/* ---- connections ------------------------------------------------------ */

/* Free p's node list (nodes, nnodes: none after). */
void cw_db_nodes_free(cw_db_params *p);

/* Connect (Unix socket when given, utf8mb4, timeouts); p is borrowed
 * for the connection's life. With create, a missing database is
 * created. With several nodes, they are tried in the order given and
 * the first that answers and is a ready member of its cluster
 * (wsrep_ready) is taken. */
int cw_db_connect(cw_db **out, const cw_db_params *p, bool create, cw_err *err);
void cw_db_close(cw_db *db);
/* Reconnect after a lost connection: with several nodes, the one after
 * the node of the lost connection first, then the others round the list
 * (the node that failed last). */
int cw_db_reconnect(cw_db *db, cw_err *err);
/* The node of the connection (its socket or host:port), into out. */
const char *cw_db_node_name(cw_db *db, char *out, size_t size);
/* Whether the last failure was the server going away or not answering
 * (as opposed to a statement it refused). */
bool cw_db_is_down(cw_db *db);
/* Whether the last failure is worth the whole transaction again: a
 * deadlock, a lock wait timeout, or a Galera certification conflict. */
bool cw_db_is_retryable(cw_db *db);
int cw_db_begin(cw_db *db, cw_err *err);
int cw_db_commit(cw_db *db, cw_err *err);
void cw_db_rollback(cw_db *db);

/* ---- schema ------------------------------------------------------------- */

/* The schema version in the database (0: none yet). */
int cw_store_schema_version(cw_db *db, int *version, cw_err *err);
/* The version this casewarden migrates to and needs: its last migration. */
int cw_store_schema_latest(void);
/* Create or upgrade the schema. Refuses a database whose schema is newer
 * than this program's. Progress lines go to progress (may be NULL).
 * Safe to run twice, and from two processes at once. */
int cw_store_migrate(cw_db *db, FILE *progress, cw_err *err);
/* The same, with the number of partitions of a new database (1-1000; 0:
 * 256, the default); a database made with another number refuses. */
int cw_store_migrate_parts(cw_db *db, unsigned parts, FILE *progress, cw_err *err);
/* CW_EDB with what to do unless the schema is this program's. */
int cw_store_check_schema(cw_db *db, const char *dbname, cw_err *err);

/* ---- events --------------------------------------------------------------- */

/* One stored event: its identity (seq), its place in the log (gseq),
 * and its body as received. */
typedef struct cw_store_event {
    uint64_t seq, gseq;
    unsigned part;           /* its case's partition */
    uint64_t pseq;           /* its place in the partition (cw_store_partition_events) */
    const char *body;
    size_t len;
} cw_store_event;
typedef int (*cw_store_event_fn)(void *ud, const cw_store_event *ev);

/* Events with gseq > after, in gseq order, at most limit. */
int cw_store_events_after(cw_db *db, uint64_t after, unsigned limit, cw_store_event_fn fn,
                          void *ud, cw_err *err);
/* The events of one case, in gseq order. */
int cw_store_case_events(cw_db *db, const char *case_id, cw_store_event_fn fn, void *ud,
                         cw_err *err);
/* The highest gseq stored (0: none). */
int cw_store_max_gseq(cw_db *db, uint64_t *out, cw_err *err);

/* Events stored under these ids: fn(id, seq, body). */
typedef int (*cw_store_idrow_fn)(void *ud, const char *id, uint64_t seq, const char *body,
                                 size_t len);
int cw_store_events_by_id(cw_db *db, const char *const *ids, size_t n, bool with_body,
                          cw_store_idrow_fn fn, void *ud, cw_err *err);

/* A body to store, as sent. */
typedef struct cw_store_body {
    const char *text;
    size_t len;
    const char *id;          /* for conflicts */
    uint64_t first_seq;      /* for conflicts: the seq holding the id */
} cw_store_body;

/* INSERT bodies as events (source "api", "sql"); *first receives the
 * first AUTO_INCREMENT value. CW_ECONFLICT when an id was taken meanwhile
 * (another writer), CW_EDB otherwise. */
int cw_store_insert_events(cw_db *db, const cw_store_body *b, size_t n, const char *source,
                           uint64_t *first, cw_err *err);
/* Whether the seqs of the last cw_store_insert_events follow from *first
 * (consecutive AUTO_INCREMENT values); else ask with events_by_id. */
bool cw_store_consecutive_seqs(cw_db *db);
/* Record refused bodies whose id was taken. */
int cw_store_insert_conflicts(cw_db *db, const cw_store_body *b, size_t n, const char *source,
                              cw_err *err);

/* The image of a case out of the engine's memory: fn called once when
 * there is one. */
typedef int (*cw_store_image_fn)(void *ud, const void *image, size_t len);
int cw_store_case_image(cw_db *db, const char *case_id, cw_store_image_fn fn, void *ud,
                        cw_err *err);

/* Forget the images written after checkpoint gseq (0: all): a restart
 * from an older snapshot judges those cases again from their events. */
int cw_store_case_images_drop(cw_db *db, uint64_t after, cw_err *err);
/* Every case's image, streamed (db may be used for nothing else until it
 * returns); a non-zero return from fn stops the read. */
int cw_store_case_images_each(cw_db *db, cw_store_image_fn fn, void *ud, cw_err *err);

/* ---- snapshots ------------------------------------------------------------------ */

typedef struct cw_store_snapmeta {
    char program[64];
    uint64_t rules_digest, gseq, bytes;
    unsigned parts;
} cw_store_snapmeta;

/* Replace engine name's snapshot with data[0..len) in one transaction. */
int cw_store_snapshot_write(cw_db *db, const char *name, const cw_store_snapmeta *m,
                            const void *data, size_t len, cw_err *err);
/* Partition snapshots (several engines): the cases of one partition at
 * its checkpoint m.gseq (a pseq), under the name this gives, read back
 * with cw_store_snapshot_read. Several are written in one transaction,
 * fenced as the findings are (every lease (part, token) must still be
 * me's at now): CW_ELEASE, nothing written, when one is not. */
typedef struct cw_store_partsnap {
    unsigned part;
    uint64_t token;
    cw_store_snapmeta m;
    const void *data;
    size_t len;
} cw_store_partsnap;

void cw_store_part_snapshot_name(unsigned part, char *buf, size_t size);
int cw_store_part_snapshots_write(cw_db *db, const char *me, int64_t now, const cw_store_partsnap *v,
                                  size_t n, cw_err *err);
/* Engine name's snapshot: *found false when there is none; *data is
 * malloc'd (the caller frees it). */
int cw_store_snapshot_read(cw_db *db, const char *name, cw_store_snapmeta *m, void **data,
                           size_t *len, bool *found, cw_err *err);

/* ---- findings ---------------------------------------------------------------- */

/* A finding row, with every column named; strings borrowed for the call. */
typedef struct cw_store_finding {
    int64_t id;
    const char *rule, *case_id, *subject, *unit, *severity, *state;
    cw_time due;             /* CW_TIME_NONE: none */
    cw_time raised;
    const char *message, *basis;
    const char *events;      /* JSON array of event ids */
    const char *review;
    /* the inspectors' side; read by the API's queries only (the engine's
     * cw_store_findings_all leaves them NULL, 0 and CW_TIME_NONE) */
    int64_t lead;            /* deadline: the warning lead, seconds; 0 none or unknown */
    const char *assignee;    /* NULL: not assigned */
    const char *assignee_kind;   /* "unit" or "officer" */
    cw_time rect_due;        /* the rectification due (整改期限) */
    cw_time resolved_at;     /* when it was resolved (销号), while it is */
    int64_t exemption;       /* the id of the exemption in force, 0: none */
    /* provenance (API reads; NULL for findings written before version 6) */
    const char *rule_version, *program, *override_unit, *override_at;
} cw_store_finding;
typedef int (*cw_store_finding_fn)(void *ud, const cw_store_finding *f);

/* A list of values for one filter (any of them matches); n == 0: any. */
typedef struct cw_strs {
    const char *const *v;
    size_t n;
} cw_strs;

/* The orders of a listing; the negative of one is descending. Findings
 * without the time sorted on come last either way; ties go by id. */
enum { CW_SORT_ID = 0, CW_SORT_DUE = 1, CW_SORT_RAISED = 2, CW_SORT_RECT_DUE = 3 };

/* Which exempted findings a query takes. */
enum { CW_EXEMPT_NO = 0, CW_EXEMPT_ONLY = 1, CW_EXEMPT_ANY = 2 };

/* What GET /v1/findings asks for; empty lists / CW_TIME_NONE = any. */
typedef struct cw_finding_query {
    const char *scope;       /* the caller's unit prefix ("" or NULL: all) */
    cw_strs unit;            /* unit prefixes */
    cw_strs rule, case_id, state, review, severity, assignee;
    cw_time raised_from, raised_to, due_from, due_to, rect_due_from, rect_due_to;
    bool rect_overdue;       /* assigned, and the rectification due is past */
    int exempt;              /* CW_EXEMPT_* */
    cw_time now;             /* the service's clock: overdue rectifications, expiries */
    int sort;                /* CW_SORT_*, negative: descending */
    /* the cursor: after (after_key, after_id) in the order asked for */
    int64_t after_key, after_id;
    unsigned limit;
} cw_finding_query;

/* The findings a query matches, in its order; withdrawn ones only when
 * asked for by state. */
int cw_store_findings(cw_db *db, const cw_finding_query *q, cw_store_finding_fn fn, void *ud,
                      cw_err *err);
/* How many findings match q, the cursor and limit left aside. */
int cw_store_findings_total(cw_db *db, const cw_finding_query *q, uint64_t *n, cw_err *err);
/* Counts of the findings that match q (the cursor and limit left aside)
 * by one column: "rule", "unit", "state", "review" or "severity". */
typedef int (*cw_store_facet_fn)(void *ud, const char *value, uint64_t n);
int cw_store_findings_facet(cw_db *db, const cw_finding_query *q, const char *by,
                            cw_store_facet_fn fn, void *ud, cw_err *err);
/* The key of f in the order `sort`, for a cursor after f. */
int64_t cw_store_sort_key(const cw_store_finding *f, int sort);
/* One finding (found: fn called once); now decides whether an exemption
 * is in force. */
int cw_store_finding_get(cw_db *db, int64_t id, cw_time now, cw_store_finding_fn fn, void *ud,
                         cw_err *err);
/* The findings of a case, by rule and subject (withdrawn included). */
int cw_store_case_findings(cw_db *db, const char *case_id, cw_time now, cw_store_finding_fn fn,
                           void *ud, cw_err *err);
/* Every finding the rules give now (not withdrawn), streamed. */
int cw_store_findings_all(cw_db *db, cw_store_finding_fn fn, void *ud, cw_err *err);
/* The findings written since engine name's snapshot (withdrawn ones
 * included), streamed: what a restart from that snapshot must compare. */
int cw_store_findings_since_snapshot(cw_db *db, const char *name, cw_store_finding_fn fn, void *ud,
                                     cw_err *err);

/* Counts of findings in scope (withdrawn left out): by rule and state,
 * or (rule NULL) by state. */
typedef int (*cw_store_count_fn)(void *ud, const char *rule, const char *state, uint64_t n);
int cw_store_count_findings(cw_db *db, const char *scope, bool by_rule, cw_store_count_fn fn,
                            void *ud, cw_err *err);

/* ---- reviews ------------------------------------------------------------------ */

typedef struct cw_store_review {
    int64_t id;
    const char *action, *from, *to, *who, *comment;
    cw_time at;
    const char *assignee, *assignee_kind;   /* assign: to whom; NULL otherwise */
    cw_time rect_due;        /* assign: the rectification due */
    const char *evidence;    /* resolve: JSON array of references, or NULL */
} cw_store_review;
typedef int (*cw_store_review_fn)(void *ud, const cw_store_review *r);

/* The review history of a finding, oldest first (exemptions recorded and
 * lifted included, as actions exempt and unexempt). */
int cw_store_reviews(cw_db *db, int64_t finding_id, cw_store_review_fn fn, void *ud, cw_err *err);

/* The review lifecycle: which action leads from which review states to
 * which, and what it needs. The one table of it. */
typedef struct cw_review_move {
    const char *action, *to;
    const char *from[6];
    bool comment;            /* a comment is required */
    bool assign;             /* an assignee and a rectification due are required */
} cw_review_move;
const cw_review_move *cw_review_move_find(const char *action);
/* "acknowledge, assign, resolve, dismiss or reopen" */
const char *cw_review_actions(void);
/* The actions a finding under review `review` allows, e.g. "resolve,
 * dismiss" ("none" when there is none). */
void cw_review_allowed(const char *review, char *buf, size_t size);

/* What a review action carries. */
typedef struct cw_review_input {
    const char *who, *comment;           /* comment may be NULL */
    const char *assignee, *assignee_kind;    /* assign */
    cw_time rect_due;                    /* assign */
    const char *evidence;                /* resolve: JSON array text, or NULL */
    cw_time at;                          /* the service's clock */
} cw_review_input;

/* Apply an action to finding id in one transaction (the row locked, the
 * audit row appended). CW_ENOTFOUND when there is no such finding in
 * scope; CW_ECONFLICT when the finding's review does not allow it (err
 * names the actions that are allowed). */
int cw_store_review_apply(cw_db *db, int64_t id, const char *scope, const cw_review_move *m,
                          const cw_review_input *in, cw_err *err);

/* ---- exemptions (豁免) ------------------------------------------------------------- */

typedef struct cw_store_exemption {
    int64_t id, finding_id;
    const char *rule, *case_id;
    const char *subject;     /* NULL: every finding of the rule in the case */
    const char *reason, *approver, *who;
    cw_time at, expires;
    cw_time lifted_at;       /* CW_TIME_NONE: not lifted */
    const char *lifted_by, *lift_comment;
} cw_store_exemption;
typedef int (*cw_store_exemption_fn)(void *ud, const cw_store_exemption *x);

typedef struct cw_exemption_input {
    bool whole_rule;         /* the rule for the whole case, not this finding alone */
    const char *reason, *approver, *who;
    cw_time expires, at;
} cw_exemption_input;

/* Record an exemption of finding id (or of its rule in its case), audited
 * on every finding it covers. CW_ENOTFOUND out of scope; CW_ECONFLICT when
 * one is in force already. *out_id may be NULL. */
int cw_store_exemption_record(cw_db *db, int64_t id, const char *scope, const cw_exemption_input *in,
                              int64_t *out_id, cw_err *err);
/* Lift every exemption in force over finding id, audited. CW_ENOTFOUND
 * out of scope; CW_ECONFLICT when none is in force. */
int cw_store_exemption_lift(cw_db *db, int64_t id, const char *scope, const char *who,
                            const char *comment, cw_time at, cw_err *err);
/* The exemptions that cover finding id, newest first. */
int cw_store_exemptions(cw_db *db, int64_t id, cw_store_exemption_fn fn, void *ud, cw_err *err);

/* ---- the change log (finding_changes) ----------------------------------------------- */

typedef struct cw_store_change {
    int64_t id;
    const char *what;        /* "finding", "exempt" or "unexempt" */
    const char *from_state, *to_state, *from_review, *to_review;   /* from_*: NULL when new */
    cw_time at;
    cw_store_finding f;      /* the finding as it is now */
} cw_store_change;
typedef int (*cw_store_change_fn)(void *ud, const cw_store_change *c);

/* Changes with id > after of findings under scope, oldest first, at most
 * limit. */
int cw_store_changes(cw_db *db, int64_t after, const char *scope, cw_time now, unsigned limit,
                     cw_store_change_fn fn, void *ud, cw_err *err);
/* The highest change id (0: none). */
int cw_store_changes_max(cw_db *db, int64_t *out, cw_err *err);

/* ---- notifications (notify_outbox, notify_items, notify_messages, ------------------ */
/* ---- notify_attempts, notify_escalations) ---------------------------------------- */

/* A change waiting in the outbox, with its finding as it is now (f.id 0
 * when the finding is gone). */
typedef struct cw_store_outbox_row {
    int64_t id, change_id;
    const char *what;        /* "finding", "exempt", "unexempt" */
    const char *from_state, *to_state, *from_review, *to_review;   /* from_*: NULL when new */
    int64_t at_ms;           /* when the change was written, wall clock */
    cw_store_finding f;
} cw_store_outbox_row;
typedef int (*cw_store_outbox_fn)(void *ud, const cw_store_outbox_row *r);
/* The oldest outbox rows, at most limit; now decides exemptions. */
int cw_store_outbox(cw_db *db, cw_time now, unsigned limit, cw_store_outbox_fn fn, void *ud,
                    cw_err *err);
/* How many changes wait in the outbox. */
int cw_store_outbox_count(cw_db *db, int64_t *n, cw_err *err);

/* One finding's transition for one receiver, as routing queues it. */
typedef struct cw_store_nitem {
    const char *key;         /* the idempotency key, unique */
    const char *receiver, *group;    /* group "": a message of its own */
    const char *ladder;      /* an escalation's level: its ladder, else NULL */
    int level;
    int64_t finding_id;
    const char *transition;
    int64_t created_ms;      /* when the change was written */
    int64_t due_ms;          /* the message's first time to go (group_wait) */
    int64_t interval_ms;     /* group_interval: after the group's last message */
    /* a message of its own (group ""), rendered already: its body and
     * status ("queued", or "held" until not_before); NULL: gathered
     * later */
    const char *body, *status;
    cw_time not_before;
} cw_store_nitem;

/* One routing transaction: items queued, outbox rows consumed, ladders
 * moved, all or nothing. */
typedef struct cw_store_ntx cw_store_ntx;
cw_store_ntx *cw_store_ntx_begin(cw_db *db, cw_err *err);
/* With several engines: the transaction's first write, partition part's
 * lease still me's under token (cw_store_lease_fence); CW_ELEASE, and
 * nothing written at the commit, when it is not. */
int cw_store_ntx_fence(cw_store_ntx *t, const char *me, unsigned part, uint64_t token, int64_t now);
/* Queue an item: into the group's message still gathering, else a new
 * one. An item whose key is there already is skipped (routed before a
 * crash): *added false. An item with its own rendered message is written
 * in a batch at commit (*added true). */
int cw_store_ntx_item(cw_store_ntx *t, const cw_store_nitem *it, bool *added);
int cw_store_ntx_outbox_done(cw_store_ntx *t, int64_t outbox_id);
/* Start a ladder for a finding (nothing when it runs or ran already). */
int cw_store_ntx_ladder_start(cw_store_ntx *t, int64_t finding_id, const char *ladder, cw_time started,
                              cw_time next_at);
/* Move a ladder: levels done, the next level's time (CW_TIME_NONE: none),
 * status "running", "done" or "stopped", and why. */
int cw_store_ntx_ladder_set(cw_store_ntx *t, int64_t finding_id, const char *ladder, int level,
                            cw_time next_at, const char *status, const char *reason);
/* Remind receiver of a finding every every_s from next_at on (replacing
 * what was set), or no more (stop). */
int cw_store_ntx_repeat_set(cw_store_ntx *t, int64_t finding_id, const char *receiver, int64_t every_s,
                            cw_time next_at, int sent);
int cw_store_ntx_repeat_stop(cw_store_ntx *t, int64_t finding_id, const char *receiver);
int cw_store_ntx_commit(cw_store_ntx *t, cw_err *err);
void cw_store_ntx_abort(cw_store_ntx *t);

/* A reminder due, with its finding as it is now. */
typedef struct cw_store_repeat {
    int64_t finding_id, every_s;
    const char *receiver;
    cw_time next_at;
    int sent;
    cw_store_finding f;
} cw_store_repeat;
typedef int (*cw_store_repeat_fn)(void *ud, const cw_store_repeat *r);
int cw_store_repeats_due(cw_db *db, cw_time now, unsigned limit, cw_store_repeat_fn fn, void *ud,
                         cw_err *err);

/* A ladder's state, with its finding as it is now. */
typedef struct cw_store_ladder {
    int64_t finding_id;
    const char *ladder, *status, *reason;
    int level;
    cw_time started, next_at;
    cw_store_finding f;
} cw_store_ladder;
typedef int (*cw_store_ladder_fn)(void *ud, const cw_store_ladder *l);
/* Running ladders whose next level is due at now, at most limit. */
int cw_store_ladders_due(cw_db *db, cw_time now, unsigned limit, cw_store_ladder_fn fn, void *ud,
                         cw_err *err);
/* The ladders of a finding (running only, or all). */
int cw_store_ladders_of(cw_db *db, int64_t finding_id, bool running_only, cw_time now,
                        cw_store_ladder_fn fn, void *ud, cw_err *err);

/* A message (notification) as stored. */
typedef struct cw_store_message {
    int64_t id;
    const char *key, *receiver, *group, *ladder, *status, *body, *last_error;
    const char *findings;    /* the ids of its findings, comma-separated */
    int level, items, attempts;
    long http_status;        /* 0: none */
    int64_t next_ms, created_ms, sent_ms;   /* sent_ms 0: not sent */
    cw_time not_before;      /* CW_TIME_NONE: none */
} cw_store_message;
typedef int (*cw_store_message_fn)(void *ud, const cw_store_message *m);
/* Messages gathering whose time has come (status "grouping"), or ready to
 * go ("queued" and "held" whose not_before is past), oldest due first. */
int cw_store_messages_due(cw_db *db, bool gathering, int64_t now_ms, cw_time now, unsigned limit,
                          cw_store_message_fn fn, void *ud, cw_err *err);
/* The items of a message with their findings as they are now. */
typedef int (*cw_store_mitem_fn)(void *ud, const char *key, const char *transition,
                                 const cw_store_finding *f);
int cw_store_message_items(cw_db *db, int64_t message_id, cw_time now, cw_store_mitem_fn fn,
                           void *ud, cw_err *err);
/* A gathered message's body is rendered: "queued", or "held" until
 * not_before (quiet hours). */
int cw_store_message_ready(cw_db *db, int64_t id, const char *body, const char *status,
                           cw_time not_before, cw_err *err);

/* What one delivery attempt came to. */
typedef struct cw_store_attempt {
    int64_t message_id;
    const char *key;         /* the message's */
    int attempt;
    const char *status;      /* the message's status after it: sent, queued (retry), dead */
    long http_status;        /* 0: no answer */
    const char *error;       /* "" when none */
    double seconds;
    int64_t at_ms, next_ms;
} cw_store_attempt;
/* Record attempts (and their messages' new states) in one transaction. */
int cw_store_attempts_record(cw_db *db, const cw_store_attempt *a, size_t n, cw_err *err);

/* GET /v1/notifications */
typedef struct cw_notification_query {
    cw_strs receiver, status;
    int64_t finding;         /* 0: any */
    int64_t after_id;        /* the cursor: ids below it (newest first) ; 0: from the newest */
    unsigned limit;
} cw_notification_query;
int cw_store_notifications(cw_db *db, const cw_notification_query *q, cw_store_message_fn fn,
                           void *ud, cw_err *err);
int cw_store_notifications_total(cw_db *db, const cw_notification_query *q, uint64_t *n, cw_err *err);
/* Messages by status, for /metrics. */
int cw_store_notification_counts(cw_db *db, cw_store_facet_fn fn, void *ud, cw_err *err);

/* ---- problems of events ---------------------------------------------------------------- */

typedef struct cw_store_problem {
    const char *kind;        /* "invalid" (event_problems) or "conflict" (event_conflicts) */
    int64_t n;               /* invalid: the event's seq; conflict: the conflict's number */
    int64_t first_seq;       /* conflict: the seq holding the id; 0 otherwise */
    const char *event_id;    /* may be NULL */
    const char *field, *message;
    int64_t at_us;           /* when it was recorded, microseconds since the epoch */
} cw_store_problem;
typedef int (*cw_store_problem_fn)(void *ud, const cw_store_problem *p);

/* Problems recorded after the cursor (at_us, kind, n), oldest first, at
 * most limit; kinds: bit 1 invalid, bit 2 conflict. */
int cw_store_problems(cw_db *db, unsigned kinds, int64_t after_us, int after_kind, int64_t after_n,
                      unsigned limit, cw_store_problem_fn fn, void *ud, cw_err *err);

/* ---- reports ------------------------------------------------------------------------- */

/* A finding as a report counts it. */
typedef struct cw_store_report_row {
    const char *rule, *unit, *severity, *state, *review;
    const char *assignee, *assignee_kind;    /* NULL: never assigned */
    cw_time raised, due, rect_due, resolved_at;   /* CW_TIME_NONE: none */
} cw_store_report_row;
typedef int (*cw_store_report_fn)(void *ud, const cw_store_report_row *r);

/* The findings under scope raised in [from, to), neither withdrawn nor
 * exempted at now, streamed. */
int cw_store_report_rows(cw_db *db, const char *scope, cw_time from, cw_time to, cw_time now,
                         cw_store_report_fn fn, void *ud, cw_err *err);

/* The events that open and close cases, for the backlog: case, type,
 * unit, at (as the event has it), data.kind; in seq order. */
typedef int (*cw_store_casemark_fn)(void *ud, const char *case_id, const char *type,
                                    const char *unit, const char *at, const char *kind);
int cw_store_case_marks(cw_db *db, cw_store_casemark_fn fn, void *ud, cw_err *err);
/* The open findings (not withdrawn nor cleared, review neither resolved
 * nor dismissed, not exempted at now) under scope. */
int cw_store_open_findings(cw_db *db, const char *scope, cw_time now, cw_store_finding_fn fn,
                           void *ud, cw_err *err);

/* ---- partitions and leases (leases.c) ---------------------------------------------- */

/* The number of partitions fixed at migrate. */
int cw_store_partitions(cw_db *db, unsigned *parts, cw_err *err);
/* On a Galera node, make this connection's reads wait until the node has
 * applied every write the cluster committed before them
 * (wsrep_sync_wait), or stop waiting; nothing on a lone server. */
int cw_store_sync_reads(cw_db *db, bool on, cw_err *err);
/* The highest pseq of each partition: fn(part, next). */
typedef int (*cw_store_head_fn)(void *ud, unsigned part, uint64_t next);
int cw_store_partition_heads(cw_db *db, cw_store_head_fn fn, void *ud, cw_err *err);
/* Events of partition part with pseq > after, in pseq order, at most
 * limit. */
int cw_store_partition_events(cw_db *db, unsigned part, uint64_t after, unsigned limit,
                              cw_store_event_fn fn, void *ud, cw_err *err);
/* Every lease, in partition order, into v[0..parts). */
int cw_store_leases(cw_db *db, cw_lease *v, unsigned parts, cw_err *err);
/* An engine's heartbeat (until expires, microseconds), its leaving, and
 * how many engines are live at now. */
int cw_store_member_beat(cw_db *db, const char *me, int64_t expires, cw_err *err);
int cw_store_member_leave(cw_db *db, const char *me, cw_err *err);
int cw_store_members_live(cw_db *db, int64_t now, unsigned *n, cw_err *err);
/* cw_lease_claim's transition on the stored row: *won tells whether it
 * applied; the new token in *token. */
int cw_store_lease_claim(cw_db *db, unsigned part, const char *me, uint64_t seen, int64_t now,
                         int64_t ttl, bool *won, uint64_t *token, cw_err *err);
/* cw_lease_renew on the n leases (parts[i], tokens[i]) at once; *renewed
 * counts those still mine. */
int cw_store_leases_renew(cw_db *db, const char *me, const unsigned *parts,
                          const uint64_t *tokens, size_t n, int64_t now, int64_t ttl,
                          size_t *renewed, cw_err *err);
/* cw_lease_release, with the partition's checkpoint (its highest pseq
 * judged) left for the next owner. */
int cw_store_lease_release(cw_db *db, unsigned part, const char *me, uint64_t token, uint64_t ckpt,
                           cw_err *err);
/* The findings the rules give now (not withdrawn), each with its case's
 * partition among parts. */
typedef int (*cw_store_pfinding_fn)(void *ud, const cw_store_finding *f, unsigned part);
int cw_store_findings_parts(cw_db *db, unsigned parts, cw_store_pfinding_fn fn, void *ud,
                            cw_err *err);

/* ---- the engine's writes --------------------------------------------------------- */

/* One transaction of the engine's: findings upserted and withdrawn,
 * problems recorded, the checkpoint moved. Nothing is stored until
 * cw_store_tx_commit; cw_store_tx_abort rolls back. */
typedef struct cw_store_tx cw_store_tx;

/* A finding as the engine writes it. */
typedef struct cw_store_put {
    const char *rule, *case_id, *subject, *unit, *severity, *state;
    cw_time due, raised;
    const char *message, *basis, *events;
    int64_t lead;            /* deadline: the warning lead, seconds; 0: none */
    /* provenance: the rule's version, the program; the override (NULL: none) */
    const char *rule_version, *program, *override_unit, *override_at;
} cw_store_put;

cw_store_tx *cw_store_tx_begin(cw_db *db, cw_err *err);
/* A finding new or changed. A resolved or dismissed finding whose state
 * gets worse than when it was judged becomes `reopened` (audited). */
int cw_store_tx_put(cw_store_tx *t, const cw_store_put *f);
/* A finding the rules no longer give: kept, with state `withdrawn`. */
int cw_store_tx_withdraw(cw_store_tx *t, const char *rule, const char *case_id,
                         const char *subject);
/* An event the engine could not accept. */
int cw_store_tx_problem(cw_store_tx *t, uint64_t seq, const char *id, const char *field,
                        const char *msg);
int cw_store_tx_checkpoint(cw_store_tx *t, const char *engine, uint64_t seq);
/* Fencing, first in a transaction of a partitioned engine: every lease
 * (parts[i], tokens[i]) must still be me's and unexpired at now
 * (cw_lease_fence_ok), and each gets its checkpoint ckpts[i]. The rows are
 * written, so on Galera a takeover committed meanwhile on another node
 * fails this transaction's certification. CW_ELEASE (nothing else
 * written) when a lease is no longer mine. */
/* Whether partition part's lease is me's, unexpired at now (wall µs),
 * under token: a write of its row, in the transaction open on db if
 * there is one, so that on Galera a takeover committed meanwhile on
 * another node fails its certification. */
int cw_store_lease_fence(cw_db *db, const char *me, unsigned part, uint64_t token, int64_t now,
                         bool *held, cw_err *err);
int cw_store_tx_fence(cw_store_tx *t, const char *me, const unsigned *parts, const uint64_t *tokens,
                      const uint64_t *ckpts, size_t n, int64_t now);
/* A case's image as it leaves the engine's memory (replacing its last),
 * at checkpoint gseq. */
int cw_store_tx_case_image(cw_store_tx *t, const char *case_id, uint64_t gseq, const void *image,
                           size_t len);
/* Commit and free t; on failure everything is rolled back. */
int cw_store_tx_commit(cw_store_tx *t, cw_err *err);
void cw_store_tx_abort(cw_store_tx *t);
uint64_t cw_store_tx_puts(const cw_store_tx *t);
uint64_t cw_store_tx_withdrawals(const cw_store_tx *t);

#endif
