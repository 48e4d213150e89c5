/*
 * Ages as the courts count them (周岁).
 *
 * 最高人民法院《关于审理未成年人刑事案件具体应用法律若干问题的解释》
 * (法释〔2006〕1号) 第2条: 周岁 are counted by the Gregorian calendar from
 * the day after the birthday, so a person is still under 14 on their 14th
 * birthday and reaches 14 at 00:00 of the next day. DOMAIN.md applies the
 * same count to administrative cases. A deployment whose practice differs
 * sets `age_from: birthday` in engine.yaml (the age is reached on the
 * birthday itself). Every rule that judges an age goes through here.
 */
#ifndef CW_LAW_AGE_H
#define CW_LAW_AGE_H

#include "base/timeutil.h"

typedef enum cw_age_from {
    CW_AGE_DAY_AFTER_BIRTHDAY = 0,  /* the default: 法释〔2006〕1号 第2条 */
    CW_AGE_BIRTHDAY
} cw_age_from;

/* Completed years of age on day `on` for someone born on `birth`, under
 * convention conv. A birthday of 29 February is 28 February in a common
 * year. Returns 0 on the day of birth and -1 when `on` is before it. */
int cw_age_years(cw_day birth, cw_day on, cw_age_from conv);

/* The setting's name ("day_after_birthday", "birthday"), and the
 * convention in the words a finding's message uses. */
const char *cw_age_from_name(cw_age_from conv);
const char *cw_age_from_words(cw_age_from conv);
/* The setting by name. Returns 0, or -1 for another name. */
int cw_age_from_parse(const char *s, cw_age_from *out);

#endif
