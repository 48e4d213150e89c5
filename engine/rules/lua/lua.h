/*
 * The Lua host: rule files run in a sandbox, one Lua state per file.
 *
 * A state has only the base, string, table, math and utf8 libraries,
 * without load, loadfile, dofile, require, collectgarbage, string.dump
 * or math.random; chunks are text only. Each state has a counting
 * allocator that refuses past the file's memory cap, and every call into
 * it runs under an instruction budget: a count hook tallies instructions
 * and, once the budget or the cap is hit, turns into a hook on every
 * line and instruction that raises again, so a pcall in the rule cannot
 * swallow the stop. A rule stopped that way, or that raises an error, is
 * quarantined; the others go on.
 *
 * The vocabulary rules are written in is in docs/RULES.md.
 */
#ifndef CW_LUAHOST_H
#define CW_LUAHOST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"
#include "rules/ruleset.h"

/* Run the rule file at path in a new sandboxed state; its declarations
 * add rules to rs. Returns 0; 1 when some declarations were refused (each
 * already reported through cw__ruleset_problem, the rest of the file was
 * still run); or an error naming path:line for a file that could not run
 * to its end. The file is added to rs->files either way (cw_ruleset_free
 * closes it). */
int cw_lua_load_file(cw_ruleset *rs, const char *path, cw_err *err);
void cw_lua_close(cw_luafile *lf);

/* The path the file was loaded from. */
const char *cw_lua_path(const cw_luafile *lf);

/* Bytes a file's state holds now. */
size_t cw_lua_memory(const cw_luafile *lf);

/* Record the lines that run in files loaded from now on (casewarden test
 * --coverage; a line hook, off in every other run). */
void cw_lua_set_coverage(bool on);
/* For a file loaded with coverage: can[l] and hit[l] for lines 1..n-1
 * (a line that ran counts as one that can). false without coverage. */
bool cw_lua_coverage(const cw_luafile *lf, const uint8_t **can, const uint8_t **hit, int *n);

/* A copy of the Lua check rule inst whose params table has the values
 * of set over its own (severity and enabled left out): the rule an
 * override makes (rules/overrides.yaml). Released like inst. */
void *cw__lua_variant(const void *inst, const cw_value *set);

/* The model behind Lua check rules (rule{...}). */
extern const cw_model cw_lua_model;

#endif
