/*
 * Notifications (执法提醒): the configuration in rules/notify.yaml, the
 * routing of a finding's change to receivers, escalation ladders, quiet
 * hours over the legal calendar, body templates and the webhook's
 * signature. No database here: engine/store keeps the outbox and the
 * service's notifier thread drives delivery (docs/NOTIFY.md).
 *
 * A loaded cw_notify is immutable; the service swaps it whole at a
 * reload, so one thread may use it while another loads the next.
 */
#ifndef CW_NOTIFY_H
#define CW_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "law/calendar.h"

/* What happened to a finding, as routes match it. */
enum {
    CW_TR_RAISED = 0,        /* a new finding (or one back from withdrawn) */
    CW_TR_OVERDUE,           /* its state became overdue */
    CW_TR_LATE,              /* ... late */
    CW_TR_CLEARED,           /* ... cleared */
    CW_TR_REOPENED,          /* its review became reopened */
    CW_TR_ESCALATED,         /* a level of an escalation ladder (not routed) */
    CW_TR_REPEATED,          /* a reminder of a finding still open (repeat_interval; not routed) */
    CW_TR_NTRANS
};
const char *cw_notify_transition_name(int tr);
/* CW_TR_* of a name, or -1. */
int cw_notify_transition_find(const char *name);

/* What group_by can name. */
enum {
    CW_G_UNIT = 1, CW_G_RULE = 2, CW_G_CASE = 4, CW_G_SEVERITY = 8, CW_G_STATE = 16,
    CW_G_TRANSITION = 32
};

/* Conditions of an escalation level. */
enum { CW_ESC_STILL_OVERDUE = 0, CW_ESC_NOT_ACKNOWLEDGED, CW_ESC_NOT_ASSIGNED };
const char *cw_notify_condition_name(int c);

/* A finding as routing and templates see it; strings borrowed. */
typedef struct cw_notify_finding {
    int64_t id;
    const char *rule, *case_id, *subject, *unit, *severity, *state, *review;
    const char *message, *basis;
    cw_time due, raised;
    bool exempted;
} cw_notify_finding;

/* A matcher: every list that is not empty must hold the finding's value
 * (unit: a prefix of it). */
typedef struct cw_notify_match {
    char **rule, **severity, **state, **unit;
    size_t nrule, nseverity, nstate, nunit;
    unsigned transitions;    /* bit per CW_TR_*; 0: any */
} cw_notify_match;

typedef struct cw_notify_receiver {
    char *name, *url;
    char **headers;          /* "Name: value" */
    size_t nheaders;
    char *secret;            /* HMAC-SHA256 key; NULL: unsigned */
    char *sig_header, *ts_header, *key_header;
    long timeout_ms;
    struct cw_tmpl *body;
    bool quiet;              /* hold what is not high outside working hours */
    int work_from, work_to;  /* minutes after local midnight */
    int line;
} cw_notify_receiver;

typedef struct cw_notify_route {
    cw_notify_match m;
    size_t *receivers;       /* indexes into cw_notify.receivers */
    size_t nreceivers;
    bool cont;
    unsigned group_by;       /* CW_G_* bits; 0: one message per finding */
    int64_t group_wait_ms, group_interval_ms;
    int64_t repeat_s;        /* remind again while the finding is open; 0: never */
    struct cw_notify_route *kids;
    size_t nkids;
    int line;
} cw_notify_route;

typedef struct cw_notify_level {
    int64_t delay_s;         /* after the previous level (the first: after the start) */
    int when;                /* CW_ESC_* */
    size_t *receivers;
    size_t nreceivers;
    int line;
} cw_notify_level;

typedef struct cw_notify_ladder {
    char *name;
    cw_notify_match m;       /* which changes start it (default: overdue) */
    cw_notify_level *levels;
    size_t nlevels;
    int line;
} cw_notify_ladder;

typedef struct cw_notify {
    char *path;              /* the file read, for messages */
    char *console;           /* the console's base URL for links ("" none) */
    cw_notify_receiver *receivers;
    size_t nreceivers;
    cw_notify_route root;
    cw_notify_ladder *ladders;
    size_t nladders;
    unsigned concurrency;    /* deliveries in flight at most */
    unsigned max_attempts;   /* then dead-lettered */
    int64_t backoff_ms, backoff_max_ms;
    cw_calendar *cal;        /* for quiet hours: the rules' calendar */
    bool owns_cal;
    int tz;
} cw_notify;

