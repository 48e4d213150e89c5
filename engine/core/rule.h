/*
 * The rules as the engine runs them: the compiled form of a rules
 * directory (rules/ruleset.h loads it), with the dispatch tables the
 * engine reads on every event. The engine (core/) depends on these types
 * only; loading, plugins and the Lua host live above it in rules/.
 */
#ifndef CW_CORE_RULE_H
#define CW_CORE_RULE_H

#include <stdbool.h>
#include <stdio.h>

#include "casewarden/plugin.h"
#include "event/record.h"
#include "law/age.h"
#include "law/calendar.h"
#include "law/catalogue.h"

typedef struct cw_luafile cw_luafile;

typedef enum { CW_RULE_ACTIVE = 0, CW_RULE_QUARANTINED } cw_rule_status;

typedef struct cw_rule {
    cw_rule_info info;       /* strings owned by the rule */
    uint16_t index;          /* position in the ruleset */
    int sev;                 /* 0 low .. 3 critical */
    /* scope */
    uint32_t kind;           /* case kind (string id); 0 = any */
    char **units;            /* unit prefixes; none = all */
    size_t nunits;
    cw_day from, to;         /* effective period, both included */
    /* implementation: a model instance (C plugin or Lua) */
    const cw_model *model;
    void *inst;
    cw_luafile *lua;         /* the file that declared it */
    /* state */
    cw_rule_status status;
    char *last_error;
    uint64_t evals, errors;
    uint64_t needs;          /* the case must have these types (ruleset's needbit) */
    bool cross;              /* sees other cases: runs only in the engine that
                                runs the cross-case rules (cw_engine_set_cross) */
    bool indexes;            /* asked for a cross-case index: it looks at other
                                cases (a reload judges it in time order) */
    uint64_t nanos;          /* time in the rule, when the engine times rules */
    uint32_t states;         /* Lua rule{}: the states it declares (1 << cw_state); 0 none */
    /* per-unit overrides (rules/overrides.yaml): units left to a more
     * specific override; for a rule made by one, where it was written
     * ("overrides.yaml:7") and for which unit prefix; its parameters as
     * they take effect (in the ruleset's data arena) */
    char **xunits;
    size_t nxunits;
    char *override;
    const char *override_unit;
    const cw_value *override_set;    /* what the override sets */
    const cw_value *params;
    /* provenance: a digest of the declaration, its parameters and the
     * data it reads (calendar, catalogue, the model's data files), as 16
     * hex digits; data_digest accumulates the data files as they are read */
    uint64_t data_digest;
    char version[17];
} cw_rule;

/* The program that judges: "casewarden VERSION (plugin ABI M.N)". */
const char *cw_program_version(void);

/* One entry of rules/overrides.yaml. */
typedef struct cw_override {
    char *unit, *rule, *file;
    int line;
    const cw_value *set;     /* the parameters it changes (data arena) */
    int sev;                 /* 0-3, or -1: unchanged */
    bool disabled;           /* enabled: false */
    bool used;               /* a rule of that id was declared */
} cw_override;

typedef struct cw_plugin_handle {
    void *dl;
    const cw_plugin *p;
    char *path;
} cw_plugin_handle;

#define CW_IDLE_S (30 * 86400)          /* memory.idle_days default */
#define CW_INDEX_WINDOW_S (30 * 86400)  /* memory.index_days default */

/* One (event type, field) pair some rule wants indexed across cases. */
#define CW_IDLE_S (30 * 86400)          /* memory.idle_days default */
#define CW_INDEX_WINDOW_S (30 * 86400)  /* memory.index_days default */

/* One (event type, field) pair some rule wants indexed across cases;
 * window: seconds behind the engine's clock that entries of cases out of
 * memory stay (0: kept as stubs for revisiting, forever). */
typedef struct cw_index_spec {
    int type, fid;
    int64_t window;
} cw_index_spec;

typedef struct cw_ruleset {
    char *dir;
    cw_world *world;         /* borrowed */
    int tz;                  /* minutes east of UTC */
    cw_age_from age_from;    /* how 周岁 are counted (engine.yaml age_from) */
    cw_catalogue *cat;
    cw_calendar *cal;
    cw_plugin_handle *plugins;
    size_t nplugins;
    cw_luafile **files;
    size_t nfiles;
    cw_rule **rules;
    size_t nrules;
    /* dispatch: for each names id of an event type, the rules listening */
    uint16_t **listen;
    uint16_t *nlisten;
    size_t nlisten_types;
    cw_index_spec *idx;
    size_t nidx;
    /* `needs`: for each names id of an event type, 1 + its bit in
     * cw_case.has, or 0 */
    uint8_t *needbit;
    size_t nneedbit;
    int nneeds;
    /* Lua limits */
    size_t lua_memory;       /* bytes per rule file */
    uint64_t lua_budget;     /* instructions per call */
    /* names ids the engine itself needs */
    int t_accepted, t_transfer_unit, f_kind, f_cause, f_offence_at;
    /* memory (engine.yaml `memory:`): seconds a settled, quiet case stays,
     * and the default window of cross-case indexes */
    int64_t idle_s, index_s;
    uint64_t digest;         /* of the rules directory and plugins */
    struct loader *loading;  /* while cw_ruleset_load runs */
    struct cw_varena *data;  /* data files read for models (data_files) */
    cw_override *ovr;        /* rules/overrides.yaml */
    size_t novr;
} cw_ruleset;

cw_rule *cw_ruleset_find(const cw_ruleset *rs, const char *id);

/* Scope and effective period: does rule r judge a case of this kind and
 * unit, for an act or step at time t? */
bool cw_rule_in_scope(const cw_rule *r, const cw_ruleset *rs, uint32_t kind,
                      const char *unit, cw_time t);

/* The states rule r can give a finding (bits 1 << enum cw_state): what a
 * Lua rule declares, what its model says (cw_model.states), or violation. */
uint32_t cw_rule_states(const cw_rule *r);

/* Mark r quarantined with a reason (copied); logged once. */
void cw_rule_quarantine(cw_rule *r, const char *why);

/* The model's case_free, when it has one (ABI 1.2). */
static inline void (*cw_model_case_free(const cw_model *m))(void *, void *)
{
    if (m->struct_size < offsetof(cw_model, case_free) + sizeof m->case_free)
        return NULL;
    return m->case_free;
}

/* The model's save and load (ABI 1.2), when it has them. */
static inline bool cw_model_saves(const cw_model *m)
{
    return m->struct_size >= offsetof(cw_model, load) + sizeof m->load && m->save != NULL &&
           m->load != NULL;
}

/* Configuration-time registration (cw_host.listen, want_index). */
int cw__listen(cw_ruleset *rs, cw_rule *r, int type);
int cw__want_index(cw_ruleset *rs, int type, int fid);
/* The same with a window in seconds (0: kept for good); a pair asked for
 * twice keeps the larger. */
int cw__want_index_window(cw_ruleset *rs, int type, int fid, int64_t window);

#endif
