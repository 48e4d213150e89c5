/*
 * casewarden plugin ABI: the one stable, installed header.
 *
 * A plugin is a shared object that exports one symbol,
 *
 *     const cw_plugin *cw_plugin_entry(void);
 *
 * returning a const table that starts with abi_major, abi_minor and
 * struct_size. The host refuses a plugin built for another major version,
 * or for a newer minor version than its own, with a message naming both.
 * The host hands the plugin its own versioned API table (cw_host) in
 * cw_plugin.init, so a plugin never links against host symbols.
 *
 * Rules of evolution: every struct here only ever grows at its end, and a
 * new member bumps CW_ABI_MINOR. A reader checks struct_size before using
 * a member added after the first release. Removing or reordering a member
 * bumps CW_ABI_MAJOR.
 *
 * Threading: the host calls a plugin from one thread at a time.
 * Memory: what a plugin allocates, the plugin frees (cw_model.release).
 */
#ifndef CASEWARDEN_PLUGIN_H
#define CASEWARDEN_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CW_ABI_MAJOR 1
#define CW_ABI_MINOR 4

/* Seconds since 1970-01-01T00:00:00Z. */
typedef int64_t cw_time;
#define CW_TIME_NONE INT64_MIN

/* ---- Events ---------------------------------------------------------- */

/* The kinds of a data field value. */
enum cw_vkind {
    CW_V_NULL = 0,
    CW_V_BOOL,      /* v.i is 0 or 1 */
    CW_V_INT,       /* v.i */
    CW_V_STR,       /* v.s: a string id (cw_host.str) */
    CW_V_TIME,      /* v.i: a cw_time */
    CW_V_DATE,      /* v.i: days since 1970-01-01 */
    CW_V_LIST,      /* v.list[0..n): string ids */
    CW_V_RAW        /* v.raw[0..n): compact JSON of any other value */
};

/* One data field of an event. */
typedef struct cw_fval {
    uint16_t fid;               /* field name id (cw_host.field_id) */
    uint8_t kind;               /* enum cw_vkind */
    uint8_t reserved;
    uint32_t n;                 /* LIST items, RAW bytes */
    union {
        int64_t i;
        uint32_t s;
        const uint32_t *list;
        const char *raw;
    } v;
} cw_fval;

/*
 * An event, as the engine hands it to a model. Strings other than id are
 * string ids, resolved with cw_host.str; id 0 is the empty string. The
 * struct and what it points to are borrowed for the duration of the call.
 */
typedef struct cw_event {
    const char *id;             /* the event id, NUL-terminated */
    uint64_t seq;               /* arrival order */
    cw_time at;
    uint32_t case_id;           /* string id of the case number */
    uint32_t unit;              /* string id of the unit code */
    uint32_t actor;             /* string id; 0 when absent */
    uint16_t type;              /* event type id (cw_host.type_id) */
    uint16_t nf;
    const cw_fval *f;           /* data fields */
} cw_event;

/* The data field fid of ev, or NULL. */
static inline const cw_fval *cw_event_field(const cw_event *ev, int fid)
{
    for (uint16_t i = 0; i < ev->nf; i++)
        if (ev->f[i].fid == fid)
            return &ev->f[i];
    return NULL;
}

/* ---- Parameter trees -------------------------------------------------- */

enum cw_pkind { CW_P_NULL = 0, CW_P_BOOL, CW_P_INT, CW_P_NUM, CW_P_STR, CW_P_LIST, CW_P_MAP };

/*
 * A rule's parameters as written by its author (a Lua table or YAML map),
 * with the source line of every value for error messages. Maps keep their
 * keys in keys[0..n) and values in items[0..n).
 */
typedef struct cw_value cw_value;
struct cw_value {
    uint8_t kind;               /* enum cw_pkind */
    int line;                   /* 0 when unknown */
    int64_t i;                  /* BOOL, INT */
    double d;                   /* NUM (and INT, converted) */
    const char *s;              /* STR */
    size_t n;                   /* LIST, MAP */
    const cw_value *items;
    const char *const *keys;    /* MAP */
};

/* The value for key in a map, or NULL. */
static inline const cw_value *cw_value_get(const cw_value *m, const char *key)
{
    if (m == NULL || m->kind != CW_P_MAP)
        return NULL;
    for (size_t i = 0; i < m->n; i++) {
        const char *a = m->keys[i], *b = key;
        while (*a && *a == *b)
            a++, b++;
        if (*a == *b)
            return &m->items[i];
    }
    return NULL;
}