/* Load DIR/notify.yaml (with the calendar in DIR/calendar, or the one its
 * `calendar:` names, at UTC offset tz minutes). *out is NULL with 0 when
 * there is no notify.yaml: nothing is notified. Every problem is an error
 * naming file:line; the file is refused whole. Free with cw_notify_free. */
int cw_notify_load(cw_notify **out, const char *dir, int tz, cw_err *err);
/* The same from a buffer (name stands for the path), with a calendar the
 * caller keeps alive while the result lives (not freed by it). */
int cw_notify_parse(cw_notify **out, const char *name, const char *buf, size_t len,
                    cw_calendar *cal, int tz, cw_err *err);
void cw_notify_free(cw_notify *n);
size_t cw_notify_receiver_find(const cw_notify *n, const char *name);   /* SIZE_MAX: none */

bool cw_notify_match_finding(const cw_notify_match *m, const cw_notify_finding *f, int tr);

/* One receiver a change goes to, by the route that chose it. */
typedef struct cw_notify_hit {
    size_t receiver;
    const cw_notify_route *route;
    char group[320];         /* the group's key ("" when not grouped) */
} cw_notify_hit;

/* The receivers a finding's change tr reaches, in route order, each
 * receiver once; at most max. Returns how many. */
size_t cw_notify_route_finding(const cw_notify *n, const cw_notify_finding *f, int tr,
                               cw_notify_hit *out, size_t max);

/* When a message to r may go out: now, or, outside working hours with
 * quiet hours and nothing high, the start of working hours on the next
 * working day of the calendar (调休 working days included). */
cw_time cw_notify_release_at(const cw_notify *n, const cw_notify_receiver *r, cw_time now,
                             bool high);
/* Whether a severity goes out in quiet hours. */
bool cw_notify_is_high(const char *severity);
/* Whether f is still open: a judgement that needs doing something
 * (warning, overdue, violation, anomaly), a review not closed, no
 * exemption. Reminders go while it is. */
bool cw_notify_is_open(const cw_notify_finding *f);
/* Whether escalation condition c still holds for f. */
bool cw_notify_condition_holds(int c, const cw_notify_finding *f);

/* ---- bodies --------------------------------------------------------------------- */

/* One finding of a message, as a template renders it. */
typedef struct cw_notify_item {
    cw_notify_finding f;
    int transition;          /* CW_TR_* */
    const char *key;         /* its idempotency key */
} cw_notify_item;

/* A message: the items of one group for one receiver. */
typedef struct cw_notify_msg {
    const char *receiver, *group, *key, *ladder;
    int level;               /* the escalation level (1..), 0: none */
    const cw_notify_item *items;
    size_t nitems;
} cw_notify_msg;

/* Render r's body for m into out (NUL-terminated, malloc'd; free it).
 * The template was checked at load, so this cannot fail. */
char *cw_notify_render(const cw_notify *n, const cw_notify_receiver *r, const cw_notify_msg *m,
                       size_t *len);

/* The signature header's value for body sent at ts: "sha256=" and the hex
 * HMAC-SHA256 of "<ts>.<body>" under the secret. */
void cw_notify_sign(const char *secret, int64_t ts, const char *body, size_t len, char out[72]);

/* ---- delivery over HTTP (libcurl multi) ------------------------------------------ */

typedef struct cw_notify_http cw_notify_http;
/* What one delivery came to: status 0 when no answer (err says why). */
typedef void (*cw_notify_done_fn)(void *ud, uint64_t tag, long status, const char *err,
                                  double seconds);
cw_notify_http *cw_notify_http_new(void);
void cw_notify_http_free(cw_notify_http *h);
/* Start posting body to r (signed at ts, with key); tag comes back in done.
 * The body is copied. */
int cw_notify_http_post(cw_notify_http *h, const cw_notify_receiver *r, const char *body,
                        size_t len, const char *key, int64_t ts, uint64_t tag, cw_err *err);
/* Run transfers for up to timeout_ms, calling done for each that ended.
 * Returns the number still in flight. */
unsigned cw_notify_http_poll(cw_notify_http *h, int timeout_ms, cw_notify_done_fn done, void *ud);
unsigned cw_notify_http_inflight(const cw_notify_http *h);

#endif
