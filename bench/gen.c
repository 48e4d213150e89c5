/*
 * bench/gen: a deterministic generator of realistic case lifecycles and of
 * the findings the shipped rules must produce on them.
 *
 *     gen --seed N --events N --out DIR [--rules DIR] [--shuffle P]
 *
 * writes DIR/events.jsonl (the feed), DIR/expected.tsv (the ground truth
 * for the rules of DOMAIN.md: rule, case, subject, state, due) and
 * DIR/now.txt (the --now to evaluate at), and prints a summary on stderr.
 * The same seed and arguments give the same bytes.
 *
 * The truth is known by construction, not by evaluating the events: every
 * time the generator writes the start event A of an obligation it decides
 * when (and whether) the completing event B happens, usually lawfully and
 * at known rates late, at the due second, one second after it, inside the
 * warning window or never, and records the obligation with the due time
 * it computed from the law (DOMAIN.md conventions, docs/RULES.md periods)
 * over the calendar in rules/calendar. The state then follows from the
 * contract's state table and `now`. Procedural breaches (fast track,
 * interrogations, extensions, rounds) are recorded when they are injected.
 * Everything not injected is lawful, so no other finding may appear.
 *
 * Section 3 (sanctions): penalties are drawn lawful from narrow
 * per-(cause, tier) sets, with injected boundaries, outliers, missing
 * causes, misjudged tiers, children punished and exempt persons detained.
 * Each decision written is judged against the law as this file writes it
 * (the 2012 and 2025 tables of DOMAIN.md section 3, the groups of PSAL
 * 2025 Art 23 and 2012 Art 21), from what the feed says about it, and the
 * judgement must agree with what was injected. SANCTION-PEER is computed
 * at the end from the decisions written: for each one, its peers' values
 * sorted, the nearest-rank P5 and P95 (docs/SANCTIONS.md). Ages are 周岁
 * from the day after the birthday, probed on the birthday and the day
 * after; a decision made after the change of law is judged by the newer
 * row too where that row is lighter (从旧兼从轻), found by trying every
 * penalty each tier allows.
 *
 * Section 5: every criminal detention and arrest gets its custody
 * admission, notice to the family (with notify_exempt now and then,
 * lawful or not for the case's cause) and first interrogation, each drawn
 * by the usual outcomes; their truth pairs each completing event with the
 * earliest open start of its person, as the rules do. Seizures in
 * administrative cases are disposed of or end with the case, some with
 * extensions (lawful, over 30 days, twice, for every item).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "law/calendar.h"
#include "base/err.h"
#include "base/timeutil.h"

#ifndef CW_RULES_DIR
#define CW_RULES_DIR "rules"
#endif

#define TZ 480                  /* +08:00, the deployment's offset */
#define MINUTE 60
#define HOUR 3600
#define DAY 86400
#define MAX_SESSION (3 * HOUR)  /* no interrogation lasts longer */
#define MAXP 64                 /* persons in one case (a fraud ring) */
#define MAXSESS 256             /* interrogations in one case */
#define MAXEXT 64               /* extensions in one case */
#define NDAYS 760               /* days from 2025-01-01 the buckets cover */

/* ---- the rules judged, their states ---------------------------------- */

enum rule {
    R_ALARM_ACCEPT, R_CRIM_FILING, R_ADM_HANDLING, R_SUMMONS_LIMIT, R_CRIM_SUMMONS,
    R_PROPERTY_24H, R_BODYCAM_24H, R_ARREST_REQUEST, R_CUSTODY_2M, R_BAIL_12M, R_RSL_6M,
    R_SUPPL_1M, R_FT_EXCLUDED_PERSON, R_FT_NO_CONSENT, R_FT_DETENTION_10D, R_FT_HEARING,
    R_FT_48H, R_INT_2OFFICERS, R_INT_RECORDING, R_OFFICER_OVERLAP, R_MINOR_NO_GUARDIAN,
    R_SANCTION_RANGE, R_SANCTION_TIER, R_SANCTION_PEER, R_MINOR_UNDER14, R_DETENTION_EXEMPT,
    R_DETAIN_CUSTODY, R_DETAIN_NOTIFY, R_DETAIN_INTERROGATE, R_ARREST_NOTIFY, R_ARREST_INTERROGATE,
    R_ADM_SEIZURE, NRULES
};

static const char *const rule_ids[NRULES] = {
    "ALARM-ACCEPT", "CRIM-FILING", "ADM-HANDLING", "SUMMONS-LIMIT", "CRIM-SUMMONS",
    "PROPERTY-24H", "BODYCAM-24H", "ARREST-REQUEST", "CUSTODY-2M", "BAIL-12M", "RSL-6M",
    "SUPPL-1M", "FT-EXCLUDED-PERSON", "FT-NO-CONSENT", "FT-DETENTION-10D", "FT-HEARING",
    "FT-48H", "INTERROGATION-2OFFICERS", "INTERROGATION-RECORDING", "OFFICER-OVERLAP",
    "MINOR-NO-GUARDIAN", "SANCTION-RANGE", "SANCTION-TIER", "SANCTION-PEER", "MINOR-UNDER14",
    "DETENTION-EXEMPT", "DETAIN-CUSTODY-24H", "DETAIN-NOTIFY-24H", "DETAIN-INTERROGATE-24H",
    "ARREST-NOTIFY-24H", "ARREST-INTERROGATE-24H", "ADM-SEIZURE-30D",
};

enum state { ST_WARNING, ST_OVERDUE, ST_LATE, ST_CLEARED, ST_VIOLATION, ST_ANOMALY, NSTATES };

static const char *const state_names[NSTATES] = {
    "warning", "overdue", "late", "cleared", "violation", "anomaly",
};

/* ---- event types ------------------------------------------------------ */

enum etype {
    T_ALARM_RECEIVED, T_CASE_ACCEPTED, T_CASE_FILED, T_CASE_NOT_FILED, T_CASE_EXTENDED,
    T_PERSON_ADDED, T_SUMMONS_STARTED, T_SUMMONS_ENDED, T_INTERROGATION_STARTED,
    T_INTERROGATION_ENDED, T_CASE_FASTTRACK, T_PENALTY_DECIDED, T_DETENTION_EXECUTED,
    T_HEARING_NOTIFIED, T_CRIMINAL_DETENTION_STARTED, T_ARREST_REQUESTED, T_ARREST_APPROVED,
    T_ARREST_REJECTED, T_BAIL_STARTED, T_BAIL_ENDED, T_RSL_STARTED, T_RSL_ENDED,
    T_CASE_TRANSFERRED, T_CASE_RETURNED, T_CASE_RESUBMITTED, T_EVIDENCE_SEIZED,
    T_EVIDENCE_STORED, T_SCENE_ATTENDED, T_BODYCAM_UPLOADED, T_CASE_DECIDED, T_CASE_CLOSED,
    T_CUSTODY_ADMITTED, T_FAMILY_NOTIFIED, T_ARREST_EXECUTED, T_EVIDENCE_DISPOSED, NTYPES
};

static const char *const type_names[NTYPES] = {
    "alarm.received", "case.accepted", "case.filed", "case.not_filed", "case.extended",
    "person.added", "summons.started", "summons.ended", "interrogation.started",
    "interrogation.ended", "case.fasttrack", "penalty.decided", "detention.executed",
    "hearing.notified", "criminal_detention.started", "arrest.requested", "arrest.approved",
    "arrest.rejected", "bail.started", "bail.ended", "rsl.started", "rsl.ended",
    "case.transferred", "case.returned", "case.resubmitted", "evidence.seized",
    "evidence.stored", "scene.attended", "bodycam.uploaded", "case.decided", "case.closed",
    "custody.admitted", "family.notified", "arrest.executed", "evidence.disposed",
};

/* ---- units and officers ---------------------------------------------- */

typedef struct unit_def {
    const char *code;
    int prefix;
    int weight;
} unit_def;

/* Jinan (3701), Qingdao (3702) and Zibo (3703) districts: the busiest
 * units carry the most cases. */
static const unit_def units[] = {
    { "370102", 0, 16 }, { "370103", 0, 14 }, { "370104", 0, 10 }, { "370112", 0, 12 },
    { "370181", 0, 6 },  { "370202", 1, 12 }, { "370203", 1, 10 }, { "370211", 1, 9 },
    { "370302", 2, 7 },  { "370303", 2, 4 },
};
#define NUNITS ((int)(sizeof units / sizeof units[0]))

typedef struct prefix_def {
    const char *code;
    int officers;           /* the pool of case-handling officers */
    int base;               /* officer numbers: O<base + i> */
} prefix_def;

static const prefix_def prefixes[] = {
    { "3701", 420, 10000 }, { "3702", 300, 20000 }, { "3703", 180, 30000 },
};
#define NPREFIX ((int)(sizeof prefixes / sizeof prefixes[0]))

/* ---- offences and sanctions -------------------------------------------- */

enum family { FAM_ASSAULT, FAM_THEFT, FAM_DAMAGE, FAM_THREAT, FAM_PROVOKE, FAM_ORDER, NFAM };
enum tier { TIER_LIGHTER, TIER_NORMAL, TIER_HEAVIER };
static const char *const tier_names[] = { "lighter", "normal", "heavier" };

/* Two detention values (0: none) and two fines per tier: decisions of a
 * (cause, tier) group do not stray from their peers (SANCTION-PEER)
 * unless an outlier is injected. */
typedef struct tier_vals {
    int det[2];
    int fine[2];
} tier_vals;

typedef struct fam_def {
    const char *code2012, *code2025;    /* code2025 NULL: no offence from 2026 */
    tier_vals v2012[3], v2025[3];
    int weight;
} fam_def;

/* The 2025 law (in force 2026-01-01) per DOMAIN.md section 3; "or" tiers
 * are decided as a fine alone. Before 2026 the 2012 articles apply (43
 * assault; 49 theft and damage; 42 threats; 26 provocation; 23 disturbing
 * order, whose lower tiers also allow a warning alone). The tables have no
 * 2025 row for disturbing order, so those cases are drawn before 2026 only. */
static const fam_def families[NFAM] = {
    [FAM_ASSAULT] = { "PSAL-43", "PSAL-51",
        { { { 0, 0 }, { 200, 500 } }, { { 9, 10 }, { 200, 500 } }, { { 12, 15 }, { 500, 1000 } } },
        { { { 0, 0 }, { 300, 500 } }, { { 9, 10 }, { 500, 1000 } }, { { 12, 15 }, { 1000, 2000 } } },
        35 },
    [FAM_THEFT] = { "PSAL-49", "PSAL-58",
        { { { 5, 7 }, { 300, 500 } }, { { 5, 7 }, { 300, 500 } }, { { 12, 15 }, { 500, 1000 } } },
        { { { 0, 0 }, { 1000, 2000 } }, { { 0, 0 }, { 1000, 2000 } }, { { 12, 15 }, { 1000, 3000 } } },
        30 },
    [FAM_DAMAGE] = { "PSAL-49", "PSAL-59",
        { { { 5, 7 }, { 300, 500 } }, { { 5, 7 }, { 300, 500 } }, { { 12, 15 }, { 500, 1000 } } },
        { { { 0, 0 }, { 500, 1000 } }, { { 0, 0 }, { 500, 1000 } }, { { 7, 10 }, { 1000, 2000 } } },
        12 },
    [FAM_THREAT] = { "PSAL-42", "PSAL-50",
        { { { 0, 0 }, { 200, 500 } }, { { 0, 0 }, { 200, 500 } }, { { 7, 10 }, { 300, 500 } } },
        { { { 0, 0 }, { 200, 500 } }, { { 0, 0 }, { 200, 500 } }, { { 7, 10 }, { 500, 1000 } } },
        13 },
    [FAM_PROVOKE] = { "PSAL-26", "PSAL-30",
        { { { 5, 7 }, { 300, 500 } }, { { 5, 7 }, { 300, 500 } }, { { 12, 15 }, { 500, 1000 } } },
        { { { 0, 0 }, { 500, 1000 } }, { { 0, 0 }, { 500, 1000 } }, { { 12, 15 }, { 1000, 2000 } } },
        10 },
    [FAM_ORDER] = { "PSAL-23", NULL,
        { { { 0, 0 }, { 100, 200 } }, { { 0, 0 }, { 100, 200 } }, { { 5, 7 }, { 200, 500 } } },
        { { { 0, 0 }, { 0, 0 } }, { { 0, 0 }, { 0, 0 } }, { { 0, 0 }, { 0, 0 } } },
        5 },
};

static const char *const crim_causes[] = {
    "CL-264", "CL-264", "CL-264", "CL-266", "CL-266", "CL-234", "CL-263", "CL-274",
    "CL-303", "CL-224", "CL-347", "CL-133-1",
};

/* Offences of state security (刑法 第102-113条) and terrorism (第120条 and
 * 之一-之六): the causes for which 有碍侦查 may lawfully delay the notice of
 * a detention (DETAIN-NOTIFY-24H). */
static const char *const security_causes[] = {
    "CL-102", "CL-104", "CL-105", "CL-110", "CL-113", "CL-120", "CL-120-1", "CL-120-2",
    "CL-120-6",
};

static const char *const descriptions[] = {
    "手机一部", "现金 3200 元", "电动车一辆", "管制刀具一把", "笔记本电脑一台",
    "银行卡 3 张", "作案工具一套", "赌资 5600 元", "涉案车辆一辆", "监控录像光盘一张",
};

/* ---- persons ------------------------------------------------------------ */

enum role { ROLE_SUSPECT, ROLE_VICTIM, ROLE_WITNESS };
static const char *const role_names[] = { "suspect", "victim", "witness" };

enum pflag {
    F_BLIND = 1, F_DEAF = 2, F_MUTE = 4, F_MENTAL = 8, F_PREGNANT = 16, F_NURSING = 32,
    F_DISABLED = 64,
};
static const char *const flag_names[] = {
    "blind", "deaf", "mute", "mental", "pregnant", "nursing_infant", "disabled",
};
#define F_EXCLUDED (F_BLIND | F_DEAF | F_MUTE | F_MENTAL)   /* from fast track */

#define NO_DAY INT32_MIN

/* Section 3 probes on a suspect: an age on either side of a birthday that
 * matters (14, 16, 70), or an exempt person detained for an offence on
 * either side of the change of law. Both are decided in the heavier tier,
 * which always has a detention. */
enum { PR_NONE, PR_AGE, PR_LAW };

typedef struct person {
    char id[8];
    int role;
    cw_day birth;           /* NO_DAY: no birth date given */
    int age;                /* completed years at the offence; -1 unknown */
    unsigned flags;
    bool first_offence;
    bool late_birth;        /* the birth date comes in a second person.added */
    bool no_guardian;       /* a boundary probe: never flagged guardian_present */
    int probe;              /* a section 3 probe on this person: PR_* */
    bool listed;            /* the first person.added was written (flags, first_offence) */
    cw_time known_at;       /* when person.added with the birth date happened */
    int nsum, ndet, nbail, nrsl;
    cw_time arrival;        /* the first summons.started written */
    cw_time decided;        /* this person's penalty.decided written */
    /* Section 5: the starts (criminal detentions, arrests) with their
     * notify_exempt (0 none, 1 lawful, 2 not), and the completing events
     * written, paired at the end as the rules pair them. */
    cw_time det_at[2], arr_at[2];
    int ndet_at, narr_at, det_ex[2], arr_ex[2];
    cw_time cust_b[2], dntf_b[2], antf_b[2];
    int ncust_b, ndntf_b, nantf_b;
    cw_time ist[24];        /* interrogation.started written, any order */
    int nist;
} person;

/* ---- the generator's state -------------------------------------------- */

typedef struct ev {
    cw_time at;
    uint64_t data;          /* offset of the data object in the arena */
    uint32_t seq;           /* creation order: the id and the tie-break */
    uint32_t ci;            /* the case record */
    uint32_t dlen;
    int32_t actor;          /* officer index, -1 for none */
    uint8_t type;
    uint8_t fmt;            /* how `at` is written: TF_* */
} ev;

/* The same instant written as feeds write it: mostly at +08:00, some in
 * UTC ("Z" or "+00:00") or another offset, some with milliseconds (which
 * the engine drops: legal periods end at whole seconds). */
enum { TF_LOCAL, TF_Z, TF_UTC, TF_TOKYO, TF_FRACTION = 8 };

typedef struct crec {
    char id[24];
    uint8_t unit;
    uint8_t kind;
    uint32_t nev;
} crec;

/* A penalty.decided in the scope of SANCTION-PEER, for its truth at the
 * end: its group (table row, declared tier, unit prefix), time, values. */
typedef struct decn {
    uint64_t group;
    cw_time at;
    uint32_t ci;
    int32_t fine, det;
} decn;

typedef struct expect {
    uint32_t ci;
    uint8_t rule, state;
    char subject[44];
    cw_time due;            /* CW_TIME_NONE for a violation */
} expect;

typedef struct ivl {
    cw_time s, e;
} ivl;

typedef struct officer {
    ivl *v;
    uint32_t n, cap;
} officer;

typedef struct sess {
    cw_time s, e;
    uint32_t ci;
    uint16_t sid;
    int32_t off[2];
} sess;

typedef struct bucket {
    sess *v;
    uint32_t n, cap;
} bucket;

enum kind { K_ADM, K_CRIM, K_ALARM, K_SCENE, NKINDS };

typedef struct gen {
    uint64_t s[4];          /* xoshiro256** */
    cw_calendar *cal;
    cw_time now;
    cw_time lo, hi;         /* where incidents are drawn */
    cw_day day0;            /* 2025-01-01 */
    cw_day law2025;         /* 2026-01-01: the 2025 PSAL applies from here */
    size_t target;
    ev *ev;
    size_t nev, capev;
    char *arena;
    size_t narena, caparena;
    crec *cases;
    size_t ncase, capcase;
    expect *exp;
    size_t nexp, capexp;
    decn *dec;              /* the decisions SANCTION-PEER compares */
    size_t ndec, capdec;
    uint32_t caseno[NUNITS][2];
    uint16_t dayno[NUNITS][NDAYS][3];   /* J records, S records, bodycam refs */
    officer *off;
    int off_first[NPREFIX];
    int noff;
    bucket *buckets;        /* sessions by prefix and day, for overlap probes */
    uint64_t ntype[NTYPES];
    uint64_t nkind[NKINDS];
} gen;

/* One case being written. */
typedef struct kase {
    uint32_t ci;
    int unit, prefix, kind, family;
    cw_time t0;             /* case.accepted (records: the first event) */
    cw_time offence;        /* offence_at if given, else t0 */
    bool has_offence_at;
    bool accepted;          /* case.accepted written */
    const char *alarm;
    person p[MAXP];
    int np;
    int nsess, nitem, nscene;
    int lead, partner;      /* the case's officers */
    cw_time ft_at;          /* case.fasttrack written, else CW_TIME_NONE */
    cw_time decided_at;     /* case.decided written, else CW_TIME_NONE */
    cw_time closed_at;      /* case.closed written, else CW_TIME_NONE */
    bool ft_pending;        /* case.fasttrack to write right after a decision */
    int law_as;             /* decisions apply this law (0: 2012, 1: 2025), -1: the offence's */
    struct {
        int person;
        bool guardian;
    } sess[MAXSESS];
    int nsessrec;
    bool security;          /* a state-security or terrorism cause */
    struct {                /* ADM-SEIZURE-30D: seizures of an administrative case */
        char item[8], subj[16];
        cw_time at, disposed;
    } sz[8];
    int nsz;
} kase;

/* A case.extended of the case, for the rules that count them. */
enum limit { L_FILING, L_HANDLING, L_ARREST, L_CUSTODY, L_SEIZURE };
static const char *const limit_names[] = { "filing_review", "handling", "arrest_request", "custody",
                                           "seizure" };

typedef struct ext {
    cw_time at;
    int limit, days, person;    /* person -1: the whole case */
    bool written;
} ext;

/* ---- small utilities ---------------------------------------------------- */

static void die(const char *msg)
{
    fprintf(stderr, "gen: %s\n", msg);
    exit(2);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        die("out of memory");
    return q;
}

#define GROW(arr, n, cap)                                                   \
    do {                                                                    \
        if ((n) == (cap)) {                                                 \
            (cap) = (cap) ? (cap) * 2 : 1024;                               \
            (arr) = xrealloc((arr), (cap) * sizeof *(arr));                 \
        }                                                                   \
    } while (0)

/* ---- randomness: xoshiro256**, seeded by splitmix64 -------------------- */

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(gen *g)
{
    uint64_t r = rotl(g->s[1] * 5, 7) * 9, t = g->s[1] << 17;

    g->s[2] ^= g->s[0];
    g->s[3] ^= g->s[1];
    g->s[1] ^= g->s[2];
    g->s[0] ^= g->s[3];
    g->s[2] ^= t;
    g->s[3] = rotl(g->s[3], 45);
    return r;
}

/* Uniform in [lo, hi]; lo when the range is empty. */
static int64_t rr(gen *g, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t)(((unsigned __int128)rnd(g) * (uint64_t)(hi - lo + 1)) >> 64);
}

static double rnd01(gen *g)
{
    return (double)(rnd(g) >> 11) * (1.0 / 9007199254740992.0);
}

static bool chance(gen *g, double p)
{
    return rnd01(g) < p;
}

