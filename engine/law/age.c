#include "law/age.h"

#include <string.h>

static const struct {
    const char *name, *words;
} conventions[] = {
    [CW_AGE_DAY_AFTER_BIRTHDAY] = { "day_after_birthday",
                                    "周岁自生日的次日起算, 法释〔2006〕1号 第2条" },
    [CW_AGE_BIRTHDAY] = { "birthday", "周岁自生日当日起算, 按本地设置 age_from: birthday" },
};

int cw_age_years(cw_day birth, cw_day on, cw_age_from conv)
{
    int by, bm, bd, oy, om, od, bday, age;

    if (on < birth)
        return -1;
    cw_day_to_civil(birth, &by, &bm, &bd);
    cw_day_to_civil(on, &oy, &om, &od);
    /* The birthday in year oy: 29 February is 28 February in a common year. */
    bday = bd <= cw_days_in_month(oy, bm) ? bd : cw_days_in_month(oy, bm);
    age = oy - by;
    if (om < bm || (om == bm && od < bday))
        age--;
    else if (om == bm && od == bday && conv == CW_AGE_DAY_AFTER_BIRTHDAY)
        age--;      /* the birthday itself: not yet */
    return age < 0 ? 0 : age;
}

const char *cw_age_from_name(cw_age_from conv)
{
    return conventions[conv == CW_AGE_BIRTHDAY].name;
}

const char *cw_age_from_words(cw_age_from conv)
{
    return conventions[conv == CW_AGE_BIRTHDAY].words;
}

int cw_age_from_parse(const char *s, cw_age_from *out)
{
    for (size_t i = 0; i < sizeof conventions / sizeof *conventions; i++)
        if (strcmp(s, conventions[i].name) == 0) {
            *out = (cw_age_from)i;
            return 0;
        }
    return -1;
}
