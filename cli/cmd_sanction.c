/*
 * casewarden sanction: 智能量罚 for the handling officer. Before a penalty
 * is decided, what the rules accept for it: the table and version of the
 * law that apply and why (从旧兼从轻), the tier the factors imply, the
 * detention and fine ranges and how they combine, the standard penalty,
 * whether detention may be executed, whether fast track is allowed and a
 * hearing needed, and, given an event file, the peers' median and band.
 * The answers come from the rules' own code (cw_model.advise).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "offline/eval.h"
#include "rules/advise.h"
#include "base/util.h"

static const char help[] =
    "usage: casewarden sanction --rules DIR --cause C --offence-at T [OPTIONS]\n"
    "       casewarden sanction --rules DIR --queries FILE [OPTIONS]\n"
    "\n"
    "Suggest the penalty for an act before it is decided (智能量罚): the\n"
    "discretion table and version of the law that apply and why (从旧兼从轻),\n"
    "the tier the factors imply, the allowed detention and fine and how they\n"
    "combine, the standard penalty (the middle of the range), whether the\n"
    "detention may be executed (DETENTION-EXEMPT) and the person punished at\n"
    "all (MINOR-UNDER14), whether fast track is allowed and a hearing needed,\n"
    "each with its basis. With --events the rules first run over that file,\n"
    "so that the peers' median and P5-P95 for the cause, tier and unit prefix\n"
    "are known (SANCTION-PEER).\n"
    "\n"
    "options:\n"
    "  --rules DIR          the rules directory\n"
    "  --cause C            the act's cause code, as decisions cite it (PSAL-51)\n"
    "  --circumstance T     lighter, normal (default) or heavier\n"
    "  --factors A,B        factors of the decision (multiple_attackers, ...)\n"
    "  --offence-at T       when the act was (RFC 3339 time or YYYY-MM-DD)\n"
    "  --decided-at T       when the decision is made (default: --now)\n"
    "  --unit U             the handling unit's code (for the peers)\n"
    "  --birth-date D       the person's birth date (YYYY-MM-DD)\n"
    "  --flags A,B          pregnant, nursing_infant, blind, deaf, mute, mental ...\n"
    "  --first-offence      the person's first offence\n"
    "  --queries FILE       one query per line as JSON (docs/SANCTIONS.md); one\n"
    "                       answer per line as JSON\n"
    "  --events FILE        run the rules over these events first (peers)\n"
    "  --now T              as of T (RFC 3339); default now\n"
    "  --format F           text (default) or json\n"
    "  --plugins PATH       extra plugin directories (colon-separated)\n"
    "\n"
    "exit status: 0 answered, 1 a query the rules cannot answer, 2 usage.\n";

typedef struct opts {
    const char *dir, *plugins, *events, *now_s, *queries, *format;
    const char *cause, *circ, *factors, *offence, *decided, *unit, *birth, *flags;
    bool first;
} opts;

/* "a,b" as a JSON array of strings. */
static void names_json(cw_buf *b, const char *list)
{
    const char *p = list;

    cw_buf_puts(b, "[");
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 0) {
            if (b->p[b->n - 1] != '[')
                cw_buf_puts(b, ",");
            cw_buf_json(b, p, n);
        }
        p += n + (e != NULL);
    }
    cw_buf_puts(b, "]");
}

static void member_json(cw_buf *b, const char *key, const char *val)
{
    if (val == NULL)
        return;
    cw_buf_puts(b, b->p[b->n - 1] == '{' ? "\"" : ",\"");
    cw_buf_puts(b, key);
    cw_buf_puts(b, "\":");
    cw_buf_json(b, val, strlen(val));
}

