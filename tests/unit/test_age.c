/*
 * Ages (law/age.h): 周岁 from the day after the birthday (法释〔2006〕1号
 * 第2条, the default) and, as a deployment may set, from the birthday;
 * 29 February births in common years; days before birth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "law/age.h"

#define D(y, m, d) cw_day_from_civil(y, m, d)
#define AFTER CW_AGE_DAY_AFTER_BIRTHDAY
#define ON CW_AGE_BIRTHDAY

static void test_day_after_birthday(void **state)
{
    cw_day birth = D(2012, 3, 2);

    (void)state;
    assert_int_equal(cw_age_years(birth, D(2026, 3, 1), AFTER), 13);
    assert_int_equal(cw_age_years(birth, D(2026, 3, 2), AFTER), 13);  /* 14th birthday: still 13 */
    assert_int_equal(cw_age_years(birth, D(2026, 3, 3), AFTER), 14);  /* 14 from the next day */
    assert_int_equal(cw_age_years(birth, D(2026, 12, 31), AFTER), 14);
    assert_int_equal(cw_age_years(birth, D(2027, 3, 2), AFTER), 14);
    assert_int_equal(cw_age_years(birth, D(2027, 3, 3), AFTER), 15);
    assert_int_equal(cw_age_years(birth, birth, AFTER), 0);
    assert_int_equal(cw_age_years(birth, birth + 1, AFTER), 0);
    assert_int_equal(cw_age_years(birth, birth - 1, AFTER), -1);        /* before birth */
    /* across a year end */
    assert_int_equal(cw_age_years(D(2007, 12, 31), D(2025, 12, 31), AFTER), 17);
    assert_int_equal(cw_age_years(D(2007, 12, 31), D(2026, 1, 1), AFTER), 18);
    assert_int_equal(cw_age_years(D(2008, 1, 1), D(2026, 1, 1), AFTER), 17);
    assert_int_equal(cw_age_years(D(2008, 1, 1), D(2026, 1, 2), AFTER), 18);
}

static void test_birthday(void **state)
{
    cw_day birth = D(2012, 3, 2);

    (void)state;
    assert_int_equal(cw_age_years(birth, D(2026, 3, 1), ON), 13);
    assert_int_equal(cw_age_years(birth, D(2026, 3, 2), ON), 14);     /* reached on the birthday */
    assert_int_equal(cw_age_years(birth, birth, ON), 0);
    assert_int_equal(cw_age_years(birth, birth - 1, ON), -1);
}

static void test_29_february(void **state)
{
    (void)state;
    /* In a common year the birthday is 28 February: 18 from 1 March... */
    assert_int_equal(cw_age_years(D(2008, 2, 29), D(2026, 2, 27), AFTER), 17);
    assert_int_equal(cw_age_years(D(2008, 2, 29), D(2026, 2, 28), AFTER), 17);
    assert_int_equal(cw_age_years(D(2008, 2, 29), D(2026, 3, 1), AFTER), 18);
    /* ...or from 28 February when the birthday counts */
    assert_int_equal(cw_age_years(D(2008, 2, 29), D(2026, 2, 27), ON), 17);
    assert_int_equal(cw_age_years(D(2008, 2, 29), D(2026, 2, 28), ON), 18);
    /* in a leap year it is 29 February itself */
    assert_int_equal(cw_age_years(D(2012, 2, 29), D(2028, 2, 29), AFTER), 15);
    assert_int_equal(cw_age_years(D(2012, 2, 29), D(2028, 3, 1), AFTER), 16);
    assert_int_equal(cw_age_years(D(2012, 2, 29), D(2028, 2, 29), ON), 16);
    assert_int_equal(cw_age_years(D(2012, 2, 29), D(2028, 2, 28), ON), 15);
    /* born 1 March: a leap day makes no one older */
    assert_int_equal(cw_age_years(D(2010, 3, 1), D(2028, 2, 29), AFTER), 17);
    assert_int_equal(cw_age_years(D(2010, 3, 1), D(2028, 3, 1), AFTER), 17);
    assert_int_equal(cw_age_years(D(2010, 3, 1), D(2028, 3, 2), AFTER), 18);
    /* born 28 February of a leap year */
    assert_int_equal(cw_age_years(D(2012, 2, 28), D(2030, 2, 28), AFTER), 17);
    assert_int_equal(cw_age_years(D(2012, 2, 28), D(2030, 3, 1), AFTER), 18);
}

static void test_names(void **state)
{
    cw_age_from c = ON;

    (void)state;
    assert_int_equal(cw_age_from_parse("day_after_birthday", &c), 0);
    assert_int_equal(c, AFTER);
    assert_int_equal(cw_age_from_parse("birthday", &c), 0);
    assert_int_equal(c, ON);
    assert_int_equal(cw_age_from_parse("Birthday", &c), -1);
    assert_string_equal(cw_age_from_name(AFTER), "day_after_birthday");
    assert_non_null(strstr(cw_age_from_words(AFTER), "次日"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_after_birthday),
        cmocka_unit_test(test_birthday),
        cmocka_unit_test(test_29_february),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests_name("age", tests, NULL, NULL);
}
