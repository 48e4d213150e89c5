/*
 * casewarden diff: what a rule change would flag. The same events are
 * judged by the new rules and the old; findings are matched by (rule,
 * case, subject).
 */
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/dbevents.h"
#include "service/config.h"
#include "offline/eval.h"
#include "base/timeutil.h"
#include "base/util.h"

static const char help[] =
    "usage: casewarden diff --rules NEW --against OLD --events FILE [--now T] [OPTIONS]\n"
    "       casewarden diff --rules NEW --against OLD --db --config FILE [--from T] [--to T]\n"
    "                       [--unit P] [--now T] [OPTIONS]\n"
    "\n"
    "Judge the events of FILE, or those stored in MariaDB (--db), with the rules\n"
    "in NEW and with those in OLD, as of --now, and print what the change would\n"
    "do: findings added (+), removed (-) and changed (~: another state or due\n"
    "time), matched by rule, case and subject, each with the version of the rule\n"
    "that gives it (and the override it runs under); then a count line.\n"
    "\n"
    "options:\n"
    "  --rules NEW       the rules directory with the change\n"
    "  --against OLD     the rules directory in force\n"
    "  --events FILE     events, one JSON object per line\n"
    "  --db              the events stored in the database of --config instead,\n"
    "                    read in batches in the order of the log, with progress\n"
    "                    on stderr\n"
    "  --config FILE     the service configuration (its database:)\n"
    "  --socket PATH     the MariaDB socket, over the configuration's\n"
    "  --from T, --to T  with --db: only cases with an event in [T, T]\n"
    "  --unit P          with --db: only cases with an event of a unit under P\n"
    "                    (a case taken is judged with all its events;\n"
    "                    `casewarden export` writes the same selection)\n"
    "  --now T           as of T (RFC 3339); default now\n"
    "  --format F        text (default) or json (one object per line:\n"
    "                    {\"change\":\"added\"|\"removed\"|\"changed\", \"old\":..., \"new\":...})\n"
    "  --plugins PATH    extra plugin directories (colon-separated)\n"
    "\n"
    "exit status: 0 done (whatever the differences), 2 usage, rules that do not\n"
    "load, or a database that cannot be read.\n";

typedef struct side {
    cw_world *w;
    cw_ruleset *rs;
    cw_engine *e;
    cw_eval *ev;
    cw_findings fs;
} side;

static int open_side(side *s, const char *dir, const char *plugins)
{
    if (cw_cli_load_rules("diff", dir, plugins, &s->w, &s->rs) < 0)
        return -1;
    s->e = cw_engine_new(s->w, s->rs);
    s->ev = cw_eval_new(s->e);
    return 0;
}

/* One side's work in a thread of its own: the two sides share nothing
 * (each has its world, rules and engine), so on two cores a diff takes
 * about the time of one eval. */
typedef struct job {
    side *s;
    const char *events;      /* read this file first; NULL: already fed */
    cw_time now;
    int rc;
    cw_err err;
} job;

static void *judge(void *ud)
{
    job *j = ud;
    cw_eval_opts o = { .now = j->now, .errors = NULL };
    cw_eval_stats st = { 0 };

    if (j->events != NULL && cw_eval_read(j->s->ev, j->events, &o, &st, &j->err) < 0) {
        j->rc = -1;
        return NULL;
    }
    cw_eval_run(j->s->ev, &o, &st);
    cw_eval_findings(j->s->ev, &j->s->fs);
    cw_eval_free(j->s->ev);
    j->s->ev = NULL;
    return NULL;
}

/* Both sides at once; 0, or -1 with the reason on stderr. */
static int judge_both(side *a, side *b, const char *events, cw_time now)
{
    job ja = { a, events, now, 0, { 0 } }, jb = { b, events, now, 0, { 0 } };
    pthread_t t;
    bool threaded = pthread_create(&t, NULL, judge, &jb) == 0;

    judge(&ja);
    if (threaded)
        pthread_join(t, NULL);
    else
        judge(&jb);
    if (ja.rc < 0 || jb.rc < 0) {
        fprintf(stderr, "casewarden diff: %s\n", ja.rc < 0 ? ja.err.msg : jb.err.msg);
        return -1;
    }
    return 0;
}

/* --db: the stored events to both sides, as eval reads a file: kept in
 * blocks, each handed to the two sides at once (one in a thread). */
#define FEED_BLOCK 20000

typedef struct feed {
    side *a, *b;
    cw_eval_opts o;
    cw_eval_stats sa, sb;
    cw_buf bodies;
    size_t *off, n;          /* body i: bodies.p + off[i] .. off[i + 1] */
    uint64_t *gseq;
} feed;

typedef struct half {
    feed *f;
    side *s;
    cw_eval_stats *st;
} half;

static void *feed_half(void *ud)
{
    half *h = ud;
    cw_err err;

    for (size_t i = 0; i < h->f->n; i++)
        cw_eval_add(h->s->ev, h->f->bodies.p + h->f->off[i], h->f->off[i + 1] - h->f->off[i],
                    "database", (size_t)h->f->gseq[i], &h->f->o, h->st, &err);
    return NULL;
}