/* The options of one query as its JSON. */
static void query_json(const opts *o, cw_buf *b)
{
    cw_buf_puts(b, "{");
    member_json(b, "cause", o->cause);
    member_json(b, "circumstance", o->circ);
    member_json(b, "offence_at", o->offence);
    member_json(b, "decided_at", o->decided);
    member_json(b, "unit", o->unit);
    if (o->factors) {
        cw_buf_puts(b, ",\"factors\":");
        names_json(b, o->factors);
    }
    if (o->birth || o->flags || o->first) {
        cw_buf_puts(b, ",\"person\":{");
        member_json(b, "birth_date", o->birth);
        if (o->flags) {
            cw_buf_puts(b, b->p[b->n - 1] == '{' ? "\"flags\":" : ",\"flags\":");
            names_json(b, o->flags);
        }
        if (o->first)
            cw_buf_puts(b, b->p[b->n - 1] == '{' ? "\"first_offence\":true" : ",\"first_offence\":true");
        cw_buf_puts(b, "}");
    }
    cw_buf_puts(b, "}");
}

/* The answer in words: the question, then each rule's answer and basis. */
static void print_text(const char *answer)
{
    json_t *a = json_loads(answer, 0, NULL), *q, *adv, *x;
    const char *k;
    size_t i;

    if (a == NULL) {
        puts(answer);
        return;
    }
    q = json_object_get(a, "query");
    printf("违法行为 %s (%s情节), 违法行为发生于 %s, 决定于 %s\n",
           json_string_value(json_object_get(q, "cause")),
           strcmp(json_string_value(json_object_get(q, "circumstance")), "heavier") == 0 ? "较重"
           : strcmp(json_string_value(json_object_get(q, "circumstance")), "lighter") == 0 ? "较轻"
                                                                                             : "一般",
           json_string_value(json_object_get(q, "offence_at")),
           json_string_value(json_object_get(q, "decided_at")));
    json_object_foreach(q, k, x) {
        if (strcmp(k, "unit") == 0)
            printf("办案单位: %s\n", json_string_value(x));
        else if (strcmp(k, "factors") == 0 && json_array_size(x) > 0) {
            json_t *f;
            size_t j;
            printf("情节因素:");
            json_array_foreach(x, j, f)
                printf(" %s", json_string_value(f));
            printf("\n");
        }
    }
    adv = json_object_get(a, "advice");
    json_array_foreach(adv, i, x) {
        json_t *ans = json_object_get(x, "answer"), *std = json_object_get(ans, "standard");
        printf("\n【%s】%s\n", json_string_value(json_object_get(x, "title")),
               json_string_value(json_object_get(x, "rule")));
        if (json_object_get(x, "error"))
            printf("  无法回答: %s\n", json_string_value(json_object_get(x, "error")));
        else
            printf("  %s\n", json_string_value(json_object_get(ans, "text")));
        if (std != NULL)
            printf("  标准处罚 (幅度中间值): %s\n", json_string_value(json_object_get(std, "words")));
        printf("  依据: %s\n", json_string_value(json_object_get(x, "basis")));
    }
    json_decref(a);
}

/* Answer one query; 0, or 1 for a query that cannot be answered. */
static int answer(cw_ruleset *rs, cw_engine *e, const char *q, size_t len, cw_time now, bool json)
{
    char *out = NULL;
    cw_err err = { 0 };

    if (cw_advise(rs, e, q, len, now, &out, &err) < 0) {
        if (json) {
            cw_buf b = { 0 };
            cw_buf_puts(&b, "{\"error\":");
            cw_buf_json(&b, err.msg, strlen(err.msg));
            cw_buf_puts(&b, "}");
            puts(b.p);
            cw_buf_free(&b);
        } else {
            fprintf(stderr, "casewarden sanction: %s\n", err.msg);
        }
        return CW_EXIT_FAIL;
    }
    if (json)
        puts(out);
    else
        print_text(out);
    free(out);
    return CW_EXIT_OK;
}

