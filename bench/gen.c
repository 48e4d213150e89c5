/*
 * bench/gen: a deterministic generator of case lifecycles as JSONL, for
 * throughput and memory measurements.
 *
 *     bench/gen -n EVENTS [-s SEED] [-o FILE]
 *
 * Administrative and criminal cases from 2026-01-01 to 2026-05-31, each
 * with its alarm, persons, summons, interrogations, seizures, scene
 * records and decisions, with delays drawn so that a share of them break
 * the section-1 deadlines. The same seed always gives the same bytes.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64: tiny, fast, good enough for synthetic data */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int64_t between(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static bool chance(int percent)
{
    return (int)(rnd() % 100) < percent;
}

typedef struct out {
    FILE *f;
    uint64_t n, limit;
} out;

static const char *const units[] = { "370102", "370103", "370104", "370105", "370112", "370113" };

static void emit(out *o, const char *type, const char *case_id, const char *unit,
                 cw_time at, const char *data)
{
    char when[40];

    if (o->n >= o->limit)
        return;
    cw_time_format(at, 480, when, sizeof when);
    fprintf(o->f, "{\"id\":\"evt-%010" PRIu64 "\",\"type\":\"%s\",\"case\":\"%s\",\"unit\":\"%s\","
                  "\"at\":\"%s\",\"actor\":\"O%04d\",\"data\":{%s}}\n",
            ++o->n, type, case_id, unit, when, (int)between(1000, 1999), data);
}

static cw_time hours(int64_t h) { return h * 3600; }

static void admin_case(out *o, uint64_t k, cw_time t0)
{
    char c[32], alarm[40], d[256], birth[16];
    const char *unit = units[k % 6];
    cw_time t = t0;
    int y = (int)between(1950, 2011);

    snprintf(c, sizeof c, "A%s2026%07" PRIu64, unit, k);
    snprintf(alarm, sizeof alarm, "JJ%s2026%08" PRIu64, unit, k);
    snprintf(d, sizeof d, "\"alarm\":\"%s\",\"category\":\"administrative\"", alarm);
    emit(o, "alarm.received", alarm, unit, t, d);
    t += chance(3) ? hours(between(25, 40)) : hours(between(0, 6));
    snprintf(d, sizeof d, "\"kind\":\"administrative\",\"cause\":\"PSAL-%d\",\"alarm\":\"%s\"",
             chance(50) ? 51 : 58, alarm);
    emit(o, "case.accepted", c, unit, t, d);
    snprintf(birth, sizeof birth, "%04d-%02d-%02d", y, (int)between(1, 12), (int)between(1, 28));
    snprintf(d, sizeof d, "\"person\":\"P1\",\"role\":\"suspect\",\"birth_date\":\"%s\",\"first_offence\":%s",
             birth, chance(60) ? "true" : "false");
    emit(o, "person.added", c, unit, t + 600, d);
    emit(o, "person.added", c, unit, t + 660, "\"person\":\"P2\",\"role\":\"victim\",\"birth_date\":\"1980-05-05\"");
    emit(o, "scene.attended", c, unit, t + 900, "\"ref\":\"S1\"");
    emit(o, "bodycam.uploaded", c, unit, t + 900 + (chance(4) ? hours(30) : hours(2)), "\"ref\":\"S1\"");
    t += hours(between(1, 48));
    snprintf(d, sizeof d, "\"person\":\"P1\",\"complex\":%s,\"detention_possible\":%s",
             chance(10) ? "true" : "false", chance(30) ? "true" : "false");
    emit(o, "summons.started", c, unit, t, d);
    emit(o, "interrogation.started", c, unit, t + 600,
         "\"person\":\"P1\",\"session\":\"Q1\",\"officers\":[\"O1001\",\"O1002\"],\"recorded\":true,\"in_facility\":true");
    emit(o, "interrogation.ended", c, unit, t + 4200, "\"person\":\"P1\",\"session\":\"Q1\"");
    emit(o, "summons.ended", c, unit, t + (chance(3) ? hours(9) : hours(between(2, 7))), "\"person\":\"P1\"");
    if (chance(40)) {
        emit(o, "evidence.seized", c, unit, t + 7200, "\"item\":\"K1\",\"description\":\"手机一部\"");
        emit(o, "evidence.stored", c, unit, t + 7200 + (chance(5) ? hours(30) : hours(3)), "\"item\":\"K1\"");
    }
    if (chance(3))
        emit(o, "case.extended", c, unit, t + hours(24 * 20), "\"limit\":\"handling\",\"days\":30,\"approved_by\":\"O2001\"");
    t += hours(24 * between(3, chance(5) ? 45 : 25));
    emit(o, "penalty.decided", c, unit, t,
         "\"person\":\"P1\",\"cause\":\"PSAL-51\",\"circumstance\":\"normal\",\"fine\":500,\"detention_days\":5");
    emit(o, "case.decided", c, unit, t + 60, "\"outcome\":\"penalty\"");
    emit(o, "case.closed", c, unit, t + hours(48), "\"outcome\":\"penalty\"");
}

static void criminal_case(out *o, uint64_t k, cw_time t0)
{
    char c[32];
    const char *unit = units[k % 6];
    cw_time t = t0;

    snprintf(c, sizeof c, "J%s2026%07" PRIu64, unit, k);
    emit(o, "case.accepted", c, unit, t, "\"kind\":\"criminal\",\"cause\":\"CL-264\"");
    emit(o, "person.added", c, unit, t + 600,
         "\"person\":\"P1\",\"role\":\"suspect\",\"birth_date\":\"1990-01-01\"");
    if (chance(5))
        emit(o, "case.extended", c, unit, t + hours(48), "\"limit\":\"filing_review\",\"days\":7,\"approved_by\":\"O2001\"");
    t += hours(between(2, chance(5) ? 24 * 12 : 60));
    emit(o, chance(85) ? "case.filed" : "case.not_filed", c, unit, t, "");
    emit(o, "summons.started", c, unit, t + 3600, "\"person\":\"P1\",\"detention_possible\":true");
    emit(o, "summons.ended", c, unit, t + 3600 + hours(chance(3) ? 26 : 10), "\"person\":\"P1\"");
    t += hours(between(12, 48));
    emit(o, "criminal_detention.started", c, unit, t, chance(20) ? "\"person\":\"P1\",\"flags\":[\"gang\"]" : "\"person\":\"P1\"");
    t += hours(between(24, chance(5) ? 24 * 6 : 70));
    if (chance(30)) {
        emit(o, "bail.started", c, unit, t, "\"person\":\"P1\"");
        emit(o, "bail.ended", c, unit, t + hours(24 * between(30, 200)), "\"person\":\"P1\"");
        return;
    }
    emit(o, "arrest.requested", c, unit, t, "\"person\":\"P1\"");
    t += hours(24 * between(3, 7));
    emit(o, "arrest.approved", c, unit, t, "\"person\":\"P1\"");
    t += hours(24 * between(20, chance(5) ? 70 : 55));
    emit(o, "case.transferred", c, unit, t, "");
    if (chance(20)) {
        emit(o, "case.returned", c, unit, t + hours(24 * 10), "\"round\":1");
        emit(o, "case.resubmitted", c, unit, t + hours(24 * between(15, chance(10) ? 40 : 30)), "");
    }
}

int main(int argc, char **argv)
{
    out o = { .f = stdout, .limit = 1000000 };
    uint64_t seed = 1, k = 0;
    cw_time start = cw_day_start(cw_day_from_civil(2026, 1, 1), 480);
    int c;

    while ((c = getopt(argc, argv, "n:s:o:h")) != -1) {
        switch (c) {
        case 'n': o.limit = strtoull(optarg, NULL, 10); break;
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'o':
            if ((o.f = fopen(optarg, "w")) == NULL) {
                perror(optarg);
                return 2;
            }
            break;
        default:
            fprintf(stderr, "usage: gen -n EVENTS [-s SEED] [-o FILE]\n");
            return c == 'h' ? 0 : 2;
        }
    }
    rng_state = seed;
    while (o.n < o.limit) {
        cw_time t0 = start + (cw_time)between(0, 150LL * 86400);
        if (chance(70))
            admin_case(&o, ++k, t0);
        else
            criminal_case(&o, ++k, t0);
    }
    if (o.f != stdout && fclose(o.f) != 0) {
        perror("gen");
        return 2;
    }
    return 0;
}