static void feed_flush(feed *f)
{
    half ha = { f, f->a, &f->sa }, hb = { f, f->b, &f->sb };
    pthread_t t;
    bool threaded;

    if (f->n == 0)
        return;
    threaded = pthread_create(&t, NULL, feed_half, &hb) == 0;
    feed_half(&ha);
    if (threaded)
        pthread_join(t, NULL);
    else
        feed_half(&hb);
    f->n = 0;
    f->bodies.n = 0;
}

static int feed_event(void *ud, const cw_store_event *e)
{
    feed *f = ud;

    if (f->off == NULL) {
        f->off = cw_xmalloc((FEED_BLOCK + 1) * sizeof *f->off);
        f->gseq = cw_xmalloc(FEED_BLOCK * sizeof *f->gseq);
    }
    f->off[f->n] = f->bodies.n;
    f->gseq[f->n] = e->gseq;
    cw_buf_put(&f->bodies, e->body, e->len);
    f->off[++f->n] = f->bodies.n;
    if (f->n == FEED_BLOCK)
        feed_flush(f);
    return 0;
}

static void side_free(side *s)
{
    cw_eval_free(s->ev);
    cw_findings_free(&s->fs);
    cw_engine_free(s->e);
    cw_ruleset_free(s->rs);
    cw_world_free(s->w);
}

static int key_cmp(const cw_finding *a, const cw_finding *b)
{
    int d;

    if ((d = strcmp(a->case_id, b->case_id)) != 0)
        return d;
    if ((d = strcmp(a->rule->info.id, b->rule->info.id)) != 0)
        return d;
    return strcmp(a->subject, b->subject);
}

static void text(char sign, const cw_finding *f, const cw_finding *old, int tz)
{
    char due[40] = "-";

    if (f->due != CW_TIME_NONE)
        cw_time_format(f->due, tz, due, sizeof due);
    printf("%c %s %s %s ", sign, f->rule->info.id, f->case_id, f->subject[0] ? f->subject : "-");
    if (old != NULL && old->state != f->state)
        printf("%s -> ", cw_state_name(old->state));
    printf("%s", cw_state_name(f->state));
    if (old != NULL && old->due != f->due) {
        char od[40] = "-";
        if (old->due != CW_TIME_NONE)
            cw_time_format(old->due, tz, od, sizeof od);
        printf(" due %s -> %s", od, due);
    } else {
        printf(" due %s", due);
    }
    printf(": %s", f->message);
    if (old != NULL && strcmp(old->rule->version, f->rule->version) != 0)
        printf(" [规则版本 %s -> %s]", old->rule->version, f->rule->version);
    else
        printf(" [规则版本 %s]", f->rule->version);
    if (f->rule->override != NULL)
        printf(" [单位 %s 覆盖参数 %s]", f->rule->override_unit, f->rule->override);
    printf("\n");
}

static void json(const char *change, const cw_finding *old, const cw_finding *nw, int tz)
{
    cw_buf b = { 0 };

    cw_buf_printf(&b, "{\"change\":\"%s\"", change);
    if (old) {
        cw_buf_puts(&b, ",\"old\":");
        cw_finding_json(old, tz, &b);
    }
    if (nw) {
        cw_buf_puts(&b, ",\"new\":");
        cw_finding_json(nw, tz, &b);
    }
    cw_buf_puts(&b, "}\n");
    fwrite(b.p, 1, b.n, stdout);
    cw_buf_free(&b);
}