/* One answer per line of the file. */
static int answer_lines(cw_ruleset *rs, cw_engine *e, const char *path, cw_time now)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = CW_EXIT_OK;

    if (f == NULL) {
        fprintf(stderr, "casewarden sanction: %s: cannot open\n", path);
        return CW_EXIT_USAGE;
    }
    while ((n = getline(&line, &cap, f)) > 0) {
        if (n <= 1)
            continue;
        if (answer(rs, e, line, (size_t)n, now, true) != CW_EXIT_OK)
            rc = CW_EXIT_FAIL;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* The rules over the event file, for the peers. */
static int run_events(cw_engine *e, const char *path, cw_time now)
{
    cw_eval *ev = cw_eval_new(e);
    cw_eval_opts o = { .now = now, .errors = NULL };
    cw_eval_stats st = { 0 };
    cw_err err = { 0 };
    int rc = cw_eval_read(ev, path, &o, &st, &err);

    if (rc < 0)
        fprintf(stderr, "casewarden sanction: %s\n", err.msg);
    else
        cw_eval_run(ev, &o, &st);
    cw_eval_free(ev);
    return rc;
}

static int parse(int argc, char **argv, opts *o)
{
    static const struct option longopts[] = {
        { "rules", required_argument, NULL, 'r' }, { "plugins", required_argument, NULL, 'P' },
        { "events", required_argument, NULL, 'e' }, { "now", required_argument, NULL, 'n' },
        { "queries", required_argument, NULL, 'q' }, { "format", required_argument, NULL, 'f' },
        { "cause", required_argument, NULL, 'c' }, { "circumstance", required_argument, NULL, 't' },
        { "factors", required_argument, NULL, 'F' }, { "offence-at", required_argument, NULL, 'o' },
        { "decided-at", required_argument, NULL, 'd' }, { "unit", required_argument, NULL, 'u' },
        { "birth-date", required_argument, NULL, 'b' }, { "flags", required_argument, NULL, 'g' },
        { "first-offence", no_argument, NULL, '1' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char **slot[128] = { 0 };
    int opt;

    slot['r'] = &o->dir, slot['P'] = &o->plugins, slot['e'] = &o->events, slot['n'] = &o->now_s;
    slot['q'] = &o->queries, slot['f'] = &o->format, slot['c'] = &o->cause, slot['t'] = &o->circ;
    slot['F'] = &o->factors, slot['o'] = &o->offence, slot['d'] = &o->decided, slot['u'] = &o->unit;
    slot['b'] = &o->birth, slot['g'] = &o->flags;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(help, stdout);
            return 1;
        }
        if (opt == '1') {
            o->first = true;
        } else if (opt > 0 && opt < 128 && slot[opt] != NULL) {
            *slot[opt] = optarg;
        } else {
            cw_cli_usage_error("sanction", "unknown or incomplete option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc || o->dir == NULL || (o->queries == NULL && (o->cause == NULL || o->offence == NULL)) ||
        (o->format && strcmp(o->format, "text") && strcmp(o->format, "json"))) {
        cw_cli_usage_error("sanction", optind < argc ? "unexpected argument '%s'" :
                           o->dir == NULL ? "--rules is required%s" :
                           o->format && strcmp(o->format, "text") && strcmp(o->format, "json")
                               ? "--format is text or json%s"
                               : "--cause and --offence-at are required (or --queries FILE)%s",
                           optind < argc ? argv[optind] : "");
        return -1;
    }
    return 0;
}

int cw_cmd_sanction(int argc, char **argv)
{
    opts o = { 0 };
    cw_world *w = NULL;
    cw_ruleset *rs = NULL;
    cw_engine *e = NULL;
    cw_time now;
    int rc = parse(argc, argv, &o);

    if (rc != 0)
        return rc > 0 ? CW_EXIT_OK : CW_EXIT_USAGE;
    if (cw_cli_now(o.now_s, &now) < 0)
        return cw_cli_usage_error("sanction", "--now '%s' is not an RFC 3339 time with offset", o.now_s);
    if (cw_cli_load_rules("sanction", o.dir, o.plugins, &w, &rs) < 0)
        return CW_EXIT_USAGE;
    if (o.events != NULL) {
        e = cw_engine_new(w, rs);
        if (run_events(e, o.events, now) < 0) {
            cw_engine_free(e);
            cw_ruleset_free(rs);
            cw_world_free(w);
            return CW_EXIT_USAGE;
        }
    }
    if (o.queries != NULL) {
        rc = answer_lines(rs, e, o.queries, now);
    } else {
        cw_buf q = { 0 };
        query_json(&o, &q);
        rc = answer(rs, e, q.p, q.n, now, o.format && strcmp(o.format, "json") == 0);
        cw_buf_free(&q);
    }
    cw_engine_free(e);
    cw_ruleset_free(rs);
    cw_world_free(w);
    return rc;
}