/* An index drawn by weight. */
static int pick(gen *g, const double *w, int n)
{
    double sum = 0, x;

    for (int i = 0; i < n; i++)
        sum += w[i];
    x = rnd01(g) * sum;
    for (int i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

/* ---- the legal calendar and periods -------------------------------------- */

/*
 * Period arithmetic from the law (DOMAIN.md conventions, docs/RULES.md
 * "Periods"), written here on purpose rather than taken from the engine's
 * cw_calendar_add_*: only the calendar's data (which day works) is shared.
 */
static bool workday(const gen *g, cw_day d)
{
    int y, m, dd;

    cw_day_to_civil(d, &y, &m, &dd);
    if (!cw_calendar_covers(g->cal, y))
        return cw_day_weekday(d) < 5;       /* weekends only past the calendar */
    return cw_calendar_is_workday(g->cal, d);
}

static cw_day day_of(cw_time t)
{
    return cw_time_day(t, TZ);
}

/* The same time of day on another day. */
static cw_time on_day(cw_time t, cw_day d)
{
    return cw_day_start(d, TZ) + (t - cw_day_start(day_of(t), TZ));
}

/* n days after the day of start (which is not counted), to the end of the
 * last day; a non-working last day rolls to the next working day unless
 * the period is custody. */
static cw_time due_days(const gen *g, cw_time start, int n, bool custody)
{
    cw_day d = day_of(start) + n;

    while (!custody && !workday(g, d))
        d++;
    return cw_day_end(d, TZ);
}

/* The raw last day of a months period: the same date n months later; a
 * date the month lacks, or a start on the last day of its month, gives
 * the last day of the target month. */
static cw_day months_day(cw_time start, int n)
{
    int y, m, d, ty, tm, last;

    cw_day_to_civil(day_of(start), &y, &m, &d);
    ty = y + (m - 1 + n) / 12;
    tm = (m - 1 + n) % 12 + 1;
    last = cw_days_in_month(ty, tm);
    if (d == cw_days_in_month(y, m) || d > last)
        d = last;
    return cw_day_from_civil(ty, tm, d);
}

/* Months, then extension days, then the rollover unless custody. */
static cw_time due_months(const gen *g, cw_time start, int n, int extra, bool custody)
{
    cw_day d = months_day(start, n) + extra;

    while (!custody && !workday(g, d))
        d++;
    return cw_day_end(d, TZ);
}

/* A last day worth probing: a weekend, a statutory holiday, or a make-up
 * working Saturday or Sunday. */
static bool interesting(const gen *g, cw_day d)
{
    return !workday(g, d) || cw_day_weekday(d) >= 5;
}

/* Completed years (周岁) on day `on`, counted from the day after the
 * birthday (法释〔2006〕1号 第2条: on the 14th birthday a person is still
 * 13); someone born on 29 February has a birthday on 28 February in
 * common years (DOMAIN.md conventions). */
static int age_on(cw_day birth, cw_day on)
{
    int by, bm, bd, oy, om, od, age;

    cw_day_to_civil(birth, &by, &bm, &bd);
    cw_day_to_civil(on, &oy, &om, &od);
    if (bm == 2 && bd == 29 && cw_days_in_month(oy, 2) == 28)
        bd = 28;
    age = oy - by;
    if (om < bm || (om == bm && od <= bd))
        age--;
    return age < 0 ? 0 : age;
}

/* ---- output records ------------------------------------------------------ */

typedef struct jb {
    char b[768];
    size_t n;
} jb;

static void jb_init(jb *j)
{
    j->b[0] = '{';
    j->n = 1;
}

static void jb_raw(jb *j, const char *s)
{
    size_t l = strlen(s);

    if (j->n + l + 2 >= sizeof j->b)
        die("event data too long");
    memcpy(j->b + j->n, s, l);
    j->n += l;
    j->b[j->n] = '\0';
}

static void jb_key(jb *j, const char *k)
{
    if (j->n > 1)
        jb_raw(j, ",");
    jb_raw(j, "\"");
    jb_raw(j, k);
    jb_raw(j, "\":");
}

/* Values are generated, never taken from input: none needs escaping. */
static void jb_str(jb *j, const char *k, const char *v)
{
    jb_key(j, k);
    jb_raw(j, "\"");
    jb_raw(j, v);
    jb_raw(j, "\"");
}

static void jb_int(jb *j, const char *k, long long v)
{
    char buf[24];

    snprintf(buf, sizeof buf, "%lld", v);
    jb_key(j, k);
    jb_raw(j, buf);
}

static void jb_bool(jb *j, const char *k, bool v)
{
    jb_key(j, k);
    jb_raw(j, v ? "true" : "false");
}

/* t as RFC 3339 in the representation fmt (TF_*). */
static void fmt_time(cw_time t, int fmt, char *buf, size_t size)
{
    static const int off[] = { TZ, 0, 0, 540 };
    char tmp[40];

    cw_time_format(t, off[fmt & 3], tmp, sizeof tmp);
    if ((fmt & 3) == TF_Z)
        snprintf(tmp + 19, sizeof tmp - 19, "Z");
    if (fmt & TF_FRACTION)
        snprintf(buf, size, "%.19s.%03d%s", tmp, (int)((uint64_t)t * 7919 % 1000), tmp + 19);
    else
        snprintf(buf, size, "%s", tmp);
}

static void jb_time(jb *j, const char *k, cw_time t, int fmt)
{
    char buf[40];

    fmt_time(t, fmt, buf, sizeof buf);
    jb_str(j, k, buf);
}

static void jb_list(jb *j, const char *k, const char *const *v, int n)
{
    jb_key(j, k);
    jb_raw(j, "[");
    for (int i = 0; i < n; i++) {
        if (i)
            jb_raw(j, ",");
        jb_raw(j, "\"");
        jb_raw(j, v[i]);
        jb_raw(j, "\"");
    }
    jb_raw(j, "]");
}

static void jb_end(jb *j)
{
    jb_raw(j, "}");
}

/* Write an event of case k; events after `now` have not happened and are
 * left out. Returns whether it was written. */
static bool emit(gen *g, const kase *k, int type, cw_time at, int actor, jb *d)
{
    ev *e;

    if (at == CW_TIME_NONE || at > g->now)
        return false;
    GROW(g->ev, g->nev, g->capev);
    e = &g->ev[g->nev];
    e->at = at;
    e->seq = (uint32_t)g->nev;
    e->ci = k->ci;
    e->type = (uint8_t)type;
    e->actor = actor;
    e->fmt = chance(g, .03) ? (uint8_t)rr(g, TF_Z, TF_TOKYO) : TF_LOCAL;
    if (chance(g, .02))
        e->fmt |= TF_FRACTION;
    e->dlen = 0;
    e->data = 0;
    if (d != NULL) {
        jb_end(d);
        if (d->n > 2) {
            while (g->narena + d->n > g->caparena) {
                g->caparena = g->caparena ? g->caparena * 2 : (1u << 22);
                g->arena = xrealloc(g->arena, g->caparena);
            }
            memcpy(g->arena + g->narena, d->b, d->n);
            e->data = g->narena;
            e->dlen = (uint32_t)d->n;
            g->narena += d->n;
        }
    }
    g->nev++;
    g->ntype[type]++;
    g->cases[k->ci].nev++;
    return true;
}

/* case.closed, noted for ADM-SEIZURE-30D (it meets every seizure). */
static void closed(gen *g, kase *k, cw_time at, jb *d)
{
    if (emit(g, k, T_CASE_CLOSED, at, k->lead, d) &&
        (k->closed_at == CW_TIME_NONE || at < k->closed_at))
        k->closed_at = at;
}

static void add_expect(gen *g, uint32_t ci, int rule, const char *subject, int state, cw_time due)
{
    expect *x;

    GROW(g->exp, g->nexp, g->capexp);
    x = &g->exp[g->nexp++];
    memset(x, 0, sizeof *x);
    x->ci = ci;
    x->rule = (uint8_t)rule;
    x->state = (uint8_t)state;
    snprintf(x->subject, sizeof x->subject, "%s", subject);
    x->due = due;
}

static void expect_violation(gen *g, uint32_t ci, int rule, const char *subject)
{
    add_expect(g, ci, rule, subject, ST_VIOLATION, CW_TIME_NONE);
}

/*
 * An obligation whose A was written: due at `due`, warning lead `lead`
 * (0: none), met by B at `met` (CW_TIME_NONE, or a time after now: B has
 * not happened). The state is the contract's table (docs/RULES.md,
 * "States"): B after due is late, B in [due - lead, due] cleared; with no
 * B, now past due is overdue, now in [due - lead, due] a warning.
 */
static void expect_deadline(gen *g, const kase *k, int rule, const char *subject, cw_time due,
                            int64_t lead, cw_time met)
{
    int st;

    if (met != CW_TIME_NONE && met > g->now)
        met = CW_TIME_NONE;
    if (met != CW_TIME_NONE) {
        if (met > due)
            st = ST_LATE;
        else if (lead > 0 && met >= due - lead)
            st = ST_CLEARED;
        else
            return;
    } else if (g->now > due) {
        st = ST_OVERDUE;
    } else if (lead > 0 && g->now >= due - lead) {
        st = ST_WARNING;
    } else {
        return;
    }
    add_expect(g, k->ci, rule, subject, st, due);
}

/* "P1" for the first obligation of a subject, "P1#2" for the second. */
static void nth(char *buf, size_t size, const char *base, int n)
{
    if (n <= 1)
        snprintf(buf, size, "%s", base);
    else
        snprintf(buf, size, "%s#%d", base, n);
}

/* ---- when B happens -------------------------------------------------------- */

/*
 * The injected outcomes of a deadline: B on time (the lawful default), one
 * second before the warning window (or, with no lead, one second before
 * due), at the window's first second, inside it, at the due second, one
 * second after due, later, or never. The rates are per rule family
 * (bench/README.md).
 */
enum mode { M_ONTIME, M_EDGE, M_CLR_START, M_CLR_IN, M_CLR_DUE, M_LATE1, M_LATE, M_NEVER, NMODES };

static const double rates_lead[NMODES] = { .845, .01, .01, .03, .01, .01, .05, .035 };
static const double rates_nolead[NMODES] = { .885, .015, 0, 0, .015, .015, .045, .025 };

static int pick_mode(gen *g, int64_t lead)
{
    return pick(g, lead > 0 ? rates_lead : rates_nolead, NMODES);
}

/* When B happens for mode m: never before lo; an ordinary B by typ_hi at
 * the latest and before the warning window; a late one up to late_max
 * after due. CW_TIME_NONE: never. */
static cw_time b_time(gen *g, int m, cw_time lo, cw_time typ_hi, cw_time due, int64_t lead,
                      int64_t late_max)
{
    cw_time win = due - lead, t, hi;

    switch (m) {
    case M_NEVER:
        return CW_TIME_NONE;
    case M_EDGE:
        t = win - 1;
        break;
    case M_CLR_START:
        t = win;
        break;
    case M_CLR_IN:
        t = rr(g, win, due);
        break;
    case M_CLR_DUE:
        t = due;
        break;
    case M_LATE1:
        t = due + 1;
        break;
    case M_LATE:
        t = due + rr(g, MINUTE, late_max);
        break;
    default:
        hi = typ_hi < win - MINUTE ? typ_hi : win - MINUTE;
        t = rr(g, lo, hi);
        break;
    }
    return t < lo ? lo : t;
}

/* A time of day as a real feed has them: most in the day, some at night. */
static cw_time daytime(gen *g, cw_day d)
{
    static const double w[24] = { 2, 1.5, 1, 1, 1, 1.2, 2, 3, 5, 6, 6, 5.5,
                                  5, 5.5, 6, 6, 5.5, 5, 4.5, 4.5, 4, 3.5, 3, 2.5 };
    int h = pick(g, w, 24);

    return cw_day_start(d, TZ) + h * HOUR + rr(g, 0, HOUR - 1);
}

/* ---- cases and numbering ---------------------------------------------------- */

static int pick_unit(gen *g)
{
    double w[NUNITS];

    for (int i = 0; i < NUNITS; i++)
        w[i] = units[i].weight;
    return pick(g, w, NUNITS);
}

static int day_index(const gen *g, cw_time t)
{
    int i = (int)(day_of(t) - g->day0);

    return i < 0 ? 0 : i >= NDAYS ? NDAYS - 1 : i;
}

/* A new case record: A/C + unit + year + sequence for cases, J/S + unit
 * + date + sequence for alarm and scene records. */
static void new_case(gen *g, kase *k, int kind, int unit, cw_time t)
{
    crec *c;
    int y, m, d;

    memset(k, 0, sizeof *k);
    GROW(g->cases, g->ncase, g->capcase);
    k->ci = (uint32_t)g->ncase;
    c = &g->cases[g->ncase++];
    memset(c, 0, sizeof *c);
    cw_day_to_civil(day_of(t), &y, &m, &d);
    if (kind == K_ADM || kind == K_CRIM) {
        uint32_t n = ++g->caseno[unit][y >= 2026];
        snprintf(c->id, sizeof c->id, "%c%s%04d%05u", kind == K_ADM ? 'A' : 'C',
                 units[unit].code, y, n);
    } else {
        unsigned n = ++g->dayno[unit][day_index(g, t)][kind == K_ALARM ? 0 : 1];
        snprintf(c->id, sizeof c->id, "%c%s%04d%02d%02d%04u", kind == K_ALARM ? 'J' : 'S',
                 units[unit].code, y, m, d, n);
    }
    c->unit = (uint8_t)unit;
    c->kind = (uint8_t)kind;
    k->unit = unit;
    k->prefix = units[unit].prefix;
    k->kind = kind;
    k->t0 = t;
    k->offence = t;
    k->ft_at = CW_TIME_NONE;
    k->decided_at = k->closed_at = CW_TIME_NONE;
    k->law_as = -1;
    k->lead = g->off_first[k->prefix] + (int)rr(g, 0, prefixes[k->prefix].officers - 1);
    do
        k->partner = g->off_first[k->prefix] + (int)rr(g, 0, prefixes[k->prefix].officers - 1);
    while (k->partner == k->lead);
}

/* ---- officers and interrogation sessions ------------------------------------ */

/* Sessions of officer oi overlapping [s, e) by more than nothing; *hit
 * receives one of them. Sessions are sorted by start and none lasts more
 * than MAX_SESSION, which bounds the scan. */
static int busy(const gen *g, int oi, cw_time s, cw_time e, ivl *hit)
{
    const officer *o = &g->off[oi];
    size_t lo = 0, hi = o->n;
    int n = 0;

    while (lo < hi) {               /* first session starting at or after e */
        size_t mid = (lo + hi) / 2;
        if (o->v[mid].s < e)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (lo > 0 && o->v[lo - 1].s > s - MAX_SESSION - 1) {
        lo--;
        if (o->v[lo].e > s) {
            n++;
            if (hit)
                *hit = o->v[lo];
        }
    }
    return n;
}

static void book(gen *g, int oi, cw_time s, cw_time e)
{
    officer *o = &g->off[oi];
    size_t lo = 0, hi = o->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (o->v[mid].s <= s)
            lo = mid + 1;
        else
            hi = mid;
    }
    GROW(o->v, o->n, o->cap);
    memmove(&o->v[lo + 1], &o->v[lo], (o->n - lo) * sizeof *o->v);
    o->v[lo].s = s;
    o->v[lo].e = e;
    o->n++;
}

/* An officer of the case's prefix free over [s, e), other than `not`:
 * the case's own officers first. -1 when none was found. */
static int free_officer(gen *g, const kase *k, cw_time s, cw_time e, int not1, int not2)
{
    int cand[2] = { k->lead, k->partner };

    for (int i = 0; i < 2; i++)
        if (cand[i] != not1 && cand[i] != not2 && busy(g, cand[i], s, e, NULL) == 0)
            return cand[i];
    for (int tries = 0; tries < 24; tries++) {
        int o = g->off_first[k->prefix] + (int)rr(g, 0, prefixes[k->prefix].officers - 1);
        if (o != not1 && o != not2 && busy(g, o, s, e, NULL) == 0)
            return o;
    }
    return -1;
}

static bucket *bucket_of(gen *g, int prefix, cw_time t)
{
    return &g->buckets[prefix * NDAYS + day_index(g, t)];
}

static void officer_id(const gen *g, int oi, char *buf, size_t size)
{
    int p = 0;

    while (p + 1 < NPREFIX && oi >= g->off_first[p + 1])
        p++;
    snprintf(buf, size, "O%05d", prefixes[p].base + (oi - g->off_first[p]) + 1);
}

enum place { PL_FACILITY, PL_DETENTION, PL_SCENE, PL_ANY };

/*
 * Write one session: interrogation.started and .ended of person pi of case
 * k over [s, e) by officer o1 and o2 (o2 < 0: o1 alone, which the caller
 * only does in a facility), with the inspection breaches injected when
 * `inject` says so. The caller has checked e <= now. Returns whether it
 * was written.
 */
static bool write_session(gen *g, kase *k, int pi, cw_time s, cw_time e, int o1, int o2,
                          int place, bool inject)
{
    person *p = &k->p[pi];
    char sid[12], ids[2][12];
    const char *offs[2];
    bool facility, recorded, record_given = true, dup = false, guardian = false;
    bool minor = p->age >= 0 && p->age < 18, guardian_given = false;
    int noff = o2 >= 0 ? 2 : 1, nlisted;
    jb d;
    sess *ss;
    bucket *b;

    facility = place == PL_FACILITY || place == PL_DETENTION ||
               (place == PL_ANY && chance(g, .6));
    recorded = facility || chance(g, .5);
    if (noff == 1)          /* one officer alone: lawful only here */
        facility = recorded = true;
    if (inject) {
        double r = rnd01(g);
        if (r < .006 && noff == 2) {            /* 2OFFICERS: alone at the scene */
            noff = 1;
            facility = false;
        } else if (r < .010 && noff == 2) {     /* 2OFFICERS: one officer listed twice */
            dup = true;
            facility = false;
        } else if (r < .013) {                  /* both: alone in a facility, unrecorded */
            noff = 1;
            facility = true;
            recorded = false;
        } else if (r < .023) {                  /* RECORDING: facility, recorded false */
            facility = true;
            recorded = false;
        } else if (r < .028) {                  /* RECORDING: the flag left out */
            facility = true;
            recorded = false;
            record_given = false;
        }
    }
    /* A minor is questioned with the guardian; breaches and the boundary
     * probes leave the flag false or out. */
    if (minor && !p->no_guardian) {
        guardian_given = true;
        guardian = true;
        if (inject) {
            double r = rnd01(g);
            if (r < .04)
                guardian = false;
            else if (r < .07)
                guardian = guardian_given = false;
        }
    }
    officer_id(g, o1, ids[0], sizeof ids[0]);
    offs[0] = offs[1] = ids[0];
    nlisted = 1;
    if (dup) {
        nlisted = 2;
    } else if (noff == 2) {
        officer_id(g, o2, ids[1], sizeof ids[1]);
        offs[1] = ids[1];
        nlisted = 2;
    }
    k->nsess++;
    snprintf(sid, sizeof sid, "S%d", k->nsess);
    jb_init(&d);
    jb_str(&d, "person", p->id);
    jb_str(&d, "session", sid);
    jb_list(&d, "officers", offs, nlisted);
    if (record_given)
        jb_bool(&d, "recorded", recorded);
    jb_bool(&d, "in_facility", facility);
    if (guardian_given)
        jb_bool(&d, "guardian_present", guardian);
    if (!emit(g, k, T_INTERROGATION_STARTED, s, o1, &d))
        return false;
    if (p->nist >= (int)(sizeof p->ist / sizeof *p->ist))
        die("internal: too many interrogations of one person");
    p->ist[p->nist++] = s;
    jb_init(&d);
    jb_str(&d, "person", p->id);
    jb_str(&d, "session", sid);
    emit(g, k, T_INTERROGATION_ENDED, e, o1, &d);
    if ((noff < 2 || dup) && !(facility && recorded))
        expect_violation(g, k->ci, R_INT_2OFFICERS, "");
    if (facility && !recorded)
        expect_violation(g, k->ci, R_INT_RECORDING, "");
    if (k->nsessrec < MAXSESS) {
        k->sess[k->nsessrec].person = pi;
        k->sess[k->nsessrec].guardian = guardian;
        k->nsessrec++;
    }
    book(g, o1, s, e);
    if (noff == 2 && !dup)
        book(g, o2, s, e);
    b = bucket_of(g, k->prefix, s);
    GROW(b->v, b->n, b->cap);
    ss = &b->v[b->n++];
    ss->s = s;
    ss->e = e;
    ss->ci = k->ci;
    ss->sid = (uint16_t)k->nsess;
    ss->off[0] = o1;
    ss->off[1] = noff == 2 && !dup ? o2 : -1;
    return true;
}

/*
 * OFFICER-OVERLAP probe: a session of person pi sharing one officer with
 * an existing session Y of the same prefix (any case, this one included)
 * and starting `ov` seconds before Y ends: 300 (exactly five minutes) is
 * lawful, 301 or more a finding on both sessions. Returns the session's
 * end, or CW_TIME_NONE when no suitable Y was found near `from`.
 */
static cw_time overlap_probe(gen *g, kase *k, int pi, cw_time from)
{
    static const double w[] = { .3, .35, .35 };
    int which = pick(g, w, 3), shape = (int)rr(g, 0, 2);
    int64_t ov = which == 0 ? 300 : which == 1 ? 301 : rr(g, 6 * MINUTE, 30 * MINUTE);

    for (int tries = 0; tries < 12; tries++) {
        bucket *b = bucket_of(g, k->prefix, from + rr(g, 0, 2) * DAY);
        sess y;
        cw_time s, e;
        int o, o2;
        ivl hit;
        char subj[12];

        if (b->n == 0)
            continue;
        y = b->v[rr(g, 0, b->n - 1)];
        /* Three shapes: starting before Y ends, ending after Y started, or
         * a short session of `ov` seconds inside Y. */
        if (shape == 0) {
            s = y.e - ov;
            e = s + rr(g, 31 * MINUTE, 90 * MINUTE);
        } else if (shape == 1) {
            e = y.s + ov;
            s = e - rr(g, 31 * MINUTE, 90 * MINUTE);
        } else {
            s = y.s + rr(g, MINUTE, y.e - y.s - ov - MINUTE);
            e = s + ov;
        }
        if ((shape == 0 && s <= y.s) || (shape == 1 && e >= y.e) ||
            (shape == 2 && (s <= y.s || e >= y.e)) || s < k->t0 + 30 * MINUTE ||
            s < k->p[pi].known_at + MINUTE || e > g->now)
            continue;
        o = y.off[rr(g, 0, y.off[1] >= 0 ? 1 : 0)];
        /* The shared officer meets Y and nothing else. */
        if (busy(g, o, s, e, &hit) != 1 || hit.s != y.s || hit.e != y.e)
            continue;
        o2 = free_officer(g, k, s, e, y.off[0], y.off[1]);
        if (o2 < 0)
            continue;
        if (!write_session(g, k, pi, s, e, o, o2, PL_FACILITY, false))
            return CW_TIME_NONE;
        if (ov > 300) {
            snprintf(subj, sizeof subj, "S%d", k->nsess);
            expect_violation(g, k->ci, R_OFFICER_OVERLAP, subj);
            snprintf(subj, sizeof subj, "S%u", (unsigned)y.sid);
            expect_violation(g, y.ci, R_OFFICER_OVERLAP, subj);
        }
        return e;
    }
    return CW_TIME_NONE;
}

/* An interrogation of person pi starting in [lo, hi] for dur; its end, or
 * CW_TIME_NONE when none was held (no officers free, or past now). */
static cw_time interrogate(gen *g, kase *k, int pi, cw_time lo, cw_time hi, int64_t dur,
                           int place)
{
    cw_time s;

    if (k->p[pi].role != ROLE_SUSPECT && chance(g, .025)) {
        cw_time e = overlap_probe(g, k, pi, lo);
        if (e != CW_TIME_NONE)
            return e;
    }
    s = rr(g, lo, hi);
    for (int tries = 0; tries < 16; tries++, s += 10 * MINUTE) {
        cw_time e = s + dur;
        int o1, o2 = -1;

        if (e > g->now)
            return CW_TIME_NONE;
        if ((o1 = free_officer(g, k, s, e, -1, -1)) < 0)
            continue;
        if (place == PL_SCENE || place == PL_ANY || !chance(g, .08)) {
            if ((o2 = free_officer(g, k, s, e, o1, -1)) < 0)
                continue;
        }
        return write_session(g, k, pi, s, e, o1, o2, place, true) ? e : CW_TIME_NONE;
    }
    return CW_TIME_NONE;
}

/* ---- persons ---------------------------------------------------------------- */

/* A birth date that makes someone `age` completed years old on day `on`. */
static cw_day birth_for_age(gen *g, cw_day on, int age)
{
    int oy, om, od, m = (int)rr(g, 1, 12), d = (int)rr(g, 1, 28), by;

    cw_day_to_civil(on, &oy, &om, &od);
    by = oy - age;
    if (m > om || (m == om && d >= od))
        by--;       /* a birthday on `on` itself is not reached yet */
    return cw_day_from_civil(by, m, d);
}

/* A birth date that makes the offence day the birthday of `years`
 * (`eve`: still years - 1, 周岁 counting from the day after), or the day
 * after it (`years` reached at 00:00 of that day). */
static cw_day birth_years(const kase *k, int years, bool eve)
{
    int oy, om, od;

    cw_day_to_civil(day_of(k->offence), &oy, &om, &od);
    return cw_day_from_civil(oy - years, om, od) - (eve ? 0 : 1);
}

/* The 18th birthday on the offence day (still 17), or the day before
 * it (18 at the offence). */
static cw_day birth_18(const kase *k, bool eve)
{
    return birth_years(k, 18, eve);
}

static person *add_person(gen *g, kase *k, int role, cw_day birth)
{
    person *p = &k->p[k->np];

    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "P%d", k->np + 1);
    p->role = role;
    p->birth = birth;
    p->age = age_on(birth, day_of(k->offence));
    p->first_offence = role == ROLE_SUSPECT && chance(g, .6);
    p->known_at = p->arrival = p->decided = CW_TIME_NONE;
    k->np++;
    return p;
}

/* An ordinary suspect's flags; the fast-track exclusions stay out of
 * fast-tracked cases (they are injected there on purpose). */
static unsigned suspect_flags(gen *g, int age, bool ft)
{
    double r = rnd01(g);

    if (r < .015)
        return F_DISABLED;
    if (r < .025 && age >= 20 && age <= 40)
        return F_PREGNANT;
    if (r < .030 && age >= 20 && age <= 40)
        return F_NURSING;
    if (ft)
        return 0;
    if (r < .035)
        return F_MENTAL;
    if (r < .038)
        return F_DEAF;
    if (r < .040)
        return F_BLIND;
    if (r < .042)
        return F_MUTE;
    return 0;
}

/* The person.added events; a late birth date comes a day or two later in
 * a second person.added that repeats everything. */
static void write_persons(gen *g, kase *k)
{
    cw_time t = k->t0 + rr(g, 3, 15) * MINUTE;

    for (int i = 0; i < k->np; i++) {
        person *p = &k->p[i];
        const char *fl[8];
        int nf = 0;
        char bd[16];

        for (int f = 0; f < 7; f++)
            if (p->flags & (1u << f))
                fl[nf++] = flag_names[f];
        for (int pass = 0; pass < (p->late_birth ? 2 : 1); pass++) {
            jb d;
            cw_time at = pass == 0 ? t : k->t0 + rr(g, 26, 60) * HOUR;

            jb_init(&d);
            jb_str(&d, "person", p->id);
            jb_str(&d, "role", role_names[p->role]);
            if (p->birth != NO_DAY && (!p->late_birth || pass == 1)) {
                cw_day_format(p->birth, bd, sizeof bd);
                jb_str(&d, "birth_date", bd);
            }
            if (nf > 0)
                jb_list(&d, "flags", fl, nf);
            if (p->role == ROLE_SUSPECT)
                jb_bool(&d, "first_offence", p->first_offence);
            if (!emit(g, k, T_PERSON_ADDED, at, k->lead, &d))
                continue;
            p->listed = true;
            if (p->birth != NO_DAY && (!p->late_birth || pass == 1))
                p->known_at = at;
        }
        t += rr(g, 1, 5) * MINUTE;
    }
}

/* ---- obligations of one subject ------------------------------------------ */

/*
 * A summons of person pi at ts, with one interrogation inside it:
 * SUMMONS-LIMIT for an administrative case (8 h; 12 h many involved or
 * identity unknown; 24 h complex and detention possible; lead 1 h),
 * CRIM-SUMMONS for a criminal one (12 h, 24 h detention possible; no
 * lead). `mode` < 0 draws the injected outcome. Returns the end, or
 * CW_TIME_NONE when the person never left (or the summons did not happen).
 */
static cw_time summons(gen *g, kase *k, int pi, cw_time ts, int mode, bool plain)
{
    person *p = &k->p[pi];
    bool crim = k->kind == K_CRIM;
    int rule = crim ? R_CRIM_SUMMONS : R_SUMMONS_LIMIT, hours = crim ? 12 : 8;
    int64_t lead = crim ? 0 : HOUR;
    char subj[16];
    cw_time due, se, end;
    double r = plain ? 1 : rnd01(g);
    jb d;

    jb_init(&d);
    jb_str(&d, "person", p->id);
    if (!crim) {
        if (r < .06) {
            jb_bool(&d, "complex", true);
            jb_bool(&d, "detention_possible", true);
            hours = 24;
        } else if (r < .12) {
            jb_bool(&d, "many_involved", true);
            hours = 12;
        } else if (r < .15) {
            jb_bool(&d, "identity_unknown", true);
            hours = 12;
        } else if (r < .23) {
            jb_bool(&d, "detention_possible", true);
        } else if (r < .27) {
            jb_bool(&d, "complex", true);
        }
    } else {
        if (r < .18) {
            jb_bool(&d, "detention_possible", true);
            hours = 24;
        } else if (r < .24) {
            jb_bool(&d, "complex", true);
        } else if (r < .28) {
            jb_bool(&d, "many_involved", true);
        }
    }
    if (!emit(g, k, T_SUMMONS_STARTED, ts, k->lead, &d))
        return CW_TIME_NONE;
    nth(subj, sizeof subj, p->id, ++p->nsum);
    if (p->arrival == CW_TIME_NONE)
        p->arrival = ts;
    due = ts + (int64_t)hours * HOUR;
    se = interrogate(g, k, pi, ts + rr(g, 10, 40) * MINUTE, ts + 40 * MINUTE,
                     rr(g, 30, 100) * MINUTE, crim || chance(g, .85) ? PL_FACILITY : PL_ANY);
    if (mode < 0)
        mode = pick_mode(g, lead);
    end = b_time(g, mode, (se != CW_TIME_NONE ? se : ts + 40 * MINUTE) + rr(g, 5, 30) * MINUTE,
                 ts + rr(g, 2 * HOUR, 6 * HOUR), due, lead, 8 * HOUR);
    jb_init(&d);
    jb_str(&d, "person", p->id);
    emit(g, k, T_SUMMONS_ENDED, end, k->lead, &d);
    expect_deadline(g, k, rule, subj, due, lead, end);
    return end;
}

/*
 * PROPERTY-24H: evidence.seized -> evidence.stored within 24 h. Now and
 * then the property goes straight to the store: stored at the very second
 * of the seizure, the storage record sometimes written first (B at A's
 * second is on time: "B: the first such event at or after A").
 */
/*
 * ADM-SEIZURE-30D (行政强制法 Art 25): a seizure of an administrative case,
 * noted for its truth at the end of the case, and half of the time its
 * disposal (returned, confiscated ...) drawn by the usual outcomes. An
 * item seized twice is not disposed of (so that no disposal meets the
 * wrong seizure).
 */
static void seizure_noted(gen *g, kase *k, const char *item, const char *subj, cw_time t,
                          bool once)
{
    static const char *const outcomes[] = { "returned", "confiscated", "destroyed", "transferred" };
    cw_time b;
    jb d;

    if (k->nsz >= (int)(sizeof k->sz / sizeof *k->sz))
        die("internal: too many seizures in an administrative case");
    snprintf(k->sz[k->nsz].item, sizeof k->sz[k->nsz].item, "%s", item);
    snprintf(k->sz[k->nsz].subj, sizeof k->sz[k->nsz].subj, "%s", subj);
    k->sz[k->nsz].at = t;
    k->sz[k->nsz].disposed = CW_TIME_NONE;
    if (once && chance(g, .5)) {
        b = b_time(g, pick_mode(g, 3 * DAY), t + DAY, t + rr(g, 3 * DAY, 25 * DAY),
                   due_days(g, t, 30, false), 3 * DAY, 20 * DAY);
        jb_init(&d);
        jb_str(&d, "item", item);
        jb_str(&d, "outcome", outcomes[rr(g, 0, 3)]);
        if (emit(g, k, T_EVIDENCE_DISPOSED, b, k->lead, &d))
            k->sz[k->nsz].disposed = b;
    }
    k->nsz++;
}

/* What ends seizure i: its disposal, or the case decided or closed, the
 * earliest at or after it; CW_TIME_NONE when none has happened. */
static cw_time seizure_met(const kase *k, int i)
{
    const cw_time c[3] = { k->sz[i].disposed, k->decided_at, k->closed_at };
    cw_time m = CW_TIME_NONE;

    for (int j = 0; j < 3; j++)
        if (c[j] != CW_TIME_NONE && c[j] >= k->sz[i].at && (m == CW_TIME_NONE || c[j] < m))
            m = c[j];
    return m;
}

typedef struct szext {
    cw_time at;
    int days;
    const char *item;       /* NULL: every item seized before it */
} szext;

/*
 * The truth of ADM-SEIZURE-30D for the case's seizures, with the
 * extensions injected into 8% of the cases that have some: one of 10-30
 * days (lawful), one of 31-45 (a breach, counted as 30), two (the second
 * a breach, not counted), or one naming no item (for every item seized
 * before it). An extension counts for a seizure not yet ended; the due is
 * the end of day 30 plus what counts (60 at the most), rolled over.
 */
static void seizure_truth(gen *g, kase *k)
{
    szext x[2];
    int nx = 0;

    if (k->nsz == 0)
        return;
    if (chance(g, .08)) {
        int t = (int)rr(g, 0, k->nsz - 1);
        double r = rnd01(g);
        cw_time end = seizure_met(k, t), at = k->sz[t].at + rr(g, 15 * DAY, 27 * DAY);
        x[0].at = at;
        x[0].item = r < .8 ? k->sz[t].item : NULL;
        x[0].days = r < .5 || r >= .8 ? (int)rr(g, 10, 30) : r < .65 ? (int)rr(g, 31, 45)
                                                                   : (int)rr(g, 10, 30);
        nx = end == CW_TIME_NONE || at < end ? 1 : 0;
        if (nx == 1 && r >= .65 && r < .8) {
            x[1] = x[0];
            x[1].at = at + rr(g, DAY, 5 * DAY);
            x[1].days = (int)rr(g, 5, 20);
            nx = end == CW_TIME_NONE || x[1].at < end ? 2 : 1;
        }
    }
    for (int j = 0; j < nx; j++) {
        char by[16];
        jb d;
        snprintf(by, sizeof by, "%s00-fz", prefixes[k->prefix].code);
        jb_init(&d);
        jb_str(&d, "limit", "seizure");
        jb_int(&d, "days", x[j].days);
        if (x[j].item)
            jb_str(&d, "item", x[j].item);
        jb_str(&d, "approved_by", by);
        if (!emit(g, k, T_CASE_EXTENDED, x[j].at, k->lead, &d))
            nx = j;
    }
    for (int i = 0; i < k->nsz; i++) {
        cw_time end = seizure_met(k, i);
        int count = 0, add = 0;
        bool breach = false;
        for (int j = 0; j < nx; j++) {
            int n = x[j].days;
            if (x[j].at < k->sz[i].at || (end != CW_TIME_NONE && x[j].at >= end) ||
                (x[j].item && strcmp(x[j].item, k->sz[i].item) != 0))
                continue;
            if (++count > 1) {
                breach = true;
                continue;
            }
            if (n > 30) {
                breach = true;
                n = 30;
            }
            add += n;
        }
        if (breach) {
            char subj[24];
            snprintf(subj, sizeof subj, "extension:%s", k->sz[i].item);
            expect_violation(g, k->ci, R_ADM_SEIZURE, subj);
        }
        expect_deadline(g, k, R_ADM_SEIZURE, k->sz[i].subj, due_days(g, k->sz[i].at, 30 + add, false),
                        3 * DAY, end);
    }
}

static void seize(gen *g, kase *k, cw_time t, int mode)
{
    char item[8], subj[16];
    cw_time due, b;
    const char *desc = descriptions[rr(g, 0, (int64_t)(sizeof descriptions / sizeof *descriptions) - 1)];
    int again = chance(g, .006) ? 2 : 1;
    bool same = mode < 0 && chance(g, .01), bfirst = same && chance(g, .5);
    jb d;

    snprintf(item, sizeof item, "K%d", ++k->nitem);
    for (int n = 1; n <= again; n++) {
        due = t + 24 * HOUR;
        b = same ? t : b_time(g, mode >= 0 ? mode : pick_mode(g, 0), t + 15 * MINUTE,
                              t + rr(g, HOUR, 20 * HOUR), due, 0, 5 * DAY);
        if (bfirst) {
            jb_init(&d);
            jb_str(&d, "item", item);
            emit(g, k, T_EVIDENCE_STORED, b, k->lead, &d);
        }
        jb_init(&d);
        jb_str(&d, "item", item);
        jb_str(&d, "description", desc);
        if (!emit(g, k, T_EVIDENCE_SEIZED, t, k->lead, &d))
            return;
        nth(subj, sizeof subj, item, n);
        if (!bfirst) {
            jb_init(&d);
            jb_str(&d, "item", item);
            emit(g, k, T_EVIDENCE_STORED, b, k->lead, &d);
        }
        expect_deadline(g, k, R_PROPERTY_24H, subj, due, 0, b);
        if (k->kind == K_ADM)
            seizure_noted(g, k, item, subj, t, again == 1);
        same = bfirst = false;
        if (b == CW_TIME_NONE)
            return;
        t = b + rr(g, DAY, 5 * DAY);     /* seized again after storage: K1#2 */
    }
}

/* BODYCAM-24H: scene.attended -> bodycam.uploaded (same ref) within 24 h. */
static void scene(gen *g, kase *k, cw_time t, int mode)
{
    char ref[40], subj[48];
    int y, m, dd, again = chance(g, .004) ? 2 : 1;
    cw_time due, b;
    jb d;

    cw_day_to_civil(day_of(t), &y, &m, &dd);
    snprintf(ref, sizeof ref, "BWC-%s-%04d%02d%02d-%03u", units[k->unit].code, y, m, dd,
             (unsigned)++g->dayno[k->unit][day_index(g, t)][2]);
    for (int n = 1; n <= again; n++) {
        jb_init(&d);
        jb_str(&d, "ref", ref);
        if (!emit(g, k, T_SCENE_ATTENDED, t, k->lead, &d))
            return;
        nth(subj, sizeof subj, ref, n);
        due = t + 24 * HOUR;
        b = b_time(g, mode >= 0 ? mode : pick_mode(g, 0), t + 30 * MINUTE,
                   t + rr(g, HOUR, 20 * HOUR), due, 0, 5 * DAY);
        mode = -1;
        jb_init(&d);
        jb_str(&d, "ref", ref);
        emit(g, k, T_BODYCAM_UPLOADED, b, k->lead, &d);
        expect_deadline(g, k, R_BODYCAM_24H, subj, due, 0, b);
        if (b == CW_TIME_NONE)
            return;
        t = b + rr(g, 2 * HOUR, 2 * DAY);   /* the same ref attended again */
    }
}

/*
 * BAIL-12M or RSL-6M from `t` for person pi (lead 15 days, holiday
 * rollover). `mode` < 0 draws the outcome; `end` other than CW_TIME_NONE
 * fixes it. Returns the end, CW_TIME_NONE if none.
 */
static cw_time restraint(gen *g, kase *k, int pi, cw_time t, bool rsl, int mode, cw_time end)
{
    person *p = &k->p[pi];
    char subj[16];
    cw_time due;
    jb d;

    jb_init(&d);
    jb_str(&d, "person", p->id);
    if (!emit(g, k, rsl ? T_RSL_STARTED : T_BAIL_STARTED, t, k->lead, &d))
        return CW_TIME_NONE;
    nth(subj, sizeof subj, p->id, rsl ? ++p->nrsl : ++p->nbail);
    due = due_months(g, t, rsl ? 6 : 12, 0, false);
    if (end == CW_TIME_NONE) {
        if (mode < 0)
            mode = pick_mode(g, 15 * DAY);
        end = b_time(g, mode, t + 20 * DAY, t + rr(g, 40, rsl ? 150 : 320) * DAY, due, 15 * DAY,
                     60 * DAY);
    }
    jb_init(&d);
    jb_str(&d, "person", p->id);
    emit(g, k, rsl ? T_RSL_ENDED : T_BAIL_ENDED, end, k->lead, &d);
    expect_deadline(g, k, rsl ? R_RSL_6M : R_BAIL_12M, subj, due, 15 * DAY, end);
    return end;
}

/* ---- extensions --------------------------------------------------------------- */

static void write_ext(gen *g, kase *k, ext *x)
{
    char by[16];
    jb d;

    snprintf(by, sizeof by, "%s00-fz", prefixes[k->prefix].code);
    jb_init(&d);
    jb_str(&d, "limit", limit_names[x->limit]);
    jb_int(&d, "days", x->days);
    if (x->person >= 0)
        jb_str(&d, "person", k->p[x->person].id);
    jb_str(&d, "approved_by", by);
    x->written = emit(g, k, T_CASE_EXTENDED, x->at, k->lead, &d);
}

/*
 * The extension days that apply to one obligation (DOMAIN.md section 1):
 * the case.extended of its limit written at or after A and before B,
 * naming A's person or no one. Beyond max_count extensions, or past cap
 * days in all (base included), an extension is a breach (*breach) and
 * the period is the lawful maximum.
 */
static int ext_days(const ext *x, int nx, int limit, cw_time start, cw_time met, int who,
                    int base, int max_count, int max_days, int cap, bool *breach)
{
    int days = 0, count = 0;

    for (int i = 0; i < nx; i++) {
        int n = x[i].days;
        if (x[i].limit != limit || !x[i].written || x[i].at < start)
            continue;
        if (met != CW_TIME_NONE && x[i].at >= met)
            continue;
        if (x[i].person >= 0 && who >= 0 && x[i].person != who)
            continue;
        count++;
        if (max_count > 0 && count > max_count) {
            *breach = true;
            continue;
        }
        if (max_days > 0 && n > max_days) {
            *breach = true;
            n = max_days;
        }
        if (cap > 0 && base + days + n > cap) {
            *breach = true;
            days = cap - base;
            continue;
        }
        days += n;
    }
    return days;
}

/* ---- the law of section 3 -------------------------------------------------------- */

/*
 * The discretion tables as DOMAIN.md section 3 and the two texts of the law
 * give them, written here to judge the decisions the generator makes
 * (rules/discretion holds the same figures for the engine; neither is read
 * from the other). Ranges include their ends (以上/以下 include the
 * number); AND: both imposed, OR: exactly one of them, OPT: detention with
 * or without a fine, ONE: the tier has a single range.
 */
enum combine { CB_ONE, CB_AND, CB_OR, CB_OPT };

typedef struct lrange {
    int lo, hi;             /* hi < 0: the tier has no such penalty */
} lrange;

typedef struct ltier {
    int same_as;            /* -1, or the tier whose ranges apply */
    lrange det, fine;
    int combine;
    bool warning;           /* a warning alone is a penalty of this tier */
} ltier;

typedef struct lrow {
    const char *code;
    const char *alias[2];   /* other codes that select this row while it is in force */
    bool assault;           /* its heavier-tier factors: heavier_factors[] */
    ltier t[3];
} lrow;

#define NO_RANGE { 0, -1 }
#define AS_NORMAL { TIER_NORMAL, NO_RANGE, NO_RANGE, CB_ONE, false }
#define NLAWROWS 5

/* [0]: the 2005 law as amended in 2012, for offences up to 2025-12-31
 * (the 2025 article numbers as aliases); [1]: the 2025 revision, for
 * offences from 2026-01-01. */
static const lrow law_rows[2][NLAWROWS] = {
    {
        { "PSAL-43", { "PSAL-51", NULL }, true,
          { { -1, { 0, 5 }, { 0, 500 }, CB_OR, false },
            { -1, { 5, 10 }, { 200, 500 }, CB_AND, false },
            { -1, { 10, 15 }, { 500, 1000 }, CB_AND, false } } },
        { "PSAL-49", { "PSAL-58", "PSAL-59" }, false,
          { AS_NORMAL, { -1, { 5, 10 }, { 0, 500 }, CB_OPT, false },
            { -1, { 10, 15 }, { 0, 1000 }, CB_OPT, false } } },
        { "PSAL-42", { "PSAL-50", NULL }, false,
          { AS_NORMAL, { -1, { 0, 5 }, { 0, 500 }, CB_OR, false },
            { -1, { 5, 10 }, { 0, 500 }, CB_OPT, false } } },
        { "PSAL-26", { "PSAL-30", NULL }, false,
          { AS_NORMAL, { -1, { 5, 10 }, { 0, 500 }, CB_OPT, false },
            { -1, { 10, 15 }, { 0, 1000 }, CB_OPT, false } } },
        { "PSAL-23", { NULL, NULL }, false,
          { AS_NORMAL, { -1, NO_RANGE, { 0, 200 }, CB_ONE, true },
            { -1, { 5, 10 }, { 0, 500 }, CB_OPT, false } } },
    },
    {
        { "PSAL-51", { NULL, NULL }, true,
          { { -1, { 0, 5 }, { 0, 1000 }, CB_OR, false },
            { -1, { 5, 10 }, { 500, 1000 }, CB_AND, false },
            { -1, { 10, 15 }, { 1000, 2000 }, CB_AND, false } } },
        { "PSAL-58", { NULL, NULL }, false,
          { AS_NORMAL, { -1, { 5, 10 }, { 0, 2000 }, CB_OR, false },
            { -1, { 10, 15 }, { 0, 3000 }, CB_OPT, false } } },
        { "PSAL-59", { NULL, NULL }, false,
          { AS_NORMAL, { -1, { 0, 5 }, { 0, 1000 }, CB_OR, false },
            { -1, { 5, 10 }, { 0, 3000 }, CB_OPT, false } } },
        { "PSAL-50", { NULL, NULL }, false,
          { AS_NORMAL, { -1, { 0, 5 }, { 0, 1000 }, CB_OR, false },
            { -1, { 5, 10 }, { 0, 1000 }, CB_OPT, false } } },
        { "PSAL-30", { NULL, NULL }, false,
          { AS_NORMAL, { -1, { 5, 10 }, { 0, 1000 }, CB_OR, false },
            { -1, { 10, 15 }, { 0, 2000 }, CB_OPT, false } } },
    },
};

/* PSAL 2025 Art 51 para 2 (2012 Art 43 para 2): what makes an assault
 * heavier; and what allows a lower tier despite it (Art 20-22). */
static const char *const heavier_factors[] = { "multiple_attackers", "vulnerable_victim",
                                               "repeated" };
static const char *const mitigating_factors[] = { "minor_offender", "voluntary_surrender",
                                                  "victim_forgiveness", "admitted_guilt",
                                                  "coerced" };

/* The law in force on the offence day: 0 (2012) or 1 (2025). */
static int law_of(const gen *g, cw_time offence)
{
    return day_of(offence) >= g->law2025;
}

/* The row a cited code selects in one version of the law, or -1. */
static int row_in(int law, const char *code)
{
    for (int i = 0; i < NLAWROWS; i++) {
        const lrow *r = &law_rows[law][i];
        if (strcmp(r->code, code) == 0)
            return i;
        for (int a = 0; a < 2; a++)
            if (r->alias[a] != NULL && strcmp(r->alias[a], code) == 0)
                return i;
    }
    return -1;
}

/* The ranges of a declared tier (情节较轻 is often 同一般情节). */
static const ltier *tier_law(const lrow *r, int tier)
{
    return r->t[tier].same_as >= 0 ? &r->t[r->t[tier].same_as] : &r->t[tier];
}

static bool in_range(lrange r, int v)
{
    return r.hi >= 0 && v >= r.lo && v <= r.hi;
}

/* Whether what was decided is a penalty of the tier (docs/SANCTIONS.md,
 * SANCTION-RANGE): nothing at all only as a warning the tier allows; a
 * warning beside a fine or detention changes nothing; a detention of 0
 * under OPT only where the range starts at 0. */
static bool within_tier(const ltier *t, int det, int fine, bool warning)
{
    if (det == 0 && fine == 0)
        return warning && t->warning;
    if ((det > 0 && t->det.hi < 0) || (fine > 0 && t->fine.hi < 0))
        return false;
    switch (t->combine) {
    case CB_AND:
        return det > 0 && fine > 0 && in_range(t->det, det) && in_range(t->fine, fine);
    case CB_OR:
        return (det > 0) != (fine > 0) &&
               (det > 0 ? in_range(t->det, det) : in_range(t->fine, fine));
    case CB_OPT:
        return in_range(t->det, det) && (fine == 0 || in_range(t->fine, fine));
    default:
        return det > 0 ? in_range(t->det, det) : in_range(t->fine, fine);
    }
}

/* The groups of PSAL 2025 Art 23 (2012 Art 21) that detention is not
 * executed for: 14-15, 16-17 on a first offence, 70 and over, pregnant or
 * nursing a baby; and under 14 (not punished at all, PSAL Art 12), which
 * DETENTION-EXEMPT covers with no exception. */
enum { EX_NONE, EX_TEEN, EX_MINOR_FIRST, EX_ELDERLY, EX_PREGNANT, EX_CHILD };

/* A person's group at the offence, from the facts or (`seen`) from what
 * the feed says: a person.added not written says nothing, a birth date
 * that never came gives no age. */
static int exempt_group(const person *p, bool seen)
{
    bool aged = p->birth != NO_DAY && !(seen && p->known_at == CW_TIME_NONE);

    if (seen && !p->listed)
        return EX_NONE;
    if (aged && p->age < 14)
        return EX_CHILD;
    if (p->flags & (F_PREGNANT | F_NURSING))
        return EX_PREGNANT;
    if (!aged)
        return EX_NONE;
    if (p->age >= 14 && p->age < 16)
        return EX_TEEN;
    if (p->age >= 16 && p->age < 18 && p->first_offence)
        return EX_MINOR_FIRST;
    if (p->age >= 70)
        return EX_ELDERLY;
    return EX_NONE;
}

/* ---- sanctions ------------------------------------------------------------------ */

#define MAXFACTORS 6

typedef struct pen {
    const char *cause;
    int tier, det, fine;
    bool warning, revoke;
    const char *factor[MAXFACTORS];
    int nfactor;
    int exec;               /* detention executed: 1 yes, 0 no, -1 where the law allows it */
    int out;                /* made out of range (or citing a cause no table has) on
                             * purpose: 1; lawful: 0; not known: -1 */
} pen;

static void add_factor(pen *pn, const char *f)
{
    for (int i = 0; i < pn->nfactor; i++)
        if (strcmp(pn->factor[i], f) == 0)
            return;
    if (pn->nfactor < MAXFACTORS)
        pn->factor[pn->nfactor++] = f;
}

static bool has_factor(const pen *pn, const char *f)
{
    for (int i = 0; i < pn->nfactor; i++)
        if (strcmp(pn->factor[i], f) == 0)
            return true;
    return false;
}

/* Whether the decision's factors lift the exemption (PSAL 2025 Art 23
 * para 2): serious_impact for the three age groups, repeat_within_year
 * for 14-15 and 70+, never for pregnant or nursing persons; the 2012 law,
 * which offences before 2026 keep (从旧兼从轻), has no exceptions. */
static bool exemption_lifted(const gen *g, const kase *k, int grp, const pen *pn)
{
    if (grp == EX_NONE || grp == EX_PREGNANT || grp == EX_CHILD || law_of(g, k->offence) == 0)
        return false;
    return has_factor(pn, "serious_impact") ||
           (grp != EX_MINOR_FIRST && has_factor(pn, "repeat_within_year"));
}

/* Whether the law lets the person's detention be executed. */
static bool may_detain(const gen *g, const kase *k, const person *p, const pen *pn)
{
    int grp = exempt_group(p, false);

    if (p->age < 14)
        return false;
    return grp == EX_NONE || exemption_lifted(g, k, grp, pn);
}

/*
 * 从旧兼从轻 (行政处罚法 Art 37): a decision made under a newer law than
 * the one at the act is also judged by the newer row where that row is
 * lighter for the tier: its heaviest penalty is lighter, or with equal
 * heaviest its lightest is (法释〔1997〕12号), a day of detention weighing
 * more than any fine. Found here by trying every penalty the tier allows
 * (once per row and tier), not from the ranges' ends as the engine does.
 */
static void tier_extremes(const ltier *t, int mx[2], int mn[2])
{
    bool any = false;

    if (t->warning) {
        mn[0] = mn[1] = 0;
        any = true;
    }
    for (int det = 0; det <= 20; det++)
        for (int fine = 0; fine <= 5000; fine++) {
            if ((det == 0 && fine == 0) || !within_tier(t, det, fine, false))
                continue;
            if (!any || det < mn[0] || (det == mn[0] && fine < mn[1]))
                mn[0] = det, mn[1] = fine;
            if (!any || det > mx[0] || (det == mx[0] && fine > mx[1]))
                mx[0] = det, mx[1] = fine;
            any = true;
        }
    if (!t->warning && !any)
        mx[0] = mx[1] = mn[0] = mn[1] = 0;
}

static bool newer_lighter(int ri_old, int ri_new, int tier)
{
    static signed char memo[NLAWROWS][NLAWROWS][3];     /* 0 unknown, 1 no, 2 yes */
    int omx[2] = { 0, 0 }, omn[2] = { 0, 0 }, nmx[2] = { 0, 0 }, nmn[2] = { 0, 0 };

    if (memo[ri_old][ri_new][tier] == 0) {
        bool l;
        tier_extremes(tier_law(&law_rows[0][ri_old], tier), omx, omn);
        tier_extremes(tier_law(&law_rows[1][ri_new], tier), nmx, nmn);
        l = nmx[0] < omx[0] || (nmx[0] == omx[0] && nmx[1] < omx[1]) ||
            (nmx[0] == omx[0] && nmx[1] == omx[1] &&
             (nmn[0] < omn[0] || (nmn[0] == omn[0] && nmn[1] < omn[1])));
        memo[ri_old][ri_new][tier] = l ? 2 : 1;
    }
    return memo[ri_old][ri_new][tier] == 2;
}

/* A decision lawful under section 3 for the case's offence: the table in
 * force on the day of the offence decides (rules/discretion), whenever the
 * decision is made; `tier` -1 draws the tier. A case of the law-change
 * probe applies the law it was given, in force or not. */
static void lawful_penalty(gen *g, const kase *k, bool ft, int tier, pen *out)
{
    static const char *const mitigating[] = { "voluntary_surrender", "victim_forgiveness",
                                              "admitted_guilt" };
    const fam_def *f = &families[k->family];
    int law = k->law_as >= 0 ? k->law_as : law_of(g, k->offence);
    const tier_vals *v;

    memset(out, 0, sizeof *out);
    if (tier >= 0) {
        out->tier = tier;
    } else if (ft) {
        out->tier = k->family == FAM_ASSAULT || chance(g, .1) ? TIER_LIGHTER : TIER_NORMAL;
    } else {
        double w[3] = { k->family == FAM_ASSAULT ? .15 : .05, .7, .15 };
        out->tier = pick(g, w, 3);
    }
    v = law ? &f->v2025[out->tier] : &f->v2012[out->tier];
    out->cause = law ? f->code2025 : f->code2012;
    if (out->cause == NULL || row_in(law, out->cause) < 0)
        die("internal: a family without a row in the law it is decided under");
    out->det = v->det[rr(g, 0, 1)];
    out->fine = v->fine[rr(g, 0, 1)];
    if (out->tier == TIER_HEAVIER && k->family == FAM_ASSAULT)
        add_factor(out, heavier_factors[rr(g, 0, 2)]);
    else if (out->tier != TIER_HEAVIER && chance(g, .4))
        add_factor(out, mitigating[rr(g, 0, 2)]);
    /* 单处警告 where the tier allows it. */
    if (tier_law(&law_rows[law][row_in(law, out->cause)], out->tier)->warning && chance(g, .25)) {
        out->det = out->fine = 0;
        out->warning = true;
    }
    out->exec = -1;
    out->out = k->law_as < 0 || k->law_as == law_of(g, k->offence) ? 0 : -1;
}

/* SANCTION-RANGE boundaries: a fine or a detention exactly at an end of
 * the tier's range, or one past it (the other penalty kept as drawn, or
 * left out under OR). Returns whether it is out of range. */
static bool probe_range(gen *g, const ltier *t, pen *pn)
{
    bool on_fine = t->fine.hi >= 0 && (t->det.hi < 0 || chance(g, .5));
    lrange r = on_fine ? t->fine : t->det;
    bool upper = r.lo == 0 || chance(g, .5);    /* nothing lies below a range from 0 */
    bool past = chance(g, .5);
    int v = upper ? r.hi + past : r.lo - past;

    if (on_fine)
        pn->fine = v;
    else
        pn->det = v;
    if (t->combine == CB_OR) {
        if (on_fine)
            pn->det = 0;
        else
            pn->fine = 0;
    }
    pn->warning = false;
    return past;
}

/* A lawful decision off the usual pair, anywhere in the tier's ranges
 * (fines in 50 yuan steps): what SANCTION-PEER is about (同案不同罚).
 * Under OR it may be a detention where the peers were fined. */
static void probe_peer(gen *g, const ltier *t, pen *pn)
{
    bool d, f;

    switch (t->combine) {
    case CB_AND:
        d = f = true;
        break;
    case CB_OR:
        d = chance(g, .5);
        f = !d;
        break;
    case CB_OPT:
        d = t->det.lo > 0 || chance(g, .5);
        f = !d || chance(g, .5);
        break;
    default:
        d = t->det.hi >= 0;
        f = t->fine.hi >= 0;
        break;
    }
    pn->det = d ? (int)rr(g, t->det.lo > 1 ? t->det.lo : 1, t->det.hi) : 0;
    pn->fine = f ? 50 * (int)rr(g, t->fine.lo > 50 ? t->fine.lo / 50 : 1, t->fine.hi / 50) : 0;
    pn->warning = false;
}

/*
 * The section 3 probes on a decision drawn lawful, in cases not
 * fast-tracked (rates in bench/README.md): a range boundary 2%, a lawful
 * outlier 1%, a cause no table in force has 0.5% (the repealed article
 * for an offence from 2026, or one no table covers), a warning alone 0.5%
 * (lawful only where the tier allows it), nothing at all 0.2%, and for
 * offences before 2026 the 2025 article number 5% (lawful: the alias
 * selects the 2012 row). Apart from these, a heavier-tier factor listed
 * in a lower tier 5% (SANCTION-TIER when the row has it and nothing
 * mitigates).
 */
static void sanction_probe(gen *g, const kase *k, pen *pn)
{
    int law = law_of(g, k->offence);
    const ltier *t = tier_law(&law_rows[law][row_in(law, pn->cause)], pn->tier);
    double r = rnd01(g);

    if (r < .02) {
        pn->out = probe_range(g, t, pn);
    } else if (r < .03) {
        probe_peer(g, t, pn);
    } else if (r < .035) {
        pn->cause = law == 1 && chance(g, .7) ? families[k->family].code2012 : "PSAL-25";
        pn->out = 1;
    } else if (r < .04) {
        pn->det = pn->fine = 0;
        pn->warning = true;
        pn->out = !t->warning;
    } else if (r < .042) {
        pn->det = pn->fine = 0;
        pn->warning = false;
        pn->out = 1;
    } else if (r < .092 && law == 0 && families[k->family].code2025 != NULL) {
        pn->cause = families[k->family].code2025;
    }
    if (pn->tier != TIER_HEAVIER && chance(g, .05))
        add_factor(pn, heavier_factors[rr(g, 0, 2)]);
}

/*
 * Detention for the exempt (cases not fast-tracked): minors get
 * minor_offender half of the time; a third of exempt persons decided a
 * detention have serious_impact, repeat_within_year or both listed (the
 * law probes always serious_impact); a detention the law does not let be
 * executed is executed all the same 25% of the time, 80% when one of those
 * factors is listed (whether or not the law lets it lift the exemption),
 * 60% for the age probes, always for the law probes.
 */
static void plan_detention(gen *g, const kase *k, const person *p, pen *pn)
{
    double r;

    if (p->age >= 14 && p->age < 18 && chance(g, .5))
        add_factor(pn, "minor_offender");
    if (pn->det == 0)
        return;
    if (exempt_group(p, false) != EX_NONE) {
        r = p->probe == PR_LAW ? -1 : rnd01(g);
        if (r < .15 || (r >= .27 && r < .32))
            add_factor(pn, "serious_impact");
        if ((r >= .15 && r < .32) || (p->probe == PR_LAW && chance(g, .3)))
            add_factor(pn, "repeat_within_year");
    }
    if (may_detain(g, k, p, pn))
        pn->exec = 1;
    else if (p->probe == PR_LAW)
        pn->exec = 1;
    else
        pn->exec = chance(g, has_factor(pn, "serious_impact") ||
                                     has_factor(pn, "repeat_within_year") ? .8
                             : p->probe == PR_AGE ? .6 : .25);
}

/* The first four digits of the unit: SANCTION-PEER's unit prefix. */
static uint32_t unit_prefix4(const kase *k)
{
    const char *c = units[k->unit].code;

    return (uint32_t)((c[0] - '0') * 1000 + (c[1] - '0') * 100 + (c[2] - '0') * 10 + (c[3] - '0'));
}

/*
 * The section 3 truth of a decision just written, from what the feed says:
 * SANCTION-RANGE (out of the range of its row and declared tier, or a
 * cause no table in force on the offence day has), SANCTION-TIER (a
 * heavier-tier factor of its row in a lower tier, nothing mitigating),
 * MINOR-UNDER14 (a fine or detention, the person under 14 by a birth date
 * the feed gives). A decision with a row is kept for SANCTION-PEER. What
 * was injected must agree with the judgement.
 */
static void judge_decision(gen *g, const kase *k, const person *p, cw_time t, const pen *pn)
{
    int law = law_of(g, k->offence), ri = row_in(law, pn->cause);
    bool out = true, rescued = false;

    if (ri >= 0) {
        const lrow *row = &law_rows[law][ri];
        bool heavier = false, mitigated = false;
        decn *dn;

        out = !within_tier(tier_law(row, pn->tier), pn->det, pn->fine, pn->warning);
        if (out && law == 0 && law_of(g, t) == 1) {
            int rn = row_in(1, pn->cause);
            if (rn >= 0 && newer_lighter(ri, rn, pn->tier))
                rescued = within_tier(tier_law(&law_rows[1][rn], pn->tier), pn->det, pn->fine,
                                      pn->warning);
        }
        for (int i = 0; i < 3; i++)
            heavier |= has_factor(pn, heavier_factors[i]);
        for (int i = 0; i < 5; i++)
            mitigated |= has_factor(pn, mitigating_factors[i]);
        if (row->assault && pn->tier != TIER_HEAVIER && heavier && !mitigated)
            expect_violation(g, k->ci, R_SANCTION_TIER, "");
        GROW(g->dec, g->ndec, g->capdec);
        dn = &g->dec[g->ndec++];
        /* peers are the decisions measured by the same row: the newer one
         * where it is lighter, else the one at the act */
        {
            int rn = law == 0 && law_of(g, t) == 1 ? row_in(1, pn->cause) : -1;
            int gl = rn >= 0 && newer_lighter(ri, rn, pn->tier) ? 1 : law;
            int gr = gl != law ? rn : ri;
            dn->group = (uint64_t)((gl * NLAWROWS + gr) * 3 + pn->tier) << 32 | unit_prefix4(k);
        }
        dn->at = t;
        dn->ci = k->ci;
        dn->fine = pn->fine;
        dn->det = pn->det;
    }
    if (pn->out >= 0 && out != (pn->out == 1)) {
        fprintf(stderr, "gen: internal: %s: decision for %s (%s %s, detention %d, fine %d) "
                        "judged %s, made %s\n", g->cases[k->ci].id, p->id, pn->cause,
                tier_names[pn->tier], pn->det, pn->fine, out ? "out of range" : "within",
                pn->out ? "out of range" : "within");
        exit(2);
    }
    /* What was injected is judged by the row at the act; a decision out of
     * it may still be within the lighter newer row. */
    if (out && !rescued)
        expect_violation(g, k->ci, R_SANCTION_RANGE, "");
    if ((pn->fine > 0 || pn->det > 0) && p->known_at != CW_TIME_NONE && p->age < 14)
        expect_violation(g, k->ci, R_MINOR_UNDER14, "");
}

/* penalty.decided, and the detention executed where the law lets it be
 * (DETENTION-EXEMPT) or where a probe says so: a violation when the feed
 * shows the person in an exempt group and the decision's factors do not
 * lift the exemption. */
static bool write_penalty(gen *g, kase *k, int pi, cw_time t, const pen *pn)
{
    person *p = &k->p[pi];
    jb d;

    jb_init(&d);
    jb_str(&d, "person", p->id);
    jb_str(&d, "cause", pn->cause);
    jb_str(&d, "circumstance", tier_names[pn->tier]);
    if (pn->nfactor > 0)
        jb_list(&d, "factors", pn->factor, pn->nfactor);
    if (pn->fine > 0)
        jb_int(&d, "fine", pn->fine);
    if (pn->det > 0)
        jb_int(&d, "detention_days", pn->det);
    if (pn->warning)
        jb_bool(&d, "warning", true);
    if (pn->revoke)
        jb_bool(&d, "revoke_license", true);
    if (!emit(g, k, T_PENALTY_DECIDED, t, k->lead, &d))
        return false;
    p->decided = t;
    judge_decision(g, k, p, t, pn);
    if (pn->det > 0 && (pn->exec > 0 || (pn->exec < 0 && may_detain(g, k, p, pn)))) {
        int grp = exempt_group(p, true);
        jb_init(&d);
        jb_str(&d, "person", p->id);
        jb_int(&d, "days", pn->det);
        if (emit(g, k, T_DETENTION_EXECUTED, t + rr(g, HOUR, 4 * HOUR), k->lead, &d) &&
            grp != EX_NONE && !exemption_lifted(g, k, grp, pn))
            expect_violation(g, k->ci, R_DETENTION_EXEMPT, "");
    }
    return true;
}

/* Decisions by group, then time. */
static int cmp_decn(const void *a, const void *b)
{
    const decn *x = a, *y = b;

    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->ci < y->ci ? -1 : x->ci > y->ci;
}

static void sorted_add(int32_t *v, size_t *n, int32_t x)
{
    size_t lo = 0, hi = *n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&v[lo + 1], &v[lo], (*n - lo) * sizeof *v);
    v[lo] = x;
    (*n)++;
}