/* ---- Findings ---------------------------------------------------------- */

enum cw_state {
    CW_ST_NONE = 0,
    CW_ST_WARNING,
    CW_ST_OVERDUE,
    CW_ST_LATE,
    CW_ST_VIOLATION,
    CW_ST_ANOMALY,
    CW_ST_CLEARED
};

enum cw_fmode {
    /*
     * A deadline: the host derives the state from due, lead, met and the
     * evaluation time (DOMAIN.md's "A -> B within T"), arms the timers and
     * writes the state-specific tail of the message.
     */
    CW_FM_DEADLINE = 1,
    /* A judgement with a fixed state (violation, anomaly, late). It holds
     * from `raised` on: asked for a time before that, it is no finding
     * (and the host arms a timer for it). */
    CW_FM_FIXED = 2
};

#define CW_FF_UNCOVERED 0x01    /* the due date lies past the calendar */

/* A finding as a model states it. Everything is copied by the host. */
typedef struct cw_finding_in {
    uint32_t subject;           /* string id; 0 for the case itself */
    uint8_t mode;               /* enum cw_fmode */
    uint8_t state;              /* CW_FM_FIXED: enum cw_state */
    uint8_t flags;              /* CW_FF_* */
    cw_time due;                /* deadline: the last on-time second;
                                   fixed: CW_TIME_NONE or a due to show */
    int64_t lead;               /* deadline: warning lead in seconds, 0 = none */
    cw_time met;                /* deadline: when B happened, or CW_TIME_NONE */
    cw_time raised;             /* fixed: when the finding arose */
    const char *message;        /* fixed: the whole text; deadline: what
                                   started the clock and the period, e.g.
                                   "受案 2026-03-02, 期限 30 日", or NULL
                                   to have the host write it from `period` */
    const char *const *events;  /* ids of the events it rests on */
    size_t nevents;
    /* deadline without a message: the host writes the description when
     * the finding is read ("LABEL DATE, 期限 N UNIT (含延长 E 日)"), so a
     * model that recomputes often builds no text */
    struct {
        uint32_t label;         /* string id: what started the clock ("受案") */
        uint8_t unit;           /* enum cw_period_unit */
        int32_t n;              /* the period in that unit, extensions included */
        int32_t ext_days;       /* of which days added by extensions */
        cw_time start;
    } period;
} cw_finding_in;

enum cw_period_unit { CW_PU_NONE = 0, CW_PU_DAYS, CW_PU_HOURS, CW_PU_MONTHS, CW_PU_WORKDAYS };

/* ---- The host API ------------------------------------------------------ */

/* Opaque to plugins: a call's context, and a case. */
typedef struct cw_ctx cw_ctx;
typedef struct cw_case cw_case;

/* The rule a model instance serves. */
typedef struct cw_rule_info {
    const char *id;
    const char *title;
    const char *severity;
    const char *basis;
    const char *file;           /* where it was declared */
    int line;
} cw_rule_info;

enum cw_log_level { CW_LOG_ERROR = 0, CW_LOG_WARN, CW_LOG_INFO, CW_LOG_DEBUG };

/* Case attributes taken from its case.accepted. */
typedef struct cw_case_info {
    uint32_t id;                /* case number */
    uint32_t unit;              /* unit of its latest event */
    uint32_t kind;              /* data.kind; 0 unknown */
    uint32_t cause;             /* data.cause; 0 unknown */
    cw_time accepted_at;        /* CW_TIME_NONE when not accepted */
    cw_time offence_at;         /* data.offence_at, else accepted_at */
} cw_case_info;

typedef int (*cw_event_fn)(void *ud, const cw_case *c, const cw_event *ev);

