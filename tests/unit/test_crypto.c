/* SHA-256 and HMAC-SHA256 (libcrypto) against the published test vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/sha256.h"

static void sha256_vectors(void **state)
{
    uint8_t d[32];
    char hex[65];

    (void)state;
    cw_sha256("abc", 3, d);
    cw_digest_hex(d, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cw_sha256("", 0, d);
    cw_digest_hex(d, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* RFC 4231, test cases 1 and 2. */
static void hmac_vectors(void **state)
{
    uint8_t key[20], d[32];
    char hex[65];

    (void)state;
    memset(key, 0x0b, sizeof key);
    cw_hmac_sha256(key, sizeof key, "Hi There", 8, d);
    cw_digest_hex(d, hex);
    assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    cw_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
    cw_digest_hex(d, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void digest_equal(void **state)
{
    uint8_t a[32], b[32];

    (void)state;
    cw_sha256("x", 1, a);
    memcpy(b, a, 32);
    assert_true(cw_digest_equal(a, b));
    b[31] ^= 1;
    assert_false(cw_digest_equal(a, b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_vectors),
        cmocka_unit_test(hmac_vectors),
        cmocka_unit_test(digest_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