static void sorted_del(int32_t *v, size_t *n, int32_t x)
{
    size_t lo = 0, hi = *n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == *n || v[lo] != x)
        die("internal: a peer left a window it was not in");
    memmove(&v[lo], &v[lo + 1], (*n - lo - 1) * sizeof *v);
    (*n)--;
}

/* The value at the nearest rank of percentile pc among n sorted values. */
static int32_t nearest_rank(const int32_t *v, size_t n, int pc)
{
    size_t r = ((size_t)pc * n + 99) / 100;

    return v[r < 1 ? 0 : r - 1];
}

/*
 * SANCTION-PEER, once every decision is written (docs/SANCTIONS.md): the
 * peers of a decision at t are those of its group (row after aliases,
 * declared tier, unit prefix) decided in [t - 365 days, t), so not those
 * of the same second; with at least 20 of them, a fine or a detention
 * below the nearest-rank P5 or above the P95 of theirs (the value at rank
 * ceil(k/100 * n), absent counted as 0) is an anomaly, one finding per
 * case. The window's values are kept sorted as it slides along the group
 * in time order: no work depends on anything but the window.
 */
static void peer_truth(gen *g)
{
    int32_t *fines = xrealloc(NULL, (g->ndec + 1) * sizeof *fines);
    int32_t *days = xrealloc(NULL, (g->ndec + 1) * sizeof *days);

    qsort(g->dec, g->ndec, sizeof *g->dec, cmp_decn);
    for (size_t gs = 0, ge; gs < g->ndec; gs = ge) {
        size_t lo = gs, hi = gs, nf = 0, nd = 0;

        for (ge = gs; ge < g->ndec && g->dec[ge].group == g->dec[gs].group; ge++)
            ;
        for (size_t i = gs; i < ge; i++) {
            const decn *x = &g->dec[i];
            for (; hi < i && g->dec[hi].at < x->at; hi++) {
                sorted_add(fines, &nf, g->dec[hi].fine);
                sorted_add(days, &nd, g->dec[hi].det);
            }
            for (; lo < hi && g->dec[lo].at < x->at - 365 * DAY; lo++) {
                sorted_del(fines, &nf, g->dec[lo].fine);
                sorted_del(days, &nd, g->dec[lo].det);
            }
            if (nf < 20)
                continue;
            if (x->fine < nearest_rank(fines, nf, 5) || x->fine > nearest_rank(fines, nf, 95) ||
                x->det < nearest_rank(days, nd, 5) || x->det > nearest_rank(days, nd, 95))
                add_expect(g, x->ci, R_SANCTION_PEER, "", ST_ANOMALY, CW_TIME_NONE);
        }
    }
    free(fines);
    free(days);
}