int cw_cmd_diff(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "rules", required_argument, NULL, 'r' }, { "against", required_argument, NULL, 'a' },
        { "events", required_argument, NULL, 'e' }, { "now", required_argument, NULL, 'n' },
        { "format", required_argument, NULL, 'f' }, { "plugins", required_argument, NULL, 'P' },
        { "db", no_argument, NULL, 'd' }, { "config", required_argument, NULL, 'c' },
        { "socket", required_argument, NULL, 'S' }, { "from", required_argument, NULL, 'F' },
        { "to", required_argument, NULL, 'T' }, { "unit", required_argument, NULL, 'u' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *nw = NULL, *old = NULL, *events = NULL, *now_s = NULL, *format = "text",
               *plugins = NULL, *config = NULL, *socket = NULL, *from_s = NULL, *to_s = NULL;
    side a = { 0 }, b = { 0 };
    size_t i = 0, j = 0, added = 0, removed = 0, changed = 0, same = 0, reversioned = 0;
    cw_dbsel sel = { CW_TIME_NONE, CW_TIME_NONE, NULL };
    bool js, db = false;
    cw_time now;
    int opt, tz;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': nw = optarg; break;
        case 'a': old = optarg; break;
        case 'e': events = optarg; break;
        case 'n': now_s = optarg; break;
        case 'f': format = optarg; break;
        case 'P': plugins = optarg; break;
        case 'd': db = true; break;
        case 'c': config = optarg; break;
        case 'S': socket = optarg; break;
        case 'F': from_s = optarg; break;
        case 'T': to_s = optarg; break;
        case 'u': sel.unit = optarg; break;
        case 'h': fputs(help, stdout); return CW_EXIT_OK;
        default:
            return cw_cli_usage_error("diff", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cw_cli_usage_error("diff", "unexpected argument '%s'", argv[optind]);
    if (nw == NULL || old == NULL || (events == NULL) == !db || (db && config == NULL))
        return cw_cli_usage_error("diff", "--rules, --against and --events (or --db with --config) "
                                  "are required");
    if (events != NULL && strcmp(events, "-") == 0)
        return cw_cli_usage_error("diff", "--events must be a file: both rule sets read it");
    if (!db && (from_s || to_s || sel.unit))
        return cw_cli_usage_error("diff", "--from, --to and --unit select stored events: use them with --db");
    if (cw_cli_now(now_s, &now) < 0)
        return cw_cli_usage_error("diff", "--now '%s' is not an RFC 3339 time with offset", now_s);
    if ((from_s && cw_time_parse(from_s, strlen(from_s), &sel.from, NULL) < 0) ||
        (to_s && cw_time_parse(to_s, strlen(to_s), &sel.to, NULL) < 0))
        return cw_cli_usage_error("diff", "--from and --to are RFC 3339 times with offset");
    if (sel.unit && (sel.unit[0] == '\0' || strspn(sel.unit, "0123456789") != strlen(sel.unit)))
        return cw_cli_usage_error("diff", "--unit must be a unit prefix (digits), not '%s'", sel.unit);
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
        return cw_cli_usage_error("diff", "--format must be text or json, not '%s'", format);
    js = strcmp(format, "json") == 0;
    if (open_side(&a, nw, plugins) < 0 || open_side(&b, old, plugins) < 0) {
        side_free(&a);
        side_free(&b);
        return CW_EXIT_USAGE;
    }
    if (db) {
        feed f = { &a, &b, { .now = now, .errors = NULL }, { 0 }, { 0 }, { 0 }, NULL, 0, NULL };
        cw_config *cfg;
        size_t ncases = 0;
        cw_err err = { 0 };
        int rc;
        if (cw_cli_config("diff", config, socket, &cfg) < 0) {
            side_free(&a);
            side_free(&b);
            return CW_EXIT_USAGE;
        }
        rc = cw_cli_db_events("diff", cfg, &sel, feed_event, &f, stderr, &ncases, &err);
        if (rc == 0)
            feed_flush(&f);
        cw_buf_free(&f.bodies);
        free(f.off);
        free(f.gseq);
        cw_config_free(cfg);
        if (rc != 0) {
            fprintf(stderr, "casewarden diff: %s\n", err.msg);
            side_free(&a);
            side_free(&b);
            return CW_EXIT_USAGE;
        }
        fprintf(stderr, "casewarden diff: %zu events from the database (%zu rejected)\n",
                f.sa.accepted + f.sa.duplicates + f.sa.rejected + f.sa.future, f.sa.rejected);
        if (ncases)
            fprintf(stderr, "casewarden diff: %zu cases selected\n", ncases);
    }
    if (judge_both(&a, &b, db ? NULL : events, now) < 0) {
        side_free(&a);
        side_free(&b);
        return CW_EXIT_USAGE;
    }
    tz = a.rs->tz;
    /* both lists are in (case, rule, subject) order: merge them */
    while (i < a.fs.n || j < b.fs.n) {
        int d = i == a.fs.n ? 1 : j == b.fs.n ? -1 : key_cmp(&a.fs.v[i], &b.fs.v[j]);
        if (d < 0) {
            js ? json("added", NULL, &a.fs.v[i], tz) : text('+', &a.fs.v[i], NULL, tz);
            added++;
            i++;
        } else if (d > 0) {
            js ? json("removed", &b.fs.v[j], NULL, tz) : text('-', &b.fs.v[j], NULL, tz);
            removed++;
            j++;
        } else {
            if (a.fs.v[i].state != b.fs.v[j].state || a.fs.v[i].due != b.fs.v[j].due) {
                js ? json("changed", &b.fs.v[j], &a.fs.v[i], tz) : text('~', &a.fs.v[i], &b.fs.v[j], tz);
                changed++;
            } else {
                same++;
                if (strcmp(a.fs.v[i].rule->version, b.fs.v[j].rule->version) != 0)
                    reversioned++;
            }
            i++;
            j++;
        }
    }
    fprintf(js ? stderr : stdout, "%zu added, %zu removed, %zu changed, %zu unchanged", added,
            removed, changed, same);
    if (reversioned > 0)
        fprintf(js ? stderr : stdout, " (%zu of them under another rule version)", reversioned);
    fprintf(js ? stderr : stdout, "\n");
    side_free(&a);
    side_free(&b);
    return CW_EXIT_OK;
}
