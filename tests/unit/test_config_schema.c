/* ops_config's schema as the one table of options: every default passes its
 * own check, no command has a flag twice, ranges are ranges, an alias is
 * stored as its canonical word, and ops_config_check_value agrees with
 * ops_config_set at the boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "pt_core.h"

static void test_rows_are_sound(void **st)
{
    (void)st;
    ops_config_key_info k, j;
    char why[160];
    size_t n = 0;
    for (size_t i = 0; !ops_config_key_at(i, &k); i++, n++) {
        if (k.def)
            assert_int_equal(ops_config_check_value(k.section, k.key, k.def, NULL, 0, why, sizeof why), PT_OK);
        if (!strcmp(k.type, "number") || !strcmp(k.type, "integer"))
            assert_true(k.min <= k.max);
        assert_true(!k.flag == !k.cmds);
        for (size_t m = 0; k.flag && m < i; m++) {
            assert_int_equal(ops_config_key_at(m, &j), PT_OK);
            assert_false(j.flag && (j.cmds & k.cmds) && !strcmp(j.flag, k.flag));
        }
    }
    assert_true(n > 40);
    assert_int_equal(ops_config_flag_key("max-positions", OPS_CMD_BACKTEST, &k), PT_OK);
    assert_string_equal(k.section, "risk");
    assert_int_equal(ops_config_flag_key("fsync", OPS_CMD_BACKTEST, &k), PT_ENOENT);
    assert_int_equal(ops_config_flag_key("fsync", OPS_CMD_SESSION, &k), PT_OK);
}

static void test_alias_is_canonical(void **st)
{
    (void)st;
    char canon[16], why[160];
    assert_int_equal(ops_config_check_value("session", "fsync", "fill", canon, sizeof canon, why, sizeof why), PT_OK);
    assert_string_equal(canon, "every");
    assert_int_equal(ops_config_check_value("session", "fsync", "none", canon, sizeof canon, why, sizeof why), PT_OK);
    assert_string_equal(canon, "none");
    assert_int_equal(ops_config_check_value("session", "fsync", "fil", canon, sizeof canon, why, sizeof why),
                     PT_EINVAL);
    assert_non_null(strstr(why, "every|none"));
    assert_int_equal(ops_config_check_value("session", "nope", "1", NULL, 0, why, sizeof why), PT_ENOENT);
    ops_config *c = NULL;
    assert_int_equal(ops_config_new(&c), PT_OK);
    assert_int_equal(ops_config_set(c, "session", "fsync", "fill", "test"), PT_OK);
    assert_string_equal(ops_config_get(c, "session", "fsync"), "every");
    ops_config_free(c);
}

static void test_check_agrees_with_set(void **st)
{
    (void)st;
    ops_config_key_info k;
    char why[160], text[64];
    for (size_t i = 0; !ops_config_key_at(i, &k); i++) {
        if (strcmp(k.type, "number") && strcmp(k.type, "integer"))
            continue;
        double step = !strcmp(k.type, "integer") ? 1 : (k.max - k.min) / 1000 + 1e-12;
        const double vals[] = {k.min, k.max, k.min - step, k.max + step};
        for (int v = 0; v < 4; v++) {
            snprintf(text, sizeof text, "%.17g", vals[v]);
            ops_config *c = NULL;
            assert_int_equal(ops_config_new(&c), PT_OK);
            int by_check = ops_config_check_value(k.section, k.key, text, NULL, 0, why, sizeof why);
            int by_set = ops_config_set(c, k.section, k.key, text, "test");
            ops_config_free(c);
            assert_int_equal(by_check, by_set);
            assert_int_equal(by_check == PT_OK, v < 2);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_are_sound),
        cmocka_unit_test(test_alias_is_canonical),
        cmocka_unit_test(test_check_agrees_with_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