/* ---- case-level findings ------------------------------------------------------ */

/* The findings that depend on the whole case: a minor questioned without
 * the guardian (ages at the offence, known once person.added gave the
 * birth date), and, in a fast-tracked case, excluded suspects and FT-48H. */
static void finish_case(gen *g, kase *k)
{
    seizure_truth(g, k);
    for (int i = 0; i < k->nsessrec; i++) {
        const person *p = &k->p[k->sess[i].person];
        if (p->known_at != CW_TIME_NONE && p->age < 18 && !k->sess[i].guardian)
            expect_violation(g, k->ci, R_MINOR_NO_GUARDIAN, "");
    }
    if (k->ft_at == CW_TIME_NONE)
        return;
    for (int i = 0; i < k->np; i++) {
        const person *p = &k->p[i];
        cw_time met = CW_TIME_NONE;

        if (p->role != ROLE_SUSPECT)
            continue;
        if (p->known_at != CW_TIME_NONE && (p->age < 18 || (p->flags & F_EXCLUDED)))
            expect_violation(g, k->ci, R_FT_EXCLUDED_PERSON, p->id);
        if (p->arrival == CW_TIME_NONE)
            continue;
        if (p->decided != CW_TIME_NONE && p->decided >= p->arrival)
            met = p->decided;
        if (k->decided_at != CW_TIME_NONE && k->decided_at >= p->arrival &&
            (met == CW_TIME_NONE || k->decided_at < met))
            met = k->decided_at;
        expect_deadline(g, k, R_FT_48H, p->id, p->arrival + 48 * HOUR, 6 * HOUR, met);
    }
}