typedef struct cw_host {
    uint32_t abi_major, abi_minor, struct_size;

    /* Names. An event type id, or -1 when the catalogue lacks the type. */
    int (*type_id)(cw_ctx *ctx, const char *name);
    const char *(*type_name)(cw_ctx *ctx, int type);
    /* The type's title from the catalogue ("受案"), or its name. */
    const char *(*type_title)(cw_ctx *ctx, int type);
    /* A field name id (created on first use; -1 only when out of ids). */
    int (*field_id)(cw_ctx *ctx, const char *name);
    /* Whether the catalogue declares field fid for type. */
    bool (*type_has_field)(cw_ctx *ctx, int type, int fid);
    /* String ids: intern returns 0 for "", str never returns NULL. */
    uint32_t (*intern)(cw_ctx *ctx, const char *s, size_t len);
    const char *(*str)(cw_ctx *ctx, uint32_t id);

    /* Configuration time only: deliver events of this type to the
     * instance's on_event, and keep an index of events of `type` by the
     * string field fid, for find_events. */
    int (*listen)(cw_ctx *ctx, int type);
    int (*want_index)(cw_ctx *ctx, int type, int fid);
    /* Configuration time only: read every file of the rules directory's
     * subdirectory `dir` whose name ends in `suffix` (".yaml"), in name
     * order, as YAML, and call fn with its path and its tree (lines
     * included). The trees stay valid as long as the ruleset. Returns 0,
     * fn's first non-zero return, or -1 with the reason in err (a file
     * that does not parse: path:line). */
    int (*data_files)(cw_ctx *ctx, const char *dir, const char *suffix,
                      int (*fn)(void *ud, const char *path, const cw_value *doc), void *ud,
                      char *err, size_t errlen);
    /* Configuration time only: report one problem (file:line: what) and
     * go on looking for more; the ruleset will not load. For models that
     * check data, so that every problem is listed at once. */
    void (*problem)(cw_ctx *ctx, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

    /* Cases. The timeline a model sees ends at the event being evaluated:
     * later events have not happened yet. */
    void (*case_info)(cw_ctx *ctx, const cw_case *c, cw_case_info *out);
    /* Call fn for each event of c's timeline in (at, seq) order whose
     * type is one of types[0..ntypes) (all types when types is NULL); a
     * non-zero return from fn stops the walk and is returned. Events of
     * other types are skipped without being decoded. */
    int (*case_events)(cw_ctx *ctx, const cw_case *c, const int *types, size_t ntypes,
                       cw_event_fn fn, void *ud);
    /* Every event of `type` whose field fid equals (or, for a list field,
     * contains) the string id value, in any case, with from <= at <= to,
     * oldest first (an index asked for with want_index; pass
     * CW_TIME_NONE and INT64_MAX for all). Same stop rule. An event of a
     * kept index (index_window 0) whose case has left memory is not
     * passed to fn: its case is judged again once the event under way is
     * done, so a model that revisits from the other side (revisit_indexed)
     * sees the pair then. */
    int (*find_events)(cw_ctx *ctx, int type, int fid, uint32_t value, cw_time from,
                       cw_time to, cw_event_fn fn, void *ud);
    /* The time of the event being evaluated. */
    cw_time (*now)(cw_ctx *ctx);

    /* Whether the rule applies to a case at time t (scope: kind, units;
     * effective period). With t = CW_TIME_NONE only the scope is asked:
     * a model keeps counting what falls in another version's period so
     * that versions of one rule id number subjects as one rule would. */
    bool (*applies)(cw_ctx *ctx, const cw_case *c, cw_time t);

    /* The legal calendar (DESIGN.md "Legal periods"); uncovered may be
     * NULL and is set when a day past the calendar decided the result. */
    cw_time (*add_days)(cw_ctx *ctx, cw_time start, int n, bool rollover, bool *uncovered);
    cw_time (*add_workdays)(cw_ctx *ctx, cw_time start, int n, bool *uncovered);
    cw_time (*add_months)(cw_ctx *ctx, cw_time start, int n, int extra_days,
                          bool rollover, bool *uncovered);
    int (*tz_offset)(cw_ctx *ctx);              /* minutes east of UTC */
    /* t in the deployment's offset: "2026-03-02" (date_only) or
     * "2026-03-02 09:30". Returns the length written. */
    size_t (*format_time)(cw_ctx *ctx, cw_time t, bool date_only, char *buf, size_t size);

    /* Findings of the calling rule on case c. sync replaces the whole set
     * (findings not in f[0..n) are withdrawn); emit adds or replaces the
     * one with the same subject; retract withdraws one. */
    int (*sync)(cw_ctx *ctx, const cw_case *c, const cw_finding_in *f, size_t n);
    int (*emit)(cw_ctx *ctx, const cw_case *c, const cw_finding_in *f);
    int (*retract)(cw_ctx *ctx, const cw_case *c, uint32_t subject);

    void (*log)(cw_ctx *ctx, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* Since 1.1. Which run of events is being dispatched: a number that
     * changes when a new engine starts over the ruleset (each fixture,
     * each eval) and when an engine dispatches all its events again from
     * the start; it stays the same while a case is replayed because an
     * older event of it arrived late. A model that keeps state across
     * cases (peers, counters) drops it when the number changes. */
    uint64_t (*generation)(cw_ctx *ctx);

    /* Since 1.2. The calling rule's per-case state: a slot the host keeps
     * with case c, NULL until the model sets it. When the case is judged
     * again from its start (a late event), or leaves memory, the host
     * hands the state to the model's case_free and clears the slot, so a
     * model keeps no state of its own keyed by case. Evaluation only. */
    void **(*case_slot)(cw_ctx *ctx, const cw_case *c);
    /* Since 1.2. Configuration time: keep the index of (type, fid)
     * asked for with want_index for `seconds` behind the engine's clock
     * once its events' cases have left memory (0: for good, without the
     * events' contents, for revisit_indexed). Without it the deployment's
     * default applies (engine.yaml memory.index_days). */
    int (*index_window)(cw_ctx *ctx, int type, int fid, int64_t seconds);
    /* Since 1.2. Judge again, from their start and once the event under
     * way is done, every case with an indexed event of type whose field
     * fid is value (brought back to memory when they left it): for a
     * model whose completing event lives in another case. */
    void (*revisit_indexed)(cw_ctx *ctx, int type, int fid, uint32_t value);
    /* Since 1.3. Whether the reasoning of the call under way is being
     * recorded (casewarden explain, for one case). It is false in every
     * other run: a model tests it before it builds the text of a step, so
     * explaining costs nothing when nobody asks. */
    bool (*tracing)(cw_ctx *ctx);
    /* Since 1.3. One step of the reasoning behind the finding of subject
     * (0: the case's own finding, or every finding of the rule on the
     * case): kind names the step ("extension", "refused", "table",
     * "age", ...), the text says it in Chinese for the inspector. kind
     * NULL forgets the steps the calling rule recorded on this case so
     * far (a model that judges the case again from its start). Nothing
     * is kept when tracing is false. */
    void (*trace)(cw_ctx *ctx, uint32_t subject, const char *kind, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
    /* Since 1.4. Judge again, from its start and once the event under
     * way is done, the case whose number is the string id case_id
     * (cw_case_info.id; brought back to memory when it left it): for a
     * model with state across cases whose conclusion on that case changed
     * because of an event of another case (a peer that arrived late). */
    void (*revisit_case)(cw_ctx *ctx, uint32_t case_id);
} cw_host;

/* ---- What a plugin exports --------------------------------------------- */

/* A model: reusable logic that rules instantiate with parameters. */
typedef struct cw_model {
    uint32_t struct_size;
    const char *name;           /* what rules call it: deadline{...} */
    const char *summary;
    /* Check params and build an instance in *inst. On error write one line
     * to err ("line N: what", N from the cw_value) and return non-zero. */
    int (*configure)(cw_ctx *ctx, const cw_rule_info *rule, const cw_value *params,
                     void **inst, char *err, size_t errlen);
    /* An event of a listened type arrived in case c. Returns 0, or
     * non-zero on an internal error (the host quarantines the rule). */
    int (*on_event)(void *inst, cw_ctx *ctx, const cw_case *c, const cw_event *ev);
    void (*release)(void *inst);
    /* Since 1.2 (check struct_size). Free a per-case state the model put
     * in a case_slot; may be NULL for models that use none. */
    void (*case_free)(void *inst, void *state);
    /* Since 1.2 (check struct_size). The instance's state across cases
     * (peers, counters), for a snapshot the service restarts from: save
     * hands it to put(w, ...) in as many pieces as it likes; load gets
     * the whole back, in another process (string ids do not carry over:
     * write strings), before any event of the new run. Returns 0, or
     * non-zero to refuse (the service then judges the log again). May be
     * NULL for models that keep nothing across cases. */
    int (*save)(void *inst, cw_ctx *ctx, void (*put)(void *w, const void *p, size_t n), void *w);
    int (*load)(void *inst, cw_ctx *ctx, const void *p, size_t n);

    /* Since 1.2, both optional (NULL, or a model built for 1.1 whose
     * struct_size ends before them: the host checks struct_size).
     *
     * advise answers a question about a decision still to be made (the
     * 智能量罚 of `casewarden sanction` and POST /v1/sanctions/suggest):
     * what the instance would accept, with the same code it judges
     * decisions with. `query` is a map (docs/SANCTIONS.md, "Suggestions":
     * cause, circumstance, factors, offence_at and decided_at as integer
     * times, unit, person {birth_date, flags, first_offence}, and advice:
     * the answers of the rules asked before, by rule id). On success it
     * returns 0 with a JSON object in *answer, allocated by the plugin and
     * handed back to advice_free, or NULL when it has nothing to say;
     * otherwise non-zero with one line in err. The host calls it from the
     * thread that runs the engine, at any time after configure. */
    int (*advise)(void *inst, cw_ctx *ctx, const cw_value *query, char **answer, char *err,
                  size_t errlen);
    void (*advice_free)(void *inst, char *answer);

    /* Since 1.3, optional. The states the instance can give a finding, as
     * bits 1 << enum cw_state (`casewarden test --coverage` sets them
     * against those its fixtures produced). NULL: violation only. */
    uint32_t (*states)(void *inst);
} cw_model;

/* Whether model m (of a plugin built for any 1.x) has member `field`. */
#define CW_MODEL_HAS(m, field) \
    ((m)->struct_size >= offsetof(cw_model, field) + sizeof(((cw_model *)0)->field))

typedef struct cw_plugin {
    uint32_t abi_major, abi_minor, struct_size;
    const char *name;
    const char *version;
    /* Called once after loading, before any configure. Returns 0, or
     * non-zero with a message in err to refuse loading. */
    int (*init)(const cw_host *host, char *err, size_t errlen);
    const cw_model *const *models;
    size_t nmodels;
} cw_plugin;

#define CW_PLUGIN_ENTRY "cw_plugin_entry"
typedef const cw_plugin *(*cw_plugin_entry_fn)(void);

/*
 * The usual plugin, in one line after its models:
 *
 *     static const cw_host *H;
 *     ...
 *     CW_PLUGIN_DEFINE(H, "deadline", "1.0", &deadline_model)
 *
 * defines cw_plugin_entry, and an init that keeps the host table in H and
 * refuses a host of another major version, or one too old to have every
 * member this header declares. Needs <stdio.h>. The host calls init once
 * per ruleset loaded, at one time, and always with the same table: H is
 * written the first time only, so that a second ruleset loaded while the
 * first one's rules run (serve --threads) writes nothing they read.
 */
#define CW_PLUGIN_DEFINE(host_var, pname, pversion, ...)                                   \
    static const cw_model *const cw__models[] = { __VA_ARGS__ };                          \
    static int cw__init(const cw_host *host, char *err, size_t len)                       \
    {                                                                                     \
        if (host->abi_major != CW_ABI_MAJOR || host->struct_size < sizeof(cw_host)) {     \
            snprintf(err, len, "host ABI %u.%u, plugin needs %d.%d", host->abi_major,     \
                     host->abi_minor, CW_ABI_MAJOR, CW_ABI_MINOR);                        \
            return -1;                                                                    \
        }                                                                                 \
        if (host_var != host)                                                             \
            host_var = host;                                                              \
        return 0;                                                                         \
    }                                                                                     \
    static const cw_plugin cw__plugin = {                                                 \
        .abi_major = CW_ABI_MAJOR,                                                        \
        .abi_minor = CW_ABI_MINOR,                                                        \
        .struct_size = sizeof(cw_plugin),                                                 \
        .name = pname,                                                                    \
        .version = pversion,                                                              \
        .init = cw__init,                                                                 \
        .models = cw__models,                                                             \
        .nmodels = sizeof cw__models / sizeof cw__models[0],                              \
    };                                                                                    \
    const cw_plugin *cw_plugin_entry(void);                                               \
    const cw_plugin *cw_plugin_entry(void)                                                \
    {                                                                                     \
        return &cw__plugin;                                                               \
    }

#ifdef __cplusplus
}
#endif
#endif
