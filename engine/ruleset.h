/*
 * A ruleset: the configuration, catalogue, calendar, plugins and rules of
 * a rules directory, loaded as one unit, so that a reload replaces all of
 * it or nothing.
 *
 *     DIR/engine.yaml         settings (optional): timezone, catalogue and
 *                             calendar paths, plugins, Lua limits
 *     DIR/catalogue.yaml      event catalogue
 *     DIR/calendar/NNNN.yaml  legal calendar, one file per year
 *     DIR/NAME.lua            rules (docs/RULES.md)
 *     DIR/tests/NAME.yaml     fixture tests (casewarden test)
 */
#ifndef CW_RULESET_H
#define CW_RULESET_H

#include <stdbool.h>
#include <stdio.h>

#include "calendar.h"
#include "catalogue.h"
#include "casewarden/plugin.h"
#include "err.h"
#include "timeline.h"

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
    uint64_t nanos;          /* time in the rule, when the engine times rules */
} cw_rule;

typedef struct cw_plugin_handle {
    void *dl;
    const cw_plugin *p;
    char *path;
} cw_plugin_handle;

/* One (event type, field) pair some rule wants indexed across cases. */
typedef struct cw_index_spec {
    int type, fid;
} cw_index_spec;

typedef struct cw_ruleset {
    char *dir;
    cw_world *world;         /* borrowed */
    int tz;                  /* minutes east of UTC */
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
    int t_accepted, f_kind, f_cause, f_offence_at;
    struct loader *loading;  /* while cw_ruleset_load runs */
    struct cw_varena *data;  /* data files read for models (data_files) */
} cw_ruleset;

typedef struct cw_load_opts {
    const char *plugin_path; /* colon-separated; NULL = default search */
    FILE *report;            /* every problem, one line each; NULL = none */
} cw_load_opts;

/*
 * Load everything under dir. Returns 0, or an error after reporting every
 * problem found (file:line) to opts->report; err holds the first. The
 * world must outlive the ruleset.
 */
int cw_ruleset_load(cw_ruleset **out, cw_world *w, const char *dir,
                    const cw_load_opts *opts, cw_err *err);
void cw_ruleset_free(cw_ruleset *rs);

/* Load one plugin file: the entry symbol, the ABI check (another major,
 * or a newer minor, is refused naming both versions), then its init.
 * Returns 0 or CW_EIO/CW_EABI with the reason in err. */
int cw_plugin_open(const char *path, cw_plugin_handle *h, cw_err *err);
void cw_plugin_close(cw_plugin_handle *h);

cw_rule *cw_ruleset_find(const cw_ruleset *rs, const char *id);

/* Scope and effective period: does rule r judge a case of this kind and
 * unit, for an act or step at time t? */
bool cw_rule_in_scope(const cw_rule *r, const cw_ruleset *rs, uint32_t kind,
                      const char *unit, cw_time t);

/* Mark r quarantined with a reason (copied); logged once. */
void cw_rule_quarantine(cw_rule *r, const char *why);

/* Used by the Lua host while a file runs: declare a rule backed by model
 * m with params (m == NULL: a Lua check rule, inst given). Takes nothing;
 * copies what it keeps. Returns 0 or an error with file:line in err. */
int cw__ruleset_declare(cw_ruleset *rs, cw_luafile *lf, const char *file, int line,
                        const cw_rule_info *info, const cw_value *scope,
                        const cw_value *effective, const cw_model *m,
                        const cw_value *params, void *inst, cw_err *err);
/* While loading: record one problem and go on (a declaration that is
 * wrong does not stop the rest of its file from being checked). */
void cw__ruleset_problem(cw_ruleset *rs, const cw_err *e);
/* The model named name among the loaded plugins, or NULL. */
const cw_model *cw__ruleset_model(const cw_ruleset *rs, const char *name);

#endif