/* ---- administrative cases ------------------------------------------------------ */

enum force {
    FORCE_NONE, FORCE_ALARM, FORCE_ADM, FORCE_SUMMONS, FORCE_FT48, FORCE_FILING,
    FORCE_CUSTODY, FORCE_BAIL, FORCE_RSL, FORCE_EDGE, NFORCE
};

typedef struct plan {
    const char *alarm;      /* the alarm the case was accepted from */
    cw_time offence;        /* its offence time, CW_TIME_NONE to draw one */
    int force;              /* a tail probe: this obligation's B never comes */
    cw_time force_at;       /* ... and its A happens then */
    int ft;                 /* -1 draw, 0 no, 1 fast-tracked */
    int family;             /* -1 draw */
    cw_time pin;            /* fast-track probes: the decision's second */
    int pin_fine;
    int feb29;              /* 0, or 28/29: the offence on 28 February or 1 March 2026 */
    bool big;               /* a fraud ring: dozens of suspects, a hundred items */
    cw_time alarm_at;       /* when the alarm came in */
    int law_as;             /* the law-change probe: the law decisions apply (-1: none) */
    int exempt;             /* ... and its first suspect's exempt group (EX_*), or 0 */
} plan;

static void plan_init(plan *pl)
{
    memset(pl, 0, sizeof *pl);
    pl->offence = CW_TIME_NONE;
    pl->force_at = CW_TIME_NONE;
    pl->ft = -1;
    pl->family = -1;
    pl->pin = CW_TIME_NONE;
    pl->alarm_at = CW_TIME_NONE;
    pl->law_as = -1;
}

/* An offence family; law25: one with a row in the 2025 table. */
static int pick_family(gen *g, bool law25)
{
    double w[NFAM];

    for (int i = 0; i < NFAM; i++)
        w[i] = law25 && families[i].code2025 == NULL ? 0 : families[i].weight;
    return pick(g, w, NFAM);
}


static void adm_decide(gen *g, kase *k, const plan *pl, cw_time last)
{
    static const double wn[] = { .85, .08, .04, .03 };
    ext x[4];
    int nx = pick(g, wn, 4), npen = 0;
    cw_time due, lo, tD, lastx = CW_TIME_NONE;
    bool breach = false;
    int mode;
    jb d;

    /* Extensions by 30 days each, approved a week before the period ends;
     * a third is beyond the law's two, and now and then one asks for more
     * than the 30 days the law allows (counted as 30). */
    for (int i = 0; i < nx; i++) {
        x[i].at = k->t0 + (int64_t)(30 * (i + 1) - 7) * DAY + rr(g, -DAY, DAY);
        x[i].limit = L_HANDLING;
        x[i].days = chance(g, .04) ? (int)rr(g, 31, 45) : 30;
        x[i].person = -1;
        write_ext(g, k, &x[i]);
        lastx = x[i].at;
    }
    due = due_days(g, k->t0, 30 + 30 * (nx < 2 ? nx : 2), false);
    lo = last + 2 * HOUR;
    if (lastx != CW_TIME_NONE && lastx + HOUR > lo)
        lo = lastx + HOUR;
    if (lo < k->t0 + DAY)
        lo = k->t0 + DAY;
    mode = pl->force == FORCE_ADM ? M_NEVER : pick_mode(g, 5 * DAY);
    tD = b_time(g, mode, lo,
                nx > 0 ? due - 5 * DAY - rr(g, HOUR, 10 * DAY) : k->t0 + rr(g, 3, 22) * DAY, due,
                5 * DAY, 40 * DAY);
    if (tD != CW_TIME_NONE && tD <= g->now) {
        for (int i = 0; i < k->np; i++) {
            person *p = &k->p[i];
            cw_time tp = tD - rr(g, 5, 60) * MINUTE;
            pen pn;
            if (p->role != ROLE_SUSPECT)
                continue;
            /* Children under 14 are not punished (MINOR-UNDER14), except
             * now and then, and mostly when they are an age probe. */
            if (p->age < 14 && !chance(g, p->probe != PR_NONE ? .8 : .25))
                continue;
            lawful_penalty(g, k, false, p->probe != PR_NONE ? TIER_HEAVIER : -1, &pn);
            if (p->age < 14 && p->probe == PR_NONE && chance(g, .35)) {
                pn.det = pn.fine = 0;           /* a warning alone: no fine, no detention */
                pn.warning = true;
                pn.out = -1;
            } else if (k->law_as < 0 && p->probe == PR_NONE) {
                sanction_probe(g, k, &pn);
            }
            plan_detention(g, k, p, &pn);
            if (chance(g, .01)) {      /* a licence revoked, after the hearing notice */
                pn.revoke = true;
                jb_init(&d);
                jb_str(&d, "person", p->id);
                emit(g, k, T_HEARING_NOTIFIED, tp - rr(g, 2, 5) * HOUR, k->lead, &d);
            }
            npen += write_penalty(g, k, i, tp, &pn);
        }
    }
    jb_init(&d);
    jb_str(&d, "outcome", npen ? "penalty" : "no_penalty");
    if (emit(g, k, T_CASE_DECIDED, tD, k->lead, &d))
        k->decided_at = tD;
    if (tD != CW_TIME_NONE) {
        jb_init(&d);
        jb_str(&d, "outcome", npen ? "penalty" : "no_penalty");
        closed(g, k, tD + rr(g, DAY, 15 * DAY), &d);
    }
    due = due_days(g, k->t0, 30 + ext_days(x, nx, L_HANDLING, k->t0, tD, -1, 30, 2, 30, 0, &breach),
                   false);
    expect_deadline(g, k, R_ADM_HANDLING, "", due, 5 * DAY, tD);
    if (breach)
        expect_violation(g, k->ci, R_ADM_HANDLING, "extension");
}

/*
 * Fast-track decisions: each summoned suspect's penalty within 48 h of
 * arrival (FT-48H's injected outcomes), with the section 2 probes on the
 * decision (detention of 10 days or more, a hearing required), then the
 * case decision once every suspect is decided.
 */
static void ft_decide(gen *g, kase *k, const plan *pl, cw_time *sum_end, int ft_same)
{
    cw_time tp[MAXP], last = CW_TIME_NONE, due;
    bool all = true;
    jb d;

    for (int i = 0; i < k->np; i++) {
        person *p = &k->p[i];
        int mode;

        tp[i] = CW_TIME_NONE;
        if (p->role != ROLE_SUSPECT)
            continue;
        if (p->arrival == CW_TIME_NONE) {
            all = false;
            continue;
        }
        mode = pl->force == FORCE_FT48 ? M_NEVER : pl->pin != CW_TIME_NONE ? M_ONTIME
                                                                            : pick_mode(g, 6 * HOUR);
        tp[i] = b_time(g, mode,
                       (sum_end[i] != CW_TIME_NONE ? sum_end[i] : p->arrival + 2 * HOUR) +
                           rr(g, 20, 60) * MINUTE,
                       p->arrival + rr(g, 4 * HOUR, 30 * HOUR), p->arrival + 48 * HOUR,
                       6 * HOUR, 3 * DAY);
        if (pl->pin != CW_TIME_NONE && tp[i] != CW_TIME_NONE)
            tp[i] = pl->pin;
    }
    for (int i = 0; i < k->np; i++) {
        person *p = &k->p[i];
        pen pn;
        double r;
        int threshold;

        if (p->role != ROLE_SUSPECT || p->arrival == CW_TIME_NONE)
            continue;
        if (tp[i] == CW_TIME_NONE || tp[i] > g->now) {
            all = false;
            continue;
        }
        lawful_penalty(g, k, true, -1, &pn);
        threshold = day_of(tp[i]) >= g->law2025 ? 4000 : 2000;
        r = pl->pin != CW_TIME_NONE ? 1 : ft_same ? rnd01(g) * .065 : rnd01(g);
        /* Fast track applied at the very second of the first decision
         * (1: the decision written first, 2: after it). */
        if (ft_same && k->ft_at == CW_TIME_NONE && tp[i] <= g->now) {
            jb f;
            jb_init(&f);
            jb_bool(&f, "consent", true);
            if (ft_same == 2)
                emit(g, k, T_CASE_FASTTRACK, tp[i], k->lead, &f);
            k->ft_at = tp[i];
            if (ft_same == 1)
                k->ft_pending = true;
        }
        if (r < .05) {
            /* FT-DETENTION-10D: ten days (or the lawful nine) for an
             * assault; a heavier-tier decision for other offences. */
            bool law25 = day_of(k->offence) >= g->law2025;
            const fam_def *f = &families[k->family];
            pn.tier = k->family == FAM_ASSAULT ? TIER_NORMAL : TIER_HEAVIER;
            pn.det = k->family == FAM_ASSAULT ? (chance(g, .5) ? 10 : 9)
                                              : (law25 ? f->v2025 : f->v2012)[TIER_HEAVIER].det[rr(g, 0, 1)];
            pn.fine = (law25 ? f->v2025 : f->v2012)[pn.tier].fine[rr(g, 0, 1)];
            pn.nfactor = 0;
            pn.warning = false;
        } else if (r < .065) {
            pn.revoke = true;                   /* FT-HEARING: a licence revoked */
        } else if (r < .08) {
            pn.fine = threshold - (chance(g, .5) ? 1 : 0);  /* 3999 / 4000, 1999 / 2000 */
            pn.warning = false;
            pn.out = 1;                         /* no table allows such a fine */
        }
        if (pl->pin_fine > 0) {
            pn.fine = pl->pin_fine;
            pn.warning = false;
            pn.out = 1;
        }
        if (!write_penalty(g, k, i, tp[i], &pn)) {
            all = false;
            continue;
        }
        if (k->ft_pending) {
            jb f;
            jb_init(&f);
            jb_bool(&f, "consent", true);
            emit(g, k, T_CASE_FASTTRACK, tp[i], k->lead, &f);
            k->ft_pending = false;
        }
        if (last == CW_TIME_NONE || tp[i] > last)
            last = tp[i];
        if (k->ft_at != CW_TIME_NONE && k->ft_at <= tp[i]) {
            if (pn.det >= 10)
                expect_violation(g, k->ci, R_FT_DETENTION_10D, p->id);
            if (pn.revoke || pn.fine >= threshold)
                expect_violation(g, k->ci, R_FT_HEARING, "");
        }
    }
    if (all && last != CW_TIME_NONE) {
        cw_time tD = last + rr(g, 10, 60) * MINUTE;
        jb_init(&d);
        jb_str(&d, "outcome", "penalty");
        if (emit(g, k, T_CASE_DECIDED, tD, k->lead, &d)) {
            k->decided_at = tD;
            jb_init(&d);
            jb_str(&d, "outcome", "penalty");
            closed(g, k, tD + rr(g, DAY, 10 * DAY), &d);
        }
    }
    due = due_days(g, k->t0, 30, false);
    expect_deadline(g, k, R_ADM_HANDLING, "", due, 5 * DAY, k->decided_at);
}

/* A birth date probe for the 18th birthday: the eve (a minor) or the day. */
static void probe_18(kase *k, person *p, bool eve)
{
    p->birth = birth_18(k, eve);
    p->age = age_on(p->birth, day_of(k->offence));
}

static void admin_case(gen *g, int unit, cw_time t0, const plan *pl)
{
    kase k;
    bool ft, spot, bfirst, pre;
    int ns, nv, nw, ft_same = 0;
    cw_time sum_end[MAXP], last = t0, first_arrival = CW_TIME_NONE;
    jb d;

    /* Start on a day whose 30th day after is a weekend, a holiday or a
     * make-up working day, now and then. */
    if (pl->alarm == NULL && pl->force == FORCE_NONE && pl->pin == CW_TIME_NONE &&
        pl->feb29 == 0 && pl->law_as < 0 && chance(g, .15)) {
        for (int back = 0; back <= 6; back++)
            if (interesting(g, day_of(t0) - back + 30) && t0 - back * DAY > g->lo) {
                t0 -= back * DAY;
                break;
            }
    }
    new_case(g, &k, K_ADM, unit, t0);
    k.family = pl->family >= 0 ? pl->family : pick_family(g, false);
    k.alarm = pl->alarm;
    k.law_as = pl->law_as;
    ft = pl->ft >= 0 ? pl->ft == 1 : chance(g, .2);
    /* 当场处罚: decided on the spot, at the second of acceptance, the
     * decision written first half of the time. */
    spot = !ft && pl->alarm == NULL && pl->force == FORCE_NONE && pl->pin == CW_TIME_NONE &&
           pl->feb29 == 0 && pl->law_as < 0 && chance(g, .015);
    bfirst = spot && chance(g, .5);
    if (ft && pl->force == FORCE_NONE && pl->pin == CW_TIME_NONE && chance(g, .03))
        ft_same = chance(g, .5) ? 1 : 2;
    /* Summoned on the scene before the acceptance is recorded (口头传唤 at
     * the scene, 受案 entered at the station afterwards). */
    pre = !ft && pl->alarm_at != CW_TIME_NONE && t0 - pl->alarm_at > 3 * HOUR &&
          chance(g, .08);
    if (pl->offence != CW_TIME_NONE) {
        k.offence = pl->offence;
        k.has_offence_at = true;
    } else if (chance(g, .6)) {
        k.offence = t0 - rr(g, 30 * MINUTE, 3 * DAY);
        k.has_offence_at = true;
        if (k.offence < g->lo - 2 * DAY)
            k.offence = g->lo - 2 * DAY;
    }
    /* Disturbing order has no row in the 2025 table (see families). */
    if (families[k.family].code2025 == NULL && (law_of(g, k.offence) == 1 || k.law_as == 1))
        k.family = pick_family(g, true);

    /* Persons: suspects, victims, witnesses. */
    ns = ft || spot ? (spot || chance(g, .85) ? 1 : 2)
                    : 1 + pick(g, (const double[]){ .65, .25, .10 }, 3);
    nv = k.family == FAM_THEFT || k.family == FAM_DAMAGE ? 1 : (int)rr(g, 1, 2);
    nw = chance(g, .3) ? 1 : 0;
    for (int i = 0; i < ns; i++) {
        double r = rnd01(g);
        int age = ft ? (int)rr(g, 18, 62)
                     : r < .02 ? (int)rr(g, 10, 13) : r < .08 ? (int)rr(g, 14, 17)
                     : r < .10 ? (int)rr(g, 70, 79) : (int)rr(g, 18, 65);
        person *p = add_person(g, &k, ROLE_SUSPECT, birth_for_age(g, day_of(k.offence), age));
        p->flags = suspect_flags(g, p->age, ft);
        r = rnd01(g);
        if (ft) {
            /* FT-EXCLUDED-PERSON probes. */
            if (r < .02)
                probe_18(&k, p, true);
            else if (r < .04)
                probe_18(&k, p, false);
            else if (r < .055)
                p->birth = birth_for_age(g, day_of(k.offence), (int)rr(g, 16, 17));
            else if (r < .075)
                p->flags |= (unsigned)(F_BLIND << rr(g, 0, 3));
        } else if (r < .012) {
            probe_18(&k, p, true);
            p->no_guardian = true;
        } else if (r < .024) {
            probe_18(&k, p, false);
            p->no_guardian = true;
        } else if (r < .03) {
            p->late_birth = true;
        } else if (r < .054) {
            /* Section 3 age probes: the eve of the 14th, 16th or 70th
             * birthday at the offence, or the birthday itself. */
            static const int years[] = { 14, 16, 70 };
            int j = (int)((r - .03) / .004);
            j = j > 5 ? 5 : j;
            p->birth = birth_years(&k, years[j / 2], j % 2 == 0);
            p->flags &= ~(unsigned)(F_PREGNANT | F_NURSING);
            p->probe = PR_AGE;
        }
        p->age = age_on(p->birth, day_of(k.offence));
    }
    if (pl->feb29) {
        person *p = &k.p[0];
        p->birth = cw_day_from_civil(2008, 2, 29);
        p->age = age_on(p->birth, day_of(k.offence));
        p->no_guardian = !ft;
        p->flags = 0;
    }
    if (pl->exempt != EX_NONE) {
        /* The law probe's suspect in an exempt group. */
        person *p = &k.p[0];
        cw_day on = day_of(k.offence);
        p->flags &= ~(unsigned)(F_PREGNANT | F_NURSING);
        p->late_birth = p->no_guardian = false;
        p->probe = PR_LAW;
        if (pl->exempt == EX_TEEN) {
            p->birth = birth_for_age(g, on, (int)rr(g, 14, 15));
        } else if (pl->exempt == EX_MINOR_FIRST) {
            p->birth = birth_for_age(g, on, (int)rr(g, 16, 17));
            p->first_offence = true;
        } else if (pl->exempt == EX_ELDERLY) {
            p->birth = birth_for_age(g, on, (int)rr(g, 70, 75));
        } else {
            p->birth = birth_for_age(g, on, (int)rr(g, 22, 38));
            p->flags |= chance(g, .5) ? F_PREGNANT : F_NURSING;
        }
        p->age = age_on(p->birth, on);
    }
    for (int i = 0; i < nv + nw; i++) {
        bool minor = chance(g, .1);
        int role = i < nv ? ROLE_VICTIM : ROLE_WITNESS;
        int age = minor ? (int)rr(g, role == ROLE_VICTIM ? 6 : 12, 17) : (int)rr(g, 18, 80);
        person *p = add_person(g, &k, role, birth_for_age(g, day_of(k.offence), age));
        double r = rnd01(g);
        if (!minor && r < .03) {
            p->birth = NO_DAY;          /* not known; never a minor */
        } else if (r < .05) {
            probe_18(&k, p, r < .04);   /* questioned without the guardian flag */
            p->no_guardian = true;
        } else if (r < .06 && !ft) {
            p->late_birth = true;
        }
        if (p->birth != NO_DAY)
            p->age = age_on(p->birth, day_of(k.offence));
    }

    if (bfirst) {
        jb_init(&d);
        jb_str(&d, "outcome", "warning");
        emit(g, &k, T_CASE_DECIDED, t0, k.lead, &d);
    }
    jb_init(&d);
    jb_str(&d, "kind", "administrative");
    jb_str(&d, "cause", day_of(k.offence) >= g->law2025 ? families[k.family].code2025
                                                         : families[k.family].code2012);
    if (k.alarm)
        jb_str(&d, "alarm", k.alarm);
    if (k.has_offence_at)
        jb_time(&d, "offence_at", k.offence, chance(g, .1) ? TF_Z : TF_LOCAL);
    if (!emit(g, &k, T_CASE_ACCEPTED, t0, k.lead, &d))
        return;
    k.accepted = true;
    write_persons(g, &k);
    if (spot) {
        if (!bfirst) {
            jb_init(&d);
            jb_str(&d, "outcome", "warning");
            emit(g, &k, T_CASE_DECIDED, t0, k.lead, &d);
        }
        k.decided_at = t0;
        jb_init(&d);
        jb_str(&d, "outcome", "warning");
        closed(g, &k, t0 + rr(g, HOUR, 2 * DAY), &d);
        expect_deadline(g, &k, R_ADM_HANDLING, "", due_days(g, t0, 30, false), 5 * DAY, t0);
        finish_case(g, &k);
        return;
    }
    if (k.alarm == NULL && chance(g, .25))
        scene(g, &k, t0 - rr(g, 20 * MINUTE, 2 * HOUR), -1);

    /* Victims and witnesses are questioned first. */
    for (int i = 0; i < k.np; i++)
        if (k.p[i].role != ROLE_SUSPECT && chance(g, .75))
            interrogate(g, &k, i, t0 + 15 * MINUTE, t0 + (ft ? 3 * HOUR : 2 * DAY),
                        rr(g, 25, 80) * MINUTE, PL_ANY);

    /* Suspects: a summons each (children under 14 are questioned only). */
    for (int i = 0; i < k.np; i++) {
        person *p = &k.p[i];
        cw_time ts;
        int mode = -1;
        bool plain = false;

        sum_end[i] = CW_TIME_NONE;
        if (p->role != ROLE_SUSPECT)
            continue;
        if (p->age < 14) {
            cw_time e = interrogate(g, &k, i, t0 + 30 * MINUTE, t0 + DAY, rr(g, 30, 60) * MINUTE,
                                    PL_FACILITY);
            if (e != CW_TIME_NONE && e > last)
                last = e;
            continue;
        }
        if (ft)
            ts = first_arrival == CW_TIME_NONE ? t0 + rr(g, 10, 90) * MINUTE
                                               : first_arrival + rr(g, 0, 60) * MINUTE;
        else if (pre && first_arrival == CW_TIME_NONE)
            ts = pl->alarm_at + rr(g, 20, 40) * MINUTE;
        else
            ts = t0 + rr(g, 10 * MINUTE, 3 * DAY);
        if ((pl->force == FORCE_SUMMONS || pl->force == FORCE_FT48) &&
            first_arrival == CW_TIME_NONE) {
            ts = pl->force_at;
            plain = true;
            if (pl->force == FORCE_SUMMONS)
                mode = M_NEVER;
        }
        if (first_arrival == CW_TIME_NONE)
            first_arrival = ts;
        sum_end[i] = summons(g, &k, i, ts, mode, plain);
        ts = sum_end[i] != CW_TIME_NONE ? sum_end[i] : ts + 8 * HOUR;
        if (ts > last)
            last = ts;
        /* Summoned a second time (P1#2), once the first summons ended: a
         * person cannot arrive again without having left. */
        if (!ft && sum_end[i] != CW_TIME_NONE && sum_end[i] <= g->now && chance(g, .04)) {
            cw_time e2 = summons(g, &k, i, ts + rr(g, DAY, 4 * DAY), -1, false);
            ts = e2 != CW_TIME_NONE ? e2 : ts + 4 * DAY + 8 * HOUR;
            if (ts > last)
                last = ts;
        }
    }

    /* Fast track: applied with the suspect's written consent, or not. */
    if (ft && !ft_same) {
        cw_time t = (first_arrival != CW_TIME_NONE ? first_arrival : t0) + rr(g, 20, 90) * MINUTE;
        double r = pl->pin != CW_TIME_NONE || pl->force != FORCE_NONE ? 1 : rnd01(g);
        jb_init(&d);
        if (r >= .08)
            jb_bool(&d, "consent", true);
        else if (r < .05)
            jb_bool(&d, "consent", false);
        if (emit(g, &k, T_CASE_FASTTRACK, t, k.lead, &d)) {
            k.ft_at = t;
            if (r < .08)
                expect_violation(g, k.ci, R_FT_NO_CONSENT, "");
        }
    }

    /* Property seized in the case. */
    if (chance(g, k.family == FAM_THEFT || k.family == FAM_DAMAGE ? .5 : .12)) {
        int n = chance(g, .3) ? 2 : 1;
        for (int i = 0; i < n; i++)
            seize(g, &k, t0 + rr(g, 20 * MINUTE, ft ? 6 * HOUR : 2 * DAY), -1);
    }

    if (ft)
        ft_decide(g, &k, pl, sum_end, ft_same);
    else
        adm_decide(g, &k, pl, last);
    finish_case(g, &k);
}

