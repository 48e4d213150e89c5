/*
 * A threaded evaluation (casewarden eval --threads N): the same findings
 * as one cw_eval, from N engines in N threads.
 *
 * Cases are divided as the engines of a cluster divide them
 * (docs/SCALING.md): a case's partition is CRC32 of its case number
 * modulo CW_PEVAL_PARTS (cw_lease_part). Thread 0 runs the rules marked
 * cross-case (cw_rule.cross) over every event, as the holder of
 * partition 0 does, the other threads' cases marked foreign
 * (cw_engine_set_foreign); since these rules are the largest share of
 * the work it owns no partition itself, and thread k >= 1 owns the
 * partitions p with 1 + p % (N - 1) == k, running every other rule on
 * their cases. Without cross-case rules thread k owns p % N == k. Each
 * finding has one writer.
 *
 * The calling thread reads and parses the file once: it checks every
 * line (errors, duplicates and conflicts reported in line order, as
 * cw_eval_read does), numbers the events, and hands each one, parsed, to
 * the threads that judge its case through bounded queues. Each thread
 * owns its world and ruleset (string tables and Lua states are not
 * shareable); they share only the catalogue of the first ruleset, which
 * the reader parses with and which nobody writes. The findings are
 * merged into output order (case, rule, subject) at the end.
 */
#ifndef CW_PEVAL_H
#define CW_PEVAL_H

#include "offline/eval.h"

#define CW_PEVAL_PARTS 256   /* as `migrate` chooses by default */
#define CW_PEVAL_MAX 64      /* threads */

typedef struct cw_peval cw_peval;

/*
 * n threads (2..CW_PEVAL_MAX), thread k with world w[k] and ruleset rs[k]
 * (borrowed; loaded from the same rules directory, the cross-case rules
 * marked in each). The threads start at once and wait for events.
 * Returns NULL when a thread cannot be started.
 */
cw_peval *cw_peval_new(unsigned n, cw_world *const *w, cw_ruleset *const *rs);
/* Stops the threads (without judging, if cw_peval_run did not run) and
 * frees everything. */
void cw_peval_free(cw_peval *pv);

/* As cw_eval_read. */
int cw_peval_read(cw_peval *pv, const char *path, const cw_eval_opts *o, cw_eval_stats *st,
                  cw_err *err);
/* As cw_eval_run, every thread at once; then the findings of all threads
 * in output order, into out (cw_findings_free; they borrow the worlds and
 * rulesets, which must outlive them). process_s is the wall time of the
 * run. Returns 0, or CW_ELIMIT when a thread could not store an event the
 * reader accepted (it says which on o->errors). */
int cw_peval_run(cw_peval *pv, const cw_eval_opts *o, cw_eval_stats *st, cw_findings *out);

/* Cases of the threads' engines (their own, not the foreign ones) and the
 * bytes their engines and the reader hold. */
size_t cw_peval_ncases(const cw_peval *pv);
/* The CPU seconds the reader spent in cw_peval_read. */
double cw_peval_read_cpu(const cw_peval *pv);
/* The seconds thread k spent storing the events it was given and then
 * judging them, and its CPU time all told (after cw_peval_run). */
void cw_peval_thread_times(const cw_peval *pv, unsigned k, double *store_s, double *run_s,
                           double *cpu_s);
size_t cw_peval_memory(const cw_peval *pv);

#endif