/* ---- criminal cases --------------------------------------------------------------- */

enum path { PATH_NONE, PATH_DET, PATH_BAIL, PATH_RSL };

/* ARREST-REQUEST extension plans (days; flagged: needs roving/repeated/
 * gang; casewide: names no person). */
typedef struct aplan_def {
    double w;
    int days[2];
    int n;
    bool flagged, casewide;
} aplan_def;

static const aplan_def arrest_plans[] = {
    { .80, { 0, 0 }, 0, false, false },
    { .08, { 0, 0 }, 1, false, false },     /* 1-4 days, drawn */
    { .02, { 2, 2 }, 2, false, false },     /* 7 in all: lawful */
    { .02, { 2, 3 }, 2, false, false },     /* 8 > 7: breach, capped at 7 */
    { .01, { 27, 0 }, 1, false, false },    /* 30 without a flag: breach */
    { .03, { 27, 0 }, 1, true, false },     /* 30 with a flag: lawful */
    { .015, { 28, 0 }, 1, true, false },    /* 31 > 30: breach, capped at 30 */
    { .01, { 4, 23 }, 2, true, false },     /* 30 in two steps: lawful */
    { .015, { 0, 0 }, 1, false, true },     /* the whole case, 1-4 days */
};
#define NAPLANS ((int)(sizeof arrest_plans / sizeof arrest_plans[0]))

typedef struct cperson {
    int path;
    cw_time det;            /* criminal_detention.started */
    bool det_written, flagged;
    int plan;
    char subj[16];
    cw_time b;              /* ARREST-REQUEST's B */
    int btype;
    cw_time approved;       /* arrest.approved written */
    char csubj[16];
} cperson;

/* A day in [from, from + span] on which the months period's raw last day
 * is worth probing (a weekend, holiday, make-up day) or the start is the
 * end of a month; from itself when none is. */
static cw_time months_probe(const gen *g, cw_time from, int span, int months)
{
    for (int i = 0; i <= span; i++) {
        cw_time t = from + (int64_t)i * DAY;
        int y, m, d;
        cw_day_to_civil(day_of(t), &y, &m, &d);
        if (interesting(g, months_day(t, months)) || d >= 29)
            return t;
    }
    return from;
}

/* ---- section 5: after detention, arrest and seizure ------------------------ */

#define DUTY (24 * HOUR)        /* the 24-hour duties of 刑诉法 Art 85, 86, 93, 94 */
#define DUTY_LEAD (4 * HOUR)

static int cmp_time(const void *a, const void *b)
{
    cw_time x = *(const cw_time *)a, y = *(const cw_time *)b;

    return x < y ? -1 : x > y;
}

/*
 * The truth of one 24-hour duty of one person: starts a[0..na) (in time
 * order, ex[i] lawfully exempt when 1 or 2), completing events b[0..nb)
 * in any order. As the rules pair them (docs/RULES.md), a completing event
 * meets the earliest start still open at or before it; an exempt start is
 * counted (P1, P1#2) but owes nothing.
 */
static void pair_truth(gen *g, const kase *k, int rule, const person *p, const cw_time *a,
                       const int *ex, int na, cw_time *b, int nb)
{
    cw_time met[2] = { CW_TIME_NONE, CW_TIME_NONE };
    int open = 0;               /* starts before open are met or exempt */
    char subj[16];

    qsort(b, (size_t)nb, sizeof *b, cmp_time);
    for (int j = 0; j < nb; j++) {
        while (open < na && (met[open] != CW_TIME_NONE || (ex && (ex[open] == 1 || ex[open] == 2))))
            open++;
        if (open < na && a[open] <= b[j] && b[j] <= g->now)
            met[open] = b[j];
    }
    for (int i = 0; i < na; i++) {
        if (ex && (ex[i] == 1 || ex[i] == 2))
            continue;
        nth(subj, sizeof subj, p->id, i + 1);
        expect_deadline(g, k, rule, subj, a[i] + DUTY, DUTY_LEAD, met[i]);
    }
}

/* Why the family is not notified: 0 no reason given, 1 无法通知, 2 有碍侦查
 * in a state-security or terrorism case (both lawful after a detention),
 * 3 有碍侦查 where the law does not allow it. After an arrest only 无法通知
 * is lawful. */
enum { EXN_NONE, EXN_UNREACHABLE, EXN_OBSTRUCTION_OK, EXN_OBSTRUCTION_BAD };

static int notify_exempt(gen *g, const kase *k, bool arrest, jb *d)
{
    double r = rnd01(g);
    int ex = EXN_NONE;

    if (k->security && !arrest && r < .6)
        ex = EXN_OBSTRUCTION_OK;
    else if (r < .03)
        ex = EXN_UNREACHABLE;
    else if (r < .045)
        ex = EXN_OBSTRUCTION_BAD;
    if (ex != EXN_NONE)
        jb_str(d, "notify_exempt", ex == EXN_UNREACHABLE ? "unreachable" : "obstruction");
    return ex;
}

/* An exemption the law does not allow: the violation exempt:PERSON. */
static void exempt_breach(gen *g, const kase *k, int rule, const person *p, int ex)
{
    char subj[24];

    if (ex != EXN_OBSTRUCTION_BAD)
        return;
    snprintf(subj, sizeof subj, "exempt:%s", p->id);
    expect_violation(g, k->ci, rule, subj);
}

/* The completing event of a 24-hour duty started at t: a time drawn by
 * the usual outcomes (on time, the due second, one second late, in the
 * lead, never ...). */
static cw_time duty_time(gen *g, cw_time t)
{
    return b_time(g, pick_mode(g, DUTY_LEAD), t + 5 * MINUTE, t + rr(g, 30 * MINUTE, 16 * HOUR),
                  t + DUTY, DUTY_LEAD, 3 * DAY);
}

/* custody.admitted / family.notified of person pi at `at`; true if written. */
static bool person_event(gen *g, kase *k, int type, int pi, cw_time at, const char *of)
{
    jb d;

    jb_init(&d);
    jb_str(&d, "person", k->p[pi].id);
    if (of != NULL)
        jb_str(&d, "of", of);
    return emit(g, k, type, at, k->lead, &d);
}

/* One interrogation of person pi starting exactly at s, if two officers
 * are free then and it ends by now. */
static void interrogate_at(gen *g, kase *k, int pi, cw_time s, int64_t dur)
{
    int o1, o2;

    if (s == CW_TIME_NONE || s + dur > g->now || (o1 = free_officer(g, k, s, s + dur, -1, -1)) < 0 ||
        (o2 = free_officer(g, k, s, s + dur, o1, -1)) < 0)
        return;
    write_session(g, k, pi, s, s + dur, o1, o2, PL_DETENTION, true);
}

/* After the criminal detention of person pi at t (written, exemption ex):
 * the custody, the notice to the family and the first interrogation. */
static void after_detention(gen *g, kase *k, int pi, cw_time t, int ex)
{
    person *p = &k->p[pi];
    cw_time b;

    if (p->ndet_at >= 2)
        die("internal: a third criminal detention of one person");
    p->det_ex[p->ndet_at] = ex;
    p->det_at[p->ndet_at++] = t;
    exempt_breach(g, k, R_DETAIN_NOTIFY, p, ex);
    if ((b = duty_time(g, t)) != CW_TIME_NONE && person_event(g, k, T_CUSTODY_ADMITTED, pi, b, NULL))
        p->cust_b[p->ncust_b++] = b;
    if (ex != EXN_UNREACHABLE && ex != EXN_OBSTRUCTION_OK && (b = duty_time(g, t)) != CW_TIME_NONE &&
        person_event(g, k, T_FAMILY_NOTIFIED, pi, b, "detention"))
        p->dntf_b[p->ndntf_b++] = b;
    interrogate_at(g, k, pi, duty_time(g, t), rr(g, 40, 120) * MINUTE);
}

/* The arrest of person pi, approved at `approved`, executed within hours:
 * arrest.executed, the notice to the family, the interrogation. */
static void after_arrest(gen *g, kase *k, int pi, cw_time approved)
{
    person *p = &k->p[pi];
    cw_time t = approved + rr(g, 20 * MINUTE, 10 * HOUR), b;
    int ex;
    jb d;

    jb_init(&d);
    jb_str(&d, "person", p->id);
    ex = notify_exempt(g, k, true, &d);
    if (p->narr_at >= 2 || !emit(g, k, T_ARREST_EXECUTED, t, k->lead, &d))
        return;
    p->arr_ex[p->narr_at] = ex;
    p->arr_at[p->narr_at++] = t;
    exempt_breach(g, k, R_ARREST_NOTIFY, p, ex);
    if (ex != EXN_UNREACHABLE && (b = duty_time(g, t)) != CW_TIME_NONE &&
        person_event(g, k, T_FAMILY_NOTIFIED, pi, b, "arrest"))
        p->antf_b[p->nantf_b++] = b;
    interrogate_at(g, k, pi, duty_time(g, t), rr(g, 40, 120) * MINUTE);
}

/* The truth of the 24-hour duties of every person of a criminal case. */
static void duties_truth(gen *g, const kase *k)
{
    for (int i = 0; i < k->np; i++) {
        person p = k->p[i];     /* a copy: the lists get sorted */
        if (p.ndet_at > 0) {
            pair_truth(g, k, R_DETAIN_CUSTODY, &p, p.det_at, NULL, p.ndet_at, p.cust_b, p.ncust_b);
            pair_truth(g, k, R_DETAIN_NOTIFY, &p, p.det_at, p.det_ex, p.ndet_at, p.dntf_b, p.ndntf_b);
            pair_truth(g, k, R_DETAIN_INTERROGATE, &p, p.det_at, NULL, p.ndet_at, p.ist, p.nist);
        }
        if (p.narr_at > 0) {
            pair_truth(g, k, R_ARREST_NOTIFY, &p, p.arr_at, p.arr_ex, p.narr_at, p.antf_b, p.nantf_b);
            pair_truth(g, k, R_ARREST_INTERROGATE, &p, p.arr_at, NULL, p.narr_at, p.ist, p.nist);
        }
    }
}

static void criminal_case(gen *g, int unit, cw_time t0, const plan *pl)
{
    static const double wfiling[] = { .86, .05, .02, .02, .02, .02, .01 };
    static const int filing_days[][3] = { { 0 }, { 7 }, { 27 }, { 7, 20 }, { 7, 21 }, { 30 },
                                          { 10, 10, 11 } };
    kase k;
    cperson cp[MAXP];
    ext x[MAXEXT];
    int nx = 0, ns, nv, nw, fp, mode;
    cw_time due, tF, lo, lastx = t0, T = CW_TIME_NONE;
    bool breach = false, not_filed, any_pursued = false;
    /* Filed on acceptance, at the same second, the filing written first
     * half of the time. */
    bool instant = pl->force == FORCE_NONE && !pl->big && chance(g, .015);
    bool bfirst = instant && chance(g, .5);
    jb d;

    if (pl->alarm == NULL && pl->force == FORCE_NONE && chance(g, .15)) {
        for (int back = 0; back <= 6; back++)
            if (interesting(g, day_of(t0) - back + 3) && t0 - back * DAY > g->lo) {
                t0 -= back * DAY;
                break;
            }
    }
    new_case(g, &k, K_CRIM, unit, t0);
    k.alarm = pl->alarm;
    k.family = -1;
    if (pl->offence != CW_TIME_NONE) {
        k.offence = pl->offence;
        k.has_offence_at = true;
    } else if (chance(g, .5)) {
        k.offence = t0 - rr(g, HOUR, 5 * DAY);
        k.has_offence_at = true;
        if (k.offence < g->lo - 2 * DAY)
            k.offence = g->lo - 2 * DAY;
    }
    ns = pl->force >= FORCE_CUSTODY ? 1
         : pl->big                  ? (int)rr(g, 30, 48)
                                    : pick(g, (const double[]){ .15, .55, .2, .1 }, 4);
    nv = (int)rr(g, 1, 2);
    nw = chance(g, .25) ? 1 : 0;
    for (int i = 0; i < ns; i++) {
        double r = rnd01(g);
        int age = r < .04 ? (int)rr(g, 16, 17) : r < .07 ? (int)rr(g, 60, 75) : (int)rr(g, 18, 59);
        person *p = add_person(g, &k, ROLE_SUSPECT, birth_for_age(g, day_of(k.offence), age));
        p->flags = suspect_flags(g, p->age, false);
        if (chance(g, .01)) {
            probe_18(&k, p, chance(g, .5));
            p->no_guardian = true;
        }
    }
    for (int i = 0; i < nv + nw; i++) {
        int role = i < nv ? ROLE_VICTIM : ROLE_WITNESS;
        int age = chance(g, .08) ? (int)rr(g, 8, 17) : (int)rr(g, 18, 80);
        add_person(g, &k, role, birth_for_age(g, day_of(k.offence), age));
    }

    if (bfirst)
        emit(g, &k, T_CASE_FILED, t0, k.lead, NULL);
    jb_init(&d);
    jb_str(&d, "kind", "criminal");
    k.security = chance(g, .03);
    if (k.security)
        jb_str(&d, "cause", security_causes[rr(g, 0, (int64_t)(sizeof security_causes /
                                                             sizeof *security_causes) - 1)]);
    else
        jb_str(&d, "cause", crim_causes[rr(g, 0, (int64_t)(sizeof crim_causes / sizeof *crim_causes) - 1)]);
    if (k.alarm)
        jb_str(&d, "alarm", k.alarm);
    if (k.has_offence_at)
        jb_time(&d, "offence_at", k.offence, chance(g, .1) ? TF_Z : TF_LOCAL);
    if (!emit(g, &k, T_CASE_ACCEPTED, t0, k.lead, &d))
        return;
    k.accepted = true;
    write_persons(g, &k);
    for (int i = 0; i < k.np; i++)
        if (k.p[i].role != ROLE_SUSPECT && chance(g, .8))
            interrogate(g, &k, i, t0 + 20 * MINUTE, t0 + DAY, rr(g, 30, 90) * MINUTE, PL_ANY);

    /* CRIM-FILING: 3 days, extended for review up to 30 in all. */
    fp = pl->force != FORCE_NONE || instant ? 0 : pick(g, wfiling, 7);
    for (int i = 0; i < 3 && filing_days[fp][i] > 0; i++) {
        ext *e = &x[nx++];
        e->at = i == 0 ? t0 + rr(g, 18 * HOUR, 40 * HOUR) : lastx + rr(g, 2 * DAY, 5 * DAY);
        e->limit = L_FILING;
        e->days = filing_days[fp][i];
        e->person = -1;
        write_ext(g, &k, e);
        lastx = e->at;
    }
    {
        int total = 3;
        for (int i = 0; i < nx; i++)
            total += x[i].days;
        due = due_days(g, t0, total > 30 ? 30 : total, false);
    }
    lo = (nx ? lastx : t0) + HOUR;
    mode = pl->force == FORCE_FILING ? M_NEVER : pl->force != FORCE_NONE ? M_ONTIME
                                                                         : pick_mode(g, DAY);
    tF = b_time(g, mode, lo, nx ? due - DAY - rr(g, HOUR, 3 * DAY) : t0 + rr(g, 2 * HOUR, 40 * HOUR),
                due, DAY, 12 * DAY);
    not_filed = pl->force == FORCE_NONE && !instant && !pl->big && chance(g, .1);
    if (instant)
        tF = t0;
    jb_init(&d);
    if (not_filed)
        jb_str(&d, "reason", chance(g, .5) ? "没有犯罪事实" : "情节显著轻微");
    if (!bfirst)
        emit(g, &k, not_filed ? T_CASE_NOT_FILED : T_CASE_FILED, tF, k.lead, &d);
    due = due_days(g, t0, 3 + ext_days(x, nx, L_FILING, t0, tF, -1, 3, 0, 0, 30, &breach), false);
    expect_deadline(g, &k, R_CRIM_FILING, "", due, DAY, tF);
    if (breach)
        expect_violation(g, k.ci, R_CRIM_FILING, "extension");

    if (pl->big || chance(g, .5)) {
        int n = pl->big ? (int)rr(g, 40, 130) : (int)rr(g, 1, 3);
        for (int i = 0; i < n; i++)
            seize(g, &k, t0 + rr(g, HOUR, 3 * DAY), -1);
    }
    if (tF == CW_TIME_NONE || tF > g->now || not_filed) {
        finish_case(g, &k);
        return;
    }

    /* Each suspect: detained, bailed, under residential surveillance, or
     * not (yet) caught. */
    for (int i = 0; i < k.np; i++) {
        person *p = &k.p[i];
        cperson *c = &cp[i];
        cw_time ts, se;

        memset(c, 0, sizeof *c);
        c->det = c->b = c->approved = CW_TIME_NONE;
        if (p->role != ROLE_SUSPECT)
            continue;
        c->path = pl->big ? 1 + pick(g, (const double[]){ .5, .4, .1 }, 3)
                          : pick(g, (const double[]){ .18, .55, .22, .05 }, 4);
        if (pl->force == FORCE_CUSTODY)
            c->path = PATH_DET;
        else if (pl->force == FORCE_BAIL)
            c->path = PATH_BAIL;
        else if (pl->force == FORCE_RSL)
            c->path = PATH_RSL;
        if (c->path == PATH_NONE)
            continue;
        any_pursued = true;
        se = CW_TIME_NONE;
        ts = tF + rr(g, HOUR, 4 * DAY);
        if (c->path != PATH_DET || pl->big || chance(g, .5)) {
            se = summons(g, &k, i, ts, pl->force != FORCE_NONE ? M_ONTIME : -1, false);
            /* In a ring, many are summoned twice (P3#2). */
            if (pl->big && se != CW_TIME_NONE && se <= g->now && chance(g, .6)) {
                cw_time se2 = summons(g, &k, i, se + rr(g, DAY, 3 * DAY), -1, false);
                se = se2 != CW_TIME_NONE ? se2 : se + 3 * DAY + 12 * HOUR;
            }
            if (se == CW_TIME_NONE)
                se = ts + 12 * HOUR + rr(g, HOUR, 6 * HOUR);
        }
        if (c->path == PATH_BAIL || c->path == PATH_RSL) {
            cw_time tb = (se != CW_TIME_NONE ? se : ts) + rr(g, HOUR, DAY);
            bool rsl = c->path == PATH_RSL;
            if (pl->force == FORCE_BAIL || pl->force == FORCE_RSL) {
                if (pl->force_at > tb)
                    tb = pl->force_at;
                restraint(g, &k, i, tb, rsl, M_NEVER, CW_TIME_NONE);
            } else {
                if (chance(g, .25))
                    tb = months_probe(g, tb, 5, rsl ? 6 : 12);
                restraint(g, &k, i, tb, rsl, -1, CW_TIME_NONE);
            }
            continue;
        }
        /* Detention: custody days that never roll, probed on weekends
         * and holidays now and then. */
        c->det = se != CW_TIME_NONE ? se + rr(g, 10, 90) * MINUTE : tF + rr(g, 2 * HOUR, 6 * DAY);
        if (chance(g, .3))
            for (int j = 0; j <= 6; j++)
                if (!workday(g, day_of(c->det) + j + 3)) {
                    c->det = on_day(c->det, day_of(c->det) + j);
                    break;
                }
        {
            double w[NAPLANS];
            for (int j = 0; j < NAPLANS; j++)
                w[j] = arrest_plans[j].w;
            c->plan = pl->force != FORCE_NONE ? 0 : pick(g, w, NAPLANS);
        }
        c->flagged = arrest_plans[c->plan].flagged || chance(g, .06);
    }

    /* Detentions, then their extensions, then arrest requests. */
    for (int i = 0; i < k.np; i++) {
        cperson *c = &cp[i];
        person *p = &k.p[i];
        const aplan_def *ap;
        int ex;
        jb dd;

        if (k.p[i].role != ROLE_SUSPECT || c->path != PATH_DET)
            continue;
        jb_init(&dd);
        jb_str(&dd, "person", p->id);
        if (c->flagged) {
            static const char *const fl[][2] = { { "roving", NULL }, { "repeated", NULL },
                                                 { "gang", "repeated" } };
            int f = (int)rr(g, 0, 2);
            jb_list(&dd, "flags", fl[f], f == 2 ? 2 : 1);
        }
        ex = notify_exempt(g, &k, false, &dd);
        c->det_written = emit(g, &k, T_CRIMINAL_DETENTION_STARTED, c->det, k.lead, &dd);
        if (!c->det_written)
            continue;
        nth(c->subj, sizeof c->subj, p->id, ++p->ndet);
        after_detention(g, &k, i, c->det, ex);
        ap = &arrest_plans[c->plan];
        for (int j = 0; j < ap->n && nx < MAXEXT; j++) {
            ext *e = &x[nx++];
            e->at = j == 0 ? c->det + rr(g, 26 * HOUR, 50 * HOUR) : x[nx - 2].at + rr(g, 20 * HOUR, 40 * HOUR);
            e->limit = L_ARREST;
            e->days = ap->days[j] > 0 ? ap->days[j] : (int)rr(g, 1, 4);
            e->person = ap->casewide ? -1 : i;
            write_ext(g, &k, e);
        }
    }
    for (int i = 0; i < k.np; i++) {
        cperson *c = &cp[i];
        person *p = &k.p[i];
        int cap, planned = 3, m;
        cw_time dueplan, b;
        double r;
        jb dd;

        if (k.p[i].role != ROLE_SUSPECT || c->path != PATH_DET || !c->det_written)
            continue;
        cap = c->flagged ? 30 : 7;
        lo = c->det + 4 * HOUR;
        for (int j = 0; j < nx; j++)
            if (x[j].limit == L_ARREST && (x[j].person == i || x[j].person < 0) &&
                x[j].at >= c->det) {
                planned += x[j].days;
                if (x[j].at + HOUR > lo)
                    lo = x[j].at + HOUR;
            }
        dueplan = due_days(g, c->det, planned > cap ? cap : planned, true);
        m = pl->force != FORCE_NONE ? M_ONTIME : pick_mode(g, 0);
        b = b_time(g, m, lo, planned > 3 ? dueplan - rr(g, 2 * HOUR, DAY) : c->det + rr(g, 20 * HOUR, 66 * HOUR),
                   dueplan, 0, 4 * DAY);
        r = pl->force != FORCE_NONE ? 0 : rnd01(g);
        c->btype = r < .75 ? T_ARREST_REQUESTED : r < .92 ? T_BAIL_STARTED : T_RSL_STARTED;
        c->b = b;
        if (c->btype == T_ARREST_REQUESTED) {
            jb_init(&dd);
            jb_str(&dd, "person", p->id);
            emit(g, &k, T_ARREST_REQUESTED, b, k.lead, &dd);
        } else if (b != CW_TIME_NONE) {
            bool rsl = c->btype == T_RSL_STARTED;
            if (!rsl && chance(g, .04)) {
                /* Released on bail, detained again: the second detention
                 * is P#2 with its own three days. */
                cw_time be = b + rr(g, 5, 20) * DAY, d2 = be + rr(g, HOUR, 48 * HOUR), b2;
                char subj2[16];
                restraint(g, &k, i, b, false, M_ONTIME, be);
                jb_init(&dd);
                jb_str(&dd, "person", p->id);
                if (emit(g, &k, T_CRIMINAL_DETENTION_STARTED, d2, k.lead, &dd)) {
                    bool breach2 = false;
                    nth(subj2, sizeof subj2, p->id, ++p->ndet);
                    after_detention(g, &k, i, d2, EXN_NONE);
                    due = due_days(g, d2, 3, true);
                    b2 = b_time(g, pick_mode(g, 0), d2 + 4 * HOUR, d2 + rr(g, 20 * HOUR, 66 * HOUR),
                                due, 0, 4 * DAY);
                    jb_init(&dd);
                    jb_str(&dd, "person", p->id);
                    emit(g, &k, T_ARREST_REQUESTED, b2, k.lead, &dd);
                    /* A whole-case extension of another detention may
                     * fall inside this one's period. */
                    due = due_days(g, d2, 3 + ext_days(x, nx, L_ARREST, d2, b2, i, 3, 0, 0, cap,
                                                       &breach2), true);
                    expect_deadline(g, &k, R_ARREST_REQUEST, subj2, due, 0, b2);
                    if (breach2) {
                        char s2[24];
                        snprintf(s2, sizeof s2, "extension:%s", p->id);
                        expect_violation(g, k.ci, R_ARREST_REQUEST, s2);
                    }
                    if (b2 != CW_TIME_NONE)
                        c->approved = b2 + rr(g, DAY, 7 * DAY);   /* approved later */
                }
            } else {
                if (b != CW_TIME_NONE)
                    restraint(g, &k, i, b, rsl, -1, CW_TIME_NONE);
            }
        }
        breach = false;
        due = due_days(g, c->det,
                       3 + ext_days(x, nx, L_ARREST, c->det, b, i, 3, 0, 0, cap, &breach), true);
        expect_deadline(g, &k, R_ARREST_REQUEST, c->subj, due, 0, b);
        if (breach) {
            char s[24];
            snprintf(s, sizeof s, "extension:%s", p->id);
            expect_violation(g, k.ci, R_ARREST_REQUEST, s);
        }
        /* The procuratorate answers within 7 days. */
        if (c->btype == T_ARREST_REQUESTED && b != CW_TIME_NONE) {
            cw_time ta = b + rr(g, DAY, 7 * DAY);
            if (pl->force == FORCE_CUSTODY && pl->force_at > b + HOUR)
                ta = pl->force_at;
            else if (chance(g, .3))
                ta = months_probe(g, b + DAY, 6, 2);
            if (pl->force != FORCE_NONE || chance(g, .85)) {
                c->approved = ta;
            } else {
                jb_init(&dd);
                jb_str(&dd, "person", p->id);
                if (emit(g, &k, T_ARREST_REJECTED, ta, k.lead, &dd))
                    restraint(g, &k, i, ta + rr(g, HOUR, 8 * HOUR), false, -1, CW_TIME_NONE);
            }
        }
    }

    /* CUSTODY-2M: arrests approved, then the transfer for prosecution that
     * meets them all; custody extensions after the months. */
    {
        cw_time a0 = CW_TIME_NONE, alast = CW_TIME_NONE, binding = CW_TIME_NONE;
        int ncx = 0, first_cx = nx;
        static const double wc[] = { .86, .05, .03, .03, .03 };
        int cplan = pl->force != FORCE_NONE ? 0 : pick(g, wc, 5);

        for (int i = 0; i < k.np; i++) {
            cperson *c = &cp[i];
            jb dd;
            if (c->approved == CW_TIME_NONE)
                continue;
            jb_init(&dd);
            jb_str(&dd, "person", k.p[i].id);
            if (!emit(g, &k, T_ARREST_APPROVED, c->approved, k.lead, &dd)) {
                c->approved = CW_TIME_NONE;
                continue;
            }
            after_arrest(g, &k, i, c->approved);
            nth(c->csubj, sizeof c->csubj, k.p[i].id, 1);
            if (a0 == CW_TIME_NONE || c->approved < a0)
                a0 = c->approved;
            if (alast == CW_TIME_NONE || c->approved > alast)
                alast = c->approved;
        }
        if (a0 != CW_TIME_NONE && cplan > 0) {
            int who = -1;
            for (int i = 0; i < k.np; i++)
                if (cp[i].approved != CW_TIME_NONE) {
                    who = i;
                    break;
                }
            ncx = cplan == 3 ? 2 : 1;
            for (int j = 0; j < ncx && nx < MAXEXT; j++) {
                ext *e = &x[nx++];
                e->at = j == 0 ? a0 + rr(g, 38, 48) * DAY : a0 + rr(g, 80, 86) * DAY;
                e->limit = L_CUSTODY;
                e->days = cplan == 4 || j == 1 ? 60 : 30;
                e->person = cplan == 2 ? who : -1;
                write_ext(g, &k, e);
                if (e->at > alast)
                    alast = e->at;
            }
        }
        if (a0 != CW_TIME_NONE) {
            for (int i = 0; i < k.np; i++) {
                int extra = 0;
                cw_time dd;
                if (cp[i].approved == CW_TIME_NONE)
                    continue;
                for (int j = first_cx; j < nx; j++)
                    if (x[j].limit == L_CUSTODY && x[j].at >= cp[i].approved &&
                        (x[j].person < 0 || x[j].person == i))
                        extra += x[j].days;
                dd = due_months(g, cp[i].approved, 2, extra, true);
                if (binding == CW_TIME_NONE || dd < binding)
                    binding = dd;
            }
            mode = pl->force == FORCE_CUSTODY ? M_NEVER : pick_mode(g, 7 * DAY);
            T = b_time(g, mode, alast + DAY, binding - 7 * DAY - rr(g, DAY, 15 * DAY), binding,
                       7 * DAY, 30 * DAY);
        } else if (any_pursued && pl->force == FORCE_NONE && chance(g, .7)) {
            T = tF + rr(g, 30, 150) * DAY;
        }
        emit(g, &k, T_CASE_TRANSFERRED, T, k.lead, NULL);
        for (int i = 0; i < k.np; i++) {
            cw_time dd;
            if (cp[i].approved == CW_TIME_NONE)
                continue;
            breach = false;
            dd = due_months(g, cp[i].approved, 2,
                            ext_days(x, nx, L_CUSTODY, cp[i].approved, T, i, 0, 0, 0, 0, &breach),
                            true);
            expect_deadline(g, &k, R_CUSTODY_2M, cp[i].csubj, dd, 7 * DAY, T);
        }
    }

    /* SUPPL-1M: returned for supplementary investigation, at most twice;
     * rounds go by the order of the returns (a data.round that disagrees
     * is only named in the message); a third return is a breach with no
     * period. */
    if (T != CW_TIME_NONE && T <= g->now && pl->force == FORCE_NONE && chance(g, .28)) {
        static const double wr[] = { .62, .24, .07, .04, .03 };
        static const int rounds[5][3] = { { 1 }, { 1, 2 }, { 1, 2, 3 }, { 1, 2, 2 }, { 1, 3 } };
        static const int nret[5] = { 1, 2, 3, 3, 2 };
        int rp = pick(g, wr, 5);
        cw_time t = T;

        for (int j = 0; j < nret[rp]; j++) {
            int round = rounds[rp][j];
            bool bad = j >= 2;
            cw_time R = t + rr(g, 10, 30) * DAY, S;
            char subj[16];
            jb dd;

            if (!bad && chance(g, .3))
                R = months_probe(g, R, 6, 1);
            /* The round is sometimes left out: it is then the count. */
            jb_init(&dd);
            if (round != j + 1 || !chance(g, .05))
                jb_int(&dd, "round", round);
            if (!emit(g, &k, T_CASE_RETURNED, R, k.lead, &dd))
                break;
            if (bad) {
                expect_violation(g, k.ci, R_SUPPL_1M, "rounds");
                emit(g, &k, T_CASE_RESUBMITTED, R + rr(g, 10, 25) * DAY, k.lead, NULL);
                break;
            }
            snprintf(subj, sizeof subj, "round:%d", j + 1);
            due = due_months(g, R, 1, 0, false);
            S = b_time(g, pick_mode(g, 0), R + 3 * DAY, R + rr(g, 8, 26) * DAY, due, 0, 30 * DAY);
            emit(g, &k, T_CASE_RESUBMITTED, S, k.lead, NULL);
            expect_deadline(g, &k, R_SUPPL_1M, subj, due, 0, S);
            if (S == CW_TIME_NONE || S > g->now)
                break;
            t = S;
        }
    }
    duties_truth(g, &k);
    finish_case(g, &k);
}

/* ---- incidents ---------------------------------------------------------------- */

/* A moment of the feed: a day drawn evenly, a time of day as people call. */
static cw_time when(gen *g)
{
    cw_time t;

    do
        t = daytime(g, (cw_day)rr(g, day_of(g->lo), day_of(g->hi)));
    while (t < g->lo || t > g->hi);
    return t;
}

/* Another unit of the same prefix (an alarm handed over). */
static int neighbour(gen *g, int unit)
{
    for (int tries = 0; tries < 16; tries++) {
        int u = (int)rr(g, 0, NUNITS - 1);
        if (u != unit && units[u].prefix == units[unit].prefix)
            return u;
    }
    return unit;
}

/*
 * An alarm record (接警) with the scene it sent officers to; a criminal or
 * administrative alarm must be accepted as a case within 24 h
 * (ALARM-ACCEPT, lead 4 h), in a case of its own that names the alarm.
 */
static void alarm_incident(gen *g, bool judged, cw_time t)
{
    static const char *const other[] = { "dispute", "assist", "other" };
    kase k;
    int unit = pick_unit(g);
    const char *category;
    char alarm[24];
    cw_time due = CW_TIME_NONE, ta = CW_TIME_NONE;
    bool force = t != CW_TIME_NONE;
    jb d;

    if (!force)
        t = when(g);
    category = judged ? (chance(g, .4) ? "criminal" : "administrative")
                      : other[pick(g, (const double[]){ .5, .3, .2 }, 3)];
    new_case(g, &k, K_ALARM, unit, t);
    snprintf(alarm, sizeof alarm, "%s", g->cases[k.ci].id);
    jb_init(&d);
    jb_str(&d, "alarm", alarm);
    jb_str(&d, "category", category);
    if (!emit(g, &k, T_ALARM_RECEIVED, t, k.lead, &d))
        return;
    if (chance(g, .85))
        scene(g, &k, t + rr(g, 5, 40) * MINUTE, -1);
    if (judged) {
        due = t + 24 * HOUR;
        ta = b_time(g, force ? M_NEVER : pick_mode(g, 4 * HOUR), t + 15 * MINUTE,
                    t + rr(g, 30 * MINUTE, 14 * HOUR), due, 4 * HOUR, 5 * DAY);
        if (!force && chance(g, .005))
            ta = t;                         /* accepted as it was received */
    } else if (chance(g, .04)) {
        ta = t + rr(g, HOUR, 20 * HOUR);    /* a dispute that became a case */
    }
    if (ta != CW_TIME_NONE) {
        int n = chance(g, .01) ? 2 : 1;     /* two cases from one alarm */
        for (int i = 0; i < n; i++) {
            plan pl;
            int u = chance(g, .05) ? neighbour(g, unit) : unit;
            bool crim = strcmp(category, "criminal") == 0 ? chance(g, .9) : chance(g, .08);
            plan_init(&pl);
            pl.alarm = alarm;
            pl.alarm_at = t;
            pl.offence = t - rr(g, 5, 60) * MINUTE;
            if (crim)
                criminal_case(g, u, ta + (i ? rr(g, HOUR, 3 * DAY) : 0), &pl);
            else
                admin_case(g, u, ta + (i ? rr(g, HOUR, 3 * DAY) : 0), &pl);
        }
    }
    /* The earliest acceptance naming the alarm meets it. */
    if (judged)
        expect_deadline(g, &k, R_ALARM_ACCEPT, alarm, due, 4 * HOUR, ta);
}

/* A patrol's scene record (现场执法) with its bodycam upload. */
static void scene_record(gen *g)
{
    kase k;
    cw_time t = when(g);

    new_case(g, &k, K_SCENE, pick_unit(g), t);
    scene(g, &k, t, -1);
}

/*
 * The state table at `now`'s own second, for the hour periods: A placed
 * so that now is the window's first second (warning), the due second
 * (warning), one second past due (overdue), or one second before the
 * window (nothing; with no lead, one second before due). B never comes.
 */
static void edge_incident(gen *g)
{
    static const struct {
        int rule, hours, lead;
    } r[] = { { R_ALARM_ACCEPT, 24, 4 }, { R_SUMMONS_LIMIT, 8, 1 }, { R_FT_48H, 48, 6 },
              { R_PROPERTY_24H, 24, 0 }, { R_BODYCAM_24H, 24, 0 }, { R_CRIM_SUMMONS, 12, 0 } };
    int i = (int)rr(g, 0, 5), e = (int)rr(g, 0, 3), unit = pick_unit(g);
    int64_t lead = (int64_t)r[i].lead * HOUR;
    int64_t delta = e == 0 ? lead : e == 1 ? 0 : e == 2 ? -1 : lead + 1;
    cw_time a = g->now - (int64_t)r[i].hours * HOUR + delta;
    plan pl;
    kase k;
    jb d;

    plan_init(&pl);
    pl.force_at = a;
    switch (r[i].rule) {
    case R_ALARM_ACCEPT:
        alarm_incident(g, true, a);
        return;
    case R_SUMMONS_LIMIT:
        pl.force = FORCE_SUMMONS;
        pl.ft = 0;
        admin_case(g, unit, a - rr(g, HOUR, 5 * HOUR), &pl);
        return;
    case R_FT_48H:
        pl.force = FORCE_FT48;
        pl.ft = 1;
        admin_case(g, unit, a - rr(g, 10, 90) * MINUTE, &pl);
        return;
    case R_BODYCAM_24H:
        new_case(g, &k, K_SCENE, unit, a);
        scene(g, &k, a, M_NEVER);
        return;
    default:
        break;
    }
    /* A case opened a little earlier, lawful so far. */
    new_case(g, &k, r[i].rule == R_PROPERTY_24H ? K_ADM : K_CRIM, unit,
             a - rr(g, r[i].rule == R_PROPERTY_24H ? HOUR : 30 * HOUR, 40 * HOUR));
    k.family = pick_family(g, true);
    add_person(g, &k, ROLE_SUSPECT, birth_for_age(g, day_of(k.t0), (int)rr(g, 20, 55)));
    jb_init(&d);
    jb_str(&d, "kind", k.kind == K_ADM ? "administrative" : "criminal");
    jb_str(&d, "cause", k.kind == K_ADM ? families[k.family].code2025 : "CL-264");
    if (!emit(g, &k, T_CASE_ACCEPTED, k.t0, k.lead, &d))
        return;
    write_persons(g, &k);
    if (k.kind == K_ADM) {
        expect_deadline(g, &k, R_ADM_HANDLING, "", due_days(g, k.t0, 30, false), 5 * DAY,
                        CW_TIME_NONE);
        seize(g, &k, a, M_NEVER);
    } else {
        cw_time tf = k.t0 + rr(g, HOUR, 20 * HOUR);
        emit(g, &k, T_CASE_FILED, tf, k.lead, NULL);
        expect_deadline(g, &k, R_CRIM_FILING, "", due_days(g, k.t0, 3, false), DAY, tf);
        summons(g, &k, 0, a, M_NEVER, true);
    }
    finish_case(g, &k);
}

/*
 * Tail probes: an obligation started just so long before `now` that it
 * falls due around it and its B never comes, for the warnings (and the
 * overdues) that depend on now.
 */
static void tail_incident(gen *g)
{
    int f = (int)rr(g, FORCE_ALARM, NFORCE - 1), unit = pick_unit(g);
    cw_time n = g->now, x;
    plan pl;

    plan_init(&pl);
    pl.force = f;
    switch (f) {
    case FORCE_ALARM:
        alarm_incident(g, true, n - 24 * HOUR + rr(g, -HOUR, 4 * HOUR));
        break;
    case FORCE_ADM:
        admin_case(g, unit, n - 30 * DAY + rr(g, -DAY, 6 * DAY), &pl);
        break;
    case FORCE_SUMMONS:
        pl.ft = 0;
        pl.force_at = n - 8 * HOUR + rr(g, -10 * MINUTE, HOUR);
        admin_case(g, unit, pl.force_at - rr(g, HOUR, 6 * HOUR), &pl);
        break;
    case FORCE_FT48:
        pl.ft = 1;
        pl.force_at = n - 48 * HOUR + rr(g, -HOUR, 6 * HOUR);
        admin_case(g, unit, pl.force_at - rr(g, 10, 90) * MINUTE, &pl);
        break;
    case FORCE_FILING:
        criminal_case(g, unit, n - 3 * DAY + rr(g, -12 * HOUR, 30 * HOUR), &pl);
        break;
    case FORCE_CUSTODY:
        x = pl.force_at = n - 61 * DAY + rr(g, 0, 8 * DAY);
        criminal_case(g, unit, x - rr(g, 12, 16) * DAY, &pl);
        break;
    case FORCE_BAIL:
        x = pl.force_at = n - 365 * DAY + rr(g, -2 * DAY, 16 * DAY);
        criminal_case(g, unit, x - rr(g, 6, 9) * DAY, &pl);
        break;
    case FORCE_RSL:
        x = pl.force_at = n - 182 * DAY + rr(g, -2 * DAY, 16 * DAY);
        criminal_case(g, unit, x - rr(g, 6, 9) * DAY, &pl);
        break;
    default:
        edge_incident(g);
        break;
    }
}

/* FT-HEARING across the change of law: a fine of 2000 decided at
 * 2025-12-31T23:59:59 (2012 law: a hearing from 2000) or at
 * 2026-01-01T00:00:00 (2025 law: from 4000), or 1999 on the eve. */
static void year_boundary_incident(gen *g)
{
    cw_time eve = cw_day_end(g->law2025 - 1, TZ);
    plan pl;
    int which = (int)rr(g, 0, 2);

    plan_init(&pl);
    pl.ft = 1;
    pl.family = FAM_THEFT;
    pl.pin = which == 1 ? eve + 1 : eve;
    pl.pin_fine = which == 2 ? 1999 : 2000;
    admin_case(g, pick_unit(g), cw_day_start(g->law2025 - 2, TZ) + rr(g, 10 * HOUR, 18 * HOUR),
               &pl);
}

/* Born on 29 February 2008: 18 on 28 February 2026, still 17 on the 27th. */
static void feb29_incident(gen *g)
{
    plan pl;
    /* born 29 February 2008: on 28 February 2026, the birthday of a common
     * year, still 17; 18 from 1 March */
    int day = chance(g, .5) ? 28 : 29;
    cw_time off = cw_day_start(cw_day_from_civil(2026, 2, 28) + (day - 28), TZ) +
                  rr(g, 8 * HOUR, 20 * HOUR);

    plan_init(&pl);
    pl.feb29 = day;
    pl.offence = off;
    pl.ft = chance(g, .5);
    admin_case(g, pick_unit(g), off + rr(g, HOUR, 30 * HOUR), &pl);
}

/*
 * Offences on either side of the change of law, decided in 2026:
 * one on 2025-12-31 is judged by the 2012 table and law, one on 2026-01-01
 * by the 2025 ones (SANCTION-*: the table in force on the offence day;
 * DETENTION-EXEMPT: exceptions only under the 2025 law). The decisions
 * apply the 2025 law (60%: its figures and article numbers, which before
 * 2026 are aliases of the 2012 rows) or the 2012 law (whose articles no
 * table in force from 2026 has). Half of the cases have a first suspect
 * the law exempts from detention (14-15, 16-17 on a first offence, 70-75,
 * pregnant or nursing), decided a detention with serious_impact and
 * detained. One in five offences is at 23:59:59 or 00:00:00.
 */
static void law_change_incident(gen *g)
{
    cw_time midnight = cw_day_start(g->law2025, TZ), off;
    bool after = chance(g, .5);
    plan pl;

    if (chance(g, .2))
        off = after ? midnight : midnight - 1;
    else
        off = after ? midnight + rr(g, 0, 3 * HOUR) : midnight - rr(g, 1, 3 * HOUR);
    plan_init(&pl);
    pl.offence = off;
    pl.ft = 0;
    pl.law_as = chance(g, .6) ? 1 : 0;
    pl.exempt = chance(g, .5) ? (int)rr(g, EX_TEEN, EX_PREGNANT) : EX_NONE;
    admin_case(g, pick_unit(g), off + rr(g, HOUR, 20 * HOUR), &pl);
}

/*
 * OFFICER-OVERLAP with sessions not ended by `now`, which last until now
 * (DOMAIN.md): witness P1 questioned from s1 and not done yet; then
 * nothing else, or the same officer in a session of P2 that started after
 * s1 and ended (the overlap is its length), or that is open too (the
 * overlap is now minus its start). 300 s exactly is no breach, 301 s one.
 */
static void open_session_incident(gen *g)
{
    int shape = (int)rr(g, 0, 2), o, o2, o3;
    cw_time n = g->now, s1 = n - rr(g, 30 * MINUTE, 5 * HOUR), s2, e2;
    int64_t ov = chance(g, .3) ? 300 : chance(g, .5) ? 301 : rr(g, 6 * MINUTE, 15 * MINUTE);
    kase k;
    jb d;

    new_case(g, &k, K_ADM, pick_unit(g), s1 - rr(g, 30 * MINUTE, 3 * HOUR));
    k.family = pick_family(g, true);
    for (int i = 0; i < 2; i++)
        add_person(g, &k, ROLE_WITNESS, birth_for_age(g, day_of(k.offence), (int)rr(g, 20, 60)));
    jb_init(&d);
    jb_str(&d, "kind", "administrative");
    jb_str(&d, "cause", families[k.family].code2025);
    if (!emit(g, &k, T_CASE_ACCEPTED, k.t0, k.lead, &d))
        return;
    k.accepted = true;
    write_persons(g, &k);
    /* not over: booked past now, so no other session takes its officers */
    if ((o = free_officer(g, &k, s1, n + 1, -1, -1)) >= 0 &&
        (o2 = free_officer(g, &k, s1, n + 1, o, -1)) >= 0 &&
        write_session(g, &k, 0, s1, n + 1, o, o2, PL_FACILITY, false) && shape > 0) {
        s2 = shape == 1 ? rr(g, s1 + MINUTE, n - ov - MINUTE) : n - ov;
        e2 = shape == 1 ? s2 + ov : n + 1;
        if ((o3 = free_officer(g, &k, s2, e2, o, o2)) >= 0 &&
            write_session(g, &k, 1, s2, e2, o, o3, PL_FACILITY, false) && ov > 300) {
            expect_violation(g, k.ci, R_OFFICER_OVERLAP, "S1");
            expect_violation(g, k.ci, R_OFFICER_OVERLAP, "S2");
        }
    }
    expect_deadline(g, &k, R_ADM_HANDLING, "", due_days(g, k.t0, 30, false), 5 * DAY, CW_TIME_NONE);
    finish_case(g, &k);
}

static void incident(gen *g)
{
    double r = rnd01(g);
    plan pl;

    plan_init(&pl);
    if (r < .012) {
        tail_incident(g);
    } else if (r < .014) {
        year_boundary_incident(g);
    } else if (r < .015) {
        feb29_incident(g);
    } else if (r < .0165) {
        law_change_incident(g);
    } else if (r < .0172) {
        open_session_incident(g);
    } else if (r < .0195) {
        pl.big = true;
        criminal_case(g, pick_unit(g), when(g), &pl);
    } else if (r < .33) {
        alarm_incident(g, false, CW_TIME_NONE);
    } else if (r < .65) {
        alarm_incident(g, true, CW_TIME_NONE);
    } else if (r < .93) {
        if (chance(g, .58))
            admin_case(g, pick_unit(g), when(g), &pl);
        else
            criminal_case(g, pick_unit(g), when(g), &pl);
    } else {
        scene_record(g);
    }
}

/* ---- output ------------------------------------------------------------------- */

/* Sort keys in place by LSD radix, 16 bits a pass (tmp: n more keys). */
static void radix_sort(uint64_t *k, uint64_t *tmp, size_t n, int bits)
{
    static size_t count[1 << 16];

    for (int shift = 0; shift < bits; shift += 16) {
        uint64_t *t;
        size_t sum = 0;

        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[(k[i] >> shift) & 0xffff]++;
        for (size_t d = 0; d < (1 << 16); d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[(k[i] >> shift) & 0xffff]++] = k[i];
        t = k;
        k = tmp;
        tmp = t;
    }
    if ((bits / 16) % 2 == 1)
        memcpy(tmp, k, n * sizeof *k);
}

/* The events in time order, ties in creation order: their indices. */
static uint32_t *time_order(const gen *g)
{
    uint64_t *k = xrealloc(NULL, (g->nev + 1) * sizeof *k), *tmp;
    cw_time base = g->lo - 30 * DAY;
    uint32_t *idx;

    tmp = xrealloc(NULL, (g->nev + 1) * sizeof *tmp);
    /* Times fit in 30 bits from the base, creation numbers in 32. */
    for (size_t i = 0; i < g->nev; i++)
        k[i] = (uint64_t)(g->ev[i].at - base) << 32 | g->ev[i].seq;
    radix_sort(k, tmp, g->nev, 64);
    idx = (uint32_t *)tmp;
    for (size_t i = 0; i < g->nev; i++)
        idx[i] = (uint32_t)k[i];
    free(k);
    return idx;
}

typedef struct okey {
    uint64_t key;
    uint32_t idx;
} okey;

static int cmp_okey(const void *a, const void *b)
{
    const okey *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Append s at o; the line buffer is sized for the longest event. */
static char *put(char *o, const char *s)
{
    size_t n = strlen(s);

    memcpy(o, s, n);
    return o + n;
}

/* n in decimal, zero-padded to width digits. */
static char *put_num(char *o, uint64_t n, int width)
{
    char buf[24];
    int i = (int)sizeof buf;

    do {
        buf[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0 || (int)sizeof buf - i < width);
    memcpy(o, buf + i, sizeof buf - (size_t)i);
    return o + (sizeof buf - (size_t)i);
}

static size_t write_events(gen *g, const char *path, double shuffle, double dup)
{
    FILE *f = fopen(path, "w");
    size_t nord = 0, capord = g->nev + 16;
    okey *order = xrealloc(NULL, capord * sizeof *order);
    uint32_t *sorted;
    char at[40], line[2048];
    static char buf[1 << 20];

    if (f == NULL) {
        fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    setvbuf(f, buf, _IOFBF, sizeof buf);
    sorted = time_order(g);
    /* In time order, except a fraction moved elsewhere: half of them a
     * little (a late upload), half anywhere in the file. */
    for (size_t i = 0; i < g->nev; i++) {
        uint64_t pos = i;
        if (shuffle > 0 && chance(g, shuffle)) {
            if (chance(g, .5))
                pos = (uint64_t)rr(g, i > 2000 ? (int64_t)i - 2000 : 0, (int64_t)i + 2000);
            else
                pos = (uint64_t)rr(g, 0, (int64_t)g->nev - 1);
        }
        GROW(order, nord, capord);
        order[nord].key = pos * 2 + (pos != i);
        order[nord++].idx = sorted[i];
        /* Retransmitted: the same line again, a little later. */
        if (dup > 0 && chance(g, dup)) {
            GROW(order, nord, capord);
            order[nord].key = (pos + (uint64_t)rr(g, 1, 5000)) * 2 + 1;
            order[nord++].idx = sorted[i];
        }
    }
    if (shuffle > 0 || dup > 0)
        qsort(order, nord, sizeof *order, cmp_okey);
    for (size_t i = 0; i < nord; i++) {
        const ev *e = &g->ev[order[i].idx];
        const crec *c = &g->cases[e->ci];
        char *o = line;

        /* Assembled by hand: at 5M events printf would dominate. */
        o = put(o, "{\"id\":\"evt-");
        o = put_num(o, e->seq + 1, 9);
        o = put(o, "\",\"type\":\"");
        o = put(o, type_names[e->type]);
        o = put(o, "\",\"case\":\"");
        o = put(o, c->id);
        o = put(o, "\",\"unit\":\"");
        o = put(o, units[c->unit].code);
        o = put(o, "\",\"at\":\"");
        fmt_time(e->at, e->fmt, at, sizeof at);
        o = put(o, at);
        if (e->actor >= 0) {
            char oid[12];
            officer_id(g, e->actor, oid, sizeof oid);
            o = put(o, "\",\"actor\":\"");
            o = put(o, oid);
        }
        o = put(o, "\"");
        if (e->dlen > 0) {
            o = put(o, ",\"data\":");
            memcpy(o, g->arena + e->data, e->dlen);
            o += e->dlen;
        }
        o = put(o, "}\n");
        fwrite(line, 1, (size_t)(o - line), f);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    free(order);
    free(sorted);
    return nord - g->nev;
}

static const gen *sort_gen;     /* qsort has no context argument */

static int cmp_exp(const void *a, const void *b)
{
    const expect *x = a, *y = b;
    int c = strcmp(sort_gen->cases[x->ci].id, sort_gen->cases[y->ci].id);

    if (c == 0)
        c = strcmp(rule_ids[x->rule], rule_ids[y->rule]);
    if (c == 0)
        c = strcmp(x->subject, y->subject);
    return c;
}

/* Sort by case, rule and subject; a finding is keyed by those three, so
 * repeats (one per offending session) collapse into one. Two different
 * states for one key would be a generator bug. */
static void settle_expected(gen *g)
{
    size_t n = 0;

    sort_gen = g;
    qsort(g->exp, g->nexp, sizeof *g->exp, cmp_exp);
    for (size_t i = 0; i < g->nexp; i++) {
        if (n > 0 && cmp_exp(&g->exp[n - 1], &g->exp[i]) == 0) {
            if (g->exp[n - 1].state != g->exp[i].state || g->exp[n - 1].due != g->exp[i].due) {
                fprintf(stderr, "gen: internal: two expectations for %s %s %s\n",
                        rule_ids[g->exp[i].rule], g->cases[g->exp[i].ci].id, g->exp[i].subject);
                exit(2);
            }
            continue;
        }
        g->exp[n++] = g->exp[i];
    }
    g->nexp = n;
}

static void write_expected(const gen *g, const char *path)
{
    FILE *f = fopen(path, "w");
    char due[32];

    if (f == NULL) {
        fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    for (size_t i = 0; i < g->nexp; i++) {
        const expect *x = &g->exp[i];
        if (x->due == CW_TIME_NONE)
            snprintf(due, sizeof due, "-");
        else
            cw_time_format(x->due, TZ, due, sizeof due);
        fprintf(f, "%s\t%s\t%s\t%s\t%s\n", rule_ids[x->rule], g->cases[x->ci].id,
                x->subject[0] ? x->subject : "-", state_names[x->state], due);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
        exit(2);
    }
}

static void summary(const gen *g, uint64_t seed)
{
    static const char *const kinds[NKINDS] = { "administrative", "criminal", "alarm records",
                                               "scene records" };
    uint64_t nk[NKINDS] = { 0 }, by[NRULES][NSTATES] = { { 0 } };
    char now[32];

    for (size_t i = 0; i < g->ncase; i++)
        if (g->cases[i].nev > 0)
            nk[g->cases[i].kind]++;
    for (size_t i = 0; i < g->nexp; i++)
        by[g->exp[i].rule][g->exp[i].state]++;
    cw_time_format(g->now, TZ, now, sizeof now);
    fprintf(stderr, "gen: seed %llu: %llu cases (", (unsigned long long)seed,
            (unsigned long long)(nk[0] + nk[1] + nk[2] + nk[3]));
    for (int i = 0; i < NKINDS; i++)
        fprintf(stderr, "%s%llu %s", i ? ", " : "", (unsigned long long)nk[i], kinds[i]);
    fprintf(stderr, "), %zu events, now %s\n", g->nev, now);
    fprintf(stderr, "gen: events by type:");
    for (int t = 0; t < NTYPES; t++)
        fprintf(stderr, "%s %s %llu", t ? "," : "", type_names[t], (unsigned long long)g->ntype[t]);
    fprintf(stderr, "\ngen: expected findings: %zu\n", g->nexp);
    for (int r = 0; r < NRULES; r++) {
        uint64_t n = 0;
        for (int s = 0; s < NSTATES; s++)
            n += by[r][s];
        fprintf(stderr, "  %-24s %7llu ", rule_ids[r], (unsigned long long)n);
        for (int s = 0; s < NSTATES; s++)
            if (by[r][s])
                fprintf(stderr, " %s %llu", state_names[s], (unsigned long long)by[r][s]);
        fprintf(stderr, "\n");
    }
}

/* ---- main --------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: gen --seed N --events N --out DIR [--rules DIR] [--shuffle P]\n"
                    "           [--dup P]\n"
                    "\n"
                    "Write DIR/events.jsonl, DIR/expected.tsv and DIR/now.txt: realistic\n"
                    "case lifecycles with known violations of the rules of DOMAIN.md, and\n"
                    "the findings they must produce. --events is approximate (the case\n"
                    "that crosses it is completed); --shuffle moves a fraction P of the\n"
                    "events out of time order; --dup writes a fraction P of them twice\n"
                    "(retransmissions, same id and body). The rules directory (default\n"
                    "%s) provides the calendar.\n", CW_RULES_DIR);
    exit(2);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;

    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' && s[0] != '-';
}

int main(int argc, char **argv)
{
    const char *out = NULL, *rules = CW_RULES_DIR;
    uint64_t seed = 0, nev = 0, x;
    double shuffle = 0, dup = 0;
    size_t ndup;
    bool have_seed = false;
    char path[4096];
    cw_err err;
    gen *g;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            usage();
        if (v == NULL)
            usage();
        if (strcmp(a, "--seed") == 0 && parse_u64(v, &seed))
            have_seed = true;
        else if (strcmp(a, "--events") == 0 && parse_u64(v, &nev) && nev > 0)
            ;
        else if (strcmp(a, "--out") == 0)
            out = v;
        else if (strcmp(a, "--rules") == 0)
            rules = v;
        else if (strcmp(a, "--shuffle") == 0 || strcmp(a, "--dup") == 0) {
            char *end;
            double *to = a[2] == 's' ? &shuffle : &dup;
            *to = strtod(v, &end);
            if (*end != '\0' || end == v || !(*to >= 0 && *to <= 1))
                usage();
        } else
            usage();
        i++;
    }
    if (!have_seed || nev == 0 || out == NULL)
        usage();
    if (mkdir(out, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "gen: %s: %s\n", out, strerror(errno));
        return 2;
    }

    g = calloc(1, sizeof *g);
    if (g == NULL)
        die("out of memory");
    x = seed;
    for (int i = 0; i < 4; i++)
        g->s[i] = splitmix(&x);
    if (cw_calendar_new(&g->cal, TZ, &err) < 0)
        die(err.msg);
    snprintf(path, sizeof path, "%s/calendar", rules);
    if (cw_calendar_load_dir(g->cal, path, &err) < 0) {
        fprintf(stderr, "gen: %s\n", err.msg);
        cw_calendar_free(g->cal);
        free(g);
        return 2;
    }
    g->target = (size_t)nev;
    g->day0 = cw_day_from_civil(2025, 1, 1);
    g->law2025 = cw_day_from_civil(2026, 1, 1);
    /* Evaluated on a Friday afternoon before the calendar runs out: the
     * one-day and the fifteen-day warning windows both reach it. */
    g->now = cw_day_start(cw_day_from_civil(2026, 12, 18), TZ) + 15 * HOUR;
    g->lo = cw_day_start(cw_day_from_civil(2025, 1, 3), TZ);
    g->hi = g->now - 2 * HOUR;
    for (int p = 0; p < NPREFIX; p++) {
        g->off_first[p] = g->noff;
        g->noff += prefixes[p].officers;
    }
    g->off = calloc((size_t)g->noff, sizeof *g->off);
    g->buckets = calloc((size_t)NPREFIX * NDAYS, sizeof *g->buckets);
    if (g->off == NULL || g->buckets == NULL)
        die("out of memory");

    while (g->nev < g->target)
        incident(g);

    snprintf(path, sizeof path, "%s/events.jsonl", out);
    ndup = write_events(g, path, shuffle, dup);
    peer_truth(g);
    settle_expected(g);
    snprintf(path, sizeof path, "%s/expected.tsv", out);
    write_expected(g, path);
    snprintf(path, sizeof path, "%s/now.txt", out);
    {
        FILE *f = fopen(path, "w");
        char now[32];
        if (f == NULL) {
            fprintf(stderr, "gen: %s: %s\n", path, strerror(errno));
            return 2;
        }
        cw_time_format(g->now, TZ, now, sizeof now);
        fprintf(f, "%s\n", now);
        fclose(f);
    }
    summary(g, seed);
    if (ndup > 0)
        fprintf(stderr, "gen: %zu events written twice (retransmissions)\n", ndup);

    for (int i = 0; i < g->noff; i++)
        free(g->off[i].v);
    for (int i = 0; i < NPREFIX * NDAYS; i++)
        free(g->buckets[i].v);
    free(g->off);
    free(g->buckets);
    free(g->ev);
    free(g->arena);
    free(g->cases);
    free(g->exp);
    free(g->dec);
    cw_calendar_free(g->cal);
    free(g);
    return 0;
}
